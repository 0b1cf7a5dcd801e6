/**
 * Reading an index as of a basis: the tree's entries merged with the novelty's, lazily, in key
 * order (ascending or descending). A novelty entry hides or shows a tree entry with the same key
 * according to its mark; entries added after the basis are skipped.
 */
import type { TreeCursor } from '../../tree/cursor.js';
import type { IndexOrder } from '../encoding/datom-key.js';
import { type IndexState, type IndexTrees, rootOf, TreeSlot } from './index-trees.js';
import { type EntryMap, isVisible, type Mark } from './novelty.js';

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
    return new MergedEntries(cursor, novelty, range, this.basis);
  }
}

class MergedEntries implements IterableIterator<Uint8Array> {
  private tree: Uint8Array | undefined;
  private novelKey: Buffer | undefined;
  private novelMark: Mark | undefined;
  private readonly novel: Iterator<[Buffer, Mark]>;
  private readonly direction: number;

  constructor(
    private readonly cursor: TreeCursor<Uint8Array>,
    novelty: EntryMap,
    private readonly range: KeyRange,
    private readonly basis: number,
  ) {
    this.direction = range.reverse === true ? -1 : 1;
    if (range.reverse === true) {
      // entriesReversed starts at its key inclusive; the upper bound is exclusive.
      this.novel = novelty.entriesReversed(range.upper, undefined, true);
    } else {
      this.novel = novelty.entries(range.lower);
    }
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
      const order = tree === undefined ? 1 : novelKey === undefined ? -1 : Buffer.compare(tree, novelKey) * this.direction;
      if (order < 0) {
        this.tree = this.cursor.nextEntry();
        return { done: false, value: tree! };
      }
      const mark = this.novelMark!;
      this.advanceNovel();
      if (order === 0) {
        this.tree = this.cursor.nextEntry();
        if (isVisible({ added: 0, removed: mark.removed }, this.basis)) return { done: false, value: tree! };
      } else if (mark.added !== 0 && isVisible(mark, this.basis)) {
        return { done: false, value: novelKey! };
      }
    }
  }

  private advanceNovel(): void {
    const step = this.novel.next();
    if (step.done === true) {
      this.novelKey = undefined;
      this.novelMark = undefined;
      return;
    }
    const [key, mark] = step.value;
    const outside =
      this.direction === 1
        ? this.range.upper !== undefined && Buffer.compare(key, this.range.upper) >= 0
        : this.range.lower !== undefined && Buffer.compare(key, this.range.lower) < 0;
    if (outside) {
      this.novelKey = undefined;
      this.novelMark = undefined;
      return;
    }
    this.novelKey = key;
    this.novelMark = mark;
  }
}
