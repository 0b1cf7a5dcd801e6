/**
 * Node pages. All integers are unsigned LEB128 varints except child ids (6 bytes, little-endian).
 *   list:   count, then each entry's length, then the entries' bytes back to back
 *   leaf:   0x00, list(entries)
 *   branch: 0x01, level, list(pivots), child ids (pivots + 1 of them), list(buffered ops),
 *           one kind byte per buffered op (0 insert, 1 remove)
 * Decoding builds offset arrays and views over the page's bytes; nothing is copied.
 */
import { CorruptionError } from '../errors.js';
import type { PageId } from '../ids.js';
import { allocOffsets, EntryList } from './entry-list.js';
import { BranchNode, CHILD_ID_BYTES, LeafNode, leafBytes, type TreeNode, bufferBytes, structureBytes } from './node.js';

const LEAF = 0;
const BRANCH = 1;

class Writer {
  position = 0;
  constructor(readonly bytes: Uint8Array) {}

  varint(n: number): void {
    while (n >= 0x80) {
      this.bytes[this.position++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.bytes[this.position++] = n;
  }

  list(list: EntryList): void {
    this.varint(list.count);
    for (let i = 0; i < list.count; i++) this.varint(list.end(i) - list.start(i));
    this.bytes.set(list.bytes.subarray(list.start(0), list.start(list.count)), this.position);
    this.position += list.dataBytes;
  }
}

/** Encodes a node whose children are all sealed pages. */
export function encodeNode(node: TreeNode): Buffer {
  if (node.kind === 'leaf') {
    const out = new Writer(Buffer.allocUnsafe(leafBytes(node)));
    out.bytes[out.position++] = LEAF;
    out.list(node.entries);
    return out.bytes as Buffer;
  }
  const out = new Writer(Buffer.allocUnsafe(structureBytes(node) + bufferBytes(node)));
  out.bytes[out.position++] = BRANCH;
  out.varint(node.level);
  out.list(node.pivots);
  const view = out.bytes as Buffer;
  for (const child of node.children) {
    view.writeUIntLE(child as PageId, out.position, CHILD_ID_BYTES);
    out.position += CHILD_ID_BYTES;
  }
  out.list(node.buffer);
  out.bytes.set(node.kinds, out.position);
  return view;
}

class Reader {
  position = 0;
  constructor(
    readonly bytes: Buffer,
    private readonly pageId: PageId,
  ) {}

  malformed(): CorruptionError {
    return new CorruptionError(`tree node ${this.pageId} is malformed`, this.pageId);
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.position >= this.bytes.length) throw this.malformed();
      const byte = this.bytes[this.position++]!;
      n += (byte & 0x7f) * scale;
      if (byte < 0x80) return n;
      scale *= 128;
    }
    throw this.malformed();
  }

  list(): EntryList {
    const count = this.varint();
    if (count > this.bytes.length) throw this.malformed();
    const offsets = allocOffsets(count + 1);
    offsets[0] = 0;
    for (let i = 0; i < count; i++) offsets[i + 1] = offsets[i]! + this.varint();
    const total = offsets[count]!;
    if (this.position + total > this.bytes.length) throw this.malformed();
    const data = this.bytes.subarray(this.position, this.position + total);
    this.position += total;
    return new EntryList(data, offsets);
  }

  take(length: number): Buffer {
    if (this.position + length > this.bytes.length) throw this.malformed();
    const view = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return view;
  }
}

export function decodeNode(payload: Buffer, pageId: PageId): TreeNode {
  const reader = new Reader(payload, pageId);
  const kind = payload[reader.position++];
  let node: TreeNode;
  if (kind === LEAF) {
    node = new LeafNode(reader.list(), null);
  } else if (kind === BRANCH) {
    const level = reader.varint();
    const pivots = reader.list();
    const ids = reader.take((pivots.count + 1) * CHILD_ID_BYTES);
    const children: PageId[] = [];
    for (let i = 0; i <= pivots.count; i++) children.push(ids.readUIntLE(i * CHILD_ID_BYTES, CHILD_ID_BYTES) as PageId);
    const buffer = reader.list();
    const kinds = reader.take(buffer.count);
    if (level < 1 || kinds.some((k) => k > 1)) throw reader.malformed();
    node = new BranchNode(level, pivots, children, buffer, kinds, null);
  } else {
    throw reader.malformed();
  }
  if (reader.position !== payload.length) throw reader.malformed();
  return node;
}
