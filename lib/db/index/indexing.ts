/**
 * Moving datoms into indexes: a transaction's datoms into novelty, and novelty into the trees.
 *
 * An assertion adds an entry to each current index it belongs in. A retraction removes the
 * assertion's entry from the current indexes and adds two history entries: the assertion, with
 * its own tx, and the retraction. EAVT and AEVT take every datom; AVET only `db/index` and
 * `db/unique` attributes; VAET only refs.
 */
import { type IndexOrder, encodeEntry } from '../encoding/datom-key.js';
import type { LogDatom, TreeRoots } from '../encoding/log-record.js';
import type { Attribute, Schema } from '../schema/schema.js';
import type { TreeOp } from '../../tree/tree-schema.js';
import { encodeLogEntry, type IndexTrees, rootOf, TreeSlot } from './index-trees.js';
import type { Novelty } from './novelty.js';

/** Novelty this large (in datoms) is written into the trees by the commit that reaches it. */
export const INDEX_THRESHOLD_DATOMS = 16_384;

const ALL: readonly IndexOrder[] = ['eavt', 'aevt', 'avet', 'vaet'];
const PLAIN: readonly IndexOrder[] = ['eavt', 'aevt'];
const INDEXED: readonly IndexOrder[] = ['eavt', 'aevt', 'avet'];
const REF: readonly IndexOrder[] = ['eavt', 'aevt', 'vaet'];

export function ordersOf(attribute: Attribute): readonly IndexOrder[] {
  if (attribute.valueType === 'ref') return attribute.indexed ? ALL : REF;
  return attribute.indexed ? INDEXED : PLAIN;
}

export function applyDatoms(novelty: Novelty, datoms: readonly LogDatom[], schema: Schema): void {
  for (const d of datoms) {
    const attribute = schema.ofDatom(d.a);
    const type = attribute.valueType;
    for (const order of ordersOf(attribute)) {
      if (d.added) {
        novelty.addCurrent(order, encodeEntry(order, d, type, false), d.tx);
        continue;
      }
      const assertion = { e: d.e, a: d.a, v: d.v, tx: d.assertedTx, added: true };
      novelty.removeCurrent(order, encodeEntry(order, assertion, type, false), d.tx);
      novelty.addHistory(order, encodeEntry(order, assertion, type, true), d.tx);
      novelty.addHistory(order, encodeEntry(order, d, type, true), d.tx);
    }
  }
  novelty.datomCount += datoms.length;
}

/** Writes all of `novelty` into the trees as one batch per tree; returns the new roots. */
export function writeNovelty(trees: IndexTrees, roots: TreeRoots, novelty: Novelty): TreeRoots {
  const next = [...roots];
  const tree = trees.tree;
  const write = (slot: number, ops: TreeOp<Uint8Array>[]) => {
    if (ops.length === 0) return;
    const root = rootOf(roots, slot);
    // An empty tree taking only inserts is built bottom-up into full pages.
    next[slot] = root === undefined && ops.every((op) => !op.remove) ? tree.bulkLoad(ops.map((op) => op.entry)) : tree.apply(root, ops);
  };
  for (const order of ALL) {
    const current: TreeOp<Uint8Array>[] = [];
    for (const [key, mark] of novelty.current[order].entries()) {
      if (mark.removed === 0) current.push({ entry: key, remove: false });
      else if (mark.added === 0) current.push({ entry: key, remove: true });
      // Added and removed within the epoch: never reaches the current tree.
    }
    write(TreeSlot.current[order], current);
    const history: TreeOp<Uint8Array>[] = [];
    for (const key of novelty.history[order].keys()) history.push({ entry: key, remove: false });
    write(TreeSlot.history[order], history);
  }
  write(
    TreeSlot.log,
    novelty.txs.map((t) => ({ entry: encodeLogEntry(t.tx, t.recordOffset), remove: false })),
  );
  return next;
}
