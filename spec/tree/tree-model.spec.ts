/**
 * Model-based tests of the hitchhiker tree: random sequences of batches (inserts, replacements,
 * removals, sorted or not) at tiny page sizes, 3 to 7 entries per leaf, with buffers from none
 * to several entries, so trees get deep and splits uneven. After every batch the tree must equal
 * a sorted-array model in full contents, point lookups and range scans in both directions with
 * random bounds, and pass the invariant checker; at the end every older root must still equal
 * the model as it was then, also after closing and reopening the file. Besides the map schema
 * (compared by key, so a replacement is checked by its version), a set schema ordered by
 * `compareBytes` itself gets truncated separators: a separator cut too short misroutes entries,
 * which lookups, scans and the checker's range checks all see.
 * A failure prints fast-check's seed and path, which replay it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import type { PageStore } from '../../lib/storage/page-store.js';
import type { TreeParams } from '../../lib/tree/params.js';
import { HitchhikerTree, type TreeRoot } from '../../lib/tree/tree.js';
import { compareBytes, type TreeSchema } from '../../lib/tree/tree-schema.js';
import { emptyImage, openImage, openOn } from '../support/stores.js';
import { encodeEntryInto, encodeKey, type Entry, ENTRY_PAGE_BYTES, entrySchema, LEAF_OVERHEAD_BYTES, type ModelOp, OP_PAGE_BYTES, SortedModel } from '../support/tree-model.js';

const KEYS = 120;

/**
 * The key set: an entry is its key's 4 bytes then the same bytes reversed (8 bytes, as in the map
 * schema, so pages hold as many), ordered bytewise over all 8; versions are not kept.
 */
function encodeSetEntry(key: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const keyBytes = encodeKey(key);
  for (let i = 0; i < 4; i++) bytes[i] = bytes[7 - i] = keyBytes[i]!;
  return bytes;
}
const setSchema: TreeSchema<Entry> = {
  encode: ([key]) => encodeSetEntry(key),
  decode: (bytes, start, end) => [entrySchema.decode(bytes, start, end)[0], 0],
  compare: compareBytes,
  prefixOrdered: true,
};

type Variant = 'map' | 'set';
/** What the tree of `variant` holds for the model's entry: a set keeps no version. */
const expectedEntry = (variant: Variant, entry: Entry | undefined): Entry | undefined =>
  entry === undefined || variant === 'map' ? entry : [entry[0], 0];
/** A bound at `key`: for the set, the whole entry, so that an exclusive bound excludes it. */
const boundKey = (variant: Variant, key: number): Uint8Array => (variant === 'map' ? encodeKey(key) : encodeSetEntry(key));

// Fan-out capped by count (maxChildren) or by bytes only; buffers of any size, which may also
// take the room a branch's pivots leave.
const paramsArb: fc.Arbitrary<TreeParams> = fc
  .tuple(fc.integer({ min: 3, max: 7 }), fc.integer({ min: 0, max: 6 }), fc.option(fc.integer({ min: 4, max: 6 }), { nil: undefined }))
  .map(([perLeaf, bufferedOps, maxChildren]) => ({
    pageSize: LEAF_OVERHEAD_BYTES + ENTRY_PAGE_BYTES * perLeaf,
    bufferBytes: Math.min(1 + OP_PAGE_BYTES * bufferedOps, LEAF_OVERHEAD_BYTES + ENTRY_PAGE_BYTES * perLeaf - 1),
    ...(maxChildren === undefined ? {} : { maxChildren }),
  }));

const opArb: fc.Arbitrary<ModelOp> = fc.record({
  key: fc.integer({ min: 0, max: KEYS - 1 }),
  version: fc.integer({ min: 0, max: 1_000_000 }),
  remove: fc.boolean(),
});

const batchArb: fc.Arbitrary<ModelOp[]> = fc.oneof(
  { weight: 3, arbitrary: fc.array(opArb, { minLength: 1, maxLength: 4 }) },
  { weight: 2, arbitrary: fc.array(opArb, { minLength: 1, maxLength: 40 }) },
  // Sorted runs of inserts, as bulk imports make.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: KEYS - 1 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 1000 }))
      .map(([start, length, version]) =>
        Array.from({ length: Math.min(length, KEYS - start) }, (_, i) => ({ key: start + i, version, remove: false })),
      ),
  },
  // Sorted runs mixing inserts and removes: merges copy runs of operations between two entries.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: KEYS - 1 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 1000 }))
      .map(([start, removes, version]) => removes.slice(0, KEYS - start).map((remove, i) => ({ key: start + i, version, remove }))),
  },
  // Removal of a whole key range, which empties leaves and branches.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: KEYS - 1 }), fc.integer({ min: 1, max: 80 }))
      .map(([start, length]) =>
        Array.from({ length: Math.min(length, KEYS - start) }, (_, i) => ({ key: start + i, version: 0, remove: true })),
      ),
  },
);

interface BoundSpec {
  readonly lower: number | undefined;
  readonly lowerInclusive: boolean;
  readonly upper: number | undefined;
  readonly upperInclusive: boolean;
}

