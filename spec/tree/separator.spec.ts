/**
 * Suffix-truncated separators: for any two byte strings left < right (bytewise), the cut prefix of
 * right sorts after left and not after right, and one byte less would not (it is the shortest).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { separatorLength } from '../../lib/tree/separator.js';
import { compareBytes } from '../../lib/tree/tree-schema.js';

/** Short strings over a small alphabet: shared prefixes and one string a prefix of another are common. */
const bytes = fc.uint8Array({ maxLength: 8 }).map((b) => b.map((x) => x % 3));

describe('separators', () => {
  it('are the shortest prefix of the right entry that sorts after the left one', () => {
    fc.assert(
      fc.property(bytes, bytes, (a, b) => {
        const order = compareBytes(a, 0, a.length, b, 0, b.length);
        fc.pre(order !== 0);
        const [left, right] = order < 0 ? [a, b] : [b, a];
        const length = separatorLength(left, 0, left.length, right, 0, right.length);
        expect(length).toBeGreaterThan(0);
        expect(length).toBeLessThanOrEqual(right.length);
        expect(compareBytes(left, 0, left.length, right, 0, length)).toBeLessThan(0);
        expect(compareBytes(left, 0, left.length, right, 0, length - 1)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 2000, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x5ed1) },
    );
  });
});
