/**
 * The page store: append-only frames in one file, and commits that make a new set of roots (the
 * commit's `meta`, opaque here) visible atomically.
 *
 * The commit protocol (argued in ARCHITECTURE.md, "Why every crash recovers"):
 *  - A commit's frames and its record are appended after the previous commit's end in one write.
 *  - Slot `seq % 2` names commit `seq - 1`. In `full` mode it is written with the commit, and the
 *    one flush that follows makes both durable; commit `seq - 1` was flushed before, so a slot
 *    never names a commit that is not durable (invariant I1), and at most one slot is ever being
 *    written (invariant I2).
 *  - In `relaxed` mode commits are written without flush or slot; `sync()` flushes, then brings
 *    the two slots up to date one at a time with a flush between them, keeping I1 and I2.
 *  - Recovery takes the intact slot naming the newest commit and scans forward (recovery.ts).
 * The slots' final contents depend only on the newest commit's sequence number, so the bytes of
 * the file do not depend on the durability mode, on when `sync()` ran, or on crashes in between.
 */
import { giveBack, takeSpare } from '../spare-buffers.js';
import { CorruptionError, ErrorCode, IoError, PoisonedError, SedimentError } from '../errors.js';
import { asPageId, type PageId } from '../ids.js';
import type { FileBackend } from './backend/file-backend.js';
import { crc32 } from './checksum.js';
import {
  type CommitName,
  type CommitRecord,
  COMMIT_FIXED_BYTES,
  DATA_START,
  EMPTY_COMMIT,
  encodeCommitPayload,
  encodeHeader,
  encodeSlot,
  type FileParameters,
  FRAME_HEADER_BYTES,
  FrameKind,
  frameCrc,
  SLOT_OFFSETS,
  sealFrame,
} from './format.js';
import { type CacheEntry, PageCache } from './page-cache.js';
import { RecentBytes } from './recent-bytes.js';
import { readCommitRecord, readCommitsAfter, recover, scanForward } from './recovery.js';

export type Durability = 'full' | 'relaxed';

export interface PageStoreOptions {
  readonly readOnly: boolean;
  readonly durability: Durability;
  readonly cacheBytes: number;
  /**
   * How many of the newest committed bytes a writer keeps in memory (RecentBytes), so that the
   * pages its trees rewrite are not read back from the file. Zero or absent: none.
   */
  readonly tailBytes?: number;
}

/** The tail a writer on a file keeps (`tailBytes`): half its cache budget, at most this much. */
export const MAX_TAIL_BYTES = 32 << 20;
/** The tail is this many segments: a commit larger than one is not kept. */
const TAIL_SEGMENTS = 8;

/** In relaxed mode a flush happens at least this often, bounding both loss and recovery scans. */
export const RELAXED_SYNC_COMMITS = 1000;
export const RELAXED_SYNC_BYTES = 16 << 20;
/** A commit's meta up to this size is kept in memory as `headMeta`; a larger one is read back. */
const KEPT_META_BYTES = 1 << 20;
/** The pending buffer's size at first and after a commit that grew it past SPILL_BYTES. */
const PENDING_START_BYTES = 64 << 10;
/** The pending buffer doubles up to this size, then grows to SPILL_BYTES in one step. */
const PENDING_STEP_BYTES = 256 << 10;
/** Pending frames of a large commit are written out (not flushed) beyond this many bytes. */
const SPILL_BYTES = 8 << 20;
/**
 * A page read fetches this much at once, so a node costs one system call: a node's frame can run
 * past 4096 bytes (its header, and a leaf splits by estimated size), and with 4096 here 43% of
 * cold point reads took a second pread for a frame's last bytes (cold reads 8.0 -> 7.2 µs).
 */
const READ_AHEAD_BYTES = 8192;

/** The bytes of a new, empty database file: header and two slots naming the empty commit. */
export function initialFileImage(params: FileParameters): Buffer {
  const image = Buffer.alloc(DATA_START);
  encodeHeader(params).copy(image, 0);
  const emptySlot = encodeSlot(EMPTY_COMMIT);
  for (const offset of SLOT_OFFSETS) emptySlot.copy(image, offset);
  return image;
}

/**
 * What a decoded page is taken to cost in the cache: an estimate, from its encoded size. Measured
 * on tree nodes of datom-sized entries, which decode into one allocation of about 1.25 times
 * their page (offsets and prefixes added, length prefixes dropped), plus some 500 bytes of
 * objects and views around it.
 */
