/**
 * Applying a batch of operations to a tree: the hitchhiker write path.
 *
 * The batch lands in the root's buffer. A buffer that grows past its limit is flushed: the run of
 * operations bound for one child (the child with the most) is pushed into that child, recursively,
 * until the buffer fits. Leaves apply operations to their entries. Any node that outgrows its page
 * is split by bytes; an emptied node disappears from its parent. Every node touched becomes a draft
 * owned by this batch, mutated in place however often the batch touches it, and written once at
 * the end (sealing children before parents), so the old root and every page it reaches are never
 * changed. Entries move as bytes: a merge copies the unchanged runs between operations whole.
 */
import type { PageId } from '../ids.js';
import { EntryList, EntryListBuilder } from './entry-list.js';
import { BranchNode, bufferBytes, bufferRoom, CHILD_ID_BYTES, type ChildRef, LeafNode, leafBytes, runBytes, structureBytes, type TreeNode, varintBytes } from './node.js';
import { maxChildrenOf, type TreeParams } from './params.js';
import { mergeOps } from './merge.js';
import { bufferBounds, lowerBound } from './search.js';
import { pushSeparator, truncatesSeparators } from './separator.js';
import type { TreeSchema } from './tree-schema.js';

/** What the write path needs from the tree: the order, reading sealed nodes, writing new ones. */
export interface NodeIo {
  readonly compare: TreeSchema<unknown>['compare'];
  readonly params: TreeParams;
  load(id: PageId): TreeNode;
  /** The node at `id`, which the batch replaces with a new version: see `ReplacedNode`. */
  replace(id: PageId): ReplacedNode;
  write(node: TreeNode): PageId;
}

/** A node being replaced, and whether readers used it lately (WRITE_CACHE_POLICY in node.ts). */
export interface ReplacedNode {
  readonly node: TreeNode;
  readonly read: boolean;
}

/** Sorted, de-duplicated operations: entry i of `entries` with `kinds[i]`. */
export interface SortedOps {
  readonly entries: EntryList;
  readonly kinds: Uint8Array;
}

/** A node's replacement: zero or more nodes, with the separators between consecutive ones. */
interface Replacement {
  readonly nodes: ChildRef[];
  readonly separators: EntryList;
}

const nothing: Replacement = { nodes: [], separators: EntryList.empty };

export class BatchWriter {
  private readonly compare: NodeIo['compare'];
  private readonly leafLimit: number;
  private readonly structureLimit: number;
  private readonly maxChildren: number;
  /** Whether a leaf split's separator is cut short (separator.ts). */
  private readonly truncate: boolean;

  constructor(private readonly io: NodeIo) {
    this.compare = io.compare;
    this.leafLimit = io.params.pageSize;
    this.structureLimit = io.params.pageSize - io.params.bufferBytes;
    this.maxChildren = maxChildrenOf(io.params);
    this.truncate = truncatesSeparators(io.compare);
  }

  /** Applies `ops` to the tree at `root` (undefined: empty) and returns the new root. */
  apply(root: PageId | undefined, ops: SortedOps): PageId | undefined {
    if (ops.entries.count === 0) return root;
    // An empty tree is an empty leaf: its batch applies like any other leaf's.
    let replacement = this.applyTo(root ?? new LeafNode(EntryList.empty, this), ops.entries, ops.kinds, 0, ops.entries.count);
    while (replacement.nodes.length > 1) {
      const level = this.levelOf(replacement.nodes[0]!) + 1;
      replacement = this.splitBranch(new BranchNode(level, replacement.separators, replacement.nodes, EntryList.empty, new Uint8Array(0), this));
    }
    if (replacement.nodes.length === 0) return undefined;
    let top = replacement.nodes[0]!;
    // A root with one child and nothing pending adds a level that holds nothing: drop it.
    for (;;) {
      const node = typeof top === 'number' ? this.io.load(top) : top;
      if (node.kind !== 'branch' || node.children.length !== 1 || node.buffer.count !== 0) break;
      top = node.children[0]!;
    }
    return this.seal(top);
  }

