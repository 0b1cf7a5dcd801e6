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
import type { TreeNode } from '../../lib/tree/node.js';
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
type Batch = { entry: Uint8Array; remove: boolean }[];
const batchArb: fc.Arbitrary<Batch> = fc.array(fc.record({ entry: fc.oneof(bytesArb(1, 6), bytesArb(1, 2)), remove: fc.nat(3).map((n) => n === 0) }), { minLength: 1, maxLength: 40 });

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

interface Tally {
  answered: number;
  nonEmpty: number;
  declined: number;
  withPending: number;
  /** The most entries of a leaf and pivots of a branch seen: above 16, searches start from a guess. */
  longestLeaf: number;
  longestBranch: number;
}

/** Checks prefixRun against the cursor on trees `params` and `batches` build, for `prefixes`. */
function checkTrees(params: fc.Arbitrary<TreeParams>, batches: fc.Arbitrary<Batch[]>, prefixes: fc.Arbitrary<Uint8Array>, numRuns: number, seed: number): Tally {
  const tally: Tally = { answered: 0, nonEmpty: 0, declined: 0, withPending: 0, longestLeaf: 0, longestBranch: 0 };
  fc.assert(
    fc.property(params, batches, fc.array(prefixes, { minLength: 1, maxLength: 20 }), (treeParams, applied, queried) => {
      const tree = new HitchhikerTree(openOn(new MemoryBackend(emptyImage())), BYTES, treeParams);
      let root: TreeRoot;
      for (const batch of applied) root = tree.apply(root, batch);
      if (root === undefined) return;
      measure(tree, tree.load(root), tally);
      for (const prefix of queried) {
        // The scan's upper bound: the least key above every extension of the prefix (none if all 0xff).
        const end = Buffer.from(prefix);
        let i = end.length - 1;
        while (i >= 0 && end[i] === 0xff) i--;
        if (i >= 0) end[i] = end[i]! + 1;
        const upper = i < 0 ? undefined : end.subarray(0, i + 1);
        const scanned = [...tree.scan(root, { lower: prefix, upper })].map(hex);
        const list = prefixRun(tree, tree.load(root), prefix, prefix.length);
        if (list === null) {
          tally.declined++;
          continue;
        }
        const run: string[] = [];
        if (Array.isArray(list)) {
          // Operations buffered on the path, applied to the leaf's run.
          run.push(...list.map(hex));
          tally.withPending++;
        } else {
          for (let k = prefixRunBounds.from; k < prefixRunBounds.to; k++) run.push(hex(list.bytes.subarray(list.start(k), list.end(k))));
        }
        expect(run).toEqual(scanned);
        tally.answered++;
        if (run.length > 0) tally.nonEmpty++;
      }
    }),
    { numRuns, seed: Number(process.env['SEDIMENT_SEED'] ?? seed) },
  );
  return tally;
}

function measure(tree: HitchhikerTree<Uint8Array>, node: TreeNode, tally: Tally): void {
  if (node.kind === 'leaf') {
    tally.longestLeaf = Math.max(tally.longestLeaf, node.entries.count);
    return;
  }
  tally.longestBranch = Math.max(tally.longestBranch, node.pivots.count);
  for (let i = 0; i < node.children.length; i++) measure(tree, tree.child(node, i), tally);
}

describe('prefixRun against the cursor', () => {
  it('answers, when it does, with the entries a scan of the prefix yields', () => {
    const t = checkTrees(paramsArb, fc.array(batchArb, { minLength: 1, maxLength: 10 }), bytesArb(0, 4), 400, 0x9017);
    console.log(`prefixRun: ${t.answered} answers (${t.nonEmpty} non-empty, ${t.withPending} with buffered operations applied), ${t.declined} declined`);
    expect(t.nonEmpty).toBeGreaterThan(500);
    expect(t.withPending).toBeGreaterThan(50);
    expect(t.declined).toBeGreaterThan(50);
  });

  it('answers the same from long leaves and wide branches, where searches start from a guess bounded by the pivots above', () => {
    // Pages large enough for leaves and branches of more than 16 entries, and many batches to fill them.
    const wide: fc.Arbitrary<TreeParams> = fc
      .tuple(fc.integer({ min: 250, max: 500 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 20, max: 40 }))
      .map(([pageSize, share, maxChildren]) => ({ pageSize, bufferBytes: Math.floor((pageSize * share) / 5), maxChildren }));
    const many = fc.array(fc.array(fc.record({ entry: bytesArb(1, 7), remove: fc.nat(5).map((n) => n === 0) }), { minLength: 40, maxLength: 100 }), { minLength: 15, maxLength: 40 });
    // Longer prefixes: their runs are short, so most end inside a leaf and get an answer.
    const t = checkTrees(wide, many, bytesArb(2, 5), 80, 0x5eed);
    console.log(`prefixRun, wide: ${t.answered} answers (${t.nonEmpty} non-empty), ${t.declined} declined, leaves up to ${t.longestLeaf} entries, branches up to ${t.longestBranch} pivots`);
    expect(t.nonEmpty).toBeGreaterThan(200);
    expect(t.longestLeaf).toBeGreaterThan(16);
    expect(t.longestBranch).toBeGreaterThan(16);
  });
});