const decodedCost = (payloadLength: number): number => payloadLength + (payloadLength >> 2) + 512;

const slotIndex = (seq: number): 0 | 1 => (((seq % 2) + 2) % 2) as 0 | 1;

const sameName = (a: CommitName | undefined, b: CommitName): boolean =>
  a !== undefined && a.seq === b.seq && a.recordOffset === b.recordOffset && a.end === b.end && a.recordCrc === b.recordCrc;

export class PageStore {
  readonly params: FileParameters;
  readonly cache: PageCache;
  private headName: CommitName;
  /** Undefined when not kept (see `commit`): read back from the file when asked for. */
  private headMetaBytes: Buffer | undefined;
  /** Names of the newest commits, newest first: what the slots must name. */
  private recent: CommitName[];
  /** What each slot holds on the file now, as far as this connection wrote or read it. */
  private readonly slotsOnFile: [CommitName | undefined, CommitName | undefined];
  private poisonedBy: unknown = undefined;
  private closed = false;

  // The commit being built: frames accumulate in `pending`, whose first byte belongs at file offset
  // `pendingBase`; bytes already spilled to the file before it are covered by `spilledCrc`.
  private pending = Buffer.from(takeSpare(PENDING_START_BYTES), 0, PENDING_START_BYTES);
  private pendingLength = 0;
  private pendingBase: number;
  private spilledCrc = 0;
  private spilled = false;
  /** Decoded forms of pages of the commit being built, cached when it commits. */
  private pendingDecoded: Array<{ id: PageId; value: unknown; cost: number }> = [];

  /**
   * Where `load` reads frames: its decoders copy what they keep, so one buffer serves every read
   * instead of a fresh allocation each (off-heap memory that only a full collection reclaims).
   */
  private readScratch: Buffer;
  /** A writer's copy of the newest committed bytes: the pages its trees rewrite are read from here. */
  private readonly tail: RecentBytes;

  // Relaxed mode: what has been written since the last flush.
  private unflushedCommits = 0;
  private unflushedBytes = 0;
  private unflushedWrites = false;

  private constructor(
    private readonly backend: FileBackend,
    readonly options: PageStoreOptions,
    recovered: ReturnType<typeof recover>,
  ) {
    this.params = recovered.params;
    this.cache = new PageCache(options.cacheBytes);
    this.readScratch = Buffer.allocUnsafeSlow(READ_AHEAD_BYTES);
    const tailBytes = options.readOnly ? 0 : (options.tailBytes ?? 0);
    this.tail = new RecentBytes(Math.floor(tailBytes / TAIL_SEGMENTS), tailBytes >= TAIL_SEGMENTS * FRAME_HEADER_BYTES ? TAIL_SEGMENTS : 0);
    this.headName = recovered.head;
    this.headMetaBytes = recovered.headMeta;
    this.slotsOnFile = [recovered.slots[0], recovered.slots[1]];
    this.pendingBase = recovered.head.end;
    this.recent = [recovered.head];
  }

  /**
   * Opens a store on a backend holding a database file. A writer truncates the garbage an
   * interrupted commit left behind and rewrites the slots to what an uninterrupted run would hold,
   * so that the file's bytes stay reproducible.
   */
  static open(backend: FileBackend, options: PageStoreOptions): PageStore {
    const store = new PageStore(backend, options, readGuarded(() => recover(backend)));
    if (!options.readOnly) store.guardWrite(() => store.normalizeAfterOpen(backend.size()));
    return store;
  }

  /** The newest commit this connection sees. */
  get head(): CommitName {
    return this.headName;
  }

  /** The meta bytes of the newest commit (the roots of the layers above). */
  get headMeta(): Buffer {
    this.headMetaBytes ??= this.readCommit(this.headName.recordOffset).record.meta;
    return this.headMetaBytes;
  }

  get poisoned(): boolean {
    return this.poisonedBy !== undefined;
  }

  // ----- writing ------------------------------------------------------------------------------

