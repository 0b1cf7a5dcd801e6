/**
 * Moving datoms into indexes: a transaction's datoms into novelty, and novelty into the trees.
 * Which entries a datom makes: novelty-plan.ts.
 */
import { type IndexOrder, writeEntry } from '../encoding/datom-key.js';
import type { LogDatom, TreeRoots } from '../encoding/log-record.js';
import type { Attribute, Schema } from '../schema/schema.js';
import { allocBytes, allocOffsets, EntryList, EntryListBuilder, giveBackList } from '../../tree/entry-list.js';
import { giveBack, spareSized, takeSpare } from '../../spare-buffers.js';
import { EntrySorter } from '../../tree/entry-sort.js';
import { compareAt } from '../../tree/search.js';
import { compareBytes, OpKind, type TreeOp } from '../../tree/tree-schema.js';
import { encodeHeapEntry, type IndexTrees, rootOf, TreeSlot, writeLogEntry } from './index-trees.js';
import { deferredDatom } from './deferred-datoms.js';
import type { Mark, Novelty } from './novelty.js';
import { ALL_PARTS, ordersOf, partBit, planDatoms, pushKey } from './novelty-plan.js';

/** Novelty this large (in datoms) is written into the trees by the commit that reaches it. */
export const INDEX_THRESHOLD_DATOMS = 65_536;

const ALL: readonly IndexOrder[] = ['eavt', 'aevt', 'avet', 'vaet'];

/** Applies a transaction's datoms to novelty: to the maps it fills, and kept for the others. */
export function applyDatoms(novelty: Novelty, datoms: readonly LogDatom[], schema: Schema): void {
  novelty.apply(planDatoms(datoms, schema, novelty.filledParts), datoms, schema);
}

/**
 * An indexing commit's own entries for one index order, each list sorted bytewise: they go from
 * its datoms straight into the tree batches, never into the sorted maps.
 */
export interface OrderBatch {
  /** Current entries the commit asserts. */
  readonly adds: EntryList;
  /** Current entries the commit retracts (in the tree, or added earlier in the epoch). */
  readonly removes: EntryList;
  readonly history: EntryList;
}

export type IndexBatches = Record<IndexOrder, OrderBatch>;

interface OrderLists {
  readonly adds: EntryListBuilder;
  readonly removes: EntryListBuilder;
  readonly history: EntryListBuilder;
}

/**
 * The entries an indexing commit's datoms make, per index order, sorted. The same entries as
 * `planDatoms`, written as bytes into a few lists instead of a string each: at a million datoms,
 * ~2.2 key strings a datom (which V8 never pretenures) were copied by every scavenge and marked by
 * every full collection. Encoding can fail; nothing is written yet.
 */
export function planBatches(datoms: readonly LogDatom[], schema: Schema): IndexBatches {
  // Each list is sized for all its entries at once, as each doubling of a list leaves its old
  // memory for a collection to free. AEVT's adds are not encoded at all (see `byAttribute`).
  const lists = sizedLists(datoms, schema);
  addEntries(lists, datoms, schema);
  // Sized by the longest list it sorts: an import's EAVT adds, the longest, are often in order.
  const sorter = new EntrySorter();
  const unsorted = lists.eavt.adds.finish();
  const eavtAdds = sortedByEntity(unsorted) ? unsorted : sorted(sorter, unsorted);
  // Once copied in order, the unsorted keys' memory takes AEVT's: the same entries, rearranged.
  const aevtAdds = byAttribute(eavtAdds, eavtAdds === unsorted ? undefined : unsorted);
  // Any other list copied in order is dead at once: its memory may serve the next copy.
  const inOrder = (list: EntryList) => {
    const copy = sorted(sorter, list);
    if (copy !== list) giveBackList(list);
    return copy;
  };
  return Object.fromEntries(
    ALL.map((o) => [
      o,
      {
        adds: o === 'eavt' ? eavtAdds : o === 'aevt' ? aevtAdds : inOrder(lists[o].adds.finish()),
        removes: inOrder(lists[o].removes.finish()),
        history: inOrder(lists[o].history.finish()),
      },
    ]),
  ) as unknown as IndexBatches;
}

/** Datoms whose keys are measured to size the lists of all of them, spread evenly. */
const KEY_SAMPLE = 1024;
const GOLDEN = (Math.sqrt(5) - 1) / 2;