  // ----- recursion ------------------------------------------------------------------------------

  private applyTo(ref: ChildRef, ops: EntryList, kinds: Uint8Array, from: number, to: number): Replacement {
    const node = this.own(ref);
    if (node.kind === 'leaf') {
      node.entries = mergeOps(this.compare, node.entries, undefined, ops, kinds, from, to).entries;
      return this.splitLeaf(node);
    }
    const merged = mergeOps(this.compare, node.buffer, node.kinds, ops, kinds, from, to);
    node.buffer = merged.entries;
    node.kinds = merged.kinds;
    // A flush can split children, adding pivots and so taking room from the buffer: flush again
    // until the buffer fits what is left.
    let pending = bufferBytes(node);
    while (node.buffer.count > 0 && pending > bufferRoom(node, this.io.params)) pending = this.flush(node, pending);
    if (node.children.length === 0) return nothing;
    return this.splitBranch(node);
  }

  /**
   * Pushes runs of buffered operations down until the buffer fits its room: the longest runs
   * first (the first of equals), so the choice depends on nothing but the contents. Operations
   * are sorted, so each child's share is one contiguous run, and flushing one child neither moves
   * nor reroutes another's: the runs are chosen up front, applied from the last child to the
   * first (so splices keep the earlier indices valid), and the buffer is rebuilt once. Runs and
   * choices live in typed arrays, and the order of lengths is one numeric sort: with a few dozen
   * children, objects and a comparator sort per flush cost more than the searches.
   */
  private flush(branch: BranchNode, bytes: number): number {
    // `bytes` is the buffer's size (bufferBytes), kept up to date by the caller from what this returns.
    let pending = bytes;
    const room = bufferRoom(branch, this.io.params);
    const buffer = branch.buffer;
    const kinds = branch.kinds;
    const pivots = branch.pivots;
    const children = branch.children.length;
    const bounds = bufferBounds(buffer, pivots, this.compare);
    // Ascending (shortfall from the whole buffer, child): longest runs first, then the first child.
    const byLength = new Float64Array(children);
    for (let c = 0; c < children; c++) byLength[c] = (buffer.count - (bounds[c + 1]! - bounds[c]!)) * children + c;
    byLength.sort();
    const chosen = new Uint8Array(children);
    // What stays: sized exactly, as most of a large buffer usually leaves.
    let keptBytes = buffer.dataBytes;
    let keptCount = buffer.count;
    for (let r = 0; r < children && pending > room; r++) {
      const c = byLength[r]! % children;
      const from = bounds[c]!;
      const to = bounds[c + 1]!;
      if (from === to) break; // the rest are empty too
      chosen[c] = 1;
      pending -= runBytes(buffer, from, to) + (to - from);
      keptBytes -= buffer.start(to) - buffer.start(from);
      keptCount -= to - from;
    }
    const kept = new EntryListBuilder(keptBytes, keptCount);
    const keptKinds = new Uint8Array(keptCount);
    // Unchosen children next to each other have adjacent runs: copied as one.
    for (let c = 0; c < children; ) {
      if (chosen[c] === 1) {
        c++;
        continue;
      }
      const from = bounds[c]!;
      while (c < children && chosen[c] === 0) c++;
      const to = bounds[c]!;
      for (let i = from, k = kept.size; i < to; i++, k++) keptKinds[k] = kinds[i]!;
      kept.pushRun(buffer, from, to);
    }
    for (let c = children - 1; c >= 0; c--) {
      if (chosen[c] === 1) this.replaceChild(branch, c, this.applyTo(branch.children[c]!, buffer, kinds, bounds[c]!, bounds[c + 1]!));
    }
    branch.buffer = kept.finish();
    branch.kinds = keptKinds;
    // The runs' bytes left with them; the count's own varint may have shrunk.
    return pending - varintBytes(buffer.count) + varintBytes(kept.size);
  }

