/**
 * Reading an index as of a basis: the tree's entries merged with the novelty's, lazily, in key
 * order (ascending or descending). A novelty entry hides or shows a tree entry with the same key
 * according to its mark; entries added after the basis are skipped.
 */
import { prefixRun, prefixRunBounds, type TreeCursor } from '../../tree/cursor.js';
import type { TreeNode } from '../../tree/node.js';
import type { EntryList } from '../../tree/entry-list.js';
import { compareBytes } from '../../tree/tree-schema.js';
import type { IndexOrder } from '../encoding/datom-key.js';
import { type IndexState, type IndexTrees, rootOf, TreeSlot } from './index-trees.js';
import {
  bytesOfNovelKey,
  compareBytesToKey,
  compareNovelKeys,
  isVisible,
  type Mark,
  type NovelKey,
  novelKeyOf,
  type Novelty,
} from './novelty.js';
import type { EntryMap } from './entry-map.js';

export interface KeyRange {
  /** Inclusive lower bound. */
  readonly lower?: Buffer | undefined;
  /** Exclusive upper bound. */
  readonly upper?: Buffer | undefined;
  readonly reverse?: boolean | undefined;
}

/**
 * Entries one at a time without allocating: `advance` moves to the next entry and leaves its
 * bytes in `entryBytes[entryStart, entryEnd)` until the next move (false at the end). A reader
 * that needs only some components of each entry decodes only those.
 */
export interface EntryStream {
  advance(): boolean;
  /**
   * Moves forward to the first entry not below `key[0, keyEnd)` (a key after the current entry),
   * as `advance` moves to the next: a tree skips what lies between without reading it. `ahead`
   * guesses how many entries on the key is (see TreeCursor.seek); a wrong guess costs time only.
   */
  seek(key: Uint8Array, keyEnd: number, ahead?: number): boolean;
  readonly entryBytes: Uint8Array;
  readonly entryStart: number;
  readonly entryEnd: number;
  /** Whether the current entry is a history entry (it ends with the `added` byte). */
  readonly entryHistory: boolean;
}

const EMPTY = new Uint8Array(0);

export class IndexReader {
  /** The current trees' root nodes, by slot, once a point read has loaded them (currentRun). */
  private readonly rootNodes: (TreeNode | undefined)[] = [];

  constructor(
    private readonly trees: IndexTrees,
    readonly state: IndexState,
    readonly basis: number,
  ) {}

  current(order: IndexOrder, range: KeyRange): IterableIterator<Uint8Array> {
    const novelty = this.state.novelty;
    return this.merged(TreeSlot.current[order], novelty.current(order), novelty.retired(order), range);
  }

  history(order: IndexOrder, range: KeyRange): IterableIterator<Uint8Array> {
    return this.merged(TreeSlot.history[order], this.state.novelty.history(order), undefined, range);
  }

  /** `current` as an allocation-free stream (ascending). */
  currentStream(order: IndexOrder, range: KeyRange): EntryStream {
    const novelty = this.state.novelty;
    return this.mergedStream(TreeSlot.current[order], novelty.current(order), novelty.retired(order), range, false, false);
  }

  /**
   * `current` as a stream in the range's direction, for readers that decode entries in place
   * (seek works ascending only): no entry is sliced out of its leaf nor wrapped in a result.
   */
  currentInPlace(order: IndexOrder, range: KeyRange): EntryStream {
    const novelty = this.state.novelty;
    return this.mergedStream(TreeSlot.current[order], novelty.current(order), novelty.retired(order), range, false, range.reverse === true);
  }

