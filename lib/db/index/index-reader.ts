/**
 * Reading an index as of a basis: the tree's entries merged with the novelty's, lazily, in key
 * order (ascending or descending). A novelty entry hides or shows a tree entry with the same key
 * according to its mark; entries added after the basis are skipped.
 */
import type { TreeCursor } from '../../tree/cursor.js';
import type { IndexOrder } from '../encoding/datom-key.js';
import { type IndexState, type IndexTrees, rootOf, TreeSlot } from './index-trees.js';
import { type EntryMap, isVisible, type Mark, type Novelty } from './novelty.js';

export interface KeyRange {
  /** Inclusive lower bound. */
  readonly lower?: Buffer | undefined;
  /** Exclusive upper bound. */
  readonly upper?: Buffer | undefined;
  readonly reverse?: boolean | undefined;
}

export class IndexReader {
  constructor(
    private readonly trees: IndexTrees,
    readonly state: IndexState,
    readonly basis: number,
  ) {}

  current(order: IndexOrder, range: KeyRange): IterableIterator<Uint8Array> {
    return this.merged(TreeSlot.current[order], this.state.novelty.current[order], range);
  }

  history(order: IndexOrder, range: KeyRange): IterableIterator<Uint8Array> {
    return this.merged(TreeSlot.history[order], this.state.novelty.history[order], range);
  }

  private merged(slot: number, novelty: EntryMap, range: KeyRange): IterableIterator<Uint8Array> {
    const cursor = this.trees.tree.scan(rootOf(this.state.roots, slot), {
      lower: range.lower,
      upper: range.upper,
      reverse: range.reverse,
    });
    // Right after indexing (or a bulk import) novelty is empty: the tree alone answers.
    if (novelty.size === 0) return cursor;
    return new MergedEntries(cursor, this.state.novelty, novelty, range, this.basis);
  }
}

class MergedEntries implements IterableIterator<Uint8Array> {
  private tree: Uint8Array | undefined;
  private novelKey: Buffer | undefined;
  private novelMark: Mark | undefined;
  private novel: Iterator<[Buffer, Mark]>;
  private version: number;
  private readonly reverse: boolean;
  private readonly pair: (Buffer | Mark)[] = [];

  constructor(
    private readonly cursor: TreeCursor<Uint8Array>,
    private readonly owner: Novelty,
    private readonly map: EntryMap,
    private readonly range: KeyRange,
    private readonly basis: number,
  ) {
    this.reverse = range.reverse === true;
    this.version = owner.version;
    // entriesReversed starts at its key inclusive unless told to skip it; the upper bound is exclusive.
    this.novel = this.reverse ? map.entriesReversed(range.upper, this.pair, true) : map.entries(range.lower, this.pair);
    this.tree = cursor.nextEntry();
    this.advanceNovel();
  }

  [Symbol.iterator](): IterableIterator<Uint8Array> {
    return this;
  }

  next(): IteratorResult<Uint8Array> {
    for (;;) {
      const tree = this.tree;
      const novelKey = this.novelKey;
      if (tree === undefined && novelKey === undefined) return { done: true, value: undefined };
      // The direction applies to the comparison only: an exhausted side always yields to the other.
      const order = tree === undefined ? 1 : novelKey === undefined ? -1 : Buffer.compare(tree, novelKey) * (this.reverse ? -1 : 1);
      if (order < 0) {
        this.tree = this.cursor.nextEntry();
        return { done: false, value: tree! };
      }
      const mark = this.novelMark!;
      this.advanceNovel();
      if (order === 0) {
        this.tree = this.cursor.nextEntry();
        if (mark.removed === 0 || mark.removed > this.basis) return { done: false, value: tree! };
      } else if (mark.added !== 0 && isVisible(mark, this.basis)) {
        return { done: false, value: novelKey! };
      }
    }
  }

  private advanceNovel(): void {
    if (this.owner.version !== this.version && this.novelKey !== undefined) {
      // A commit wrote the maps since the iterator was made: continue from the last key by seeking.
      this.version = this.owner.version;
      const last = this.novelKey;
      this.novel = this.reverse ? this.map.entriesReversed(last, this.pair, true) : this.map.entries(last, this.pair);
      if (!this.reverse) {
        const step = this.novel.next();
        if (step.done !== true && Buffer.compare(step.value[0], last) !== 0) {
          this.accept(step.value[0], step.value[1]);
          return;
        }
      }
    }
    const step = this.novel.next();
    if (step.done === true) {
      this.novelKey = undefined;
      this.novelMark = undefined;
      return;
    }
    this.accept(step.value[0], step.value[1]);
  }

  private accept(key: Buffer, mark: Mark): void {
    const outside = this.reverse
      ? this.range.lower !== undefined && Buffer.compare(key, this.range.lower) < 0
      : this.range.upper !== undefined && Buffer.compare(key, this.range.upper) >= 0;
    this.novelKey = outside ? undefined : key;
    this.novelMark = outside ? undefined : mark;
  }
}
