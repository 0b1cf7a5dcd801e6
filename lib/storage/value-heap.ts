/**
 * The value heap: bytes too large to repeat inside tree nodes are written once, as a heap frame,
 * and nodes hold only the frame's page id. A node rewritten by a later commit copies the id, never
 * the bytes again. Small values stay inline, where reading them costs nothing extra.
 */
import type { PageId } from '../ids.js';
import { FrameKind } from './format.js';
import type { PageStore } from './page-store.js';

/**
 * Values of up to this many bytes are kept inline in the node that holds them. Datom values this
 * long are rare (names, paths, keywords are shorter), and a 4 KiB node still holds a dozen.
 */
export const HEAP_THRESHOLD_BYTES = 256;

/** Inline bytes, or the page id of a heap frame holding them. */
export type StoredBytes = Uint8Array | PageId;

export function putBytes(store: PageStore, bytes: Uint8Array): StoredBytes {
  return bytes.length <= HEAP_THRESHOLD_BYTES ? bytes : store.append(FrameKind.heap, bytes);
}

export function getBytes(store: PageStore, stored: StoredBytes): Uint8Array {
  return typeof stored === 'number' ? store.load(stored, FrameKind.heap, copyPayload) : stored;
}

/** Heap payloads are cached as copies: the read buffer may be larger than the value. */
const copyPayload = (payload: Buffer): Uint8Array => new Uint8Array(payload);
