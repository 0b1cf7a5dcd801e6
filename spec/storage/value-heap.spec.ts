import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { FrameKind } from '../../lib/storage/format.js';
import { getBytes, HEAP_THRESHOLD_BYTES, putBytes } from '../../lib/storage/value-heap.js';
import { errorCodeOf } from '../support/error-code.js';
import { emptyImage, openImage, openOn } from '../support/stores.js';

describe('value heap', () => {
  it('keeps small values inline and writes large ones once to a heap frame', () => {
    const store = openImage(emptyImage());
    const small = new Uint8Array(HEAP_THRESHOLD_BYTES).fill(1);
    const large = new Uint8Array(HEAP_THRESHOLD_BYTES + 1).fill(2);
    expect(putBytes(store, small)).toBe(small);
    const ref = putBytes(store, large);
    expect(typeof ref).toBe('number');
    store.commit(Buffer.alloc(0));
    expect(getBytes(store, ref)).toEqual(large);
    expect(getBytes(store, small)).toBe(small);
  });

  it('rewriting a node that references a large value copies only the reference', () => {
    const backend = new MemoryBackend(emptyImage());
    const store = openOn(backend);
    const big = new Uint8Array(100_000).fill(9);
    const ref = putBytes(store, big);
    // A "node" holding the reference, rewritten by each of 50 commits.
    for (let i = 0; i < 50; i++) {
      store.append(FrameKind.node, Buffer.from(JSON.stringify({ ref, version: i })));
      store.commit(Buffer.alloc(0));
    }
    expect(backend.size()).toBeLessThan(emptyImage().length + big.length + 50 * 200);
    store.close();
    const reopened = openImage(backend.snapshot());
    expect(getBytes(reopened, ref)).toEqual(big);
  });

  it('refuses a heap reference that names a node frame', () => {
    const store = openImage(emptyImage());
    const node = store.append(FrameKind.node, Buffer.alloc(100));
    store.commit(Buffer.alloc(0));
    expect(errorCodeOf(() => getBytes(store, node))).toBe(ErrorCode.corrupt);
  });
});
