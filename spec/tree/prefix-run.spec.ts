/**
 * `prefixRun` (a point read's descent without a cursor) against the cursor's scan of the same
 * prefix: random trees of short byte strings over a four-byte alphabet (so prefixes are shared
 * by runs of entries, runs cross leaves, and pivots cut short equal or extend a prefix), built
 * by random batches of inserts and removes at tiny page sizes (deep trees, buffers holding
 * operations on the path). Whenever prefixRun answers, its run (the leaf's, or with the
 * operations buffered on the path applied) must be exactly the entries the cursor yields; it may
 * decline (null) only when the run reaches its leaf's end. SEDIMENT_SEED replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { prefixRun, prefixRunBounds } from '../../lib/tree/cursor.js';
import type { TreeParams } from '../../lib/tree/params.js';
import { HitchhikerTree, type TreeRoot } from '../../lib/tree/tree.js';
import { compareBytes, type TreeSchema } from '../../lib/tree/tree-schema.js';
import { emptyImage, openOn } from '../support/stores.js';

const BYTES: TreeSchema<Uint8Array> = {
  encode: (entry) => entry,
  decode: (bytes, start, end) => bytes.slice(start, end),
  compare: compareBytes,
  prefixOrdered: true,
};

const ALPHABET = [0x00, 0x01, 0x7f, 0xff];
const bytesArb = (min: number, max: number) => fc.array(fc.constantFrom(...ALPHABET), { minLength: min, maxLength: max }).map((xs) => Uint8Array.from(xs));

const paramsArb: fc.Arbitrary<TreeParams> = fc
  .tuple(fc.integer({ min: 40, max: 120 }), fc.integer({ min: 0, max: 3 }))
  .map(([pageSize, share]) => ({ pageSize, bufferBytes: Math.floor((pageSize * share) / 5), maxChildren: 4 }));

// Some entries from a small set (twenty of at most two bytes), so that later batches insert and
// remove entries again while older operations on them still wait in buffers lower on the path.
const batchArb = fc.array(fc.record({ entry: fc.oneof(bytesArb(1, 6), bytesArb(1, 2)), remove: fc.nat(3).map((n) => n === 0) }), { minLength: 1, maxLength: 40 });

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('prefixRun against the cursor', () => {
  it('answers, when it does, with the entries a scan of the prefix yields', () => {
    let answered = 0;
    let nonEmpty = 0;
    let declined = 0;
    let withPending = 0;
    fc.assert(
      fc.property(paramsArb, fc.array(batchArb, { minLength: 1, maxLength: 10 }), fc.array(bytesArb(0, 4), { minLength: 1, maxLength: 20 }), (params, batches, prefixes) => {
        const tree = new HitchhikerTree(openOn(new MemoryBackend(emptyImage())), BYTES, params);
        let root: TreeRoot;
        for (const batch of batches) root = tree.apply(root, batch);
        if (root === undefined) return;
        for (const prefix of prefixes) {
          // The scan's upper bound: the least key above every extension of the prefix (none if all 0xff).
          const end = Buffer.from(prefix);
          let i = end.length - 1;
          while (i >= 0 && end[i] === 0xff) i--;
          if (i >= 0) end[i] = end[i]! + 1;
          const upper = i < 0 ? undefined : end.subarray(0, i + 1);
          const scanned = [...tree.scan(root, { lower: prefix, upper })].map(hex);
          const list = prefixRun(tree, tree.load(root), prefix, prefix.length);
          if (list === null) {
            declined++;
            continue;
          }
          const run: string[] = [];
          if (Array.isArray(list)) {
            // Operations buffered on the path, applied to the leaf's run.
            run.push(...list.map(hex));
            withPending++;
          } else {
            for (let k = prefixRunBounds.from; k < prefixRunBounds.to; k++) run.push(hex(list.bytes.subarray(list.start(k), list.end(k))));
          }
          expect(run).toEqual(scanned);
          answered++;
          if (run.length > 0) nonEmpty++;
        }
      }),
      { numRuns: 400, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x9017) },
    );
    console.log(`prefixRun: ${answered} answers (${nonEmpty} non-empty, ${withPending} with buffered operations applied), ${declined} declined`);
    expect(nonEmpty).toBeGreaterThan(500);
    expect(withPending).toBeGreaterThan(50);
    expect(declined).toBeGreaterThan(50);
  });
});
