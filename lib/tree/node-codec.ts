/**
 * Node pages. All integers are unsigned LEB128 varints except child ids (6 bytes, little-endian).
 *   list:   count, then per entry: the length of the prefix it shares with the entry before
 *           (not for the first), the length of the rest, the rest's bytes. Sorted neighbours
 *           share much (for datoms: the entity, or the attribute and the high bytes of the
 *           entity), so this takes about a third off a page of datom entries.
 *   leaf:   0x00, list(entries)
 *   branch: 0x01, level, list(pivots), child ids (pivots + 1 of them), list(buffered ops),
 *           one kind byte per buffered op (0 insert, 1 remove)
 * Decoding rebuilds the lists' whole entries into one exactly sized allocation per node, with
 * their offsets. The tree sizes nodes by their entries' whole lengths (node.ts), so a page's shape
 * never depends on how well its entries compress; its bytes are only smaller.
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
    const bytes = list.bytes;
    this.varint(list.count);
    let previousStart = 0;
    let previousEnd = 0;
    for (let i = 0; i < list.count; i++) {
      const start = list.start(i);
      const end = list.end(i);
      let shared = 0;
      if (i > 0) {
        const limit = Math.min(end - start, previousEnd - previousStart);
        while (shared < limit && bytes[start + shared] === bytes[previousStart + shared]) shared++;
        this.varint(shared);
      }
      this.varint(end - start - shared);
      for (let k = start + shared; k < end; k++) this.bytes[this.position++] = bytes[k]!;
      previousStart = start;
      previousEnd = end;
    }
  }
}

/**
 * Bytes enough for a list however its entries compress: the whole entries' encoding, plus one
 * byte per entry for the shared length (a shared length of 128 or more takes two bytes but saves
 * at least 128).
 */
const listBound = (list: EntryList): number => list.count;

/** Encodes a node whose children are all sealed pages. */
export function encodeNode(node: TreeNode): Buffer {
  if (node.kind === 'leaf') {
    const out = new Writer(Buffer.allocUnsafe(leafBytes(node) + listBound(node.entries)));
    out.bytes[out.position++] = LEAF;
    out.list(node.entries);
    return (out.bytes as Buffer).subarray(0, out.position);
  }
  const out = new Writer(Buffer.allocUnsafe(structureBytes(node) + bufferBytes(node) + listBound(node.pivots) + listBound(node.buffer)));
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
  out.position += node.kinds.length;
  return view.subarray(0, out.position);
}

/**
 * Per entry of the lists being decoded, before the node's exact memory size is known: the whole
 * entries' offsets, where each entry's rest lies in the page, and how much it shares with the
 * entry before. Grown on demand and reused, so decoding allocates only what the node keeps.
 */
let offsetScratch = new Uint32Array(1024);
let restScratch = new Uint32Array(1024);
let sharedScratch = new Uint32Array(1024);

function reserveScratch(size: number): void {
  if (size <= offsetScratch.length) return;
  const grow = (old: Uint32Array) => {
    const grown = new Uint32Array(Math.max(size, old.length * 2));
    grown.set(old);
    return grown;
  };
  offsetScratch = grow(offsetScratch);
  restScratch = grow(restScratch);
  sharedScratch = grow(sharedScratch);
}

/** Where one list lies: its count, its whole data size, and its entries in the scratch arrays. */
interface ListSpan {
  readonly count: number;
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
    reserveScratch(at + count + 1);
    offsetScratch[at] = 0;
    let previousLength = 0;
    for (let i = 0; i < count; i++) {
      const shared = i === 0 ? 0 : this.varint();
      if (shared > previousLength) throw this.malformed();
      const rest = this.varint();
      if (this.position + rest > this.bytes.length) throw this.malformed();
      sharedScratch[at + i] = shared;
      restScratch[at + i] = this.position;
      this.position += rest;
      previousLength = shared + rest;
      offsetScratch[at + i + 1] = offsetScratch[at + i]! + previousLength;
    }
    this.scratchUsed = at + count + 1;
    return { count, dataBytes: offsetScratch[at + count]!, scratchAt: at };
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
    const at = span.scratchAt;
    const offsets = new Uint32Array(buffer, this.wordAt * 4, span.count + 1);
    offsets.set(offsetScratch.subarray(at, at + span.count + 1));
    this.wordAt += span.count + 1;
    const data = new Uint8Array(buffer, this.byteAt, span.dataBytes);
    this.byteAt += span.dataBytes;
    const payload = this.payload;
    for (let i = 0; i < span.count; i++) {
      const start = offsets[i]!;
      const shared = sharedScratch[at + i]!;
      // The shared prefix is the start of the entry before, already rebuilt.
      const previous = i === 0 ? 0 : offsets[i - 1]!;
      for (let k = 0; k < shared; k++) data[start + k] = data[previous + k]!;
      const from = restScratch[at + i]!;
      const length = offsets[i + 1]! - start - shared;
      for (let k = 0; k < length; k++) data[start + shared + k] = payload[from + k]!;
    }
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
