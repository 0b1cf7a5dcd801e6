/**
 * Applying a batch of operations to a tree: the hitchhiker write path.
 *
 * The batch lands in the root's buffer. A buffer that grows past its limit is flushed: the run of
 * operations bound for one child (the child with the most) is pushed into that child, recursively,
 * until the buffer fits. Leaves apply operations to their entries. Any node that outgrows its page
 * is split by bytes; an emptied node disappears from its parent. Every node touched becomes a draft
 * owned by this batch, mutated in place however often the batch touches it, and written once at
 * the end (sealing children before parents), so the old root and every page it reaches are never
 * changed.
 */
import type { PageId } from '../ids.js';
import {
  BranchNode,
  bufferBytes,
  CHILD_ID_BYTES,
  type ChildRef,
  entriesBytes,
  LeafNode,
  NODE_OVERHEAD_BYTES,
  OP_KIND_BYTES,
  structureBytes,
  type TreeNode,
} from './node.js';
import type { TreeParams } from './params.js';
import { lowerBound } from './search.js';
import { OpKind, type TreeSchema } from './tree-schema.js';

/** What the write path needs from the tree: reading sealed nodes and writing new ones. */
export interface NodeIo<E> {
  readonly schema: TreeSchema<E>;
  readonly params: TreeParams;
  load(id: PageId): TreeNode<E>;
  write(node: TreeNode<E>): PageId;
}

/** Sorted, de-duplicated operations: `entries[i]` with `kinds[i]`. */
export interface SortedOps<E> {
  readonly entries: E[];
  readonly kinds: OpKind[];
}

/** A node's replacement: zero or more nodes, with the separators between consecutive ones. */
interface Replacement<E> {
  readonly nodes: ChildRef<E>[];
  readonly separators: E[];
}

export class BatchWriter<E> {
  private readonly schema: TreeSchema<E>;
  private readonly compare: (a: E, b: E) => number;
  private readonly leafLimit: number;
  private readonly structureLimit: number;
  private readonly bufferLimit: number;

  constructor(private readonly io: NodeIo<E>) {
    this.schema = io.schema;
    this.compare = io.schema.compare;
    this.leafLimit = io.params.pageSize;
    this.structureLimit = io.params.pageSize - io.params.bufferBytes;
    this.bufferLimit = io.params.bufferBytes;
  }

  /** Applies `ops` to the tree at `root` (undefined: empty) and returns the new root. */
  apply(root: PageId | undefined, ops: SortedOps<E>): PageId | undefined {
    if (ops.entries.length === 0) return root;
    let replacement: Replacement<E>;
    if (root === undefined) {
      const inserts = ops.entries.filter((_, i) => ops.kinds[i] === OpKind.insert);
      replacement = this.splitLeaf(new LeafNode(inserts, this));
    } else {
      replacement = this.applyTo(root, ops.entries, ops.kinds, 0, ops.entries.length);
    }
    let level = 0;
    while (replacement.nodes.length > 1) {
      level = this.levelOf(replacement.nodes[0]!) + 1;
      const branch = new BranchNode<E>(level, replacement.separators, replacement.nodes, [], [], this);
      replacement = this.splitBranch(branch);
    }
    if (replacement.nodes.length === 0) return undefined;
    let top = replacement.nodes[0]!;
    // A root with one child and nothing pending adds a level that holds nothing: drop it.
    for (;;) {
      const node = typeof top === 'number' ? this.io.load(top) : top;
      if (node.kind !== 'branch' || node.children.length !== 1 || node.buffer.length !== 0) break;
      top = node.children[0]!;
    }
    return this.seal(top);
  }

  // ----- recursion ------------------------------------------------------------------------------

  private applyTo(ref: ChildRef<E>, entries: E[], kinds: OpKind[], from: number, to: number): Replacement<E> {
    const node = this.own(ref);
    if (node.kind === 'leaf') {
      node.entries = this.mergeIntoEntries(node.entries, entries, kinds, from, to);
      return this.splitLeaf(node);
    }
    this.mergeIntoBuffer(node, entries, kinds, from, to);
    this.flush(node);
    if (node.children.length === 0) return { nodes: [], separators: [] };
    return this.splitBranch(node);
  }