  /**
   * The current entries extending `prefix[0, prefixEnd)`, when the tree's part of them lies in
   * one leaf (see prefixRun): the leaf's list with the run in `prefixRunBounds` when novelty holds
   * no entry extending the prefix; otherwise that run merged with novelty's entries, as separate
   * entries (`novelRun`). null when a merged stream must answer: the tree cannot say.
   */
  currentRun(order: IndexOrder, prefix: Uint8Array, prefixEnd: number): EntryList | Uint8Array[] | null {
    const novelty = this.state.novelty;
    // Nothing committed since the trees were written (a database just imported or opened): the
    // tree answers alone, and no map is asked for, so none is filled for later commits to write.
    if (novelty.datomCount === 0) return this.treeRun(order, prefix, prefixEnd);
    const live = novelty.current(order);
    const retired = novelty.retired(order);
    // Basis first: asking a map its size merges its pending writes (novelty.ts).
    const readsRetired = this.basis < novelty.retiredUpTo && retired.size > 0;
    const run = this.treeRun(order, prefix, prefixEnd);
    if (run === null || (live.size === 0 && !readsRetired)) return run;
    return this.novelRun(run, novelKeyOf(prefix.subarray(0, prefixEnd)), live, readsRetired ? retired : undefined) ?? run;
  }

  /**
   * `currentRun` of the tree alone, for a reader that knows novelty holds no entry extending the
   * prefix (Novelty.latestValuesAt): no map is read, so none is filled.
   */
  treeRun(order: IndexOrder, prefix: Uint8Array, prefixEnd: number): EntryList | Uint8Array[] | null {
    const slot = TreeSlot.current[order];
    const root = rootOf(this.state.roots, slot);
    // The root node is kept: every point read starts there, and a cache lookup by page id was a
    // few percent of one. It is sealed, so it never changes; its children still come through the cache.
    const node = root === undefined ? undefined : (this.rootNodes[slot] ??= this.trees.tree.load(root));
    return prefixRun(this.trees.tree, node, prefix, prefixEnd);
  }

  /**
   * The tree's run (a leaf's list with its bounds in `prefixRunBounds`, or entries) merged with
   * the entries of `live` (and `retired`) extending `key`, decided as MergedEntries decides them:
   * a tree entry shows unless a tombstone removed it by this basis; a novel entry shows from the
   * tx that added it until the one that removed it. undefined when novelty has no such entry. A
   * point read of a value changed within the epoch comes here: a few entries, merged in order.
   */
  private novelRun(run: EntryList | Uint8Array[], key: NovelKey, live: EntryMap, retired: EntryMap | undefined): Uint8Array[] | undefined {
    const liveKeys: NovelKey[] = [];
    const liveMarks: Mark[] = [];
    live.extensions(key, liveKeys, liveMarks);
    const retiredKeys: NovelKey[] = [];
    const retiredMarks: Mark[] = [];
    if (retired !== undefined) retired.extensions(key, retiredKeys, retiredMarks);
    if (liveKeys.length === 0 && retiredKeys.length === 0) return undefined;
    const tree: Uint8Array[] = [];
    if (Array.isArray(run)) tree.push(...run);
    else for (let i = prefixRunBounds.from; i < prefixRunBounds.to; i++) tree.push(run.bytes.subarray(run.start(i), run.end(i)));
    const out: Uint8Array[] = [];
    let t = 0;
    let l = 0;
    let r = 0;
    while (t < tree.length || l < liveKeys.length || r < retiredKeys.length) {
      const liveKey = l < liveKeys.length ? liveKeys[l] : undefined;
      const retiredKey = r < retiredKeys.length ? retiredKeys[r] : undefined;
      const novel = retiredKey !== undefined && (liveKey === undefined || retiredKey < liveKey) ? retiredKey : liveKey;
      const entry = t < tree.length ? tree[t] : undefined;
      if (novel === undefined) {
        out.push(entry!);
        t++;
        continue;
      }
      let visible = false;
      let bytes: Uint8Array | undefined;
      if (entry !== undefined) {
        const order = compareBytesToKey(entry, 0, entry.length, novel);
        if (order < 0) {
          out.push(entry);
          t++;
          continue;
        }
        if (order === 0) {
          visible = true;
          bytes = entry;
          t++;
        }
      }
      if (liveKey === novel) visible = liveVisible(visible, liveMarks[l++]!, this.basis);
      if (retiredKey === novel) visible = visible || isVisible(retiredMarks[r++]!, this.basis);
      if (visible) out.push(bytes ?? bytesOfNovelKey(novel));
    }
    return out;
  }

