import { describe, expect, it } from 'vitest';
import { EntryList, EntryListBuilder, withBatchMemory } from '../../lib/tree/entry-list.js';

describe('batch memory for lists larger than a chunk', () => {
  /** A list of `count` entries of 100 bytes, each byte `fill`. */
  const large = (count: number, fill: number) => {
    const builder = new EntryListBuilder(count * 100, count);
    const entry = new Uint8Array(100).fill(fill);
    for (let i = 0; i < count; i++) builder.push(entry, 0, 100);
    return builder.finish();
  };
  const holds = (list: EntryList, count: number, fill: number) => list.count === count && list.bytes.subarray(0, count * 100).every((b) => b === fill);

  it('gives each list of a batch memory of its own, and later batches the memory earlier ones left', () => {
    for (let round = 0; round < 3; round++) {
      withBatchMemory(() => {
        // Larger and smaller than each other, so that a reused buffer may hold either.
        const a = large(15_000 + round * 5_000, 1);
        const b = large(12_000, 2);
        const c = large(20_000, 3);
        expect(holds(a, 15_000 + round * 5_000, 1)).toBe(true);
        expect(holds(b, 12_000, 2)).toBe(true);
        expect(holds(c, 20_000, 3)).toBe(true);
      });
    }
    withBatchMemory(() => expect(holds(large(30_000, 4), 30_000, 4)).toBe(true));
  });

  it('gives its large memory back when it ends, for the next batch that takes as much', () => {
    // An import writes novelty's few entries into a tree between two trees' large batches.
    const first = withBatchMemory(() => large(20_000, 1).bytes.buffer);
    withBatchMemory(() => expect(holds(large(10, 5), 10, 5)).toBe(true));
    const again = withBatchMemory(() => {
      const list = large(20_000, 2);
      expect(holds(list, 20_000, 2)).toBe(true);
      return list.bytes.buffer;
    });
    // Compared by identity: a failing toBe would print two megabytes of buffer.
    expect(again === first, 'the same buffer').toBe(true);
  });
});
