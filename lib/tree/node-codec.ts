/**
 * Node pages, encoded with msgpackr under fixed options (no records, no float32 narrowing), so
 * the same node always gives the same bytes:
 *   leaf:   [0, [entry…]]
 *   branch: [1, level, [pivot…], [childPageId…], [bufferedEntry…], kinds (bin: 0 insert, 1 remove)]
 * Entries are whatever the schema's `toPlain` makes of them.
 */
import { Packr } from 'msgpackr';
import { CorruptionError } from '../errors.js';
import type { PageId } from '../ids.js';
import { BranchNode, LeafNode, type TreeNode } from './node.js';
import type { OpKind, TreeSchema } from './tree-schema.js';

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number', mapsAsObjects: true });

const LEAF = 0;
const BRANCH = 1;

/** Encodes a node whose children are all sealed pages. */
export function encodeNode<E>(schema: TreeSchema<E>, node: TreeNode<E>): Buffer {
  if (node.kind === 'leaf') return packr.pack([LEAF, node.entries.map((e) => schema.toPlain(e))]);
  return packr.pack([
    BRANCH,
    node.level,
    node.pivots.map((e) => schema.toPlain(e)),
    node.children,
    node.buffer.map((e) => schema.toPlain(e)),
    Uint8Array.from(node.kinds),
  ]);
}

export function decodeNode<E>(schema: TreeSchema<E>, payload: Buffer, pageId: PageId): TreeNode<E> {
  let plain: unknown;
  try {
    plain = packr.unpack(payload);
  } catch {
    throw new CorruptionError(`tree node ${pageId} cannot be decoded`, pageId);
  }
  if (!Array.isArray(plain)) throw new CorruptionError(`tree node ${pageId} is malformed`, pageId);
  if (plain[0] === LEAF && plain.length === 2 && Array.isArray(plain[1])) {
    return new LeafNode(plain[1].map((p: unknown) => schema.fromPlain(p)), null);
  }
  const [kind, level, pivots, children, buffer, kinds] = plain as [unknown, unknown, unknown, unknown, unknown, unknown];
  if (
    kind === BRANCH &&
    plain.length === 6 &&
    typeof level === 'number' &&
    Array.isArray(pivots) &&
    Array.isArray(children) &&
    Array.isArray(buffer) &&
    kinds instanceof Uint8Array &&
    kinds.length === buffer.length &&
    children.length === pivots.length + 1 &&
    children.every((c) => typeof c === 'number')
  ) {
    return new BranchNode(
      level,
      pivots.map((p: unknown) => schema.fromPlain(p)),
      children as PageId[],
      buffer.map((p: unknown) => schema.fromPlain(p)),
      Array.from(kinds) as OpKind[],
      null,
    );
  }
  throw new CorruptionError(`tree node ${pageId} is malformed`, pageId);
}