/** Room for one list's entries: bytes and entries. */
export interface ListSize {
  readonly bytes: number;
  readonly count: number;
}

export type ListKind = keyof OrderLists;
const LIST_KINDS: readonly ListKind[] = ['adds', 'removes', 'history'];

/**
 * The room each list `addEntries` fills will need, estimated from the keys a sample of datoms
 * spread over all of them puts in it (entity ids, and so keys, grow longer through an import),
 * with 1/8 to spare: 1024 datoms estimate a list of a fifth of them within ~6% (one standard
 * deviation). Zero for a list the sample leaves empty. AEVT's adds are not encoded at all (see
 * `byAttribute`).
 */
export function estimatedListSizes(datoms: readonly LogDatom[], schema: Schema): Record<IndexOrder, Record<ListKind, ListSize>> {
  const n = datoms.length;
  const sample = Math.min(n, KEY_SAMPLE);
  // The sample's entries, written as `addEntries` writes all of them (a few KiB, slab memory).
  const lists = listsOf(() => ({ bytes: 0, count: 0 }));
  for (let k = 0; k < sample; k++) {
    // Positions k·φ mod 1 spread evenly without a stride, which an import's period (each entity
    // its same few attributes) could divide, so that the sample sees one attribute only.
    const d = datoms[Math.floor(n * ((k * GOLDEN) % 1))]!;
    addDatomEntries(lists, d, schema.ofDatom(d.a), ALL_PARTS, false);
  }
  const scale = (x: number) => Math.ceil((x / sample) * n * 1.125);
  const size = (builder: EntryListBuilder): ListSize => {
    const list = builder.finish();
    return list.count === 0 ? { bytes: 0, count: 0 } : { bytes: scale(list.dataBytes), count: scale(list.count) };
  };
  return Object.fromEntries(ALL.map((o) => [o, Object.fromEntries(LIST_KINDS.map((k) => [k, size(lists[o][k])]))])) as Record<IndexOrder, Record<ListKind, ListSize>>;
}

/** A builder per order and kind, each sized by `size` (none: a small one). */
function listsOf(size: (order: IndexOrder, kind: ListKind) => ListSize): Record<IndexOrder, OrderLists> {
  const builder = ({ bytes, count }: ListSize) => (count === 0 ? new EntryListBuilder() : new EntryListBuilder(bytes + 64, count + 16));
  return Object.fromEntries(ALL.map((o) => [o, Object.fromEntries(LIST_KINDS.map((k) => [k, builder(size(o, k))]))])) as unknown as Record<IndexOrder, OrderLists>;
}

/**
 * The lists `addEntries` fills, each sized for all its entries at once (`estimatedListSizes`):
 * EAVT's adds alone were sized, from the first datoms, and at a million datoms the other lists'
 * doublings and EAVT's one (later entity ids are longer) allocated 38 MB of ArrayBuffers to keep
 * 19; V8 starts a full collection for every 64 MB. An estimate that falls short costs a
 * doubling, as it did before; a list the sample leaves empty starts small.
 */
function sizedLists(datoms: readonly LogDatom[], schema: Schema): Record<IndexOrder, OrderLists> {
  const sizes = estimatedListSizes(datoms, schema);
  return listsOf((order, kind) => sizes[order][kind]);
}

/**
 * The list's entries in ascending order: the list itself when they are already (an import whose
 * entities list their attributes in id order), else a copy.
 */
function sorted(sorter: EntrySorter, list: EntryList): EntryList {
  const order = sorter.sortedOrder(list);
  if (isIdentity(order)) return list;
  const out = new EntryListBuilder(list.dataBytes, list.count);
  for (let i = 0; i < order.length; i++) out.pushEntry(list, order[i]!);
  return out.finish();
}

/**
 * Sorts EAVT keys in place if their entities and attributes already come in order (an import
 * lists each entity's datoms together, attributes in schema order), values aside: each run of
 * one entity and attribute (cardinality many) is then sorted on its own, and the whole list is
 * sorted with no order array and no sorted copy. Returns false, with the keys in some order, if
 * they do not come that way.
 */
export function sortedByEntity(list: EntryList): boolean {
  const n = list.count;
  const bytes = list.bytes;
  const offsets = list.offsets;
  let runStart = 0;
  for (let j = 1; j <= n; j++) {
    const c = j < n ? compareEntityAttribute(bytes, offsets[j - 1]!, offsets[j]!) : 1;
    if (c < 0) return false;
    if (c === 0) continue;
    if (j - runStart > 1) sortRun(list, runStart, j);
    runStart = j;
  }
  return true;
}

