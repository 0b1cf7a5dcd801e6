/**
 * The tree's invariant checker, for `verify` and the tests: order inside every node, every entry
 * and pivot inside the range its ancestors' separators give it, equal leaf depth with consistent
 * levels, buffers and structures within their limits, and every page readable, checksummed,
 * inside the file and reached only once.
 */
import { CorruptionError } from '../errors.js';
import type { PageId } from '../ids.js';
import { bufferBytes, leafBytes, sealedChild, structureBytes, type TreeNode } from './node.js';
import type { TreeParams } from './params.js';
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

export function checkTree<E>(
  schema: TreeSchema<E>,
  params: TreeParams,
  load: (id: PageId) => TreeNode<E>,
  root: PageId | undefined,
): TreeReport {
  const problems: TreeProblem[] = [];
  const seen = new Set<number>();
  const counts = { leaves: 0, branches: 0, leafEntries: 0, bufferedOps: 0 };
  const compare = schema.compare;
  const structureLimit = params.pageSize - params.bufferBytes;

  const inRange = (e: E, low: E | undefined, high: E | undefined) =>
    (low === undefined || compare(e, low) >= 0) && (high === undefined || compare(e, high) < 0);
  const increasing = (items: readonly E[]) => items.every((e, i) => i === 0 || compare(items[i - 1]!, e) < 0);

  /** Returns the node's level (0 for a leaf), or -1 when it could not be read. */
  const walk = (id: PageId, low: E | undefined, high: E | undefined, isRoot: boolean): number => {
    const problem = (message: string) => problems.push({ pageId: id, message: `node ${id}: ${message}` });
    if (seen.has(id)) {
      problem('reached twice');
      return -1;
    }
    seen.add(id);
    let node: TreeNode<E>;
    try {
      node = load(id);
    } catch (error) {
      if (!(error instanceof CorruptionError)) throw error;
      problem(error.message);
      return -1;
    }
    if (node.kind === 'leaf') {
      counts.leaves += 1;
      counts.leafEntries += node.entries.length;
      if (node.entries.length === 0) problem('empty leaf');
      if (!increasing(node.entries)) problem('leaf entries out of order');
      if (!node.entries.every((e) => inRange(e, low, high))) problem('leaf entry outside the range of its separators');
      if (leafBytes(schema, node) > params.pageSize && node.entries.length > 1) problem('leaf larger than a page');
      return 0;
    }
    counts.branches += 1;
    counts.bufferedOps += node.buffer.length;
    if (node.children.length === 0) problem('branch without children');
    if (node.children.length !== node.pivots.length + 1) problem('pivot and child counts disagree');
    if (!isRoot && node.children.length < 1) problem('non-root branch without children');
    if (!increasing(node.pivots)) problem('pivots out of order');
    if (!node.pivots.every((p) => inRange(p, low, high))) problem('pivot outside the range of its separators');
    if (!increasing(node.buffer)) problem('buffer out of order');
    if (!node.buffer.every((e) => inRange(e, low, high))) problem('buffered operation outside the range of its separators');
    if (bufferBytes(schema, node) > params.bufferBytes) problem('buffer over its limit');
    if (structureBytes(schema, node) > structureLimit && node.children.length >= 4) problem('branch larger than its page share');
    const levels = node.children.map((_, i) =>
      walk(sealedChild(node, i), i > 0 ? node.pivots[i - 1] : low, i < node.pivots.length ? node.pivots[i] : high, false),
    );
    if (levels.some((level) => level >= 0 && level !== node.level - 1)) problem(`children not all at level ${node.level - 1}`);
    return node.level;
  };

  const level = root === undefined ? -1 : walk(root, undefined, undefined, true);
  return { problems, ...counts, depth: level + 1 };
}
