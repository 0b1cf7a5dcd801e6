/**
 * `EntrySorter.sortedOrder` against the model of an import's keys before it: the entries as latin1 strings
 * (one character per byte), sorted natively, which orders them bytewise, a shorter prefix first.
 * Small alphabets with 0x00 and 0xff, empty entries, duplicates, long shared prefixes and runs
 * already in order reach every branch: runs sorted by insertion and by counting, runs in order by
 * a byte or all equal in it, entries ending where the others go on, and groups recursed into.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryList } from '../../lib/tree/entry-list.js';
import { EntrySorter } from '../../lib/tree/entry-sort.js';

const seed = Number(process.env['SEDIMENT_SEED'] ?? 0x50f7);

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** One sorter for all cases, so that lists also meet working memory left by longer ones. */
const sorter = new EntrySorter();

function check(entries: readonly Uint8Array[]): void {
  const order = sorter.sortedOrder(EntryList.of(entries));
  expect([...order].sort((a, b) => a - b)).toEqual(entries.map((_, i) => i));
  expect([...order].map((i) => latin1(entries[i]!))).toEqual(entries.map(latin1).sort());
}

// Lists up to a few hundred entries (`size: 'max'`; fast-check's default would keep them to about
// ten, all below the insertion-sort threshold).

/** Entries from a few bytes, after one of a few shared prefixes (so that runs are long and deep). */
const entries = (maxLength: number, maxCount: number) =>
  fc.array(
    fc.tuple(
      fc.constantFrom(new Uint8Array(0), Uint8Array.of(9, 9), Uint8Array.of(1, 2, 3, 4, 5, 6, 7), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0)),
      fc.uint8Array({ maxLength }).map((b) => b.map((x) => [0, 1, 2, 0xfe, 0xff][x % 5]!)),
    ).map(([prefix, rest]) => Uint8Array.from([...prefix, ...rest])),
    { maxLength: maxCount, size: 'max' },
  );

describe('EntrySorter.sortedOrder', () => {
  it('orders entries as native sort orders their latin1 strings', () => {
    fc.assert(fc.property(entries(12, 400), check), { numRuns: 400, seed });
  });

  it('orders entries that arrive sorted, or nearly (as an import\'s EAVT keys do)', () => {
    fc.assert(
      fc.property(entries(6, 400), fc.array(fc.nat(), { maxLength: 5 }), (list, swaps) => {
        const sorted = [...list].sort((a, b) => Buffer.compare(a, b));
        for (const k of swaps) {
          if (sorted.length < 2) break;
          const i = k % (sorted.length - 1);
          [sorted[i], sorted[i + 1]] = [sorted[i + 1]!, sorted[i]!];
        }
        check(sorted);
      }),
      { numRuns: 300, seed },
    );
  });

  it('orders any bytes, short and long', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 200, size: 'max' }), check), { numRuns: 300, seed });
  });

  it('orders runs of many equal and prefix-related entries', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 300, size: 'max' }), (lengths) => check(lengths.map((n) => new Uint8Array(n)))),
      { numRuns: 200, seed },
    );
  });
});
