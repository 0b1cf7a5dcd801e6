/**
 * A persistent hitchhiker tree over the page store: an ordered set of encoded entries under a
 * schema. A tree value is just its root page id (undefined when empty); every operation takes a
 * root and writing ones return a new root, leaving the old one and all it reaches untouched.
 */
import { asPageId, type PageId } from '../ids.js';
import { FrameKind } from '../storage/format.js';
import type { CacheEntry } from '../storage/page-cache.js';
import type { PageStore } from '../storage/page-store.js';
import { BatchWriter, type ReplacedNode, type SortedOps } from './apply.js';
import { bulkLoad } from './bulk-load.js';
import { checkTree, type TreeReport } from './check.js';
import { type ScanBounds, TreeCursor } from './cursor.js';
import { type EntryList, EntryListBuilder, prefixOf, withBatchMemory } from './entry-list.js';
import { type BranchNode, sealedChild, type TreeNode } from './node.js';
import { decodeNode, encodeTransient } from './node-codec.js';
import { checkTreeParams, DEFAULT_TREE_PARAMS, type TreeParams } from './params.js';
import { bufferBounds, compareAt, find, upperBound } from './search.js';
import { OpKind, type TreeOp, type TreeSchema } from './tree-schema.js';

export type TreeRoot = PageId | undefined;

/** Where `find` leaves the index of the entry it found in the list it returns. */
let foundIndex = 0;

/** A node as cached for a prefix-ordered schema: every list with its prefixes. */
const decodeIndexed = (payload: Buffer, id: PageId): TreeNode => decodeNode(payload, id, true);

export class HitchhikerTree<E> {
  readonly params: TreeParams;
  private readonly decode: (payload: Buffer, id: PageId) => TreeNode;
  /** Where lookups encode their key, for a schema with `encodeInto`; and where the key ends. */
  private keyBytes = new Uint8Array(256);
  private keyEnd = 0;

  constructor(
    readonly store: PageStore,
    readonly schema: TreeSchema<E>,
    params: TreeParams = DEFAULT_TREE_PARAMS,
  ) {
    this.params = checkTreeParams(params);
    this.decode = schema.prefixOrdered === true ? decodeIndexed : decodeNode;
  }

  /** The node at `id`, from the cache or decoded once and cached (pages never change). */
  readonly load = (id: PageId): TreeNode => this.store.load(id, FrameKind.node, this.decode);

  /**
   * Child `index` of a sealed branch, through the branch's slot holding the child's cache entry:
   * a hit costs no Map lookup (the cursor's descent; `find` inlines the same to save the call).
   */
  readonly child = (branch: BranchNode, index: number): TreeNode => {
    const slots = (branch.childSlots ??= new Array<CacheEntry | undefined>(branch.children.length).fill(undefined));
    const slot = slots[index];
    if (slot !== undefined && slot.value !== undefined) {
      slot.referenced = true;
      return slot.value as TreeNode;
    }
    return this.store.loadChild(slots, index, sealedChild(branch, index), FrameKind.node, this.decode);
  };

  /**
   * A node the write path replaces: out of the cache (see PageCache.take), or read without
   * entering it; without prefixes, as the write path searches it only a few times.
   */
  private readonly replace = (id: PageId): ReplacedNode => {
    const cached = this.store.cache.take(id);
    if (cached !== undefined) return { node: cached.value as TreeNode, read: cached.referenced };
    return { node: this.store.load(id, FrameKind.node, decodeNode, false), read: false };
  };

  /**
   * Writes a sealed node. The cache receives the node as a reader would decode it from the page,
   * not the draft, whose lists may share larger buffers; only if wanted (WRITE_CACHE_POLICY). The
   * payload is reused by the next write: the store copies it, and so does decoding.
   */
  private readonly write = (node: TreeNode): PageId => {
    const payload = encodeTransient(node);
    if (!node.cacheWhenWritten) return this.store.append(FrameKind.node, payload);
    // Decoding our own fresh encoding cannot fail, so the id in its error messages is moot.
    return this.store.append(FrameKind.node, payload, this.decode(payload, asPageId(0)));
  };

  /** The entry equal to `key` (compared encoded), if the tree holds one. */
  get(root: TreeRoot, key: E): E | undefined {
    const found = this.find(root, key);
    return found === undefined ? undefined : this.schema.decode(found.bytes, found.start(foundIndex), found.end(foundIndex));
  }

