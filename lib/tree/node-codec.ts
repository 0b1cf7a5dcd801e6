/**
 * Node pages. All integers are unsigned LEB128 varints except child ids (6 bytes, little-endian).
 *   list:   count, then each entry's length, then the entries' bytes back to back
 *   leaf:   0x00, list(entries)
 *   branch: 0x01, level, list(pivots), child ids (pivots + 1 of them), list(buffered ops),
 *           one kind byte per buffered op (0 insert, 1 remove)
 * Decoding copies the lists' bytes into one exactly sized allocation per node, with their offsets.
 */
import { CorruptionError } from '../errors.js';
import type { PageId } from '../ids.js';
import { EntryList, prefixOf } from './entry-list.js';
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

/** Encodes a node whose children are all sealed pages, into a page of its own. */
export function encodeNode(node: TreeNode): Buffer {
  return Buffer.from(encodeTransient(node));
}

/** Where the write path encodes its pages (`encodeTransient`); grown on demand. */
let pageScratch = Buffer.allocUnsafe(2 * 4096);

/**
 * `encodeNode` into memory reused by the next call: for the write path, whose page store copies
 * each payload into its commit, and whose decoding for the cache copies into the node's own
 * memory. A page of its own each (over 4 KiB, so never from Node's pool) was ArrayBuffer memory:
 * ~50 MB in an import of a million datoms, and V8 starts a full collection for every 64 MB.
 */
export function encodeTransient(node: TreeNode): Buffer {
  const bytes = pageBytes(node);
  if (pageScratch.length < bytes) pageScratch = Buffer.allocUnsafe(Math.max(bytes, 2 * pageScratch.length));
  return writeNode(node, pageScratch.subarray(0, bytes));
}

function pageBytes(node: TreeNode): number {
  return node.kind === 'leaf' ? leafBytes(node) : structureBytes(node) + bufferBytes(node);
}

function writeNode(node: TreeNode, page: Buffer): Buffer {
  const out = new Writer(page);
  if (node.kind === 'leaf') {
    out.bytes[out.position++] = LEAF;
    out.list(node.entries);
    return page;
  }
  out.bytes[out.position++] = BRANCH;
  out.varint(node.level);
  out.list(node.pivots);
  for (const child of node.children) {
    page.writeUIntLE(child as PageId, out.position, CHILD_ID_BYTES);
    out.position += CHILD_ID_BYTES;
  }
  out.list(node.buffer);
  out.bytes.set(node.kinds, out.position);
  return page;
}

/**
 * Offsets of the lists being decoded, before the node's exact memory size is known; grown on
 * demand and reused, so decoding allocates only what the node keeps.
 */
let scratch = new Uint32Array(1024);

/** Where one list lies in the page: its data bytes, and its offsets in `scratch`. */
interface ListSpan {
  readonly count: number;
  readonly dataStart: number;
  readonly dataBytes: number;
  readonly scratchAt: number;
}

class Reader {
  position = 0;
  scratchUsed = 0;
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

  list(): ListSpan {
    const count = this.varint();
    if (count > this.bytes.length) throw this.malformed();
    const at = this.scratchUsed;
    if (at + count + 1 > scratch.length) {
      const grown = new Uint32Array(Math.max(at + count + 1, scratch.length * 2));
      grown.set(scratch.subarray(0, at));
      scratch = grown;
    }
    scratch[at] = 0;
    for (let i = 0; i < count; i++) scratch[at + i + 1] = scratch[at + i]! + this.varint();
    const dataBytes = scratch[at + count]!;
    if (this.position + dataBytes > this.bytes.length) throw this.malformed();
    const span = { count, dataStart: this.position, dataBytes, scratchAt: at };
    this.position += dataBytes;
    this.scratchUsed = at + count + 1;
    return span;
  }

  skip(length: number): number {
    if (this.position + length > this.bytes.length) throw this.malformed();
    const at = this.position;
    this.position += length;
    return at;
  }
}

/**
 * The memory of a decoded node, one ArrayBuffer sized exactly: each list's offsets (and prefixes)
 * first, where 4-byte alignment is free, then the lists' data and the kinds. A cached node then
 * holds no share of a pooled slab or of the buffer its page was read into, which would keep far
 * more memory alive than the node uses; and a cached page costs the garbage collector one
 * external allocation (V8 starts a full collection for every 64 MiB of those that survive).
 */
class NodeMemory {
  private readonly memory: ArrayBuffer;
  private wordAt = 0;
  private byteAt: number;

  constructor(
    private readonly payload: Buffer,
    spans: readonly ListSpan[],
    extraBytes: number,
    private readonly withPrefixes: boolean,
  ) {
    let words = 0;
    let bytes = extraBytes;
    for (const span of spans) {
      words += span.count + 1 + (withPrefixes ? span.count : 0);
      bytes += span.dataBytes;
    }
    this.memory = new ArrayBuffer(words * 4 + bytes);
    this.byteAt = words * 4;
  }

  list(span: ListSpan): EntryList {
    const buffer = this.memory;
    const offsets = new Uint32Array(buffer, this.wordAt * 4, span.count + 1);
    offsets.set(scratch.subarray(span.scratchAt, span.scratchAt + span.count + 1));
    this.wordAt += span.count + 1;
    const data = this.copy(span.dataStart, span.dataBytes);
    const list = new EntryList(data, offsets);
    if (this.withPrefixes) {
      const prefixes = new Uint32Array(buffer, this.wordAt * 4, span.count);
      for (let i = 0; i < span.count; i++) prefixes[i] = prefixOf(data, offsets[i]!, offsets[i + 1]!);
      this.wordAt += span.count;
      list.prefixes = prefixes;
    }
    return list;
  }

  copy(start: number, length: number): Uint8Array {
    const view = new Uint8Array(this.memory, this.byteAt, length);
    view.set(new Uint8Array(this.payload.buffer, this.payload.byteOffset + start, length));
    this.byteAt += length;
    return view;
  }
}

/**
 * Decodes a page into memory of its own: the node keeps nothing of `payload`. With
 * `withPrefixes`, every list also gets its entries' prefixes (for prefix-ordered schemas).
 */
export function decodeNode(payload: Buffer, pageId: PageId, withPrefixes = false): TreeNode {
  const reader = new Reader(payload, pageId);
  const kind = payload[reader.position++];
  let node: TreeNode;
  if (kind === LEAF) {
    const entries = reader.list();
    if (reader.position !== payload.length) throw reader.malformed();
    node = new LeafNode(new NodeMemory(payload, [entries], 0, withPrefixes).list(entries), null);
  } else if (kind === BRANCH) {
    const level = reader.varint();
    const pivots = reader.list();
    const idsAt = reader.skip((pivots.count + 1) * CHILD_ID_BYTES);
    const buffer = reader.list();
    const kindsAt = reader.skip(buffer.count);
    if (reader.position !== payload.length) throw reader.malformed();
    if (level < 1) throw reader.malformed();
    for (let i = 0; i < buffer.count; i++) if (payload[kindsAt + i]! > 1) throw reader.malformed();
    const children: PageId[] = [];
    for (let i = 0; i <= pivots.count; i++) children.push(payload.readUIntLE(idsAt + i * CHILD_ID_BYTES, CHILD_ID_BYTES) as PageId);
    const memory = new NodeMemory(payload, [pivots, buffer], buffer.count, withPrefixes);
    node = new BranchNode(level, memory.list(pivots), children, memory.list(buffer), memory.copy(kindsAt, buffer.count), null);
  } else {
    throw reader.malformed();
  }
  return node;
}
