/**
 * Join and de-duplication keys: two rows' keys over the same columns are equal exactly when the
 * rows' values are equal, column by column, whichever packing (small integer pair, large integer
 * pair, string) each key takes. Pairs are drawn around every packing boundary. SEDIMENT_SEED
 * replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowKey, valueEquals } from '../../lib/query/values.js';

const SEED = process.env['SEDIMENT_SEED'] === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env['SEDIMENT_SEED']);

// Integers at and around the limits of both packings, and values that take none.
const EDGES = [0, 1, 2 ** 15 - 1, 2 ** 15, 2 ** 16 - 1, 2 ** 16, 2 ** 21 - 2, 2 ** 21 - 1, 2 ** 21, 2 ** 32 - 1, 2 ** 32, 2 ** 40];
const value = fc.oneof(
  fc.constantFrom(...EDGES),
  fc.constantFrom(...EDGES).chain((n) => fc.integer({ min: -3, max: 3 }).map((d) => n + d)),
  fc.integer({ min: 0, max: 2 ** 17 }),
  fc.nat(),
  fc.double({ noNaN: true }),
  fc.constantFrom('a', 'n1', '65536', ''),
);
const row = fc.tuple(value, value);

describe('row keys', () => {
  it('are equal exactly when the rows are', () => {
    fc.assert(
      fc.property(row, row, (x, y) => {
        const same = valueEquals(x[0], y[0]) && valueEquals(x[1], y[1]);
        expect(rowKey(x, [0, 1]) === rowKey(y, [0, 1])).toBe(same);
      }),
      { seed: SEED, numRuns: 20_000 },
    );
    // Pairs whose packed numbers would meet under a careless packing.
    const tricky = [[0, 2 ** 16], [1, 0], [0, 2 ** 32], [2 ** 16, 0], [2 ** 15, 0], [0, 2 ** 31]];
    const keys = tricky.map((r) => rowKey(r, [0, 1]));
    expect(new Set(keys).size).toBe(tricky.length);
  });
});
