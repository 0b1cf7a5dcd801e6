/**
 * The tree cursor's forward seek given a guess of the entries ahead (`TreeCursor.seek`'s `ahead`,
 * which merge joins pass as the entity-id distance) against a sorted-array model: random trees at
 * tiny page sizes (seeks cross leaves and meet buffered inserts and removals), random scan bounds,
 * and walks of steps and seeks whose guesses are the key distance (what a merge join passes),
 * that distance off by a few either way, or far off. A guess may only cost time: every entry
 * reached must be the model's first in-bounds entry at or after the key. SEDIMENT_SEED replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HitchhikerTree, type TreeRoot } from '../../lib/tree/tree.js';
import type { TreeParams } from '../../lib/tree/params.js';
import { emptyImage, openOn } from '../support/stores.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { encodeKey, type Entry, ENTRY_PAGE_BYTES, entrySchema, LEAF_OVERHEAD_BYTES, type ModelOp, OP_PAGE_BYTES, SortedModel } from '../support/tree-model.js';

const KEYS = 150;

const paramsArb: fc.Arbitrary<TreeParams> = fc
  .tuple(fc.integer({ min: 3, max: 12 }), fc.integer({ min: 0, max: 6 }))
  .map(([perLeaf, bufferedOps]) => ({
    pageSize: LEAF_OVERHEAD_BYTES + ENTRY_PAGE_BYTES * perLeaf,
    bufferBytes: Math.min(1 + OP_PAGE_BYTES * bufferedOps, LEAF_OVERHEAD_BYTES + ENTRY_PAGE_BYTES * perLeaf - 1),
  }));

const batchArb: fc.Arbitrary<ModelOp[]> = fc.array(
  fc.record({ key: fc.integer({ min: 0, max: KEYS - 1 }), version: fc.nat(1000), remove: fc.nat(5).map((n) => n === 0) }),
  { minLength: 1, maxLength: 80 },
);

const boundsArb = fc.record({
  lower: fc.option(fc.integer({ min: -2, max: KEYS + 2 }), { nil: undefined }),
  upper: fc.option(fc.integer({ min: -2, max: KEYS + 2 }), { nil: undefined }),
});

/** A walk: jump 0 steps to the next entry; jump n > 0 seeks n keys on, guessing n + error entries ahead. */
const walkArb = fc.array(
  fc.record({
    jump: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 40 })),
    error: fc.oneof(fc.constant(0), fc.integer({ min: -4, max: 4 }), fc.integer({ min: -60, max: 60 })),
  }),
  { minLength: 1, maxLength: 40 },
);

describe('tree cursor seek with a guess of the entries ahead', () => {
  it('reaches the first in-bounds entry at or after each key whatever the guess', () => {
    let seeks = 0;
    fc.assert(
      fc.property(paramsArb, fc.array(batchArb, { minLength: 2, maxLength: 10 }), boundsArb, walkArb, (params, batches, b, walk) => {
        const tree = new HitchhikerTree(openOn(new MemoryBackend(emptyImage())), entrySchema, params);
        const model = new SortedModel();
        let root: TreeRoot;
        for (const batch of batches) {
          root = tree.apply(root, batch.map((op) => ({ entry: [op.key, op.version] as const, remove: op.remove })));
          model.apply(batch);
        }
        const inBounds = model.entries().filter(([k]) => (b.lower === undefined || k >= b.lower) && (b.upper === undefined || k < b.upper));
        const cursor = tree.scan(root, { lower: b.lower === undefined ? undefined : encodeKey(b.lower), upper: b.upper === undefined ? undefined : encodeKey(b.upper) });
        const entry = (): Entry => entrySchema.decode(cursor.entryBytes, cursor.entryStart, cursor.entryEnd);
        let at = 0;
        let moved = cursor.advance();
        expect(moved).toBe(inBounds.length > 0);
        for (const { jump, error } of walk) {
          if (!moved) break;
          expect(entry()).toEqual(inBounds[at]);
          if (jump === 0) {
            moved = cursor.advance();
            at++;
          } else {
            const target = inBounds[at]![0] + jump;
            moved = cursor.seek(encodeKey(target), 4, jump + error);
            at = inBounds.findIndex(([k]) => k >= target);
            if (at === -1) at = inBounds.length;
            seeks++;
          }
          expect(moved).toBe(at < inBounds.length);
        }
        if (moved) expect(entry()).toEqual(inBounds[at]);
      }),
      { numRuns: 800, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x9e55) },
    );
    console.log(`seek with guesses: 800 trees, ${seeks} seeks equal to the model`);
    expect(seeks).toBeGreaterThan(1000);
  });
});