const boundArb: fc.Arbitrary<BoundSpec> = fc.record({
  lower: fc.option(fc.integer({ min: -2, max: KEYS + 2 }), { nil: undefined }),
  lowerInclusive: fc.boolean(),
  upper: fc.option(fc.integer({ min: -2, max: KEYS + 2 }), { nil: undefined }),
  upperInclusive: fc.boolean(),
});

function scanRange(tree: HitchhikerTree<Entry>, variant: Variant, root: TreeRoot, b: BoundSpec, reverse: boolean): Entry[] {
  return [
    ...tree.scan(root, {
      lower: b.lower === undefined ? undefined : boundKey(variant, b.lower),
      lowerExclusive: !b.lowerInclusive,
      upper: b.upper === undefined ? undefined : boundKey(variant, b.upper),
      upperInclusive: b.upperInclusive,
      reverse,
    }),
  ];
}

function modelRange(entries: Entry[], b: BoundSpec): Entry[] {
  return entries.filter(
    ([k]) =>
      (b.lower === undefined || (b.lowerInclusive ? k >= b.lower : k > b.lower)) &&
      (b.upper === undefined || (b.upperInclusive ? k <= b.upper : k < b.upper)),
  );
}

function expectTreeEquals(tree: HitchhikerTree<Entry>, variant: Variant, root: TreeRoot, model: SortedModel, bounds: readonly BoundSpec[]): void {
  const expected = model.entries().map((entry) => expectedEntry(variant, entry)!);
  expect([...tree.scan(root)]).toEqual(expected);
  expect([...tree.scan(root, { reverse: true })]).toEqual([...expected].reverse());
  for (let key = -1; key <= KEYS; key++) {
    expect(tree.get(root, [key, 0])).toEqual(expectedEntry(variant, model.get(key)));
    expect(tree.has(root, [key, 0])).toBe(model.get(key) !== undefined);
  }
  for (const b of bounds) {
    const range = modelRange(expected, b);
    expect(scanRange(tree, variant, root, b, false)).toEqual(range);
    expect(scanRange(tree, variant, root, b, true)).toEqual([...range].reverse());
  }
  expect(tree.check(root).problems).toEqual([]);
}

function commitRoot(store: PageStore, root: TreeRoot): void {
  store.commit(Buffer.from(JSON.stringify(root ?? null)));
}

describe('hitchhiker tree against a sorted-array model', () => {
  it('agrees after every batch, for every older root, and after reopening', () => {
    const stats = { runs: 0, batches: 0, deepest: 0, rootsRechecked: 0 };
    fc.assert(
      fc.property(paramsArb, fc.constantFrom<Variant>('map', 'set'), fc.boolean(), fc.boolean(), fc.boolean(), fc.array(batchArb, { minLength: 1, maxLength: 25 }), fc.array(boundArb, { minLength: 3, maxLength: 3 }), (params, variant, prefixOrdered, inPlace, bulkFirst, batches, bounds) => {
        // Both search paths: with cached nodes indexing their entries' prefixes, and without;
        // and both ways of encoding keys and batches: in place, and an array per entry.
        const base = variant === 'map' ? entrySchema : setSchema;
        const schema: TreeSchema<Entry> = inPlace && variant === 'map' ? { ...base, prefixOrdered, encodeInto: encodeEntryInto } : { ...base, prefixOrdered };
        const backend = new MemoryBackend(emptyImage());
        const store = openOn(backend);
        const tree = new HitchhikerTree(store, schema, params);
        const model = new SortedModel();
        const history: Array<{ root: TreeRoot; model: SortedModel }> = [];
        let root: TreeRoot;
        if (bulkFirst) {
          // Start from every key, built bottom-up: bulkLoad's own separators and fan-out.
          model.apply(Array.from({ length: KEYS }, (_, key) => ({ key, version: 0, remove: false })));
          root = tree.bulkLoad(model.entries());
          expectTreeEquals(tree, variant, root, model, bounds);
        }
        for (const batch of batches) {
          model.apply(batch);
          root = tree.apply(root, batch.map((op) => ({ entry: [op.key, op.version] as const, remove: op.remove })));
          commitRoot(store, root);
          expectTreeEquals(tree, variant, root, model, bounds);
          history.push({ root, model: model.clone() });
          stats.batches += 1;
          stats.deepest = Math.max(stats.deepest, tree.check(root).depth);
        }
        for (const past of history) expectTreeEquals(tree, variant, past.root, past.model, bounds.slice(0, 1));
        store.close();

        const reopened = new HitchhikerTree(openImage(backend.snapshot(), { readOnly: true }), schema, params);
        for (const past of history) expectTreeEquals(reopened, variant, past.root, past.model, bounds.slice(0, 1));
        stats.runs += 1;
        stats.rootsRechecked += history.length * 2;
      }),
      { numRuns: 150, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x5ed1), verbose: 1 },
    );
    console.log(
      `tree model: ${stats.runs} runs, ${stats.batches} batches checked, deepest tree ${stats.deepest} levels, ` +
        `${stats.rootsRechecked} older roots re-checked (live and reopened)`,
    );
  });
});