  /** Pushes runs of buffered operations down until the buffer fits its limit. */
  private flush(branch: BranchNode<E>): void {
    let pending = bufferBytes(this.schema, branch);
    while (pending > this.bufferLimit && branch.buffer.length > 0) {
      // Operations are sorted, so each child's share is one contiguous run; take the longest
      // (the first of equals, so the choice depends on nothing but the contents).
      let best = 0;
      let bestFrom = 0;
      let bestTo = 0;
      let runFrom = 0;
      for (let child = 0; child < branch.children.length; child++) {
        const runTo =
          child < branch.pivots.length ? lowerBound(branch.buffer, branch.pivots[child]!, this.compare, runFrom) : branch.buffer.length;
        if (runTo - runFrom > bestTo - bestFrom) {
          best = child;
          bestFrom = runFrom;
          bestTo = runTo;
        }
        runFrom = runTo;
      }
      const replacement = this.applyTo(branch.children[best]!, branch.buffer, branch.kinds, bestFrom, bestTo);
      pending -= entriesBytes(this.schema, branch.buffer, bestFrom, bestTo) + (bestTo - bestFrom) * OP_KIND_BYTES;
      branch.buffer.splice(bestFrom, bestTo - bestFrom);
      branch.kinds.splice(bestFrom, bestTo - bestFrom);
      this.replaceChild(branch, best, replacement);
    }
  }

  private replaceChild(branch: BranchNode<E>, index: number, replacement: Replacement<E>): void {
    if (replacement.nodes.length > 0) {
      branch.children.splice(index, 1, ...replacement.nodes);
      branch.pivots.splice(index, 0, ...replacement.separators);
      return;
    }
    // The child emptied: its neighbour's range grows over it.
    branch.children.splice(index, 1);
    if (branch.pivots.length > 0) branch.pivots.splice(index > 0 ? index - 1 : 0, 1);
  }

  // ----- merging --------------------------------------------------------------------------------

  private mergeIntoEntries(current: E[], entries: E[], kinds: OpKind[], from: number, to: number): E[] {
    const merged: E[] = [];
    const compare = this.compare;
    let i = 0;
    let j = from;
    while (i < current.length || j < to) {
      const order = i === current.length ? 1 : j === to ? -1 : compare(current[i]!, entries[j]!);
      if (order < 0) merged.push(current[i++]!);
      else {
        if (kinds[j] === OpKind.insert) merged.push(entries[j]!);
        if (order === 0) i++;
        j++;
      }
    }
    return merged;
  }

  private mergeIntoBuffer(branch: BranchNode<E>, entries: E[], kinds: OpKind[], from: number, to: number): void {
    const buffer = branch.buffer;
    const bufferKinds = branch.kinds;
    const mergedEntries: E[] = [];
    const mergedKinds: OpKind[] = [];
    const compare = this.compare;
    let i = 0;
    let j = from;
    while (i < buffer.length || j < to) {
      const order = i === buffer.length ? 1 : j === to ? -1 : compare(buffer[i]!, entries[j]!);
      if (order < 0) {
        mergedEntries.push(buffer[i]!);
        mergedKinds.push(bufferKinds[i++]!);
      } else {
        // The incoming operation is newer than a buffered one on the same entry: it replaces it.
        mergedEntries.push(entries[j]!);
        mergedKinds.push(kinds[j++]!);
        if (order === 0) i++;
      }
    }
    branch.buffer = mergedEntries;
    branch.kinds = mergedKinds;
  }

  // ----- splitting ------------------------------------------------------------------------------

