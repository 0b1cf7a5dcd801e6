/**
 * Moving datoms into indexes: a transaction's datoms into novelty, and novelty into the trees.
 *
 * An assertion adds an entry to each current index it belongs in. A retraction removes the
 * assertion's entry from the current indexes and adds two history entries: the assertion, with
 * its own tx, and the retraction. EAVT and AEVT take every datom; AVET only `db/index` and
 * `db/unique` attributes; VAET only refs.
 */
import { encodeEntryKey, type IndexOrder } from '../encoding/datom-key.js';
import type { LogDatom, TreeRoots } from '../encoding/log-record.js';
import type { Attribute, Schema } from '../schema/schema.js';
import type { TreeOp } from '../../tree/tree-schema.js';
import type { HitchhikerTree } from '../../tree/tree.js';
import { encodeHeapEntry, encodeLogEntry, type IndexTrees, rootOf, TreeSlot } from './index-trees.js';
import type { EntryMap, NovelKey, Novelty, NoveltyChange } from './novelty.js';

/** Novelty this large (in datoms) is written into the trees by the commit that reaches it. */
export const INDEX_THRESHOLD_DATOMS = 65_536;

const ALL: readonly IndexOrder[] = ['eavt', 'aevt', 'avet', 'vaet'];
const PLAIN: readonly IndexOrder[] = ['eavt', 'aevt'];
const INDEXED: readonly IndexOrder[] = ['eavt', 'aevt', 'avet'];
const REF: readonly IndexOrder[] = ['eavt', 'aevt', 'vaet'];

export function ordersOf(attribute: Attribute): readonly IndexOrder[] {
  if (attribute.valueType === 'ref') return attribute.indexed ? ALL : REF;
  return attribute.indexed ? INDEXED : PLAIN;
}

/** The novelty changes a transaction's datoms make (encoding can fail; applying them cannot). */
export function planDatoms(datoms: readonly LogDatom[], schema: Schema): NoveltyChange[] {
  const changes: NoveltyChange[] = [];
  for (const d of datoms) {
    const attribute = schema.ofDatom(d.a);
    const type = attribute.valueType;
    for (const order of ordersOf(attribute)) {
      if (d.added) {
        changes.push({ order, kind: 'add', key: encodeEntryKey(order, d, type, false), tx: d.tx });
        continue;
      }
      const assertion = { e: d.e, a: d.a, v: d.v, tx: d.assertedTx, added: true };
      changes.push({ order, kind: 'remove', key: encodeEntryKey(order, assertion, type, false), tx: d.tx });
      changes.push({ order, kind: 'history', key: encodeEntryKey(order, assertion, type, true), tx: d.tx });
      changes.push({ order, kind: 'history', key: encodeEntryKey(order, d, type, true), tx: d.tx });
    }
  }
  return changes;
}

export function applyDatoms(novelty: Novelty, datoms: readonly LogDatom[], schema: Schema): void {
  novelty.apply(planDatoms(datoms, schema), datoms.length);
}

/**
 * An indexing commit's own entries for one index order, each list sorted: they go from its datoms
 * straight into the tree batches, never into the sorted maps.
 */
export interface OrderBatch {
  /** Current entries the commit asserts. */
  readonly adds: NovelKey[];
  /** Current entries the commit retracts (in the tree, or added earlier in the epoch). */
  readonly removes: NovelKey[];
  readonly history: NovelKey[];
}

export type IndexBatches = Record<IndexOrder, OrderBatch>;

/**
 * The entries an indexing commit's datoms make, per index order, sorted. The same entries as
 * `planDatoms`, without a change object per entry; sorting plain strings needs no comparator call
 * (a latin1 string orders as its bytes). Encoding can fail; nothing is written yet.
 */
export function planBatches(datoms: readonly LogDatom[], schema: Schema): IndexBatches {
  const batches = Object.fromEntries(ALL.map((o) => [o, { adds: [], removes: [], history: [] }])) as unknown as IndexBatches;
  addEntries(batches, datoms, schema);
  for (const order of ALL) {
    const b = batches[order];
    b.adds.sort();
    b.removes.sort();
    b.history.sort();
  }
  return batches;
}

/** A loop of its own: see the note on on-stack replacement in transactor.ts. */
function addEntries(batches: IndexBatches, datoms: readonly LogDatom[], schema: Schema): void {
  for (let i = 0; i < datoms.length; i++) {
    const d = datoms[i]!;
    const attribute = schema.ofDatom(d.a);
    const type = attribute.valueType;
    const orders = ordersOf(attribute);
    for (let k = 0; k < orders.length; k++) {
      const order = orders[k]!;
      const b = batches[order];
      if (d.added) {
        b.adds.push(encodeEntryKey(order, d, type, false));
        continue;
      }
      const assertion = { e: d.e, a: d.a, v: d.v, tx: d.assertedTx, added: true };
      b.removes.push(encodeEntryKey(order, assertion, type, false));
      b.history.push(encodeEntryKey(order, assertion, type, true));
      b.history.push(encodeEntryKey(order, d, type, true));
    }
  }
}