  private replaceChild(branch: BranchNode, index: number, replacement: Replacement): void {
    const pivots = branch.pivots;
    const rebuilt = new EntryListBuilder(pivots.dataBytes + replacement.separators.dataBytes, pivots.count + replacement.separators.count);
    if (replacement.nodes.length > 0) {
      branch.children.splice(index, 1, ...replacement.nodes);
      rebuilt.pushRun(pivots, 0, index);
      rebuilt.pushRun(replacement.separators, 0, replacement.separators.count);
      rebuilt.pushRun(pivots, index, pivots.count);
    } else {
      // The child emptied: its neighbour's range grows over it.
      branch.children.splice(index, 1);
      const dropped = index > 0 ? index - 1 : 0;
      rebuilt.pushRun(pivots, 0, dropped);
      rebuilt.pushRun(pivots, dropped + 1, pivots.count);
    }
    branch.pivots = rebuilt.finish();
  }

  // ----- splitting ------------------------------------------------------------------------------

  /** Splits an oversized leaf into parts of about equal bytes, each at most a page. */
  private splitLeaf(leaf: LeafNode): Replacement {
    const entries = leaf.entries;
    if (entries.count === 0) return nothing;
    const total = leafBytes(leaf);
    if (total <= this.leafLimit || entries.count === 1) return { nodes: [leaf], separators: EntryList.empty };
    const payload = total - 1 - varintBytes(entries.count);
    const parts = Math.min(entries.count, Math.ceil(payload / Math.max(1, this.leafLimit - 4)));
    const weight = (i: number) => entries.end(i) - entries.start(i) + varintBytes(entries.end(i) - entries.start(i));
    const cuts = cutPoints(entries.count, parts, weight, payload, 1);
    const nodes: ChildRef[] = [];
    const separators = new EntryListBuilder();
    let start = 0;
    for (const cut of [...cuts, entries.count]) {
      nodes.push(leafDraft(entries.slice(start, cut), this, leaf.cacheWhenWritten));
      if (start > 0) pushSeparator(separators, entries, start, this.truncate);
      start = cut;
    }
    return splitAgain({ nodes, separators: separators.finish() }, (node) => this.splitLeaf(node as LeafNode));
  }

  /**
   * Splits a branch whose pivots and child ids outgrow their share of a page, or whose children
   * are more than `maxChildren`. Each part keeps at least two children, so every level above has
   * fewer nodes than the one below and growth ends. Parts are cut to about equal bytes, or equal
   * numbers of children when the count needs more parts. The pivot between two parts moves up as
   * their separator; buffered operations follow it.
   */
  private splitBranch(branch: BranchNode): Replacement {
    const structure = structureBytes(branch);
    const childCount = branch.children.length;
    const tooLarge = structure > this.structureLimit && childCount >= 4;
    if (!tooLarge && childCount <= this.maxChildren) return { nodes: [branch], separators: EntryList.empty };
    const pivots = branch.pivots;
    const payload = structure - 1 - varintBytes(branch.level);
    const byBytes = tooLarge ? Math.ceil(payload / Math.max(1, this.structureLimit - 8)) : 1;
    const byCount = Math.ceil(childCount / this.maxChildren);
    const parts = Math.min(childCount >> 1, Math.max(byBytes, byCount));
    const byteWeight = (i: number) => CHILD_ID_BYTES + (i > 0 ? pivots.end(i - 1) - pivots.start(i - 1) + varintBytes(pivots.end(i - 1) - pivots.start(i - 1)) : 0);
    const cuts = byCount > byBytes ? cutPoints(childCount, parts, () => 1, childCount, 2) : cutPoints(childCount, parts, byteWeight, payload, 2);
    const nodes: ChildRef[] = [];
    const separators = new EntryListBuilder();
    const buffer = branch.buffer;
    let start = 0;
    let bufferStart = 0;
    for (const cut of [...cuts, childCount]) {
      const bufferEnd =
        cut < childCount ? lowerBound(buffer, pivots.bytes, pivots.start(cut - 1), pivots.end(cut - 1), this.compare, bufferStart) : buffer.count;
      const part = new BranchNode(
        branch.level,
        pivots.slice(start, cut - 1),
        branch.children.slice(start, cut),
        buffer.slice(bufferStart, bufferEnd),
        branch.kinds.slice(bufferStart, bufferEnd),
        this,
      );
      part.cacheWhenWritten = branch.cacheWhenWritten;
      nodes.push(part);
      if (start > 0) separators.pushEntry(pivots, start - 1);
      start = cut;
      bufferStart = bufferEnd;
    }
    return splitAgain({ nodes, separators: separators.finish() }, (node) => this.splitBranch(node as BranchNode));
  }

