/**
 * Range iteration in either direction. The cursor keeps the path from the root to the current
 * leaf; on entering a leaf it merges into the leaf's entries the buffered operations that the
 * branches on the path hold for that leaf's key range (newer, higher branches winning). Only one
 * leaf's view exists at a time, so a scan never materializes its range, and a leaf with nothing
 * pending above it is used as it is, without copying. Entries are decoded only when returned.
 */
import type { PageId } from '../ids.js';
import { EntryList, prefixOf } from './entry-list.js';
import { mergeOps } from './merge.js';
import { type BranchNode, type TreeNode } from './node.js';
import { boundWithin, bufferBounds, lowerBound, startsWith, upperBound } from './search.js';
import { compareBytes, OpKind, type TreeSchema } from './tree-schema.js';

/**
 * Range bounds as encoded keys, compared with the schema's order: with a bytewise order a key
 * prefix bounds a scan over every entry that extends it. Lower bounds are inclusive and upper
 * bounds exclusive unless said otherwise.
 */
export interface ScanBounds {
  readonly lower?: Uint8Array | undefined;
  readonly lowerExclusive?: boolean | undefined;
  readonly upper?: Uint8Array | undefined;
  readonly upperInclusive?: boolean | undefined;
  readonly reverse?: boolean | undefined;
}

const EMPTY = new Uint8Array(0);

export class TreeCursor<E> implements IterableIterator<E> {
  private readonly compare: TreeSchema<E>['compare'];
  private readonly lower: Uint8Array | undefined;
  private readonly lowerExclusive: boolean;
  private readonly upper: Uint8Array | undefined;
  private readonly upperInclusive: boolean;
  private readonly reverse: boolean;
  // The path: branches[d] is the branch at depth d, indices[d] the child taken from it. The key
  // range of the node at depth d runs from pivot lowIndex[d] of lowList[d] to pivot highIndex[d]
  // of highList[d] (index -1: unbounded).
  private readonly branches: BranchNode[] = [];
  private readonly indices: number[] = [];
  private readonly lowList: (EntryList | undefined)[] = [undefined];
  private readonly lowIndex: number[] = [-1];
  private readonly highList: (EntryList | undefined)[] = [undefined];
  private readonly highIndex: number[] = [-1];
  private view!: EntryList;
  private position = 0;
  /** Forward: one past the last entry to yield from the view; reverse: the last index not to yield. */
  private limit = 0;
  /** The bound was reached inside the current view: no later leaf can hold more. */
  private boundInView = false;
  private done: boolean;
  /** The first four bytes of the key `seek` is looking for (see compareAt). */
  private seekPrefix = 0;

  constructor(
    private readonly schema: TreeSchema<E>,
    private readonly load: (id: PageId) => TreeNode,
    /** A sealed branch's child, through the branch's cache slots (HitchhikerTree.child). */
    private readonly child: (branch: BranchNode, index: number) => TreeNode,
    root: PageId | undefined,
    bounds: ScanBounds,
  ) {
    this.compare = schema.compare;
    this.lower = bounds.lower;
    this.lowerExclusive = bounds.lowerExclusive ?? false;
    this.upper = bounds.upper;
    this.upperInclusive = bounds.upperInclusive ?? false;
    this.reverse = bounds.reverse ?? false;
    this.done = root === undefined;
    if (root !== undefined) this.descend(this.load(root), true);
  }

  /** The encoded entry `advance` moved to: `entryBytes[entryStart, entryEnd)`. */
  entryBytes: Uint8Array = EMPTY;
  entryStart = 0;
  entryEnd = 0;

  /**
   * Moves to the next entry and leaves its encoded bytes in `entryBytes`, `entryStart` and
   * `entryEnd` (valid until the next move); false at the end. Allocates nothing, so a reader that
   * needs only part of each entry decodes only that part.
   */
  advance(): boolean {
    while (!this.done) {
      if (this.reverse ? this.position > this.limit : this.position < this.limit) {
        const i = this.reverse ? this.position-- : this.position++;
        const view = this.view;
        this.entryBytes = view.bytes;
        this.entryStart = view.start(i);
        this.entryEnd = view.end(i);
        return true;
      }
      if (this.boundInView || !this.advanceLeaf()) this.done = true;
    }
    return false;
  }