  /**
   * Appends a frame to the commit being built and returns its page id. Readable at once. A writer
   * that already holds the page's decoded form passes it as `decoded`: it enters the cache when
   * the commit does, so the next reader of a freshly written page does not decode it again.
   */
  append(kind: FrameKind, payload: Uint8Array, decoded?: unknown): PageId {
    this.checkWritable();
    const frameBytes = FRAME_HEADER_BYTES + payload.length;
    // Spilled before it would outgrow SPILL_BYTES, the buffer stops growing there (see reservePending).
    if (this.pendingLength > 0 && this.pendingLength + frameBytes > SPILL_BYTES) this.spill();
    this.reservePending(frameBytes);
    const offset = this.pendingBase + this.pendingLength;
    const frame = this.pending.subarray(this.pendingLength, this.pendingLength + frameBytes);
    frame.set(payload, FRAME_HEADER_BYTES);
    sealFrame(frame, offset, kind, payload.length);
    this.pendingLength += frameBytes;
    if (decoded !== undefined) this.pendingDecoded.push({ id: asPageId(offset), value: decoded, cost: decodedCost(payload.length) });
    if (this.pendingLength >= SPILL_BYTES) this.spill();
    return asPageId(offset);
  }

  /**
   * Seals the commit being built with `meta` and makes it visible; in `full` mode also durable
   * before returning. Returns the new head.
   */
  commit(meta: Uint8Array): CommitName {
    this.checkWritable();
    const previous = this.headName;
    const seq = previous.seq + 1;
    const metaBytes = Buffer.from(meta.buffer, meta.byteOffset, meta.length);
    const payloadBytes = COMMIT_FIXED_BYTES + metaBytes.length;
    const frameBytes = FRAME_HEADER_BYTES + payloadBytes;
    if (this.pendingLength > 0 && this.pendingLength + frameBytes > Math.max(SPILL_BYTES, this.pending.length)) this.spill();
    this.reservePending(frameBytes);
    const recordOffset = this.pendingBase + this.pendingLength;
    const record: CommitRecord = {
      seq,
      previousRecordOffset: previous.recordOffset,
      start: previous.end,
      rangeCrc: crc32(this.pending.subarray(0, this.pendingLength), this.spilledCrc),
      meta: metaBytes,
    };
    const frame = this.pending.subarray(this.pendingLength);
    encodeCommitPayload(record, frame, FRAME_HEADER_BYTES);
    const recordCrc = sealFrame(frame, recordOffset, FrameKind.commit, payloadBytes);
    this.pendingLength += FRAME_HEADER_BYTES + payloadBytes;
    const name: CommitName = { seq, recordOffset, end: recordOffset + FRAME_HEADER_BYTES + payloadBytes, recordCrc };

    const written = this.pending.subarray(0, this.pendingLength);
    this.guardWrite(() => {
      this.backend.write(written, this.pendingBase);
      this.tail.append(written, this.pendingBase);
      this.unflushedWrites = true;
      this.unflushedCommits += 1;
      this.unflushedBytes += name.end - previous.end;
      if (this.options.durability === 'full') {
        // Slot seq % 2 names the previous commit, which the previous flush made durable (I1).
        this.writeSlot(slotIndex(seq), previous);
        this.flush();
      }
    });
    for (const page of this.pendingDecoded) this.cache.set(page.id, page.value, page.cost);
    // A large meta (an import's record) is not copied to be kept: `headMeta` reads it back if asked.
    this.advanceHead(name, meta.length <= KEPT_META_BYTES ? Buffer.from(meta) : undefined);
    if (this.unflushedCommits >= RELAXED_SYNC_COMMITS || this.unflushedBytes >= RELAXED_SYNC_BYTES) this.sync();
    return name;
  }

  /** Discards the commit being built, including any frames already spilled to the file. */
  abort(): void {
    if (this.closed || this.poisoned) return;
    const spilled = this.spilled;
    this.resetPending(this.headName.end);
    if (spilled) this.guardWrite(() => this.backend.truncate(this.headName.end));
  }

  /**
   * Makes every commit so far durable, then brings the slots up to date (relaxed mode); the
   * second slot's write becomes durable with the next flush, which is safe because it names a
   * commit that is already durable.
   */
  sync(): void {
    this.checkOpen();
    if (this.options.readOnly) return;
    this.guardWrite(() => {
      if (this.unflushedWrites) this.flush();
      this.writeSlotsFor(this.headName.seq);
    });
  }

  close(): void {
    if (this.closed) return;
    try {
      if (!this.options.readOnly && !this.poisoned) {
        this.abort();
        this.sync();
        this.guardWrite(() => {
          if (this.unflushedWrites) this.flush();
        });
      }
    } finally {
      this.closed = true;
      this.backend.close();
      giveBack(this.pending.buffer);
      this.pending = Buffer.alloc(0);
    }
  }

