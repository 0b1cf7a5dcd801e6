/**
 * Building a tree bottom-up from sorted entries: leaves packed full, then each level of branches
 * packed full over the one below, with empty buffers. For imports and for the compactor: far
 * fewer bytes and comparisons than inserting in batches.
 */
import { ErrorCode, SedimentError } from '../errors.js';
import type { PageId } from '../ids.js';
import { EntryList, EntryListBuilder } from './entry-list.js';
import { BranchNode, CHILD_ID_BYTES, LeafNode, type TreeNode, varintBytes } from './node.js';
import { maxChildrenOf, type TreeParams } from './params.js';
import { separatorLength, truncatesSeparators } from './separator.js';
import type { TreeSchema } from './tree-schema.js';

/** Branch page bytes besides pivots and ids: kind, level and pivot count (up to 16,383 pivots). */
const BRANCH_HEADER_BYTES = 4;

export function bulkLoad(
  compare: TreeSchema<unknown>['compare'],
  params: TreeParams,
  entries: EntryList,
  write: (node: TreeNode) => PageId,
): PageId | undefined {
  // Level 0: leaves; `firsts` holds each leaf's first entry, cut short when the order allows (the
  // separator before it, for all but the first).
  let ids: PageId[] = [];
  let firsts = new EntryListBuilder();
  let leaf = new EntryListBuilder(params.pageSize);
  let leafBytes = 0; // entries with their length prefixes; the page adds a kind byte and the count
  const truncate = truncatesSeparators(compare);
  const bytes = entries.bytes;
  for (let i = 0; i < entries.count; i++) {
    const start = entries.start(i);
    const end = entries.end(i);
    const previousStart = i > 0 ? entries.start(i - 1) : 0;
    if (i > 0 && compare(bytes, previousStart, start, bytes, start, end) >= 0) {
      throw new SedimentError(ErrorCode.invalidArgument, 'bulk load needs entries in strictly increasing order');
    }
    const length = end - start;
    const size = length + varintBytes(length);
    if (leaf.size > 0 && 1 + varintBytes(leaf.size + 1) + leafBytes + size > params.pageSize) {
      ids.push(write(leafOf(leaf.finish())));
      leaf = new EntryListBuilder(params.pageSize);
      leafBytes = 0;
    }
    if (leaf.size === 0) {
      const cut = truncate && i > 0 ? separatorLength(bytes, previousStart, start, bytes, start, end) : length;
      firsts.push(bytes, start, start + cut);
    }
    leaf.push(bytes, start, end);
    leafBytes += size;
  }
  if (leaf.size > 0) ids.push(write(leafOf(leaf.finish())));
  if (ids.length === 0) return undefined;

  // Levels above: group children greedily while the pivots and ids fit, at least two per branch.
  const limit = params.pageSize - params.bufferBytes;
  let separators = firsts.finish();
  for (let level = 1; ids.length > 1; level++) {
    const weight = (i: number) => CHILD_ID_BYTES + (i > 0 ? separators.end(i) - separators.start(i) + varintBytes(separators.end(i) - separators.start(i)) : 0);
    const nextIds: PageId[] = [];
    const nextFirsts = new EntryListBuilder();
    for (const [from, to] of groupChildren(ids.length, weight, limit, maxChildrenOf(params))) {
      const branch = new BranchNode(level, separators.slice(from + 1, to), ids.slice(from, to), EntryList.empty, new Uint8Array(0), null);
      nextIds.push(write(branch));
      nextFirsts.pushEntry(separators, from);
    }
    ids = nextIds;
    separators = nextFirsts.finish();
  }
  return ids[0];
}

/**
 * A leaf to write, kept out of the page cache (WRITE_CACHE_POLICY: only the writer touched it):
 * decoded for the cache as they were written, the leaves of a million datoms' EAVT (bulk-loaded
 * in a trial) were 50 MB of ArrayBuffers and a cache full of pages no reader had asked for.
 * Branches are cached.
 */
function leafOf(entries: EntryList): LeafNode {
  const leaf = new LeafNode(entries, null);
  leaf.cacheWhenWritten = false;
  return leaf;
}

/** Runs [from, to) of children, each filled up to `limit` bytes and `maxChildren` children, holding at least two. */
function groupChildren(count: number, weight: (i: number) => number, limit: number, maxChildren: number): Array<[number, number]> {
  const groups: Array<[number, number]> = [];
  let from = 0;
  let bytes = BRANCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    // The first child of a group carries no pivot.
    const size = i === from ? CHILD_ID_BYTES : weight(i);
    if (i - from >= 2 && (bytes + size > limit || i - from === maxChildren)) {
      groups.push([from, i]);
      from = i;
      bytes = BRANCH_HEADER_BYTES + CHILD_ID_BYTES;
    } else {
      bytes += size;
    }
  }
  groups.push([from, count]);
  // A lone child left at the end takes the last child of the group before it, which then still
  // fits; only a group of two takes the lone child in (three children fit any page share, as a
  // branch splits only from four).
  const last = groups[groups.length - 1]!;
  if (groups.length > 1 && last[1] - last[0] < 2) {
    const before = groups[groups.length - 2]!;
    if (before[1] - before[0] > 2) {
      before[1] -= 1;
      last[0] -= 1;
    } else {
      groups.pop();
      before[1] = count;
    }
  }
  return groups;
}