  /** Whether the tree holds an entry equal to `key`: `get` without decoding the entry. */
  has(root: TreeRoot, key: E): boolean {
    return this.find(root, key) !== undefined;
  }

  /**
   * The list holding the entry equal to `key` as an insert, its index left in `foundIndex` (so
   * nothing is allocated); undefined if the tree holds none.
   */
  private find(root: TreeRoot, key: E): EntryList | undefined {
    if (root === undefined) return undefined;
    const compare = this.schema.compare;
    const k = this.encodeKey(key);
    const kEnd = this.keyEnd;
    let node = this.load(root);
    while (node.kind === 'branch') {
      const child = upperBound(node.pivots, k, 0, kEnd, compare);
      const buffer = node.buffer;
      if (buffer.count > 0) {
        // Only the share of the buffer bound for this child can hold the key.
        const bounds = (node.bufferBounds ??= bufferBounds(buffer, node.pivots, compare));
        const from = bounds[child]!;
        const to = bounds[child + 1]!;
        const i = from < to ? find(buffer, k, 0, kEnd, compare, from, to) : -1;
        if (i >= 0) {
          foundIndex = i;
          return node.kinds[i] === OpKind.insert ? buffer : undefined;
        }
      }
      const slots = (node.childSlots ??= new Array<CacheEntry | undefined>(node.children.length).fill(undefined));
      // A hit needs neither the child's id (another array to load) nor a call.
      const slot = slots[child];
      if (slot !== undefined && slot.value !== undefined) {
        slot.referenced = true;
        node = slot.value as TreeNode;
      } else {
        node = this.store.loadChild(slots, child, sealedChild(node, child), FrameKind.node, this.decode);
      }
    }
    const entries = node.entries;
    foundIndex = find(entries, k, 0, kEnd, compare);
    return foundIndex >= 0 ? entries : undefined;
  }

  /** Encodes a lookup key: into `keyBytes` when the schema can, ending at `keyEnd`. */
  private encodeKey(key: E): Uint8Array {
    const schema = this.schema;
    if (schema.encodeInto === undefined) {
      const bytes = schema.encode(key);
      this.keyEnd = bytes.length;
      return bytes;
    }
    let end = schema.encodeInto(key, this.keyBytes, 0);
    while (end < 0) {
      this.keyBytes = new Uint8Array(this.keyBytes.length * 2);
      end = schema.encodeInto(key, this.keyBytes, 0);
    }
    this.keyEnd = end;
    return this.keyBytes;
  }

  /** Entries within the bounds (encoded keys), ascending or with `reverse` descending, read lazily. */
  scan(root: TreeRoot, bounds: ScanBounds = {}): TreeCursor<E> {
    return new TreeCursor(this.schema, this.load, this.child, root, bounds);
  }

  /** Applies a batch of inserts and removes (the last operation on an entry wins). */
  apply(root: TreeRoot, ops: readonly TreeOp<E>[]): TreeRoot {
    const kinds = new Uint8Array(ops.length);
    for (let i = 0; i < ops.length; i++) kinds[i] = ops[i]!.remove ? OpKind.remove : OpKind.insert;
    // Encoded in the batch's memory too: the list dies with the batch.
    return withBatchMemory(() => this.applyEncoded(root, this.encodeAll(ops), kinds));
  }

  /**
   * `apply` for a batch already encoded: operation i is entry i of `entries` with `kinds[i]`
   * (OpKind), in any order. A database's indexing writes its keys this way, with no entry object
   * or operation object per key.
   */
  applyEncoded(root: TreeRoot, entries: EntryList, kinds: Uint8Array): TreeRoot {
    const writer = new BatchWriter({ compare: this.schema.compare, params: this.params, load: this.load, replace: this.replace, write: this.write });
    // Every list the batch builds dies with it: pages and cached nodes own their memory.
    return withBatchMemory(() => writer.apply(root, this.sortOps(entries, kinds)));
  }

  insert(root: TreeRoot, entries: readonly E[]): TreeRoot {
    return this.apply(root, entries.map((entry) => ({ entry, remove: false })));
  }

  remove(root: TreeRoot, entries: readonly E[]): TreeRoot {
    return this.apply(root, entries.map((entry) => ({ entry, remove: true })));
  }