  // ----- reading ------------------------------------------------------------------------------

  /** The payload of the frame at `id`, checked against its checksum and expected kind. */
  read(id: PageId, kind: FrameKind): Buffer {
    this.checkOpen();
    return this.readFrame(id, kind, false);
  }

  /** A frame's payload, in memory of its own or (`scratch`) valid only until the next read. */
  private readFrame(id: PageId, kind: FrameKind, scratch: boolean): Buffer {
    const offset: number = id;
    if (offset >= this.pendingBase && offset < this.pendingBase + this.pendingLength) {
      return this.readPending(offset, kind, scratch);
    }
    const limit = this.spilled ? this.pendingBase : this.headName.end;
    if (offset < DATA_START || offset + FRAME_HEADER_BYTES > limit) {
      throw new CorruptionError(`page ${offset} lies outside the committed part of the file`, offset);
    }
    const recent = this.tail.segmentHolding(offset, FRAME_HEADER_BYTES);
    if (recent >= 0) return this.readRecent(recent, offset, kind, scratch);
    const ahead = Math.min(READ_AHEAD_BYTES, limit - offset);
    let frame = scratch ? this.readScratch.subarray(0, ahead) : Buffer.allocUnsafe(ahead);
    this.readAt(frame, offset);
    const length = frame.readUInt32LE(0);
    const frameBytes = FRAME_HEADER_BYTES + length;
    if (frame.readUInt32LE(4) !== kind || offset + frameBytes > limit) {
      throw new CorruptionError(`page ${offset} is not a ${kindName(kind)} frame (damaged header)`, offset);
    }
    if (frameBytes > frame.length) {
      const whole = Buffer.allocUnsafe(frameBytes);
      frame.copy(whole, 0, 0, frame.length);
      this.readAt(whole.subarray(frame.length), offset + frame.length);
      frame = whole;
    }
    if (frameCrc(frame, offset, length) !== frame.readUInt32LE(8)) {
      throw new CorruptionError(`page ${offset} fails its checksum`, offset);
    }
    return frame.subarray(FRAME_HEADER_BYTES, frameBytes);
  }

  /**
   * The decoded page from the cache, decoding and caching it on a miss (unless `admit` is false:
   * a page its caller is about to replace). `decode` receives the page id too, so callers can
   * pass one function rather than a closure per call. `decode` must copy whatever it keeps of the
   * payload, which is valid only until the next read.
   */
  load<T>(id: PageId, kind: FrameKind, decode: (payload: Buffer, id: PageId) => T, admit = true): T {
    this.checkOpen();
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit as T;
    const payload = this.readFrame(id, kind, true);
    const value = decode(payload, id);
    // Pending pages may still be discarded by abort(): cache only what is committed.
    if (admit && id < this.headName.end) this.cache.set(id, value, decodedCost(payload.length));
    return value;
  }

  /**
   * `load` for a page that a parent page refers to as its child `index`, where the parent keeps
   * `slots`, one per child: a slot remembers the child's cache entry, so the next load through it
   * skips the cache's Map lookup (a dependent memory access or more per tree level) for as long
   * as the page stays cached. The caller has loaded the parent, which checked the store is open.
   */
  loadChild<T>(slots: (CacheEntry | undefined)[], index: number, id: PageId, kind: FrameKind, decode: (payload: Buffer, id: PageId) => T): T {
    const slot = slots[index];
    if (slot !== undefined && slot.value !== undefined) {
      slot.referenced = true;
      return slot.value as T;
    }
    this.checkOpen();
    const entry = this.cache.entry(id);
    if (entry !== undefined) {
      entry.referenced = true;
      slots[index] = entry;
      return entry.value as T;
    }
    const payload = this.readFrame(id, kind, true);
    const value = decode(payload, id);
    if (id < this.headName.end) slots[index] = this.cache.set(id, value, decodedCost(payload.length));
    return value;
  }

  /** The record of a committed commit, for walking the commit chain backwards. */
  readCommit(recordOffset: number): { name: CommitName; record: CommitRecord } {
    this.checkOpen();
    if (recordOffset >= this.headName.end) {
      throw new CorruptionError(`commit record ${recordOffset} lies beyond the newest commit`, recordOffset);
    }
    return this.guardRead(() => readCommitRecord(this.backend, recordOffset, this.headName.end));
  }

