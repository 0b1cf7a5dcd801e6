/**
 * A persistent hitchhiker tree over the page store: an ordered set of entries under a schema.
 * A tree value is just its root page id (undefined when empty); every operation takes a root
 * and writing ones return a new root, leaving the old one and all it reaches untouched.
 */
import type { PageId } from '../ids.js';
import { FrameKind } from '../storage/format.js';
import type { PageStore } from '../storage/page-store.js';
import { BatchWriter, type SortedOps } from './apply.js';
import { bulkLoad } from './bulk-load.js';
import { checkTree, type TreeReport } from './check.js';
import { type ScanBounds, TreeCursor } from './cursor.js';
import { sealedChild, type TreeNode } from './node.js';
import { decodeNode, encodeNode } from './node-codec.js';
import { checkTreeParams, DEFAULT_TREE_PARAMS, type TreeParams } from './params.js';
import { lowerBound, upperBound } from './search.js';
import { OpKind, type TreeOp, type TreeSchema } from './tree-schema.js';

export type TreeRoot = PageId | undefined;

export class HitchhikerTree<E> {
  readonly params: TreeParams;
  private readonly decode: (payload: Buffer, id: PageId) => TreeNode<E>;

  constructor(
    readonly store: PageStore,
    readonly schema: TreeSchema<E>,
    params: TreeParams = DEFAULT_TREE_PARAMS,
  ) {
    this.params = checkTreeParams(params);
    this.decode = (payload, id) => decodeNode(schema, payload, id);
  }

  /** The node at `id`, from the cache or decoded once and cached (pages never change). */
  readonly load = (id: PageId): TreeNode<E> => this.store.load(id, FrameKind.node, (payload) => this.decode(payload, id));

  /** Writes a sealed node; the node itself becomes its page's cached decoded form. */
  private readonly write = (node: TreeNode<E>): PageId => this.store.append(FrameKind.node, encodeNode(this.schema, node), node);

  /** The entry equal to `key`, if the tree holds one. */
  get(root: TreeRoot, key: E): E | undefined {
    if (root === undefined) return undefined;
    const compare = this.schema.compare;
    let node = this.load(root);
    while (node.kind === 'branch') {
      const buffer = node.buffer;
      if (buffer.length > 0) {
        const i = lowerBound(buffer, key, compare);
        if (i < buffer.length && compare(buffer[i]!, key) === 0) return node.kinds[i] === OpKind.insert ? buffer[i] : undefined;
      }
      node = this.load(sealedChild(node, upperBound(node.pivots, key, compare)));
    }
    const entries = node.entries;
    const i = lowerBound(entries, key, compare);
    return i < entries.length && compare(entries[i]!, key) === 0 ? entries[i] : undefined;
  }

  /** Entries within the bounds, ascending (or descending with `reverse`), read lazily. */
  scan(root: TreeRoot, bounds: ScanBounds<E> = {}): TreeCursor<E> {
    return new TreeCursor(this.schema, this.load, root, bounds);
  }

  /** Applies a batch of inserts and removes (the last operation on an entry wins). */
  apply(root: TreeRoot, ops: readonly TreeOp<E>[]): TreeRoot {
    return new BatchWriter({ schema: this.schema, params: this.params, load: this.load, write: this.write }).apply(root, this.sortOps(ops));
  }

  insert(root: TreeRoot, entries: readonly E[]): TreeRoot {
    return this.apply(root, entries.map((entry) => ({ entry, remove: false })));
  }

  remove(root: TreeRoot, entries: readonly E[]): TreeRoot {
    return this.apply(root, entries.map((entry) => ({ entry, remove: true })));
  }

  /** A new tree from entries in strictly increasing order, packed bottom-up into full pages. */
  bulkLoad(entries: Iterable<E>): TreeRoot {
    return bulkLoad(this.schema, this.params, entries, this.write);
  }

  check(root: TreeRoot): TreeReport {
    return checkTree(this.schema, this.params, this.load, root);
  }

  private sortOps(ops: readonly TreeOp<E>[]): SortedOps<E> {
    const compare = this.schema.compare;
    const sorted = ops.slice().sort((a, b) => compare(a.entry, b.entry)); // stable: equal ops keep their order
    const entries: E[] = [];
    const kinds: OpKind[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const op = sorted[i]!;
      const next = sorted[i + 1];
      if (next !== undefined && compare(op.entry, next.entry) === 0) continue; // a later op on the same entry wins
      entries.push(op.entry);
      kinds.push(op.remove ? OpKind.remove : OpKind.insert);
    }
    return { entries, kinds };
  }
}