  /** Current and history entries merged in key order (ascending), as `history()` reads them. */
  historyStream(order: IndexOrder, range: KeyRange): EntryStream {
    const current = this.currentStream(order, range);
    const past = this.mergedStream(TreeSlot.history[order], this.state.novelty.history(order), undefined, range, true, false);
    return new CurrentAndHistory(current, past);
  }

  private mergedStream(slot: number, live: EntryMap, retired: EntryMap | undefined, range: KeyRange, history: boolean, reverse: boolean): EntryStream {
    const bounds = { lower: range.lower, upper: range.upper, reverse };
    const cursor = this.trees.tree.scan(rootOf(this.state.roots, slot), bounds);
    // As in `merged`: with no novelty the tree's cursor is the stream itself.
    if (live.size === 0 && (retired === undefined || retired.size === 0)) return new TreeStream(cursor, history);
    return new MergedEntries(cursor, this.state.novelty, live, retired, bounds, this.basis, history);
  }

  private merged(slot: number, live: EntryMap, retired: EntryMap | undefined, range: KeyRange): IterableIterator<Uint8Array> {
    const cursor = this.trees.tree.scan(rootOf(this.state.roots, slot), {
      lower: range.lower,
      upper: range.upper,
      reverse: range.reverse,
    });
    // Right after indexing (or a bulk import) novelty is empty: the tree alone answers. Entries
    // written later are after this basis, so they would not show anyway.
    if (live.size === 0 && (retired === undefined || retired.size === 0)) return cursor;
    return new MergedEntries(cursor, this.state.novelty, live, retired, range, this.basis, false);
  }
}

/**
 * Whether an entry shows at `basis` given its live novelty mark, `inTree` telling whether the tree
 * holds it: a tombstone (added 0) hides the tree entry from its tx on; an addition shows from its
 * tx on until its removal.
 */
function liveVisible(inTree: boolean, mark: Mark, basis: number): boolean {
  return mark.added === 0 ? inTree && (mark.removed === 0 || mark.removed > basis) : isVisible(mark, basis);
}

/** A tree cursor as an `EntryStream`: its entries in place. */
class TreeStream implements EntryStream {
  entryBytes: Uint8Array = EMPTY;
  entryStart = 0;
  entryEnd = 0;

  constructor(
    private readonly cursor: TreeCursor<Uint8Array>,
    readonly entryHistory: boolean,
  ) {}

  advance(): boolean {
    return this.took(this.cursor.advance());
  }

  seek(key: Uint8Array, keyEnd: number, ahead?: number): boolean {
    return this.took(this.cursor.seek(key, keyEnd, ahead));
  }

  private took(moved: boolean): boolean {
    if (!moved) return false;
    const cursor = this.cursor;
    this.entryBytes = cursor.entryBytes;
    this.entryStart = cursor.entryStart;
    this.entryEnd = cursor.entryEnd;
    return true;
  }
}

/** `seek` by stepping: for streams that merge novelty, whose entries are not in one tree. */
function seekByStepping(stream: EntryStream, key: Uint8Array, keyEnd: number): boolean {
  while (stream.advance()) {
    if (compareBytes(stream.entryBytes, stream.entryStart, stream.entryEnd, key, 0, keyEnd) >= 0) return true;
  }
  return false;
}

/**
 * Current and history entries in one ascending key order. A current entry (no added byte) never
 * has the components and tx of a history entry, so the two never tie.
 */
class CurrentAndHistory implements EntryStream {
  entryBytes: Uint8Array = EMPTY;
  entryStart = 0;
  entryEnd = 0;
  entryHistory = false;
  private currentLive: boolean;
  private pastLive: boolean;

  constructor(
    private readonly current: EntryStream,
    private readonly past: EntryStream,
  ) {
    this.currentLive = current.advance();
    this.pastLive = past.advance();
  }

