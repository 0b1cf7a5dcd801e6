/**
 * Tree nodes, in memory. A sealed node (decoded from a page, possibly shared through the cache)
 * is never mutated. A draft belongs to the batch that created it (its `owner`) and is mutated in
 * place by that batch only, then sealed into a page: immutable-js's copy-on-write with owners.
 * Entries, pivots and buffered operations are packed EntryLists of encoded entries.
 */
import type { PageId } from '../ids.js';
import type { CacheEntry } from '../storage/page-cache.js';
import type { EntryList } from './entry-list.js';
import type { TreeParams } from './params.js';

/**
 * WRITE_CACHE_POLICY. A draft's `cacheWhenWritten` comes from the page it replaces: a node that
 * readers used since the clock hand last passed it stays cached across rewrites (in its new
 * version); one only the writer touched stays out. Under random writes the writer rarely comes
 * back to a node before the cache would evict it, and every page cached is external memory that
 * only a full collection reclaims: V8 starts one for every 64 MiB of it, each tracing the
 * application's whole heap. Reading a page back when the writer does return costs less. Nodes
 * with no predecessor (a tree's first leaf, a new root) are cached; split parts inherit.
 */

/** A child is a page, or a draft node of the batch being applied. */
export type ChildRef = PageId | TreeNode;

export class LeafNode {
  readonly kind = 'leaf' as const;
  /** For a draft: whether its page enters the page cache when written (see `WRITE_CACHE_POLICY`). */
  cacheWhenWritten = true;

  constructor(
    /** Strictly increasing under the schema's order. */
    public entries: EntryList,
    public owner: object | null,
  ) {}
}

/**
 * A branch: child `i` holds entries in [pivots[i-1], pivots[i]) (unbounded at the ends), and
 * `buffer` holds pending operations (with `kinds`) not yet pushed down to the children, newer
 * than anything below them.
 */
export class BranchNode {
  readonly kind = 'branch' as const;
  /** For a draft: whether its page enters the page cache when written (see `WRITE_CACHE_POLICY`). */
  cacheWhenWritten = true;
  /**
   * For a sealed branch, made by the first lookup through it: the children's page cache entries
   * (PageStore.loadChild). Never on drafts, whose children change.
   */
  childSlots: (CacheEntry | undefined)[] | undefined = undefined;
  /**
   * For a sealed branch, made by the first lookup through it: where each child's share of the
   * buffer starts (search.ts, bufferBounds), so a lookup searches only the share of the child it
   * goes to. Never on drafts, whose buffers change.
   */
  bufferBounds: Uint32Array | undefined = undefined;

  constructor(
    /** 1 for a branch over leaves, one more for each level above. */
    public level: number,
    public pivots: EntryList,
    public children: ChildRef[],
    public buffer: EntryList,
    /** OpKind of each buffered operation. */
    public kinds: Uint8Array,
    public owner: object | null,
  ) {}
}

export type TreeNode = LeafNode | BranchNode;


/** Child `index` of a sealed branch (read from a page), whose children are all page ids. */
export const sealedChild = (branch: BranchNode, index: number): PageId => branch.children[index] as PageId;

/** Bytes of a child id in a branch page: 6, enough for files up to 256 TiB. */
export const CHILD_ID_BYTES = 6;

export const varintBytes = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

/** Encoded bytes of entries [from, to) of a list, each with its length prefix. */
export function runBytes(list: EntryList, from: number, to: number): number {
  let total = list.start(to) - list.start(from);
  for (let i = from; i < to; i++) total += varintBytes(list.end(i) - list.start(i));
  return total;
}

export const listBytes = (list: EntryList): number => varintBytes(list.count) + runBytes(list, 0, list.count);

export const leafBytes = (leaf: LeafNode): number => 1 + listBytes(leaf.entries);

/** Bytes of a branch's page besides its buffer: kind, level, pivots, child ids. */
export const structureBytes = (branch: BranchNode): number =>
  1 + varintBytes(branch.level) + listBytes(branch.pivots) + branch.children.length * CHILD_ID_BYTES;

/** Bytes of a branch's buffer: the operations and one kind byte each. */
export const bufferBytes = (branch: BranchNode): number => listBytes(branch.buffer) + branch.buffer.count;

/**
 * The bytes a branch's buffer may hold: `bufferBytes` at least, and whatever its pivots and child
 * ids leave of the page. A branch's structure is at most `pageSize - bufferBytes` but most are far
 * below (split halves; short separators), and a larger buffer means longer flush runs: fewer
 * pages rewritten per operation pushed down.
 */
export const bufferRoom = (branch: BranchNode, params: TreeParams): number => Math.max(params.bufferBytes, params.pageSize - structureBytes(branch));