  /**
   * Moves forward to the first entry not below `key[0, keyEnd)`, which must lie after the entry
   * the cursor stands on, and leaves it as `advance` does; false at the end. Within a leaf it
   * gallops from the current position and then bisects, so skipping k entries costs about
   * 2 log k comparisons; a key beyond the leaf moves on leaf by leaf. Forward scans only.
   *
   * `ahead` guesses how many entries past the current one the key lies: the entry there is tried
   * first (with the one before it, two comparisons when right). A merge join on entity ids passes
   * the id distance, exact when every entity in between has one entry (a cardinality-one
   * attribute most entities hold), else off either way (before the key when entities hold several
   * entries, past it when some hold none), which the gallop or the bisection then corrects.
   */
  seek(key: Uint8Array, keyEnd: number, ahead = 1): boolean {
    if (this.reverse) throw new Error('TreeCursor.seek: forward scans only');
    this.seekPrefix = prefixOf(key, 0, keyEnd);
    // Entries from the one before `position` to the guess, carried over into the next leaf.
    let rest = ahead;
    while (!this.done) {
      const view = this.view;
      const limit = this.limit;
      if (this.position < limit) {
        const guess = this.position - 1 + rest;
        // A guess inside the leaf that is not below the key places the key in this leaf without
        // comparing the leaf's last entry (two comparisons for a right guess, not three).
        if (guess > this.position && guess < limit && this.compareAt(view, guess, key, keyEnd) >= 0) {
          this.position = this.compareAt(view, guess - 1, key, keyEnd) < 0 ? guess : this.gallop(view, this.position, guess - 1, key, keyEnd);
          return this.advance();
        }
        if (this.compareAt(view, limit - 1, key, keyEnd) >= 0) {
          this.position = this.guessed(view, this.position, limit - 1, guess, key, keyEnd);
          return this.advance();
        }
        rest -= limit - this.position;
        this.position = limit;
      }
      if (this.boundInView || !this.advanceLeaf()) this.done = true;
    }
    return false;
  }

  /** As `gallop`, trying the entry at `guess` (at most `last`) first when it lies past `from`. */
  private guessed(view: EntryList, from: number, last: number, guess: number, key: Uint8Array, keyEnd: number): number {
    const g = Math.min(guess, last);
    if (g <= from) return this.gallop(view, from, last, key, keyEnd);
    if (g < last && this.compareAt(view, g, key, keyEnd) < 0) return this.gallop(view, g + 1, last, key, keyEnd);
    // The entry at g is not below the key.
    if (this.compareAt(view, g - 1, key, keyEnd) < 0) return g;
    return this.gallop(view, from, g - 1, key, keyEnd);
  }