  /** Splits an oversized leaf into parts of about equal bytes, each at most a page. */
  private splitLeaf(leaf: LeafNode<E>): Replacement<E> {
    const entries = leaf.entries;
    if (entries.length === 0) return { nodes: [], separators: [] };
    const payload = entriesBytes(this.schema, entries);
    if (NODE_OVERHEAD_BYTES + payload <= this.leafLimit || entries.length === 1) return { nodes: [leaf], separators: [] };
    const parts = Math.min(entries.length, Math.ceil(payload / Math.max(1, this.leafLimit - NODE_OVERHEAD_BYTES)));
    const cuts = this.cutPoints(entries.length, parts, (i) => this.schema.sizeOf(entries[i]!), payload, 1);
    const nodes: ChildRef<E>[] = [];
    const separators: E[] = [];
    let start = 0;
    for (const cut of [...cuts, entries.length]) {
      nodes.push(new LeafNode(entries.slice(start, cut), this));
      if (start > 0) separators.push(entries[start]!);
      start = cut;
    }
    return { nodes, separators };
  }

  /**
   * Splits a branch whose pivots and child ids outgrow their share of a page. Each part keeps at
   * least two children, so every level above has fewer nodes than the one below and growth ends.
   * The pivot between two parts moves up as their separator; buffered operations follow it.
   */
  private splitBranch(branch: BranchNode<E>): Replacement<E> {
    const structure = structureBytes(this.schema, branch);
    const childCount = branch.children.length;
    if (structure <= this.structureLimit || childCount < 4) return { nodes: [branch], separators: [] };
    const payload = structure - NODE_OVERHEAD_BYTES;
    const parts = Math.min(childCount >> 1, Math.ceil(payload / Math.max(1, this.structureLimit - NODE_OVERHEAD_BYTES)));
    const childBytes = (i: number) => CHILD_ID_BYTES + (i > 0 ? this.schema.sizeOf(branch.pivots[i - 1]!) : 0);
    const cuts = this.cutPoints(childCount, parts, childBytes, payload, 2);
    const nodes: ChildRef<E>[] = [];
    const separators: E[] = [];
    let start = 0;
    let bufferStart = 0;
    for (const cut of [...cuts, childCount]) {
      const bufferEnd = cut < childCount ? lowerBound(branch.buffer, branch.pivots[cut - 1]!, this.compare, bufferStart) : branch.buffer.length;
      nodes.push(
        new BranchNode<E>(
          branch.level,
          branch.pivots.slice(start, cut - 1),
          branch.children.slice(start, cut),
          branch.buffer.slice(bufferStart, bufferEnd),
          branch.kinds.slice(bufferStart, bufferEnd),
          this,
        ),
      );
      if (start > 0) separators.push(branch.pivots[start - 1]!);
      start = cut;
      bufferStart = bufferEnd;
    }
    return { nodes, separators };
  }

  /**
   * Indices at which to cut `count` items into `parts` runs of about equal weight, each run at
   * least `minimum` items long. Deterministic: depends only on the weights.
   */
  private cutPoints(count: number, parts: number, weight: (i: number) => number, total: number, minimum: number): number[] {
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

  // ----- ownership and sealing -------------------------------------------------------------------

  /** The node as a draft owned by this batch: sealed nodes are copied, owned drafts used as they are. */
  private own(ref: ChildRef<E>): TreeNode<E> {
    if (typeof ref !== 'number') {
      if (ref.owner === this) return ref;
      return this.copy(ref);
    }
    return this.copy(this.io.load(ref));
  }

  private copy(node: TreeNode<E>): TreeNode<E> {
    if (node.kind === 'leaf') return new LeafNode(node.entries, this); // merging makes a new array anyway
    return new BranchNode(node.level, node.pivots.slice(), node.children.slice(), node.buffer, node.kinds, this);
  }

  private levelOf(ref: ChildRef<E>): number {
    const node = typeof ref === 'number' ? this.io.load(ref) : ref;
    return node.kind === 'leaf' ? 0 : node.level;
  }

  /** Writes drafts bottom-up, children before parents, and returns the root's page id. */
  private seal(ref: ChildRef<E>): PageId {
    if (typeof ref === 'number') return ref;
    if (ref.kind === 'branch') {
      for (let i = 0; i < ref.children.length; i++) ref.children[i] = this.seal(ref.children[i]!);
    }
    ref.owner = null;
    return this.io.write(ref);
  }
}
