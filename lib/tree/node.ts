/**
 * Tree nodes, in memory. A sealed node (decoded from a page, possibly shared through the cache)
 * is never mutated. A draft belongs to the batch that created it (its `owner`) and is mutated in
 * place by that batch only, then sealed into a page: immutable-js's copy-on-write with owners.
 */
import type { PageId } from '../ids.js';
import type { OpKind, TreeSchema } from './tree-schema.js';

/** A child is a page, or a draft node of the batch being applied. */
export type ChildRef<E> = PageId | TreeNode<E>;

export class LeafNode<E> {
  readonly kind = 'leaf' as const;

  constructor(
    /** Strictly increasing under the schema's order. */
    public entries: E[],
    public owner: object | null,
  ) {}
}

/**
 * A branch: child `i` holds entries in [pivots[i-1], pivots[i]) (unbounded at the ends), and
 * `buffer` holds pending operations (with `kinds`) not yet pushed down to the children, newer
 * than anything below them.
 */
export class BranchNode<E> {
  readonly kind = 'branch' as const;

  constructor(
    /** 1 for a branch over leaves, one more for each level above. */
    public level: number,
    public pivots: E[],
    public children: ChildRef<E>[],
    public buffer: E[],
    public kinds: OpKind[],
    public owner: object | null,
  ) {}
}

export type TreeNode<E> = LeafNode<E> | BranchNode<E>;

/** Child `index` of a sealed branch (read from a page), whose children are all page ids. */
export const sealedChild = <E>(branch: BranchNode<E>, index: number): PageId => branch.children[index] as PageId;

/** Estimated bytes of an encoded node besides its entries: array headers and kind. */
export const NODE_OVERHEAD_BYTES = 12;
/** Bytes a child id takes in a branch (a msgpack uint64, at most): constant, so sizing is deterministic. */
export const CHILD_ID_BYTES = 9;
/** Bytes an operation's kind takes in a branch's buffer. */
export const OP_KIND_BYTES = 1;

export function entriesBytes<E>(schema: TreeSchema<E>, entries: readonly E[], from = 0, to = entries.length): number {
  let total = 0;
  for (let i = from; i < to; i++) total += schema.sizeOf(entries[i]!);
  return total;
}

export const leafBytes = <E>(schema: TreeSchema<E>, leaf: LeafNode<E>): number =>
  NODE_OVERHEAD_BYTES + entriesBytes(schema, leaf.entries);

/** Bytes of a branch's pivots and child ids (its buffer not included). */
export const structureBytes = <E>(schema: TreeSchema<E>, branch: BranchNode<E>): number =>
  NODE_OVERHEAD_BYTES + entriesBytes(schema, branch.pivots) + branch.children.length * CHILD_ID_BYTES;

export const bufferBytes = <E>(schema: TreeSchema<E>, branch: BranchNode<E>): number =>
  entriesBytes(schema, branch.buffer) + branch.buffer.length * OP_KIND_BYTES;
