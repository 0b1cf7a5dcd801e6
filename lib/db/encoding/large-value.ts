/**
 * Large values live in the value heap, written once; keys hold a stand-in. A string, keyword or
 * bytes value longer than INLINE_VALUE_BYTES (UTF-8 bytes for text) is keyed as
 *
 *   tag, its first INLINE_VALUE_BYTES bytes escaped (no terminator), 0x00 0x01, 16-byte digest
 *
 * where the digest is the first 16 bytes of the SHA-256 of all its bytes. The stand-in is
 * computable from the value, so lookups by value work as for small values, and equal values have
 * equal keys. Ordering against every shorter value is exact (the marker sorts after the
 * terminator 0x00 0x00 and before an escaped zero 0x00 0xff); two large values that share their
 * first INLINE_VALUE_BYTES bytes order by digest. The heap directory (novelty's map, then the
 * heap tree) finds a digest's heap page.
 */
import { createHash } from 'node:crypto';
import { HEAP_THRESHOLD_BYTES } from '../../storage/value-heap.js';
import type { Value, ValueType } from '../schema/value-type.js';

export const INLINE_VALUE_BYTES = HEAP_THRESHOLD_BYTES;
export const DIGEST_BYTES = 16;

export type LargeType = 'string' | 'keyword' | 'bytes';

/** A large value as an index or log entry names it: enough to order and find it, not its bytes. */
export class LargeValue {
  constructor(
    readonly type: LargeType,
    /** The first INLINE_VALUE_BYTES bytes, unescaped. */
    readonly head: Uint8Array,
    readonly digest: Buffer,
  ) {}

  get key(): string {
    return this.digest.toString('hex');
  }
}

export function rawBytes(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

export function digestOf(raw: Uint8Array): Buffer {
  return createHash('sha256').update(raw).digest().subarray(0, DIGEST_BYTES);
}

/** The stand-in of a value that is large, or undefined for one kept inline. */
export function largeValueOf(type: LargeType, v: string | Uint8Array): LargeValue | undefined {
  // A string of n UTF-16 units has at most 3n UTF-8 bytes: most are known small without encoding.
  if (typeof v === 'string' ? v.length * 3 <= INLINE_VALUE_BYTES || Buffer.byteLength(v) <= INLINE_VALUE_BYTES : v.length <= INLINE_VALUE_BYTES) {
    return undefined;
  }
  const raw = rawBytes(v);
  return new LargeValue(type, raw.subarray(0, INLINE_VALUE_BYTES), digestOf(raw));
}

/** The stand-in of a value of attribute type `type` if it is large (other types never are). */
export function largeStandIn(type: ValueType, v: Value): LargeValue | undefined {
  return type === 'string' || type === 'keyword' || type === 'bytes' ? largeValueOf(type, v as string | Uint8Array) : undefined;
}

/** The value itself from its heap bytes. */
export function valueFromHeap(type: LargeType, bytes: Uint8Array): string | Uint8Array {
  return type === 'bytes' ? new Uint8Array(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
}