  seek(key: Uint8Array, keyEnd: number): boolean {
    // Each side's next entry, if below the key, moves to the key; then the smaller is taken.
    const below = (s: EntryStream) => compareBytes(s.entryBytes, s.entryStart, s.entryEnd, key, 0, keyEnd) < 0;
    if (this.currentLive && below(this.current)) this.currentLive = this.current.seek(key, keyEnd);
    if (this.pastLive && below(this.past)) this.pastLive = this.past.seek(key, keyEnd);
    return this.advance();
  }

  advance(): boolean {
    const current = this.current;
    const past = this.past;
    if (!this.currentLive && !this.pastLive) return false;
    const takeCurrent =
      !this.pastLive ||
      (this.currentLive && compareBytes(current.entryBytes, current.entryStart, current.entryEnd, past.entryBytes, past.entryStart, past.entryEnd) < 0);
    const from = takeCurrent ? current : past;
    this.entryBytes = from.entryBytes;
    this.entryStart = from.entryStart;
    this.entryEnd = from.entryEnd;
    this.entryHistory = !takeCurrent;
    // The entry's bytes stay valid after the move: tree views and novelty keys are never written in place.
    if (takeCurrent) this.currentLive = current.advance();
    else this.pastLive = past.advance();
    return true;
  }
}

/** A key range as novel keys (see novelty.ts): converted once per scan. */
interface NovelRange {
  readonly lower: NovelKey | undefined;
  readonly upper: NovelKey | undefined;
}

/** One novelty map read in key order from a start key; re-seeks by key when the maps changed. */
class NovelSource {
  key: NovelKey | undefined;
  mark: Mark | undefined;
  private iterator: Iterator<[NovelKey, Mark]>;
  private version: number;
  private readonly pair: (NovelKey | Mark)[] = [];

  /** `after`: start strictly after this key (else at the range's start). */
  constructor(
    private readonly owner: Novelty,
    private readonly map: EntryMap,
    private readonly range: NovelRange,
    private readonly reverse: boolean,
    after: NovelKey | undefined,
  ) {
    this.version = owner.version;
    if (after === undefined) {
      // entriesReversed starts at its key inclusive unless told to skip it; the upper bound is exclusive.
      this.iterator = reverse ? map.entriesReversed(range.upper, this.pair, true) : map.entries(range.lower, this.pair);
      this.advance();
    } else {
      this.iterator = this.seekAfter(after);
    }
  }

  advance(): void {
    if (this.owner.version !== this.version && this.key !== undefined) {
      this.version = this.owner.version;
      this.iterator = this.seekAfter(this.key);
      return;
    }
    const step = this.iterator.next();
    if (step.done === true) this.set(undefined, undefined);
    else this.set(step.value[0], step.value[1]);
  }

  /** An iterator placed after `key` (the entry after it already taken as the current one). */
  private seekAfter(key: NovelKey): Iterator<[NovelKey, Mark]> {
    const iterator = this.reverse ? this.map.entriesReversed(key, this.pair, true) : this.map.entries(key, this.pair);
    let step = iterator.next();
    if (!this.reverse && step.done !== true && step.value[0] === key) step = iterator.next();
    if (step.done === true) this.set(undefined, undefined);
    else this.set(step.value[0], step.value[1]);
    return iterator;
  }

  private set(key: NovelKey | undefined, mark: Mark | undefined): void {
    const outside =
      key !== undefined &&
      (this.reverse ? this.range.lower !== undefined && key < this.range.lower : this.range.upper !== undefined && key >= this.range.upper);
    this.key = outside ? undefined : key;
    this.mark = outside ? undefined : mark;
  }
}

/**
 * The tree's entries merged with the live novelty (additions, and tombstones that hide tree
 * entries) and, for a snapshot older than the last retirement, the retired entries it still sees.
 * Entries come out as bytes: the tree's as read, novelty's converted from their keys.
 */
