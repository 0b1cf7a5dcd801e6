import { giveBack, spareSized, takeSpare } from '../spare-buffers.js';
import type { TreeSchema } from './tree-schema.js';

/**
 * A sorted run of encoded entries, packed: one byte array and the offsets where each entry
 * starts (`offsets[count]` is the end). Nodes hold their entries, pivots and buffered operations
 * this way, so a cached node is a few typed arrays rather than one object per entry — nothing for
 * the garbage collector to trace entry by entry.
 * Immutable once built.
 */
export class EntryList {
  /**
   * The first four bytes of each entry as a big-endian number (zero-padded), when the tree's
   * order agrees with them: searches narrow by integer comparison before comparing bytes.
   */
  prefixes: Uint32Array | undefined = undefined;

  constructor(
    readonly bytes: Uint8Array,
    /** count + 1 offsets into `bytes`, non-decreasing. */
    readonly offsets: Uint32Array,
  ) {}

  static readonly empty = new EntryList(new Uint8Array(0), new Uint32Array(1));

  get count(): number {
    return this.offsets.length - 1;
  }

  start(i: number): number {
    return this.offsets[i]!;
  }

  end(i: number): number {
    return this.offsets[i + 1]!;
  }

  /** Bytes of all entries (without any per-entry framing). */
  get dataBytes(): number {
    return this.offsets[this.offsets.length - 1]! - this.offsets[0]!;
  }

  /** Entries [from, to) as a view sharing these bytes. */
  slice(from: number, to: number): EntryList {
    if (from === 0 && to === this.count) return this;
    const base = this.offsets[from]!;
    const offsets = allocOffsets(to - from + 1);
    for (let i = from; i <= to; i++) offsets[i - from] = this.offsets[i]! - base;
    return new EntryList(this.bytes.subarray(base, this.offsets[to]!), offsets);
  }

  static of(entries: readonly Uint8Array[]): EntryList {
    const builder = new EntryListBuilder();
    for (const e of entries) builder.push(e, 0, e.length);
    return builder.finish();
  }
}

