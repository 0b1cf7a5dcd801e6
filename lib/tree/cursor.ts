/**
 * Range iteration in either direction. The cursor keeps the path from the root to the current
 * leaf; on entering a leaf it merges into the leaf's entries the buffered operations that the
 * branches on the path hold for that leaf's key range (newer, higher branches winning). Only one
 * leaf's view exists at a time, so a scan never materializes its range, and a leaf with nothing
 * pending above it is used as it is, without copying.
 */
import type { PageId } from '../ids.js';
import { type BranchNode, sealedChild, type TreeNode } from './node.js';
import { lowerBound, partitionPoint } from './search.js';
import { OpKind, type TreeSchema } from './tree-schema.js';

/**
 * Range bounds as monotone predicates, so that a prefix or any other key shape can bound a scan
 * without sentinel values in the order: `below(e)` is true for the entries before the range
 * (a prefix of the order), `above(e)` for the entries after it (a suffix).
 */
export interface ScanBounds<E> {
  readonly below?: ((entry: E) => boolean) | undefined;
  readonly above?: ((entry: E) => boolean) | undefined;
  readonly reverse?: boolean | undefined;
}

const never = (): boolean => false;

export class TreeCursor<E> implements IterableIterator<E> {
  private readonly below: (entry: E) => boolean;
  private readonly above: (entry: E) => boolean;
  private readonly reverse: boolean;
  // The path: branches[d] is the branch at depth d, indices[d] the child taken from it, and
  // lows[d] / highs[d] the key range of the node at depth d (undefined: unbounded).
  private readonly branches: BranchNode<E>[] = [];
  private readonly indices: number[] = [];
  private readonly lows: (E | undefined)[] = [undefined];
  private readonly highs: (E | undefined)[] = [undefined];
  private view: readonly E[] = [];
  private position = 0;
  /** Forward: one past the last entry to yield from the view; reverse: the last index not to yield. */
  private limit = 0;
  /** The bound was reached inside the current view: no later leaf can hold more. */
  private boundInView = false;
  private done: boolean;

  constructor(
    private readonly schema: TreeSchema<E>,
    private readonly load: (id: PageId) => TreeNode<E>,
    root: PageId | undefined,
    bounds: ScanBounds<E>,
  ) {
    this.below = bounds.below ?? never;
    this.above = bounds.above ?? never;
    this.reverse = bounds.reverse ?? false;
    this.done = root === undefined;
    if (root !== undefined) this.descend(this.load(root), true);
  }

  /** The next entry, or undefined at the end: the allocation-free form of `next()`. */
  nextEntry(): E | undefined {
    while (!this.done) {
      if (this.reverse ? this.position > this.limit : this.position < this.limit) {
        return this.view[this.reverse ? this.position-- : this.position++];
      }
      if (this.boundInView || !this.advanceLeaf()) this.done = true;
    }
    return undefined;
  }

  next(): IteratorResult<E> {
    const entry = this.nextEntry();
    return entry === undefined ? { value: undefined, done: true } : { value: entry, done: false };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** Walks down from `node` (at the current depth) to a leaf, choosing children by the bounds on the first descent. */
  private descend(start: TreeNode<E>, seeking: boolean): void {
    let node = start;
    while (node.kind === 'branch') {
      const depth = this.branches.length;
      let child: number;
      if (!seeking) child = this.reverse ? node.children.length - 1 : 0;
      else if (this.reverse) child = partitionPoint(node.pivots, (p) => !this.above(p));
      else child = partitionPoint(node.pivots, this.below);
      this.branches.push(node);
      this.indices.push(child);
      this.setRange(depth + 1, node, child);
      node = this.load(sealedChild(node, child));
    }
    this.enterLeaf(node.entries, seeking);
  }

  private setRange(depth: number, branch: BranchNode<E>, child: number): void {
    this.lows[depth] = child > 0 ? branch.pivots[child - 1] : this.lows[depth - 1];
    this.highs[depth] = child < branch.pivots.length ? branch.pivots[child] : this.highs[depth - 1];
  }

  private enterLeaf(entries: E[], seeking: boolean): void {
    const depth = this.branches.length;
    const low = this.lows[depth];
    const high = this.highs[depth];
    const compare = this.schema.compare;
    let view: readonly E[] = entries;
    // Oldest first: the branch just above the leaf, then upwards; each newer one overrides.
    for (let d = depth - 1; d >= 0; d--) {
      const branch = this.branches[d]!;
      if (branch.buffer.length === 0) continue;
      const from = low === undefined ? 0 : lowerBound(branch.buffer, low, compare);
      const to = high === undefined ? branch.buffer.length : lowerBound(branch.buffer, high, compare, from);
      if (from < to) view = applyPending(view, branch.buffer, branch.kinds, from, to, compare);
    }
    this.view = view;
    if (this.reverse) {
      const upper = partitionPoint(view, (e) => !this.above(e));
      const lower = partitionPoint(view, this.below, 0, upper);
      this.position = upper - 1;
      this.limit = lower - 1;
      this.boundInView = lower > 0;
    } else {
      const lower = seeking ? partitionPoint(view, this.below) : 0;
      const upper = partitionPoint(view, (e) => !this.above(e), lower);
      this.position = lower;
      this.limit = upper;
      this.boundInView = upper < view.length;
    }
  }

  /** Moves to the neighbouring leaf; false when there is none or it lies beyond the bound. */
  private advanceLeaf(): boolean {
    for (let depth = this.branches.length - 1; depth >= 0; depth--) {
      const branch = this.branches[depth]!;
      const child = this.indices[depth]!;
      const next = this.reverse ? child - 1 : child + 1;
      if (next < 0 || next >= branch.children.length) continue;
      // The pivot between the two children bounds everything on the far side.
      const pivot = branch.pivots[this.reverse ? next : child]!;
      if (this.reverse ? this.below(pivot) : this.above(pivot)) return false;
      this.branches.length = depth + 1;
      this.indices.length = depth + 1;
      this.indices[depth] = next;
      this.setRange(depth + 1, branch, next);
      this.descend(this.load(sealedChild(branch, next)), false);
      return true;
    }
    return false;
  }
}

/** `entries` with the operations `ops[from, to)` applied: a new array, the inputs untouched. */
function applyPending<E>(
  entries: readonly E[],
  ops: readonly E[],
  kinds: readonly OpKind[],
  from: number,
  to: number,
  compare: (a: E, b: E) => number,
): E[] {
  const merged: E[] = [];
  let i = 0;
  let j = from;
  while (i < entries.length || j < to) {
    const order = i === entries.length ? 1 : j === to ? -1 : compare(entries[i]!, ops[j]!);
    if (order < 0) merged.push(entries[i++]!);
    else {
      if (kinds[j] === OpKind.insert) merged.push(ops[j]!);
      if (order === 0) i++;
      j++;
    }
  }
  return merged;
}