/**
 * Writes the epoch into the trees: all of `novelty` plus `own` (the indexing commit's entries,
 * which never went into the maps), merged in key order, as one batch per tree. Returns the new
 * roots. A big transaction thus goes from its datoms to sorted tree batches without passing
 * through the sorted maps.
 */
export function writeNovelty(
  trees: IndexTrees,
  roots: TreeRoots,
  novelty: Novelty,
  own: IndexBatches,
  newHeapPages: ReadonlyMap<string, number> = new Map(),
): TreeRoots {
  const next = [...roots];
  const write = <E>(tree: HitchhikerTree<E>, slot: number, ops: TreeOp<E>[]) => {
    if (ops.length === 0) return;
    const root = rootOf(roots, slot);
    // An empty tree taking only inserts is built bottom-up into full pages.
    next[slot] = root === undefined && ops.every((op) => !op.remove) ? tree.bulkLoad(ops.map((op) => op.entry)) : tree.apply(root, ops);
  };
  for (const order of ALL) {
    const mine = own[order];
    write(trees.keyTree, TreeSlot.current[order], currentOps(novelty.current[order], mine.adds, mine.removes));
    write(trees.keyTree, TreeSlot.history[order], insertOps(mergeSorted([...novelty.history[order].keys()], mine.history)));
  }
  write(
    trees.tree,
    TreeSlot.log,
    novelty.txs.map((t) => ({ entry: encodeLogEntry(t.tx, t.recordOffset), remove: false })),
  );
  const heap = [...novelty.heap, ...newHeapPages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  write(
    trees.tree,
    TreeSlot.heap,
    heap.map(([digest, page]) => ({ entry: encodeHeapEntry(Buffer.from(digest, 'hex'), page), remove: false })),
  );
  return next;
}

function insertOps(keys: readonly NovelKey[]): TreeOp<NovelKey>[] {
  const ops = new Array<TreeOp<NovelKey>>(keys.length);
  for (let i = 0; i < keys.length; i++) ops[i] = { entry: keys[i]!, remove: false };
  return ops;
}

/**
 * The current tree's batch: novelty's marks, with the commit's own adds and removes merged in.
 * Keys are distinct across the three: adds carry the new tx in their key, and a remove meets
 * only an entry added earlier (in the map) or one in the tree (not in the map).
 */
function currentOps(map: EntryMap, adds: readonly NovelKey[], removes: readonly NovelKey[]): TreeOp<NovelKey>[] {
  const ops: TreeOp<NovelKey>[] = [];
  let j = 0;
  let from = 0;
  for (const [key, mark] of map.entries()) {
    from = ownBefore(ops, adds, from, removes, j, key);
    while (j < removes.length && removes[j]! < key) j++;
    if (j < removes.length && removes[j] === key) {
      // Removed by this commit: if an earlier commit of the epoch added it, it never reaches the tree.
      j++;
      if (mark.added === 0) ops.push({ entry: key, remove: true });
    } else if (mark.removed === 0) {
      ops.push({ entry: key, remove: false });
    } else if (mark.added === 0) {
      ops.push({ entry: key, remove: true });
    }
    // Added and removed within the epoch: it never reaches the current tree.
  }
  ownBefore(ops, adds, from, removes, j, undefined);
  return ops;
}

/**
 * Pushes the commit's own adds from `i` and removes from `j` that come before `key` (all of them
 * when undefined), merged in order; returns where the adds stop. The removes' index is found again
 * by the caller, so that this loop, the whole batch for an import, needs no state object.
 */
function ownBefore(ops: TreeOp<NovelKey>[], adds: readonly NovelKey[], i: number, removes: readonly NovelKey[], j: number, key: NovelKey | undefined): number {
  for (;;) {
    const add = i < adds.length && (key === undefined || adds[i]! < key) ? adds[i]! : undefined;
    const remove = j < removes.length && (key === undefined || removes[j]! < key) ? removes[j]! : undefined;
    if (add === undefined && remove === undefined) return i;
    if (remove === undefined || (add !== undefined && add < remove)) {
      ops.push({ entry: add!, remove: false });
      i++;
    } else {
      ops.push({ entry: remove, remove: true });
      j++;
    }
  }
}

function mergeSorted(a: readonly NovelKey[], b: readonly NovelKey[]): NovelKey[] {
  if (b.length === 0) return a as NovelKey[];
  if (a.length === 0) return b as NovelKey[];
  const out: NovelKey[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(a[i]! <= b[j]! ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}
