/**
 * The nine trees of a database and the state a snapshot reads them in. Four *current* trees
 * (EAVT, AEVT, AVET, VAET) hold only the assertions that still hold, so reading the present never
 * wades through history; four *history* trees hold what is no longer current (retracted
 * assertions and the retractions themselves), so current + history is every datom ever; the log
 * tree maps each tx to the file offset of its commit record; the heap tree maps the digest of each
 * large value to the heap page holding it.
 */
import type { PageStore } from '../../storage/page-store.js';
import { HitchhikerTree, type TreeRoot } from '../../tree/tree.js';
import { compareBytes, type TreeSchema } from '../../tree/tree-schema.js';
import { asPageId } from '../../ids.js';
import type { IndexOrder } from '../encoding/datom-key.js';
import { KeyReader, KeyWriter } from '../encoding/key-codec.js';
import { DIGEST_BYTES } from '../encoding/large-value.js';
import type { TreeRoots } from '../encoding/log-record.js';
import type { Novelty } from './novelty.js';

/** Tree entries are the encoded keys themselves; readers decode what they return. */
const RAW_ENTRIES: TreeSchema<Uint8Array> = {
  encode: (entry) => entry,
  decode: (bytes, start, end) => bytes.subarray(start, end),
  compare: compareBytes,
  prefixOrdered: true,
};

/** Position of each tree in a `TreeRoots` array (and in the log record). */
export const TreeSlot = {
  current: { eavt: 0, aevt: 1, avet: 2, vaet: 3 },
  history: { eavt: 4, aevt: 5, avet: 6, vaet: 7 },
  log: 8,
  heap: 9,
} as const satisfies { current: Record<IndexOrder, number>; history: Record<IndexOrder, number>; log: number; heap: number };

export class IndexTrees {
  readonly tree: HitchhikerTree<Uint8Array>;

  constructor(readonly store: PageStore) {
    // One tree object serves all ten: a tree value is only its root.
    this.tree = new HitchhikerTree(store, RAW_ENTRIES);
  }
}

/** What a snapshot reads: tree roots as of the last indexing, and the novelty since. */
export interface IndexState {
  readonly roots: TreeRoots;
  readonly novelty: Novelty;
  /** The record offset of the commit that wrote `roots` (0 before the first). */
  readonly epochOffset: number;
}

export function rootOf(roots: TreeRoots, slot: number): TreeRoot {
  const root = roots[slot];
  return root === undefined ? undefined : asPageId(root);
}

const logWriter = new KeyWriter();
const logReader = new KeyReader();

/** The log tree's entry of a commit, left in a shared writer (`scratch()`, `size`) until the next is written. */
export function writeLogEntry(tx: number, recordOffset: number): KeyWriter {
  return logWriter.reset().uint(tx).uint(recordOffset);
}

export function encodeLogKey(tx: number): Buffer {
  return logWriter.reset().uint(tx).finish();
}

export function encodeHeapEntry(digest: Uint8Array, page: number): Buffer {
  logWriter.reset();
  for (const b of digest) logWriter.byte(b);
  return logWriter.uint(page).finish();
}

export function decodeHeapPage(entry: Uint8Array): number {
  return logReader.reset(entry, DIGEST_BYTES).uint();
}

export function decodeLogEntry(bytes: Uint8Array): { tx: number; recordOffset: number } {
  const r = logReader.reset(bytes);
  const tx = r.uint();
  return { tx, recordOffset: r.uint() };
}