class MergedEntries implements IterableIterator<Uint8Array>, EntryStream {
  entryBytes: Uint8Array = EMPTY;
  entryStart = 0;
  entryEnd = 0;
  private tree: Uint8Array | undefined;
  private readonly live: NovelSource;
  private retired: NovelSource | undefined;
  private last: Uint8Array | undefined;
  private readonly reverse: boolean;
  private readonly novelRange: NovelRange;

  constructor(
    private readonly cursor: TreeCursor<Uint8Array>,
    private readonly owner: Novelty,
    liveMap: EntryMap,
    private readonly retiredMap: EntryMap | undefined,
    range: KeyRange,
    private readonly basis: number,
    readonly entryHistory: boolean,
  ) {
    this.reverse = range.reverse === true;
    this.novelRange = {
      lower: range.lower === undefined ? undefined : novelKeyOf(range.lower),
      upper: range.upper === undefined ? undefined : novelKeyOf(range.upper),
    };
    this.tree = cursor.nextEntry();
    this.live = new NovelSource(owner, liveMap, this.novelRange, this.reverse, undefined);
    this.retired = this.needsRetired() ? new NovelSource(owner, retiredMap!, this.novelRange, this.reverse, undefined) : undefined;
  }

  [Symbol.iterator](): IterableIterator<Uint8Array> {
    return this;
  }

  next(): IteratorResult<Uint8Array> {
    const entry = this.nextBytes();
    return entry === undefined ? { done: true, value: undefined } : { done: false, value: entry };
  }

  seek(key: Uint8Array, keyEnd: number): boolean {
    return seekByStepping(this, key, keyEnd);
  }

  advance(): boolean {
    const entry = this.nextBytes();
    if (entry === undefined) return false;
    this.entryBytes = entry;
    this.entryStart = 0;
    this.entryEnd = entry.length;
    return true;
  }

  private nextBytes(): Uint8Array | undefined {
    for (;;) {
      // A commit during the scan may retire entries this snapshot still sees: read them from here on.
      if (this.retired === undefined && this.needsRetired()) {
        const after = this.last === undefined ? undefined : novelKeyOf(this.last);
        this.retired = new NovelSource(this.owner, this.retiredMap!, this.novelRange, this.reverse, after);
      }
      const entry = this.step();
      if (entry === null) return undefined;
      if (entry !== undefined) {
        this.last = entry;
        return entry;
      }
    }
  }

  private needsRetired(): boolean {
    return this.retiredMap !== undefined && this.basis < this.owner.retiredUpTo && this.retiredMap.size > 0;
  }

  /** The next key in order and whether it is visible: the entry, undefined (hidden) or null (done). */
  private step(): Uint8Array | undefined | null {
    const tree = this.tree;
    const liveKey = this.live.key;
    const retiredKey = this.retired?.key;
    let novel = liveKey;
    if (retiredKey !== undefined && (novel === undefined || this.before(compareNovelKeys(retiredKey, novel)))) novel = retiredKey;
    if (novel === undefined) {
      if (tree === undefined) return null;
      this.tree = this.cursor.nextEntry();
      return tree;
    }
    let visible = false;
    let entry: Uint8Array | undefined;
    if (tree !== undefined) {
      const order = compareBytesToKey(tree, 0, tree.length, novel);
      if (this.before(order)) {
        this.tree = this.cursor.nextEntry();
        return tree;
      }
      if (order === 0) {
        this.tree = this.cursor.nextEntry();
        visible = true;
        entry = tree;
      }
    }
    if (liveKey === novel) {
      const mark = this.live.mark!;
      this.live.advance();
      visible = liveVisible(visible, mark, this.basis);
    }
    if (retiredKey === novel) {
      const mark = this.retired!.mark!;
      this.retired!.advance();
      visible = visible || isVisible(mark, this.basis);
    }
    return visible ? (entry ?? bytesOfNovelKey(novel)) : undefined;
  }

  /** Whether an order (first against second) puts the first before the second in this scan's direction. */
  private before(order: number): boolean {
    return this.reverse ? order > 0 : order < 0;
  }
}
