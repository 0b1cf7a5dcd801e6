/**
 * The tree cursor's forward seek (`TreeCursor.seek`, which merge joins use to leapfrog from one
 * entity to the next) against a sorted-array model: random trees at tiny page sizes (3 to 12
 * entries a leaf, buffers from none to several operations, so seeks cross leaves and meet
 * buffered inserts and removals), random scan bounds, and walks that alternate single steps with
 * seeks of random distances, made without a guess of the entries ahead or with one (`ahead`,
 * which merge joins pass as the entity-id distance): the distance itself, off by a few either
 * way, or far off. A guess may only cost time: every entry reached must be the model's first
 * in-bounds entry at or after the key. SEDIMENT_SEED replays a run.
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
  fc.record({ key: fc.integer({ min: 0, max: KEYS - 1 }), version: fc.nat(1000), remove: fc.nat(3).map((n) => n === 0) }),
  { minLength: 1, maxLength: 60 },
);

const boundsArb = fc.record({
  lower: fc.option(fc.integer({ min: -2, max: KEYS + 2 }), { nil: undefined }),
  lowerExclusive: fc.boolean(),
  upper: fc.option(fc.integer({ min: -2, max: KEYS + 2 }), { nil: undefined }),
  upperInclusive: fc.boolean(),
});

/**
 * A walk: jump 0 steps to the next entry; jump n > 0 seeks n keys past the current one, guessing
 * no distance (`guessError` undefined) or n + guessError entries ahead.
 */
const walkArb = fc.array(
  fc.record({
    jump: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 40 })),
    guessError: fc.oneof(fc.constant(undefined), fc.constant(0), fc.integer({ min: -4, max: 4 }), fc.integer({ min: -60, max: 60 })),
  }),
  { minLength: 1, maxLength: 40 },
);

describe('tree cursor seek against a sorted-array model', () => {
  it('reaches the first in-bounds entry at or after each key', () => {
    let seeks = 0;
    let guessed = 0;
    fc.assert(
      fc.property(paramsArb, fc.boolean(), fc.array(batchArb, { minLength: 2, maxLength: 12 }), boundsArb, walkArb, (params, prefixOrdered, batches, b, walk) => {
        const tree = new HitchhikerTree(openOn(new MemoryBackend(emptyImage())), { ...entrySchema, prefixOrdered }, params);
        const model = new SortedModel();
        let root: TreeRoot;
        for (const batch of batches) {
          root = tree.apply(root, batch.map((op) => ({ entry: [op.key, op.version] as const, remove: op.remove })));
          model.apply(batch);
        }
        const inBounds = model
          .entries()
          .filter(([k]) => (b.lower === undefined || (b.lowerExclusive ? k > b.lower : k >= b.lower)) && (b.upper === undefined || (b.upperInclusive ? k <= b.upper : k < b.upper)));
        const cursor = tree.scan(root, {
          lower: b.lower === undefined ? undefined : encodeKey(b.lower),
          lowerExclusive: b.lowerExclusive,
          upper: b.upper === undefined ? undefined : encodeKey(b.upper),
          upperInclusive: b.upperInclusive,
        });
        const entry = (): Entry => entrySchema.decode(cursor.entryBytes, cursor.entryStart, cursor.entryEnd);
        let at = 0;
        let moved = cursor.advance();
        expect(moved).toBe(inBounds.length > 0);
        for (const { jump, guessError } of walk) {
          if (!moved) break;
          expect(entry()).toEqual(inBounds[at]);
          const current = inBounds[at]![0];
          if (jump === 0) {
            moved = cursor.advance();
            at++;
          } else {
            const target = current + jump;
            moved = guessError === undefined ? cursor.seek(encodeKey(target), 4) : cursor.seek(encodeKey(target), 4, jump + guessError);
            if (guessError !== undefined) guessed++;
            at = inBounds.findIndex(([k]) => k >= target);
            if (at === -1) at = inBounds.length;
            seeks++;
          }
          expect(moved).toBe(at < inBounds.length);
        }
        if (moved) expect(entry()).toEqual(inBounds[at]);
      }),
      { numRuns: 800, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x5eec) },
    );
    console.log(`tree cursor seek: 800 trees, ${seeks} seeks (${guessed} with a guess) equal to the model`);
    expect(guessed).toBeGreaterThan(400);
    expect(seeks - guessed).toBeGreaterThan(250);
  });
});