/** The (e, a) components of the keys at `a` and `b`, compared as bytes: < 0, 0 or > 0 for b against a. */
function compareEntityAttribute(bytes: Uint8Array, a: number, b: number): number {
  // e and a are length-prefixed: equal bytes up to the end of a's attribute mean equal components.
  const end = a + 2 + bytes[a]! + bytes[a + 1 + bytes[a]!]!;
  for (let i = 0; a + i < end; i++) {
    const d = bytes[b + i]! - bytes[a + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Runs up to this long are sorted by insertion, longer ones by `Array#sort`. */
const SMALL_RUN = 16;
/** Where a run's bytes are copied while it is rewritten in order; grown on demand. */
let runCopy = new Uint8Array(512);
/** A run's entries in sorted order; grown on demand (setting an array's length to 0 frees its store). */
let runOrder = new Uint32Array(64);

/** The list `sortRun` sorts, for its comparator: a closure per run cost an import ~20 MB. */
let runList = EntryList.empty;
const before = (x: number, y: number) => compareAt(compareBytes, runList, x, runList, y);

/** Sorts entries [from, to) of `list`, which lie together in its bytes, in place. */
function sortRun(list: EntryList, from: number, to: number): void {
  const n = to - from;
  if (runOrder.length < n) runOrder = new Uint32Array(n * 2);
  const order = runOrder;
  for (let k = 0; k < n; k++) order[k] = from + k;
  runList = list;
  if (n > SMALL_RUN) order.subarray(0, n).sort(before);
  else {
    for (let k = 1; k < n; k++) {
      const i = order[k]!;
      let m = k - 1;
      for (; m >= 0 && before(order[m]!, i) > 0; m--) order[m + 1] = order[m]!;
      order[m + 1] = i;
    }
  }
  runList = EntryList.empty; // the comparator keeps no list alive between runs
  let inOrder = true;
  for (let k = 0; k < n; k++) if (order[k] !== from + k) inOrder = false;
  if (inOrder) return;
  const offsets = list.offsets;
  const base = offsets[from]!;
  const size = offsets[to]! - base;
  if (runCopy.length < size) runCopy = new Uint8Array(size * 2);
  // By hand: a subarray view per run was another ~7 MB an import.
  const bytes = list.bytes;
  for (let b = 0; b < size; b++) runCopy[b] = bytes[base + b]!;
  let at = base;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const start = offsets[i]! - base;
    const end = offsets[i + 1]! - base;
    for (let b = start; b < end; b++) bytes[at++] = runCopy[b]!;
    // The run's offsets are rewritten only once every entry is read from the copy.
    order[k] = at;
  }
  for (let k = 0; k < n; k++) offsets[from + k + 1] = order[k]!;
}

function isIdentity(order: Uint32Array): boolean {
  for (let i = 0; i < order.length; i++) if (order[i] !== i) return false;
  return true;
}

/**
 * AEVT's adds made from EAVT's sorted adds, with no key encoded or sorted again. An AEVT key is
 * the EAVT key with its first two components (e, a) swapped, and keys compare component by
 * component (each is self-delimiting, and a shorter one is never a prefix of a longer one), so
 * AEVT's order is by attribute and, within one attribute, EAVT's: a stable counting sort of the
 * EAVT list by attribute. For an import this replaces a key encoding, a radix sort and a sorted
 * copy per datom, and the unsorted list's memory. Written into `spare` when given: a list of as
 * many entries and bytes that is no longer needed.
 */
export function byAttribute(eavt: EntryList, spare?: EntryList): EntryList {
  const n = eavt.count;
  const bytes = eavt.bytes;
  const offsets = eavt.offsets;
  // Each attribute's slot, in order of first appearance, with its entries and bytes.
  const slots = new Map<number, number>();
  const counts: number[] = [];
  const sizes: number[] = [];
  let lastA = -1;
  let slot = -1;
  for (let j = 0; j < n; j++) {
    const start = offsets[j]!;
    const a = attributeOf(bytes, start);
    if (a !== lastA) {
      lastA = a;
      slot = slots.get(a) ?? -1;
      if (slot < 0) {
        slot = counts.length;
        slots.set(a, slot);
        counts.push(0);
        sizes.push(0);
      }
    }
    counts[slot]! += 1;
    sizes[slot]! += offsets[j + 1]! - start;
  }
  // Where each slot's entries go: after those of every smaller attribute id.
  const nextEntry = new Array<number>(counts.length).fill(0);
  const nextByte = new Array<number>(counts.length).fill(0);
  let entry = 0;
  let byte = 0;
  for (const a of [...slots.keys()].sort((x, y) => x - y)) {
    const s = slots.get(a)!;
    nextEntry[s] = entry;
    nextByte[s] = byte;
    entry += counts[s]!;
    byte += sizes[s]!;
  }
  const out = spare === undefined ? allocBytes(byte) : spare.bytes.subarray(spare.start(0), spare.start(0) + byte);
  const outOffsets = spare === undefined ? allocOffsets(n + 1) : spare.offsets;
  outOffsets[0] = 0;
  swapIntoSlots(bytes, offsets, n, slots, nextEntry, nextByte, out, outOffsets);
  return new EntryList(out, outOffsets);
}

/** A loop of its own: see the note on on-stack replacement in transactor.ts. */
function swapIntoSlots(
  bytes: Uint8Array,
  offsets: Uint32Array,
  n: number,
  slots: ReadonlyMap<number, number>,
  nextEntry: number[],
  nextByte: number[],
  out: Uint8Array,
  outOffsets: Uint32Array,
): void {
  let lastA = -1;
  let slot = -1;
  for (let j = 0; j < n; j++) {
    const start = offsets[j]!;
    const end = offsets[j + 1]!;
    const a = attributeOf(bytes, start);
    if (a !== lastA) {
      lastA = a;
      slot = slots.get(a)!;
    }
    let at = nextByte[slot]!;
    // e is its length byte and that many bytes; a follows it the same way.
    const aStart = start + 1 + bytes[start]!;
    const vStart = aStart + 1 + bytes[aStart]!;
    for (let i = aStart; i < vStart; i++) out[at++] = bytes[i]!;
    for (let i = start; i < aStart; i++) out[at++] = bytes[i]!;
    for (let i = vStart; i < end; i++) out[at++] = bytes[i]!;
    nextByte[slot] = at;
    const k = nextEntry[slot]!;
    nextEntry[slot] = k + 1;
    outOffsets[k + 1] = at;
  }
}

/** The attribute of the EAVT key at `start`: the unsigned int after the entity. */
function attributeOf(bytes: Uint8Array, start: number): number {
  const at = start + 1 + bytes[start]!;
  const k = bytes[at]!;
  let a = 0;
  for (let i = 1; i <= k; i++) a = a * 256 + bytes[at + i]!;
  return a;
}

/** A loop of its own: see the note on on-stack replacement in transactor.ts. */
function addEntries(lists: Record<IndexOrder, OrderLists>, datoms: readonly LogDatom[], schema: Schema): void {
  for (let i = 0; i < datoms.length; i++) addDatomEntries(lists, datoms[i]!, schema.ofDatom(datoms[i]!.a), ALL_PARTS, false);
}

/** The assertion a retraction ends, rewritten for each: its keys are written at once. */
const endedAssertion = { e: 0, a: 0, v: 0 as LogDatom['v'], tx: 0, added: true };

/**
 * The entries of one datom, each into its order's list of its kind, for novelty's parts in
 * `parts` (partBit) only. AEVT's adds only with `aevtAdds`: an indexing commit makes its own
 * from EAVT's (`byAttribute`).
 */
function addDatomEntries(lists: Record<IndexOrder, OrderLists>, d: LogDatom, attribute: Attribute, parts: number, aevtAdds: boolean): void {
  const type = attribute.valueType;
  const orders = ordersOf(attribute);
  for (let k = 0; k < orders.length; k++) {
    const order = orders[k]!;
    const l = lists[order];
    const current = (parts & partBit(order, 'current')) !== 0;
    if (d.added) {
      if (current && (aevtAdds || order !== 'aevt')) pushKey(l.adds, writeEntry(order, d, type, false));
      continue;
    }
    const assertion = endedAssertion;
    assertion.e = d.e;
    assertion.a = d.a;
    assertion.v = d.v;
    assertion.tx = d.assertedTx;
    if (current) pushKey(l.removes, writeEntry(order, assertion, type, false));
    if ((parts & partBit(order, 'history')) === 0) continue;
    pushKey(l.history, writeEntry(order, assertion, type, true));
    pushKey(l.history, writeEntry(order, d, type, true));
  }
}


/**
 * Writes the epoch into the trees: all of `novelty` plus `own` (the indexing commit's entries,
 * which never went into the maps), merged in key order, as one batch per tree. Returns the new
 * roots. A big transaction thus goes from its datoms to sorted tree batches without passing
 * through the sorted maps, and its keys reach the tree as bytes in a few lists. `own` is
 * consumed: its lists' memory is given back (spare-buffers.ts) as their trees are written.
 */
export function writeNovelty(
  trees: IndexTrees,
  roots: TreeRoots,
  novelty: Novelty,
  own: IndexBatches,
  newHeapPages: ReadonlyMap<string, number> = new Map(),
): TreeRoots {
  const next = [...roots];
  const tree = trees.tree;
  // Once a tree is written, its batches' lists are dead (pages and cached nodes own their
  // memory): given back, each spare among them serves the next tree's large lists, and the
  // commit's log record after the trees (spare-buffers.ts). `own` is consumed the same way.
  const dead = new Set<ArrayBufferLike>();
  const retire = (list: EntryList) => {
    dead.add(list.bytes.buffer);
    dead.add(list.offsets.buffer);
  };
  const writeKeys = (slot: number, batches: readonly KeyBatch[]) => {
    for (const batch of batches) {
      if (batch.entries.count > 0) {
        const root = rootOf(next, slot);
        // An empty tree taking only inserts is built bottom-up into full pages.
        next[slot] = root === undefined && !batch.removes ? tree.bulkLoadEncoded(batch.entries) : tree.applyEncoded(root, batch.entries, batch.kinds);
      }
      retire(batch.entries);
      dead.add(batch.kinds.buffer);
    }
  };
  const write = (slot: number, ops: TreeOp<Uint8Array>[]) => {
    if (ops.length === 0) return;
    const root = rootOf(roots, slot);
    next[slot] = root === undefined ? tree.bulkLoad(ops.map((op) => op.entry)) : tree.apply(root, ops);
  };
  const sorter = new EntrySorter();
  let lists: Record<IndexOrder, OrderLists> | undefined;
  const deferred = () => (lists ??= deferredLists(novelty));
  for (const order of ALL) {
    const mine = own[order];
    const current = TreeSlot.current[order];
    const novel = novelCurrent(novelty, order, deferred, sorter);
    writeKeys(current, currentBatches(novel.entries, novel.marks, mine.adds, mine.removes, rootOf(roots, current) === undefined));
    const novelHistory = novelHistoryOf(novelty, order, deferred, sorter);
    writeKeys(TreeSlot.history[order], [historyBatch(novelHistory, mine.history)]);
    retire(novel.entries);
    retire(novelHistory);
    retire(mine.adds);
    retire(mine.removes);
    retire(mine.history);
    // Every list of this order is dead. (AEVT's adds, made from EAVT's, are a list of their own:
    // EAVT's go back before AEVT's trees are written.)
    for (const buffer of dead) giveBack(buffer);
    dead.clear();
  }
  // The epoch's commits in tx order, which is the log's: encoded into one list, as a batch of
  // inserts (an object and a Buffer a commit took ~2 ms per 5,000 commits).
  const log = new EntryListBuilder(LOG_ENTRY_BYTES * novelty.txs.length, novelty.txs.length);
  for (const t of novelty.txs) pushKey(log, writeLogEntry(t.tx, t.recordOffset));
  writeKeys(TreeSlot.log, [insertsOnly(log.finish())]);
  const heap = [...novelty.heap, ...newHeapPages].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  write(
    TreeSlot.heap,
    heap.map(([digest, page]) => ({ entry: encodeHeapEntry(Buffer.from(digest, 'hex'), page), remove: false })),
  );
  return next;
}

/** Room for a log entry: a tx and a file offset, each a length byte and up to 6 bytes. */
const LOG_ENTRY_BYTES = 14;

/** The mark of an entry added within the epoch, as the epoch's bulk path reads it (`novelCurrent`). */
const ADDED_IN_EPOCH: Mark = Object.freeze({ added: 1, removed: 0 });
/** The mark of a tree entry removed within the epoch. */
const REMOVED_FROM_TREE: Mark = Object.freeze({ added: 0, removed: 1 });

/**
 * Novelty's current entries of `order` in key order, with their marks (only whether each was
 * added or removes a tree entry matters here): from the maps when a read filled them, else from
 * the epoch's deferred datoms, encoded and sorted in bulk as an import's are (`deferred`). An
 * entry both added and removed within the epoch (its add and its removal have the same key) is
 * left out, as the maps move it to `retired`. Either way the batches hold the same entries and
 * kinds, so the trees, and the file, do not depend on which reads the epoch saw.
 */
function novelCurrent(novelty: Novelty, order: IndexOrder, deferred: () => Record<IndexOrder, OrderLists>, sorter: EntrySorter): { readonly entries: EntryList; readonly marks: readonly Mark[] } {
  if (novelty.isFilled(order, 'current')) return novelty.current(order).inOrder();
  const lists = deferred()[order];
  const adds = lists.adds.finish();
  const removes = lists.removes.finish();
  // Merged through their sorted orders, with no sorted copy of either list.
  const addOrder = sorter.sortedOrder(adds);
  const removeOrder = sorter.sortedOrder(removes);
  const out = new EntryListBuilder(adds.dataBytes + removes.dataBytes, adds.count + removes.count);
  const marks: Mark[] = [];
  let i = 0;
  let j = 0;
  while (i < adds.count || j < removes.count) {
    const c = i === adds.count ? 1 : j === removes.count ? -1 : compareAt(compareBytes, adds, addOrder[i]!, removes, removeOrder[j]!);
    if (c === 0) {
      i++;
      j++;
    } else if (c < 0) {
      out.pushEntry(adds, addOrder[i++]!);
      marks.push(ADDED_IN_EPOCH);
    } else {
      out.pushEntry(removes, removeOrder[j++]!);
      marks.push(REMOVED_FROM_TREE);
    }
  }
  giveBackList(adds);
  giveBackList(removes);
  return { entries: out.finish(), marks };
}

/** Novelty's history entries of `order` in key order: from the map, or from the deferred datoms (see `novelCurrent`). */
function novelHistoryOf(novelty: Novelty, order: IndexOrder, deferred: () => Record<IndexOrder, OrderLists>, sorter: EntrySorter): EntryList {
  if (novelty.isFilled(order, 'history')) return novelty.history(order).inOrder().entries;
  const unsorted = deferred()[order].history.finish();
  const history = sorted(sorter, unsorted);
  if (history !== unsorted) giveBackList(unsorted);
  return history;
}

/**
 * The entries the epoch's deferred datoms make in the maps not filled, unsorted, in one pass:
 * each order's adds and removes if its current part is not filled, its history if that is not.
 */
function deferredLists(novelty: Novelty): Record<IndexOrder, OrderLists> {
  const { datoms, count } = novelty.deferredDatoms;
  const filled = novelty.filledParts;
  // Room for every datom's entry in history, half of them in adds and in removes: a list grows if not.
  const lists = listsOf((order, kind) => {
    const n = (filled & partBit(order, kind === 'history' ? 'history' : 'current')) !== 0 ? 0 : kind === 'history' ? count : count >>> 1;
    return { bytes: DEFERRED_KEY_BYTES * n, count: n };
  });
  const d = deferredDatom();
  const unfilled = ALL_PARTS & ~filled;
  for (const [schema, from, to] of datoms.runs(count)) {
    for (let i = from; i < to; i++) {
      datoms.read(i, d);
      addDatomEntries(lists, d, schema.ofDatom(d.a), unfilled, true);
    }
  }
  return lists;
}

/** Room for a deferred datom's key at first: most are ~20 bytes. */
const DEFERRED_KEY_BYTES = 24;

/** One tree's batch of keys, as `applyEncoded` takes it. */
interface KeyBatch {
  readonly entries: EntryList;
  readonly kinds: Uint8Array;
  /** Whether any of `kinds` is a remove. */
  readonly removes: boolean;
}

/** The commit's own inserts alone: the list itself, not a copy (an import's whole batch). */
function insertsOnly(entries: EntryList): KeyBatch {
  return { entries, kinds: opKinds(entries.count).fill(OpKind.insert), removes: false };
}

/** Room for `count` operation kinds: a large batch's are a spare (spare-buffers.ts). */
function opKinds(count: number): Uint8Array {
  return spareSized(count) ? new Uint8Array(takeSpare(count), 0, count) : new Uint8Array(count);
}

/** Builds a batch merged from novelty's entries and the commit's own. */
class KeyBatchBuilder {
  private readonly entries: EntryListBuilder;
  private readonly kinds: Uint8Array;
  private count = 0;
  private removes = false;

  constructor(capacity: number, bytes: number) {
    this.entries = new EntryListBuilder(bytes, capacity);
    this.kinds = opKinds(capacity);
  }

  /** Entries [from, to) of `list`, with one copy of their bytes. */
  push(list: EntryList, from: number, to: number, kind: OpKind): void {
    this.entries.pushRun(list, from, to);
    if (to <= from) return;
    this.kinds.fill(kind, this.count, this.count + to - from);
    this.count += to - from;
    if (kind === OpKind.remove) this.removes = true;
  }

  finish(): KeyBatch {
    return { entries: this.entries.finish(), kinds: this.kinds.subarray(0, this.count), removes: this.removes };
  }
}

/**
 * The first entry of `list` from `from` on that is not below entry `k` of `keys` (the list's end
 * if none): galloping, then a binary search, so a run of one list's entries between two of the
 * other's costs comparisons by the log of its length and is then copied whole.
 */
function notBelow(list: EntryList, from: number, keys: EntryList, k: number): number {
  const n = list.count;
  if (from >= n || compareAt(compareBytes, list, from, keys, k) >= 0) return from;
  let below = from; // the last entry known to be below the key
  let step = 1;
  while (below + step < n && compareAt(compareBytes, list, below + step, keys, k) < 0) {
    below += step;
    step *= 2;
  }
  let hi = below + step < n ? below + step : n; // known not below, or the end
  while (hi - below > 1) {
    const mid = (below + hi) >>> 1;
    if (compareAt(compareBytes, list, mid, keys, k) < 0) below = mid;
    else hi = mid;
  }
  return hi;
}

/** The commit's own adds and removes for one current tree, taken in order around novelty's entries. */
class OwnCursor {
  adds = 0;
  removes = 0;

  constructor(
    private readonly addList: EntryList,
    private readonly removeList: EntryList,
  ) {}

  /** Pushes the adds and removes that come before entry `k` of `keys` (all that are left without one), merged in order. */
  pushBefore(batch: KeyBatchBuilder, keys?: EntryList, k = 0): void {
    const adds = this.addList;
    const removes = this.removeList;
    const addEnd = keys === undefined ? adds.count : notBelow(adds, this.adds, keys, k);
    const removeEnd = keys === undefined ? removes.count : notBelow(removes, this.removes, keys, k);
    while (this.adds < addEnd && this.removes < removeEnd) {
      if (compareAt(compareBytes, adds, this.adds, removes, this.removes) < 0) batch.push(adds, this.adds, ++this.adds, OpKind.insert);
      else batch.push(removes, this.removes, ++this.removes, OpKind.remove);
    }
    batch.push(adds, this.adds, addEnd, OpKind.insert);
    this.adds = addEnd;
    batch.push(removes, this.removes, removeEnd, OpKind.remove);
    this.removes = removeEnd;
  }

  /**
   * The first of `keys`' entries from `from` on that is not below the next add or remove (the
   * end when all are pushed): the entries before it are novelty's alone.
   */
  nextIn(keys: EntryList, from: number): number {
    const addsLeft = this.adds < this.addList.count;
    const removesLeft = this.removes < this.removeList.count;
    if (!addsLeft && !removesLeft) return keys.count;
    const useAdd = addsLeft && (!removesLeft || compareAt(compareBytes, this.addList, this.adds, this.removeList, this.removes) < 0);
    return useAdd ? notBelow(keys, from, this.addList, this.adds) : notBelow(keys, from, this.removeList, this.removes);
  }

  /** Whether the next remove is entry `k` of `keys` itself (which then counts as taken). */
  removesEntry(keys: EntryList, k: number): boolean {
    if (this.removes < this.removeList.count && compareAt(compareBytes, this.removeList, this.removes, keys, k) === 0) {
      this.removes++;
      return true;
    }
    return false;
  }
}

/** Novelty this many times smaller than a commit's own adds alone goes into a batch of its own. */
const SEPARATE_NOVELTY = 16;

/**
 * The current tree's batches, written one after the other: novelty's marks, with the commit's
 * own adds and removes merged in. Keys are distinct across the three: adds carry the new tx in
 * their key, and a remove meets only an entry added earlier (in the map) or one in the tree (not
 * in the map). So a large commit of adds alone into a tree with entries (an import after the
 * schema's transaction) can take novelty's few entries in a batch of their own first and its
 * adds as they are: merged, both were copied into one more list (at a million datoms, 20 MB of
 * ArrayBuffers, of which V8 starts a full collection for every 64 MB). An empty tree takes one
 * merged batch, built bottom-up.
 */
function currentBatches(entries: EntryList, marks: readonly Mark[], adds: EntryList, removes: EntryList, emptyTree: boolean): readonly KeyBatch[] {
  if (entries.count === 0 && removes.count === 0) return [insertsOnly(adds)];
  if (!emptyTree && removes.count === 0 && entries.count * SEPARATE_NOVELTY <= adds.count) {
    return [currentBatch(entries, marks, EntryList.empty, EntryList.empty), insertsOnly(adds)];
  }
  return [currentBatch(entries, marks, adds, removes)];
}

/** Novelty's `entries` and `marks` with `adds` and `removes` merged in, as one batch. */
function currentBatch(entries: EntryList, marks: readonly Mark[], adds: EntryList, removes: EntryList): KeyBatch {
  const batch = new KeyBatchBuilder(entries.count + adds.count + removes.count, entries.dataBytes + adds.dataBytes + removes.dataBytes);
  const own = new OwnCursor(adds, removes);
  for (let i = 0; i < entries.count; i++) {
    // Novelty's entries before the commit's next own one go in runs (a small commit has few).
    const next = own.nextIn(entries, i);
    pushMarked(batch, entries, marks, i, next);
    if (next === entries.count) break;
    i = next;
    const mark = marks[i]!;
    own.pushBefore(batch, entries, i);
    if (own.removesEntry(entries, i)) {
      // Removed by this commit: if an earlier commit of the epoch added it, it never reaches the tree.
      if (mark.added === 0) batch.push(entries, i, i + 1, OpKind.remove);
    } else if (mark.removed === 0) {
      batch.push(entries, i, i + 1, OpKind.insert);
    } else if (mark.added === 0) {
      batch.push(entries, i, i + 1, OpKind.remove);
    }
    // Added and removed within the epoch: it never reaches the current tree.
  }
  own.pushBefore(batch);
  return batch.finish();
}

/** What novelty's entry of `mark` does to the current tree: an insert, a remove, or nothing. */
function markKind(mark: Mark): OpKind | undefined {
  if (mark.removed === 0) return OpKind.insert;
  return mark.added === 0 ? OpKind.remove : undefined;
}

/** Novelty's entries [from, to), as `currentBatch` takes them, each run of one kind pushed at once. */
function pushMarked(batch: KeyBatchBuilder, entries: EntryList, marks: readonly Mark[], from: number, to: number): void {
  if (from >= to) return;
  let start = from;
  let kind = markKind(marks[from]!);
  for (let i = from + 1; i <= to; i++) {
    if (i < to && markKind(marks[i]!) === kind) continue;
    if (kind !== undefined) batch.push(entries, start, i, kind);
    if (i === to) break;
    start = i;
    kind = markKind(marks[i]!);
  }
}

/** The history tree's batch: novelty's entries and the commit's own, merged in runs (all inserts). */
function historyBatch(novel: EntryList, own: EntryList): KeyBatch {
  if (novel.count === 0) return insertsOnly(own);
  const batch = new KeyBatchBuilder(novel.count + own.count, novel.dataBytes + own.dataBytes);
  // History keys end with their tx, the commit's own never equal to novelty's: no ties.
  let i = 0;
  let j = 0;
  while (i < novel.count && j < own.count) {
    const novelEnd = notBelow(novel, i, own, j);
    batch.push(novel, i, novelEnd, OpKind.insert);
    i = novelEnd;
    if (i === novel.count) break;
    const ownEnd = notBelow(own, j, novel, i);
    batch.push(own, j, ownEnd, OpKind.insert);
    j = ownEnd;
  }
  batch.push(novel, i, novel.count, OpKind.insert);
  batch.push(own, j, own.count, OpKind.insert);
  return batch.finish();
}