/** The first four bytes of bytes[start, end) as a big-endian number, zero-padded. */
export function prefixOf(bytes: Uint8Array, start: number, end: number): number {
  const b0 = start < end ? bytes[start]! : 0;
  const b1 = start + 1 < end ? bytes[start + 1]! : 0;
  const b2 = start + 2 < end ? bytes[start + 2]! : 0;
  const b3 = start + 3 < end ? bytes[start + 3]! : 0;
  return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

/**
 * Memory for lists on the write path, carved from shared slabs: small requests do not each get an
 * ArrayBuffer of their own, whose off-heap bytes would push V8 into more collections. Unlike
 * Node's buffer pool, the views are plain typed arrays: a Buffer view costs a JavaScript
 * constructor call on every allocation and `subarray`. A slab lives as long as any view into it,
 * which is fine for drafts: cached nodes own their memory (node-codec.ts).
 */
const SLAB_BYTES = 64 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/** Reserves `bytes` (8-byte aligned) in the current slab, or a fresh one; returns the slab offset. */
function carve(bytes: number): number {
  const aligned = (bytes + 7) & ~7;
  if (slabUsed + aligned > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += aligned;
  return at;
}

export function allocBytes(n: number): Uint8Array {
  if (batchMemory !== undefined) {
    const buffer = batchMemory.take(n);
    if (buffer !== undefined) return new Uint8Array(buffer, batchMemory.at, n);
  }
  // A large list takes a spare if one is free; only its owner knows when to give it back.
  if (spareSized(n)) return new Uint8Array(takeSpare(n), 0, n);
  if (n > SLAB_BYTES >> 3) return new Uint8Array(n);
  const at = carve(n); // first: it may replace the slab
  return new Uint8Array(slab, at, n);
}

export function allocOffsets(n: number): Uint32Array {
  if (batchMemory !== undefined) {
    const buffer = batchMemory.take(n * 4);
    if (buffer !== undefined) return new Uint32Array(buffer, batchMemory.at, n);
  }
  if (spareSized(n * 4)) return new Uint32Array(takeSpare(n * 4), 0, n);
  if (n * 4 > SLAB_BYTES >> 3) return new Uint32Array(n);
  const at = carve(n * 4);
  return new Uint32Array(slab, at, n);
}

/**
 * Memory for the lists of one batch, reused batch after batch. Everything a batch builds (the
 * encoded operations, merged buffers and leaves, slices) is dead once the batch's nodes are
 * encoded into pages: cached nodes and pages own their memory. Fresh ArrayBuffers instead would
 * live across the batch's scavenges, reach the old generation, and count as external memory
 * that only a full collection frees: V8 starts one for every 64 MiB of it, and a batch of 10,000
 * operations allocated ~2.5 MB, so a mark-compact of the whole heap came every ~25 batches.
 * Chunks of 1 MiB, filled in order and all free again at the next batch; at most 16 are kept,
 * and a request beyond that takes memory of its own as before. A request larger than a chunk
 * takes a spare buffer (spare-buffers.ts), given back when the batch ends: a large batch (an
 * import's index, ~20 MB of keys a million datoms) merges into one list as large, and the next
 * tree's batch (the same datoms in another order) takes the same buffer.
 */
class BatchMemory {
  private static readonly CHUNK_BYTES = 1 << 20;
  private static readonly MAX_CHUNKS = 16;
  private readonly chunks: ArrayBuffer[] = [];
  private chunk = 0;
  private used = 0;
  /** Spares this batch took, each for one request larger than a chunk. */
  private large: ArrayBuffer[] = [];
  /** Where the last `take` starts in the buffer it returned. */
  at = 0;

  /** Makes every chunk free and gives back the batch's large buffers: nothing views them any more. */
  reset(): void {
    this.chunk = 0;
    this.used = 0;
    for (const buffer of this.large) giveBack(buffer);
    this.large = [];
  }

  /** `bytes` (8-byte aligned) in a chunk, or undefined if this memory cannot serve them. */
  take(bytes: number): ArrayBuffer | undefined {
    const aligned = (bytes + 7) & ~7;
    if (aligned > BatchMemory.CHUNK_BYTES) {
      const buffer = takeSpare(aligned);
      this.large.push(buffer);
      this.at = 0;
      return buffer;
    }
    if (this.used + aligned > BatchMemory.CHUNK_BYTES) {
      this.chunk += 1;
      this.used = 0;
    }
    if (this.chunk === this.chunks.length) {
      if (this.chunk === BatchMemory.MAX_CHUNKS) return undefined;
      this.chunks.push(new ArrayBuffer(BatchMemory.CHUNK_BYTES));
    }
    this.at = this.used;
    this.used += aligned;
    return this.chunks[this.chunk];
  }
}

const sharedBatchMemory = new BatchMemory();
/** Set while a batch runs (`withBatchMemory`): where its lists take their memory. */
let batchMemory: BatchMemory | undefined;

/**
 * Runs one batch of the write path with its lists in batch memory (see `BatchMemory`). Nothing
 * built inside may outlive `run`: its result must own its memory (a page id, for the tree).
 * Cursors, which keep merged lists while they are read, never run inside.
 */
export function withBatchMemory<T>(run: () => T): T {
  if (batchMemory !== undefined) return run();
  batchMemory = sharedBatchMemory;
  try {
    return run();
  } finally {
    batchMemory = undefined;
    sharedBatchMemory.reset();
  }
}

/**
 * Gives back the list's memory if it is a spare (spare-buffers.ts): for the list's owner, once
 * nothing views it. Memory of any other kind is left alone.
 */
export function giveBackList(list: EntryList): void {
  giveBack(list.bytes.buffer);
  if (list.offsets.buffer !== list.bytes.buffer) giveBack(list.offsets.buffer);
}

/**
 * Builds an EntryList by appending entries or runs of entries of other lists. The list it makes
 * views the builder's memory: lists built on the write path live only until their batch is sealed.
 */
export class EntryListBuilder {
  private bytes: Uint8Array;
  private offsets: Uint32Array;
  private count = 0;
  private length = 0;

  constructor(byteCapacity = 256, countCapacity = 16) {
    this.bytes = allocBytes(Math.max(16, byteCapacity));
    this.offsets = allocOffsets(countCapacity + 1);
    this.offsets[0] = 0;
  }

  get size(): number {
    return this.count;
  }

  /** Empties the builder, keeping its memory: lists finished before are views of it, so dead by now. */
  clear(): void {
    this.count = 0;
    this.length = 0;
  }

  push(source: Uint8Array, start: number, end: number): void {
    this.reserve(end - start, 1);
    const length = end - start;
    const bytes = this.bytes;
    const at = this.length;
    // Short entries copy faster by hand than through a subarray view.
    if (length <= 32) {
      for (let i = 0; i < length; i++) bytes[at + i] = source[start + i]!;
    } else {
      bytes.set(source.subarray(start, end), at);
    }
    this.length = at + length;
    this.offsets[++this.count] = at + length;
  }

  /** Appends an entry given as a latin1 string, one character per byte (novelty's keys). */
  pushLatin1(key: string): void {
    const length = key.length;
    this.reserve(length, 1);
    const bytes = this.bytes;
    const at = this.length;
    for (let i = 0; i < length; i++) bytes[at + i] = key.charCodeAt(i);
    this.length = at + length;
    this.offsets[++this.count] = at + length;
  }

  /** Appends entries [from, to) of `list` with one copy of their bytes. */
  pushRun(list: EntryList, from: number, to: number): void {
    if (from >= to) return;
    const base = list.start(from);
    const runBytes = list.start(to) - base;
    this.reserve(runBytes, to - from);
    const source = list.bytes;
    const bytes = this.bytes;
    const at = this.length;
    if (runBytes <= 64) {
      for (let i = 0; i < runBytes; i++) bytes[at + i] = source[base + i]!;
    } else {
      bytes.set(source.subarray(base, base + runBytes), at);
    }
    const shift = at - base;
    const offsets = this.offsets;
    const sourceOffsets = list.offsets;
    let count = this.count;
    for (let i = from + 1; i <= to; i++) offsets[++count] = sourceOffsets[i]! + shift;
    this.count = count;
    this.length = at + runBytes;
  }

  /** Appends the encoding of `entry`, written in place by the schema's `encodeInto`. */
  pushEncoded<E>(schema: TreeSchema<E>, entry: E): void {
    this.reserve(0, 1);
    let end = schema.encodeInto!(entry, this.bytes, this.length);
    while (end < 0) {
      this.reserve(this.bytes.length - this.length + 1, 0); // doubles the room until the entry fits
      end = schema.encodeInto!(entry, this.bytes, this.length);
    }
    this.length = end;
    this.offsets[++this.count] = end;
  }

  pushEntry(list: EntryList, i: number): void {
    this.push(list.bytes, list.start(i), list.end(i));
  }

  finish(): EntryList {
    return new EntryList(this.bytes.subarray(0, this.length), this.offsets.subarray(0, this.count + 1));
  }

  private reserve(bytes: number, entries: number): void {
    if (this.length + bytes > this.bytes.length) {
      const grown = allocBytes(Math.max(this.length + bytes, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    if (this.count + entries + 1 > this.offsets.length) {
      const grown = allocOffsets(Math.max(this.count + entries + 1, this.offsets.length * 2));
      grown.set(this.offsets.subarray(0, this.count + 1));
      this.offsets = grown;
    }
  }
}