  /** A new tree from entries in strictly increasing order, packed bottom-up into full pages. */
  bulkLoad(entries: Iterable<E>): TreeRoot {
    const list = new EntryListBuilder();
    for (const entry of entries) {
      const bytes = this.schema.encode(entry);
      list.push(bytes, 0, bytes.length);
    }
    return this.bulkLoadEncoded(list.finish());
  }

  /** `bulkLoad` for entries already encoded. */
  bulkLoadEncoded(entries: EntryList): TreeRoot {
    return bulkLoad(this.schema.compare, this.params, entries, this.write);
  }

  check(root: TreeRoot): TreeReport {
    return checkTree(this.schema.compare, this.params, this.load, root);
  }

  private sortOps(encoded: EntryList, opKinds: Uint8Array): SortedOps {
    const compare = this.schema.compare;
    // Batches often arrive sorted (imports, the database's indexing): one pass proves it, and
    // then there are no duplicates to drop either.
    if (strictlyIncreasing(encoded, compare)) return { entries: encoded, kinds: opKinds };
    const order = this.schema.prefixOrdered === true ? prefixOrder(encoded, compare) : comparedOrder(encoded, compare, 0, encoded.count);
    const entries = new EntryListBuilder(encoded.dataBytes, encoded.count);
    const kinds = new Uint8Array(order.length);
    for (let i = 0; i < order.length; i++) {
      const at = order[i]!;
      // Of equal entries the last operation wins: the order is stable, so it comes last.
      if (i + 1 < order.length && compareAt(compare, encoded, at, encoded, order[i + 1]!) === 0) continue;
      kinds[entries.size] = opKinds[at]!;
      entries.pushEntry(encoded, at);
    }
    return { entries: entries.finish(), kinds: kinds.subarray(0, entries.size) };
  }

  /** The operations' entries, encoded, in the order given. */
  private encodeAll(ops: readonly TreeOp<E>[]): EntryList {
    const schema = this.schema;
    const list = new EntryListBuilder(ops.length * 32, ops.length);
    if (schema.encodeInto !== undefined) {
      for (let i = 0; i < ops.length; i++) list.pushEncoded(schema, ops[i]!.entry);
    } else {
      for (let i = 0; i < ops.length; i++) {
        const bytes = schema.encode(ops[i]!.entry);
        list.push(bytes, 0, bytes.length);
      }
    }
    return list.finish();
  }
}

type Compare = TreeSchema<unknown>['compare'];

function strictlyIncreasing(list: EntryList, compare: Compare): boolean {
  for (let i = 1; i < list.count; i++) if (compareAt(compare, list, i - 1, list, i) >= 0) return false;
  return true;
}

/** Operations at most this many go through prefixOrder: index and prefix share a double exactly. */
const INDEX_RANGE = 2 ** 21;

/**
 * Indices of `encoded` in ascending order, stably: equal entries keep their order, so the last
 * operation on an entry wins. For a prefix-ordered schema the order is mostly settled by sorting
 * numbers (prefix, then index, packed in one double) natively, without calling a comparator:
 * a comparator sort of 10,000 operations took more time than applying them to the tree. Only
 * runs of equal prefixes are then sorted by comparison.
 */
function prefixOrder(list: EntryList, compare: Compare): Uint32Array {
  const n = list.count;
  if (n > INDEX_RANGE) return comparedOrder(list, compare, 0, n);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = prefixOf(list.bytes, list.start(i), list.end(i)) * INDEX_RANGE + i;
  keys.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = keys[i]! % INDEX_RANGE;
  let runStart = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && keys[i]! - (keys[i]! % INDEX_RANGE) === keys[runStart]! - (keys[runStart]! % INDEX_RANGE)) continue;
    if (i - runStart > 1) order.set(comparedOrder(list, compare, runStart, i, order), runStart);
    runStart = i;
  }
  return order;
}

/** Indices from..to (of `within`, or themselves) sorted by comparison, ties by index. */
function comparedOrder(list: EntryList, compare: Compare, from: number, to: number, within?: Uint32Array): Uint32Array {
  const indices: number[] = [];
  for (let i = from; i < to; i++) indices.push(within === undefined ? i : within[i]!);
  indices.sort((a, b) => compareAt(compare, list, a, list, b) || a - b);
  return Uint32Array.from(indices);
}
