import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryList, EntryListBuilder, releaseLargeBatchMemory, withBatchMemory } from '../../lib/tree/entry-list.js';

const entries = fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 60 });

function listed(list: EntryList): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < list.count; i++) out.push([...list.bytes.subarray(list.start(i), list.end(i))]);
  return out;
}

describe('EntryListBuilder.reusing', () => {
  it("builds in a spent list's memory what a fresh builder builds, growing past it when needed", () => {
    fc.assert(
      fc.property(entries, entries, (old, next) => {
        const spent = EntryList.of(old.map((e) => Buffer.from(e)));
        // A neighbour sharing the slab must keep its bytes.
        const neighbour = EntryList.of([Buffer.from([7, 7, 7])]);
        const builder = EntryListBuilder.reusing(spent);
        for (const e of next) builder.push(e, 0, e.length);
        expect(listed(builder.finish())).toEqual(next.map((e) => [...e]));
        expect(listed(neighbour)).toEqual([[7, 7, 7]]);
      }),
      { numRuns: 200, seed: Number(process.env['SEDIMENT_SEED'] ?? 0xe17) },
    );
  });
});

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
    releaseLargeBatchMemory();
    withBatchMemory(() => expect(holds(large(30_000, 4), 30_000, 4)).toBe(true));
  });

  it('keeps large memory through a batch that takes none, for the next that does', () => {
    // An import writes novelty's few entries into a tree between two trees' large batches.
    releaseLargeBatchMemory();
    const first = withBatchMemory(() => large(20_000, 1).bytes.buffer);
    withBatchMemory(() => expect(holds(large(10, 5), 10, 5)).toBe(true));
    const again = withBatchMemory(() => {
      const list = large(20_000, 2);
      expect(holds(list, 20_000, 2)).toBe(true);
      return list.bytes.buffer;
    });
    // Compared by identity: a failing toBe would print two megabytes of buffer.
    expect(again === first, 'the same buffer').toBe(true);
    // A batch taking large memory of other sizes only lets the unused go.
    withBatchMemory(() => large(30_000, 3));
    expect(withBatchMemory(() => large(20_000, 4).bytes.buffer) === first, 'the same buffer').toBe(false);
    releaseLargeBatchMemory();
  });
});
