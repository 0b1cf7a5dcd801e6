/**
 * The tree's invariant checker, for `verify` and the tests: order inside every node, every entry
 * and pivot inside the range its ancestors' separators give it, equal leaf depth with consistent
 * levels, buffers and structures within their limits, and every page readable, checksummed,
 * inside the file and reached only once.
 */
import { CorruptionError } from '../errors.js';
import type { PageId } from '../ids.js';
import type { EntryList } from './entry-list.js';
import { bufferBytes, bufferRoom, leafBytes, sealedChild, structureBytes, type TreeNode } from './node.js';
import { maxChildrenOf, type TreeParams } from './params.js';
import { compareAt } from './search.js';
import type { TreeSchema } from './tree-schema.js';

export interface TreeProblem {
  readonly pageId: PageId;
  readonly message: string;
}

export interface TreeReport {
  readonly problems: TreeProblem[];
  readonly leaves: number;
  readonly branches: number;
  /** Entries stored in leaves (buffered operations not included). */
  readonly leafEntries: number;
  readonly bufferedOps: number;
  /** Levels from the root to the leaves (1: the root is a leaf; 0: empty tree). */
  readonly depth: number;
}

/** A bound: pivot `index` of `list`, or none. */
type Bound = readonly [list: EntryList, index: number] | undefined;

export function checkTree(
  compare: TreeSchema<unknown>['compare'],
  params: TreeParams,
  load: (id: PageId) => TreeNode,
  root: PageId | undefined,
): TreeReport {
  const problems: TreeProblem[] = [];
  const seen = new Set<number>();
  const counts = { leaves: 0, branches: 0, leafEntries: 0, bufferedOps: 0 };
  const structureLimit = params.pageSize - params.bufferBytes;

  const inRange = (list: EntryList, low: Bound, high: Bound) => {
    for (let i = 0; i < list.count; i++) {
      if (low !== undefined && compareAt(compare, list, i, low[0], low[1]) < 0) return false;
      if (high !== undefined && compareAt(compare, list, i, high[0], high[1]) >= 0) return false;
    }
    return true;
  };
  const increasing = (list: EntryList) => {
    for (let i = 1; i < list.count; i++) if (compareAt(compare, list, i - 1, list, i) >= 0) return false;
    return true;
  };

  /** Returns the node's level (0 for a leaf), or -1 when it could not be read. */
  const walk = (id: PageId, low: Bound, high: Bound): number => {
    const problem = (message: string) => problems.push({ pageId: id, message: `node ${id}: ${message}` });
    if (seen.has(id)) {
      problem('reached twice');
      return -1;
    }
    seen.add(id);
    let node: TreeNode;
    try {
      node = load(id);
    } catch (error) {
      if (!(error instanceof CorruptionError)) throw error;
      problem(error.message);
      return -1;
    }
    if (node.kind === 'leaf') {
      counts.leaves += 1;
      counts.leafEntries += node.entries.count;
      if (node.entries.count === 0) problem('empty leaf');
      if (!increasing(node.entries)) problem('leaf entries out of order');
      if (!inRange(node.entries, low, high)) problem('leaf entry outside the range of its separators');
      if (leafBytes(node) > params.pageSize && node.entries.count > 1) problem('leaf larger than a page');
      return 0;
    }
    counts.branches += 1;
    counts.bufferedOps += node.buffer.count;
    if (node.children.length === 0) problem('branch without children');
    if (!increasing(node.pivots)) problem('pivots out of order');
    if (!inRange(node.pivots, low, high)) problem('pivot outside the range of its separators');
    if (!increasing(node.buffer)) problem('buffer out of order');
    if (!inRange(node.buffer, low, high)) problem('buffered operation outside the range of its separators');
    if (bufferBytes(node) > bufferRoom(node, params)) problem('buffer over its limit');
    if (structureBytes(node) > structureLimit && node.children.length >= 4) problem('branch larger than its page share');
    if (node.children.length > maxChildrenOf(params)) problem('branch with more than maxChildren children');
    const levels = node.children.map((_, i) =>
      walk(sealedChild(node, i), i > 0 ? [node.pivots, i - 1] : low, i < node.pivots.count ? [node.pivots, i] : high),
    );
    if (levels.some((level) => level >= 0 && level !== node.level - 1)) problem(`children not all at level ${node.level - 1}`);
    return node.level;
  };

  const level = root === undefined ? -1 : walk(root, undefined, undefined);
  return { problems, ...counts, depth: level + 1 };
}
