/**
 * Moving datoms into indexes: a transaction's datoms into novelty, and novelty into the trees.
 *
 * An assertion adds an entry to each current index it belongs in. A retraction removes the
 * assertion's entry from the current indexes and adds two history entries: the assertion, with
 * its own tx, and the retraction. EAVT and AEVT take every datom; AVET only `db/index` and
 * `db/unique` attributes; VAET only refs.
 */
import { type IndexOrder, encodeEntryKey } from '../encoding/datom-key.js';
import type { LogDatom, TreeRoots } from '../encoding/log-record.js';
import type { Attribute, Schema } from '../schema/schema.js';
import type { TreeOp } from '../../tree/tree-schema.js';
import { encodeHeapEntry, encodeLogEntry, type IndexTrees, rootOf, TreeSlot } from './index-trees.js';
import { bytesOfNovelKey, compareNovelKeys, type EntryMap, type NovelKey, type Novelty, type NoveltyChange } from './novelty.js';

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
 * Writes the epoch into the trees: all of `novelty` plus `changes` (the indexing commit's own,
 * which never went into the maps), merged in key order, as one batch per tree. Returns the new
 * roots. A big transaction thus goes from its datoms to sorted tree batches without passing
 * through the sorted maps.
 */
export function writeNovelty(
  trees: IndexTrees,
  roots: TreeRoots,
  novelty: Novelty,
  changes: readonly NoveltyChange[] = [],
  newHeapPages: ReadonlyMap<string, number> = new Map(),
): TreeRoots {
  const next = [...roots];
  const tree = trees.tree;
  const write = (slot: number, ops: TreeOp<Uint8Array>[]) => {
    if (ops.length === 0) return;
    const root = rootOf(roots, slot);
    // An empty tree taking only inserts is built bottom-up into full pages.
    next[slot] = root === undefined && ops.every((op) => !op.remove) ? tree.bulkLoad(ops.map((op) => op.entry)) : tree.apply(root, ops);
  };
  const byOrder = groupChanges(changes);
  for (const order of ALL) {
    const mine = byOrder[order];
    write(TreeSlot.current[order], currentOps(novelty.current[order], mine.current));
    write(TreeSlot.history[order], mergeSorted([...novelty.history[order].keys()], mine.history).map((key) => ({ entry: bytesOfNovelKey(key), remove: false })));
  }
  write(
    TreeSlot.log,
    novelty.txs.map((t) => ({ entry: encodeLogEntry(t.tx, t.recordOffset), remove: false })),
  );
  const heap = [...novelty.heap, ...newHeapPages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  write(
    TreeSlot.heap,
    heap.map(([digest, page]) => ({ entry: encodeHeapEntry(Buffer.from(digest, 'hex'), page), remove: false })),
  );
  return next;
}

interface OrderChanges {
  /** Adds and removes of current entries, sorted by key (a key is never both). */
  readonly current: NoveltyChange[];
  readonly history: NovelKey[];
}

function groupChanges(changes: readonly NoveltyChange[]): Record<IndexOrder, OrderChanges> {
  const out = Object.fromEntries(ALL.map((o) => [o, { current: [] as NoveltyChange[], history: [] as NovelKey[] }])) as Record<IndexOrder, OrderChanges>;
  for (const c of changes) {
    if (c.kind === 'history') out[c.order].history.push(c.key);
    else out[c.order].current.push(c);
  }
  for (const order of ALL) {
    out[order].current.sort((a, b) => compareNovelKeys(a.key, b.key));
    out[order].history.sort(compareNovelKeys);
  }
  return out;
}

/** The current tree's batch: novelty's marks, with the commit's own adds and removes merged in. */
function currentOps(map: EntryMap, changes: readonly NoveltyChange[]): TreeOp<Uint8Array>[] {
  const ops: TreeOp<Uint8Array>[] = [];
  const emit = (key: NovelKey, added: number, removed: number) => {
    if (removed === 0) ops.push({ entry: bytesOfNovelKey(key), remove: false });
    else if (added === 0) ops.push({ entry: bytesOfNovelKey(key), remove: true });
    // Added and removed within the epoch: it never reaches the current tree.
  };
  let j = 0;
  for (const [key, mark] of map.entries()) {
    while (j < changes.length && changes[j]!.key < key) {
      const c = changes[j++]!;
      emit(c.key, c.kind === 'add' ? c.tx : 0, c.kind === 'remove' ? c.tx : 0);
    }
    if (j < changes.length && changes[j]!.key === key) {
      // Only a removal can meet an existing entry: adds carry the new tx in their key.
      emit(key, mark.added, changes[j++]!.tx);
    } else {
      emit(key, mark.added, mark.removed);
    }
  }
  for (; j < changes.length; j++) {
    const c = changes[j]!;
    emit(c.key, c.kind === 'add' ? c.tx : 0, c.kind === 'remove' ? c.tx : 0);
  }
  return ops;
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
