import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asPageId } from '../../lib/ids.js';
import { EntryList } from '../../lib/tree/entry-list.js';
import { LeafNode } from '../../lib/tree/node.js';
import { decodeNode, encodeNode } from '../../lib/tree/node-codec.js';
import { boundWithin, find, lowerBound, upperBound } from '../../lib/tree/search.js';
import { prefixOf } from '../../lib/tree/entry-list.js';
import { compareBytes } from '../../lib/tree/tree-schema.js';

/**
 * Bytes over a small alphabet, so that many entries share their four-byte prefix (runs of equal
 * prefixes of every length, for the gallop), some shorter than four bytes.
 */
const bytesArb = fc.uint8Array({ maxLength: 7 }).map((b) => Buffer.from(b.map((x) => x % 3)));

/** Sorted distinct entries, up to a leaf's worth, decoded with prefixes as a cached node is. */
const listArb = fc
  .uniqueArray(bytesArb, { maxLength: 300, size: 'max', selector: (b) => b.toString('hex') })
  .map((list) => {
    const entries = EntryList.of([...list].sort(Buffer.compare));
    const leaf = decodeNode(encodeNode(new LeafNode(entries, null)), asPageId(4096), true) as LeafNode;
    return leaf.entries;
  });

const compareKey = (list: EntryList, i: number, key: Uint8Array): number => compareBytes(list.bytes, list.start(i), list.end(i), key, 0, key.length);

describe('searches over a list with prefixes', () => {
  it('agree with a linear scan, over the whole list and over any range of it', () => {
    fc.assert(
      fc.property(listArb, fc.array(bytesArb, { maxLength: 20 }), fc.nat(), fc.nat(), (list, probes, a, b) => {
        const count = list.count;
        // Every entry is a key, as well as the random probes.
        const keys = [...Array.from({ length: count }, (_, i) => list.bytes.slice(list.start(i), list.end(i))), ...probes];
        const ranges: Array<[number, number]> = [[0, count]];
        const from = count === 0 ? 0 : a % (count + 1);
        ranges.push([from, from + (count === from ? 0 : b % (count - from + 1))]);
        for (const key of keys) {
          for (const [lo, hi] of ranges) {
            let lower = lo;
            while (lower < hi && compareKey(list, lower, key) < 0) lower++;
            let upper = lower;
            while (upper < hi && compareKey(list, upper, key) === 0) upper++;
            expect(lowerBound(list, key, 0, key.length, compareBytes, lo, hi)).toBe(lower);
            expect(upperBound(list, key, 0, key.length, compareBytes, lo, hi)).toBe(upper);
            expect(find(list, key, 0, key.length, compareBytes, lo, hi)).toBe(upper > lower ? lower : -1);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('agree from a guess bounded by any prefixes: the pivots around a node, or bounds that miss the key', () => {
    // boundWithin starts from an interpolation between the bounds it is given; in a descent they
    // bracket the list and the key, but whatever they are, the answer must not change.
    fc.assert(
      fc.property(listArb, fc.array(bytesArb, { maxLength: 20 }), fc.boolean(), fc.nat(), fc.nat(), (list, probes, bracketing, x, y) => {
        const count = list.count;
        const keys = [...Array.from({ length: count }, (_, i) => list.bytes.slice(list.start(i), list.end(i))), ...probes];
        const first = count === 0 ? 0 : list.prefixes![0]!;
        const last = count === 0 ? 0 : list.prefixes![count - 1]!;
        for (const key of keys) {
          const p = prefixOf(key, 0, key.length);
          // Bracketing: as a descent gives them, around the list and the key; else arbitrary.
          const low = bracketing ? Math.min(first, p) : x % 0x7fffffff;
          const high = bracketing ? Math.max(last, p) : y % 0x7fffffff;
          expect(boundWithin(list, key, key.length, compareBytes, false, low, high)).toBe(lowerBound(list, key, 0, key.length, compareBytes));
          expect(boundWithin(list, key, key.length, compareBytes, true, low, high)).toBe(upperBound(list, key, 0, key.length, compareBytes));
        }
      }),
      { numRuns: 200 },
    );
  });
});