  /** The first index in [from, last] whose entry is not below the key; the entry at last is not. */
  private gallop(view: EntryList, from: number, last: number, key: Uint8Array, keyEnd: number): number {
    let lo = from;
    let step = 1;
    let hi = from;
    // Probe from, from + 1, from + 3, from + 7, ... until an entry is not below the key.
    while (hi < last && this.compareAt(view, hi, key, keyEnd) < 0) {
      lo = hi + 1;
      hi = Math.min(last, hi + step);
      step *= 2;
    }
    // The answer lies in [lo, hi]: entries before lo are below the key, the one at hi is not (or hi is last, which is not).
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareAt(view, mid, key, keyEnd) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The entry at `i` against the seek's key. Lists with prefixes decide on them first, an integer
   * comparison: a merge join's seek compares entries of other entities, whose first four bytes
   * differ often (in EAVT the entity's leading bytes). In-process A/B of q2-q4: 0.86-0.93.
   */
  private compareAt(list: EntryList, i: number, key: Uint8Array, keyEnd: number): number {
    const prefixes = list.prefixes;
    if (prefixes !== undefined) {
      const p = prefixes[i]!;
      if (p !== this.seekPrefix) return p < this.seekPrefix ? -1 : 1;
    }
    return this.compare(list.bytes, list.start(i), list.end(i), key, 0, keyEnd);
  }

  /** The next entry, or undefined at the end: the form of `next()` that allocates only the entry. */
  nextEntry(): E | undefined {
    return this.advance() ? this.schema.decode(this.entryBytes, this.entryStart, this.entryEnd) : undefined;
  }

  next(): IteratorResult<E> {
    const entry = this.nextEntry();
    return entry === undefined ? { value: undefined, done: true } : { value: entry, done: false };
  }

  [Symbol.iterator](): this {
    return this;
  }

  /** Entries of `list` before the range: index of the first one not below the lower bound. */
  private firstNotBelow(list: EntryList, from = 0): number {
    const lower = this.lower;
    if (lower === undefined) return from;
    return this.lowerExclusive
      ? upperBound(list, lower, 0, lower.length, this.compare, from)
      : lowerBound(list, lower, 0, lower.length, this.compare, from);
  }

  /** Index of the first entry of `list` above the upper bound (or the count). */
  private firstAbove(list: EntryList, from = 0): number {
    const upper = this.upper;
    if (upper === undefined) return list.count;
    return this.upperInclusive
      ? upperBound(list, upper, 0, upper.length, this.compare, from)
      : lowerBound(list, upper, 0, upper.length, this.compare, from);
  }

  private isBelow(list: EntryList, i: number): boolean {
    if (this.lower === undefined) return false;
    const order = this.compare(list.bytes, list.start(i), list.end(i), this.lower, 0, this.lower.length);
    return this.lowerExclusive ? order <= 0 : order < 0;
  }

  private isAbove(list: EntryList, i: number): boolean {
    if (this.upper === undefined) return false;
    const order = this.compare(list.bytes, list.start(i), list.end(i), this.upper, 0, this.upper.length);
    return this.upperInclusive ? order > 0 : order >= 0;
  }

  /** Walks down from `node` (at the current depth) to a leaf, choosing children by the bounds on the first descent. */
  private descend(start: TreeNode, seeking: boolean): void {
    let node = start;
    while (node.kind === 'branch') {
      const depth = this.branches.length;
      let child: number;
      if (!seeking) child = this.reverse ? node.children.length - 1 : 0;
      else if (this.reverse) child = this.firstAbove(node.pivots);
      else child = this.firstNotBelow(node.pivots);
      this.branches.push(node);
      this.indices.push(child);
      this.setRange(depth + 1, node, child);
      node = this.child(node, child);
    }
    this.enterLeaf(node.entries, seeking);
  }

  private setRange(depth: number, branch: BranchNode, child: number): void {
    const bounded = child > 0;
    this.lowList[depth] = bounded ? branch.pivots : this.lowList[depth - 1];
    this.lowIndex[depth] = bounded ? child - 1 : this.lowIndex[depth - 1]!;
    const capped = child < branch.pivots.count;
    this.highList[depth] = capped ? branch.pivots : this.highList[depth - 1];
    this.highIndex[depth] = capped ? child : this.highIndex[depth - 1]!;
  }

  private enterLeaf(entries: EntryList, seeking: boolean): void {
    const depth = this.branches.length;
    const lowList = this.lowList[depth];
    const lowIndex = this.lowIndex[depth]!;
    const highList = this.highList[depth];
    const highIndex = this.highIndex[depth]!;
    // The part of the leaf inside the scan's bounds: buffered operations are merged into that part
    // only, so a short scan (a point read) never copies the rest of its leaf.
    const inLow = this.firstNotBelow(entries);
    const inHigh = Math.max(inLow, this.firstAbove(entries, inLow));
    let view = entries;
    let merged = false;
    // Oldest first: the branch just above the leaf, then upwards; each newer one overrides.
    for (let d = depth - 1; d >= 0; d--) {
      const branch = this.branches[d]!;
      const buffer = branch.buffer;
      if (buffer.count === 0) continue;
      // Only the share of the buffer bound for the child on the path can reach this leaf (the
      // shares a lookup computes once per branch, search.ts), and most shares are empty.
      const bounds = (branch.bufferBounds ??= bufferBounds(buffer, branch.pivots, this.compare));
      const child = this.indices[d]!;
      const shareFrom = bounds[child]!;
      const shareTo = bounds[child + 1]!;
      if (shareFrom >= shareTo) continue;
      let from =
        lowList === undefined || lowIndex < 0 ? shareFrom : lowerBound(buffer, lowList.bytes, lowList.start(lowIndex), lowList.end(lowIndex), this.compare, shareFrom, shareTo);
      let to =
        highList === undefined || highIndex < 0
          ? shareTo
          : lowerBound(buffer, highList.bytes, highList.start(highIndex), highList.end(highIndex), this.compare, from, shareTo);
      // Only operations inside the scan's bounds can change what it yields.
      if (from < to) from = Math.max(from, this.firstNotBelow(buffer, from));
      if (from < to) to = Math.min(to, this.firstAbove(buffer, from));
      if (from >= to) continue;
      view = merged
        ? mergeOps(this.compare, view, undefined, buffer, branch.kinds, from, to).entries
        : mergeOps(this.compare, view, undefined, buffer, branch.kinds, from, to, inLow, inHigh).entries;
      merged = true;
    }
    this.view = view;
    // A merged view holds only the part inside the bounds: whether a bound cut this leaf is known
    // from the leaf itself.
    const cutBelow = merged && inLow > 0;
    const cutAbove = merged && inHigh < entries.count;
    if (!merged && (seeking || inLow === 0)) {
      // The view is the leaf itself, whose part inside the bounds is [inLow, inHigh) already.
      if (this.reverse) {
        this.position = inHigh - 1;
        this.limit = inLow - 1;
        this.boundInView = inLow > 0;
      } else {
        this.position = inLow;
        this.limit = inHigh;
        this.boundInView = inHigh < entries.count;
      }
      return;
    }
    if (this.reverse) {
      const upper = this.firstAbove(view);
      const lower = this.firstNotBelow(view);
      this.position = upper - 1;
      this.limit = Math.min(lower, upper) - 1;
      this.boundInView = lower > 0 || cutBelow;
    } else {
      const lower = seeking ? this.firstNotBelow(view) : 0;
      const upper = Math.max(lower, this.firstAbove(view, lower));
      this.position = lower;
      this.limit = upper;
      this.boundInView = upper < view.count || cutAbove;
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
      if (this.reverse ? this.isBelow(branch.pivots, next) : this.isAbove(branch.pivots, child)) return false;
      this.branches.length = depth + 1;
      this.indices.length = depth + 1;
      this.indices[depth] = next;
      this.setRange(depth + 1, branch, next);
      this.descend(this.child(branch, next), false);
      return true;
    }
    return false;
  }
}

/** What `prefixRun` needs of a tree (HitchhikerTree has it): its order and its nodes. */
export interface NodeSource {
  readonly schema: { readonly compare: TreeSchema<unknown>['compare'] };
  readonly child: (branch: BranchNode, index: number) => TreeNode;
}

/** Where `prefixRun` leaves its run: entries [from, to) of the list it returns. */
export const prefixRunBounds = { from: 0, to: 0 };

/**
 * The entries extending `key[0, keyEnd)` under the bytewise order, below the root node `root`
 * (the caller may keep it: a sealed node never changes), found without a cursor when the leaf
 * holds them all: the leaf's list, the run's bounds left in `prefixRunBounds` (nothing
 * allocated); an empty tree answers with an empty run. When branches on the path buffer
 * operations among them, those are applied to the leaf's run and the entries come back as an
 * array (a value changed since the last flush: a few entries). null when a cursor must answer: a
 * run reaching the leaf's end while the leaf's upper pivot still extends the key (the next leaf
 * may continue it), or a schema with another order. A point read (one entity's attribute) almost always gets its answer here, for one
 * descent and one search of the leaf: no cursor with its bounds and path arrays, no second search
 * for the upper bound.
 */
export function prefixRun(tree: NodeSource, root: TreeNode | undefined, key: Uint8Array, keyEnd: number): EntryList | Uint8Array[] | null {
  const compare = tree.schema.compare;
  if (compare !== compareBytes) return null;
  if (root === undefined) {
    prefixRunBounds.from = 0;
    prefixRunBounds.to = 0;
    return EntryList.empty;
  }
  let node = root;
  // The tightest pivot above the path (as the cursor's highList): everything beyond the leaf is at or above it.
  let highList: EntryList | undefined;
  let highIndex = 0;
  // Operations on the path extending the key, root first (newest first); where each branch's start.
  let pending: PendingOp[] | undefined;
  let levelStarts: number[] | undefined;
  // Bounds of the prefixes of the node reached, from the pivots around it (-1: none yet).
  let lowPrefix = -1;
  let highPrefix = -1;
  while (node.kind === 'branch') {
    const pivots = node.pivots;
    const child = lowPrefix >= 0 ? boundWithin(pivots, key, keyEnd, compare, true, lowPrefix, highPrefix) : upperBound(pivots, key, 0, keyEnd, compare);
    const buffer = node.buffer;
    if (buffer.count > 0) {
      // Only this child's share of the buffer can reach the leaf; operations in the other shares lie
      // outside its range, which holds the key's whole run unless the run reaches the leaf's end.
      const bounds = (node.bufferBounds ??= bufferBounds(buffer, pivots, compare));
      const from = bounds[child]!;
      const to = bounds[child + 1]!;
      let i = from < to ? lowerBound(buffer, key, 0, keyEnd, compare, from, to) : to;
      if (i < to && startsWith(buffer, i, key, keyEnd)) {
        (levelStarts ??= []).push((pending ??= []).length);
        for (; i < to && startsWith(buffer, i, key, keyEnd); i++) {
          pending.push({ entry: buffer.bytes.subarray(buffer.start(i), buffer.end(i)), remove: node.kinds[i] === OpKind.remove });
        }
      }
    }
    if (child < pivots.count) {
      highList = pivots;
      highIndex = child;
    }
    const prefixes = pivots.prefixes;
    if (prefixes !== undefined && child > 0 && child < pivots.count) {
      lowPrefix = prefixes[child - 1]!;
      highPrefix = prefixes[child]!;
    } else if (lowPrefix >= 0) {
      // One side unbounded here: keep the bounds from above, which hold for every node below.
      if (child > 0 && prefixes !== undefined) lowPrefix = prefixes[child - 1]!;
      if (child < pivots.count && prefixes !== undefined) highPrefix = prefixes[child]!;
    }
    node = tree.child(node, child);
  }
  const entries = node.entries;
  const count = entries.count;
  const from = lowPrefix >= 0 ? boundWithin(entries, key, keyEnd, compare, false, lowPrefix, highPrefix) : lowerBound(entries, key, 0, keyEnd, compare);
  // The run is read anyway, so stepping to its end costs no more than a search would.
  let to = from;
  while (to < count && startsWith(entries, to, key, keyEnd)) to++;
  // A pivot above the key that does not extend it is above every key that does.
  if (to === count && highList !== undefined && startsWith(highList, highIndex, key, keyEnd)) return null;
  if (pending !== undefined) return withPending(entries, from, to, pending, levelStarts!);
  prefixRunBounds.from = from;
  prefixRunBounds.to = to;
  return entries;
}

interface PendingOp {
  readonly entry: Uint8Array;
  readonly remove: boolean;
}

/**
 * The leaf's run `entries[from, to)` with the operations buffered above it applied: `pending`
 * holds them root first, each branch's share sorted and starting at its `levelStarts` index.
 * The deepest share is the oldest, so the shares are merged in from the bottom up, each
 * operation replacing or removing its entry. A buffer holds at most one operation per entry
 * (mergeOps replaces the older one).
 */
function withPending(entries: EntryList, from: number, to: number, pending: readonly PendingOp[], levelStarts: readonly number[]): Uint8Array[] {
  let run: Uint8Array[] = [];
  for (let i = from; i < to; i++) run.push(entries.bytes.subarray(entries.start(i), entries.end(i)));
  for (let level = levelStarts.length - 1; level >= 0; level--) {
    const opsEnd = level + 1 < levelStarts.length ? levelStarts[level + 1]! : pending.length;
    run = mergeShare(run, pending, levelStarts[level]!, opsEnd);
  }
  return run;
}

/** Sorted `run` with the sorted operations pending[from, to) applied. */
function mergeShare(run: readonly Uint8Array[], pending: readonly PendingOp[], from: number, to: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  let j = from;
  while (i < run.length || j < to) {
    const entry = i < run.length ? run[i]! : undefined;
    const op = j < to ? pending[j]! : undefined;
    const order = entry === undefined ? 1 : op === undefined ? -1 : compareBytes(entry, 0, entry.length, op.entry, 0, op.entry.length);
    if (order < 0) {
      out.push(entry!);
      i++;
      continue;
    }
    if (order === 0) i++;
    if (!op!.remove) out.push(op!.entry);
    j++;
  }
  return out;
}