  /**
   * The records of the commits after `from` up to and including the one at `toRecordOffset`, read
   * in large windows: for replaying a stretch of the log.
   */
  readCommitsAfter(from: CommitName, toRecordOffset: number): { offset: number; record: CommitRecord }[] {
    this.checkOpen();
    if (toRecordOffset >= this.headName.end) {
      throw new CorruptionError(`commit record ${toRecordOffset} lies beyond the newest commit`, toRecordOffset);
    }
    return this.guardRead(() => readCommitsAfter(this.backend, from, toRecordOffset, this.headName.end));
  }

  /** Read-only connections: picks up commits written since. Returns whether the head moved. */
  refresh(): boolean {
    this.checkOpen();
    if (!this.options.readOnly) return false;
    const before = this.headName;
    const { head, meta } = this.guardRead(() =>
      scanForward(this.backend, this.headName, this.headMeta, this.backend.size()),
    );
    if (head.seq === before.seq) return false;
    this.headName = head;
    this.headMetaBytes = meta;
    this.pendingBase = head.end;
    return true;
  }

  // ----- internals ----------------------------------------------------------------------------

  private normalizeAfterOpen(fileSize: number): void {
    if (fileSize > this.headName.end) this.backend.truncate(this.headName.end);
    // Whatever recovery accepted may so far live only in the operating system's cache: flush it
    // before any slot may name it (I1). One flush per writer open.
    this.flush();
    this.recent = this.namesBackFrom(this.headName, 3);
    this.writeSlotsFor(this.headName.seq);
    if (this.unflushedWrites) this.flush();
  }

  /** Brings both slots to the contents an uninterrupted run would leave after commit `seq`. */
  private writeSlotsFor(seq: number): void {
    const older = slotIndex(seq - 1);
    const newer = slotIndex(seq);
    const olderTarget = this.nameOf(seq - 2);
    const newerTarget = this.nameOf(seq - 1);
    const olderChanges = !sameName(this.slotsOnFile[older], olderTarget);
    const newerChanges = !sameName(this.slotsOnFile[newer], newerTarget);
    if (olderChanges) this.writeSlot(older, olderTarget);
    if (olderChanges && newerChanges) this.flush(); // never two slots in flight at once (I2)
    if (newerChanges) this.writeSlot(newer, newerTarget);
  }

  private writeSlot(index: 0 | 1, name: CommitName): void {
    if (sameName(this.slotsOnFile[index], name)) return;
    this.slotsOnFile[index] = undefined; // unknown until the write completes
    this.backend.write(encodeSlot(name), SLOT_OFFSETS[index]);
    this.slotsOnFile[index] = name;
    this.unflushedWrites = true;
  }

  private flush(): void {
    this.backend.flush();
    this.unflushedWrites = false;
    this.unflushedCommits = 0;
    this.unflushedBytes = 0;
  }

  private nameOf(seq: number): CommitName {
    if (seq <= 0) return EMPTY_COMMIT;
    const found = this.recent.find((n) => n.seq === seq);
    if (found === undefined) throw new Error(`internal: commit ${seq} is not among the recent commits`);
    return found;
  }

  private namesBackFrom(head: CommitName, count: number): CommitName[] {
    const names = [head];
    let current = head;
    while (names.length < count && current.seq > 1) {
      const { record } = readCommitRecord(this.backend, current.recordOffset, head.end);
      current = readCommitRecord(this.backend, record.previousRecordOffset, head.end).name;
      names.push(current);
    }
    return names;
  }

  private advanceHead(name: CommitName, meta: Buffer | undefined): void {
    this.headName = name;
    this.headMetaBytes = meta;
    // In place: a commit's worth of arrays for the scavenger otherwise.
    this.recent.unshift(name);
    if (this.recent.length > 3) this.recent.length = 3;
    this.resetPending(name.end);
  }

  private resetPending(base: number): void {
    if (this.pendingDecoded.length > 0) this.pendingDecoded = [];
    this.pendingBase = base;
    this.pendingLength = 0;
    this.spilledCrc = 0;
    this.spilled = false;
    // Grown past SPILL_BYTES for one large commit record: not kept for commits that need less.
    if (this.pending.length > SPILL_BYTES) {
      giveBack(this.pending.buffer);
      this.pending = Buffer.from(takeSpare(PENDING_START_BYTES), 0, PENDING_START_BYTES);
    }
  }