  // ----- ownership and sealing -------------------------------------------------------------------

  /** The node as a draft owned by this batch: pages are copied, drafts (held as nodes) used as they are. */
  private own(ref: ChildRef): TreeNode {
    if (typeof ref !== 'number') return ref;
    const { node, read } = this.io.replace(ref);
    // Entry lists are immutable and shared; only the children array is ever mutated in place.
    if (node.kind === 'leaf') return leafDraft(node.entries, this, read);
    const draft = new BranchNode(node.level, node.pivots, node.children.slice(), node.buffer, node.kinds, this);
    draft.cacheWhenWritten = read;
    return draft;
  }

  private levelOf(ref: ChildRef): number {
    const node = typeof ref === 'number' ? this.io.load(ref) : ref;
    return node.kind === 'leaf' ? 0 : node.level;
  }

  /** Writes drafts bottom-up, children before parents, and returns the root's page id. */
  private seal(ref: ChildRef): PageId {
    if (typeof ref === 'number') return ref;
    if (ref.kind === 'branch') {
      for (let i = 0; i < ref.children.length; i++) ref.children[i] = this.seal(ref.children[i]!);
    }
    ref.owner = null;
    return this.io.write(ref);
  }
}

function leafDraft(entries: EntryList, owner: BatchWriter, cacheWhenWritten: boolean): LeafNode {
  const leaf = new LeafNode(entries, owner);
  leaf.cacheWhenWritten = cacheWhenWritten;
  return leaf;
}

/**
 * Splits again any part that still exceeds its limit: the number of parts is an estimate, and
 * per-part overheads can leave one over. Each part is smaller than what it came from, so this ends.
 */
function splitAgain(parts: Replacement, split: (node: ChildRef) => Replacement): Replacement {
  const nodes: ChildRef[] = [];
  const separators = new EntryListBuilder();
  parts.nodes.forEach((node, i) => {
    if (i > 0) separators.pushEntry(parts.separators, i - 1);
    const again = split(node);
    nodes.push(...again.nodes);
    separators.pushRun(again.separators, 0, again.separators.count);
  });
  return { nodes, separators: separators.finish() };
}

/**
 * Indices at which to cut `count` items into `parts` runs of about equal weight, each run at
 * least `minimum` items long. Deterministic: depends only on the weights.
 */
function cutPoints(count: number, parts: number, weight: (i: number) => number, total: number, minimum: number): number[] {
  const cuts: number[] = [];
  let accumulated = 0;
  let part = 1;
  for (let i = 0; i < count && part < parts; i++) {
    accumulated += weight(i);
    const start = cuts.length === 0 ? 0 : cuts[cuts.length - 1]!;
    const remainingParts = parts - part;
    const enoughHere = i + 1 - start >= minimum;
    const enoughLeft = count - (i + 1) >= remainingParts * minimum;
    // Waiting one more item would leave too few for the parts still to come: cut now.
    const lastChance = count - (i + 2) < remainingParts * minimum;
    if (enoughHere && enoughLeft && (lastChance || accumulated >= (total * part) / parts)) {
      cuts.push(i + 1);
      part++;
    }
  }
  return cuts;
}