  private spill(): void {
    this.guardWrite(() => this.backend.write(this.pending.subarray(0, this.pendingLength), this.pendingBase));
    this.unflushedWrites = true;
    this.spilledCrc = crc32(this.pending.subarray(0, this.pendingLength), this.spilledCrc);
    this.pendingBase += this.pendingLength;
    this.pendingLength = 0;
    this.spilled = true;
  }

  private reservePending(extra: number): void {
    const needed = this.pendingLength + extra;
    if (needed <= this.pending.length) return;
    // A commit past PENDING_STEP_BYTES grows it to SPILL_BYTES at once, and never past: an import's
    // frames once doubled it up to 16 MiB, 32 MiB of ArrayBuffers in all (V8 starts a full
    // collection for every 64 MiB). Only a single larger frame (a big commit record) needs more.
    // Large sizes are spares (spare-buffers.ts): an import's trees leave theirs behind for its record.
    const doubled = this.pending.length * 2;
    const size = Math.max(needed, doubled > PENDING_STEP_BYTES ? SPILL_BYTES : doubled);
    const grown = Buffer.from(takeSpare(size), 0, size);
    this.pending.copy(grown, 0, 0, this.pendingLength);
    giveBack(this.pending.buffer);
    this.pending = grown;
  }

  private readPending(offset: number, kind: FrameKind, view: boolean): Buffer {
    const at = offset - this.pendingBase;
    const length = this.pending.readUInt32LE(at);
    if (this.pending.readUInt32LE(at + 4) !== kind) {
      throw new CorruptionError(`page ${offset} is not a ${kindName(kind)} frame`, offset);
    }
    const payload = this.pending.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
    return view ? payload : Buffer.from(payload);
  }

  /**
   * A frame from the writer's copy of the file's tail. No checksum: these bytes never left this
   * process's memory. A commit's frames are kept whole or not at all, so a frame whose header is
   * there is there whole.
   */
  private readRecent(segment: number, offset: number, kind: FrameKind, view: boolean): Buffer {
    const bytes = this.tail.segment(segment);
    const at = offset - this.tail.start(segment);
    if (bytes.readUInt32LE(at + 4) !== kind) {
      throw new CorruptionError(`page ${offset} is not a ${kindName(kind)} frame`, offset);
    }
    const payload = bytes.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + bytes.readUInt32LE(at));
    return view ? payload : Buffer.from(payload);
  }

  private readAt(target: Buffer, offset: number): void {
    const n = this.guardRead(() => this.backend.read(target, offset));
    if (n !== target.length) throw new CorruptionError(`page ${offset} is cut short by the end of the file`, offset);
  }

  private checkOpen(): void {
    if (this.closed) throw new SedimentError(ErrorCode.closed, 'the database connection is closed');
    if (this.poisonedBy !== undefined) throw new PoisonedError(this.poisonedBy);
  }

  /** Throws unless this connection may write: open, not poisoned by an earlier failure, not read-only. */
  checkWritable(): void {
    this.checkOpen();
    if (this.options.readOnly) throw new SedimentError(ErrorCode.readOnly, 'the database was opened read-only');
  }

  /**
   * Runs file writes; any failure poisons the connection. After a failed write or fsync the
   * kernel may have dropped dirty pages, so retrying could report success for lost data (the
   * fsync-gate lesson): the only safe continuation is to reopen and recover.
   */
  private guardWrite<T>(action: () => T): T {
    try {
      return action();
    } catch (error) {
      if (error instanceof SedimentError) {
        this.poisonedBy = error;
        throw error;
      }
      this.poisonedBy = error;
      this.resetPending(this.headName.end);
      throw new IoError('write', error);
    }
  }

  private guardRead<T>(action: () => T): T {
    return readGuarded(action);
  }
}

/** Runs file reads, reporting an operating-system failure as IoError. Reads never poison. */
function readGuarded<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof SedimentError) throw error;
    throw new IoError('read', error);
  }
}

function kindName(kind: FrameKind): string {
  switch (kind) {
    case FrameKind.node:
      return 'tree node';
    case FrameKind.heap:
      return 'heap value';
    case FrameKind.commit:
      return 'commit record';
  }
}
