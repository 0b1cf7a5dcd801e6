/**
 * Finding the newest complete commit in a file (ARCHITECTURE.md, "Recovery"):
 *  1. the header must be intact;
 *  2. of the two slots, the intact one naming the highest commit is the starting point; the record
 *     it names must be intact, because a slot is only ever written after its commit was flushed;
 *  3. from the end of that commit, frames are read forward; a commit is accepted only when every
 *     frame checks out and its record's range checksum covers exactly the frames before it.
 * Anything after the last accepted commit is garbage from an interrupted commit.
 */
import { CorruptionError, ErrorCode, SedimentError } from '../errors.js';
import type { FileBackend } from './backend/file-backend.js';
import { crc32 } from './checksum.js';
import {
  COMMIT_FIXED_BYTES,
  type CommitName,
  type CommitRecord,
  decodeCommitPayload,
  decodeHeader,
  decodeSlot,
  EMPTY_COMMIT,
  type FileParameters,
  FRAME_HEADER_BYTES,
  FrameKind,
  frameCrc,
  HEADER_BYTES,
  isFrameKind,
  SLOT_BYTES,
  SLOT_OFFSETS,
} from './format.js';

export interface Recovered {
  readonly params: FileParameters;
  readonly head: CommitName;
  readonly headMeta: Buffer;
  /** What each slot holds now (undefined: torn or garbage). */
  readonly slots: readonly [CommitName | undefined, CommitName | undefined];
  readonly fileSize: number;
}

export function readFileParameters(backend: FileBackend): FileParameters {
  const buf = Buffer.alloc(HEADER_BYTES);
  backend.read(buf, 0);
  const header = decodeHeader(buf);
  switch (header.kind) {
    case 'ok':
      return header.params;
    case 'not-a-database':
      throw new SedimentError(ErrorCode.notADatabase, 'file is not a Sediment database (bad magic number)');
    case 'unsupported-version':
      throw new SedimentError(ErrorCode.notADatabase, `unsupported Sediment file format version ${header.version}`);
    case 'corrupt':
      throw new CorruptionError('file header at offset 0 fails its checksum', 0);
  }
}

export function readSlots(backend: FileBackend): [CommitName | undefined, CommitName | undefined] {
  const read = (offset: number) => {
    const buf = Buffer.alloc(SLOT_BYTES);
    backend.read(buf, offset);
    return decodeSlot(buf);
  };
  return [read(SLOT_OFFSETS[0]), read(SLOT_OFFSETS[1])];
}

export function recover(backend: FileBackend): Recovered {
  const params = readFileParameters(backend);
  const slots = readSlots(backend);
  const fileSize = backend.size();
  const named = slots.filter((s): s is CommitName => s !== undefined).sort((a, b) => b.seq - a.seq)[0];
  if (named === undefined) throw new CorruptionError('both commit slots fail their checksums', SLOT_OFFSETS[0]);
  const start = readNamedCommit(backend, named, fileSize);
  const { head, meta } = scanForward(backend, start.name, start.meta, fileSize);
  return { params, head, headMeta: meta, slots, fileSize };
}

/** Reads and checks the record a slot names; a mismatch means the medium corrupted it. */
function readNamedCommit(backend: FileBackend, name: CommitName, fileSize: number) {
  if (name.seq === 0) return { name: EMPTY_COMMIT, meta: Buffer.alloc(0) };
  if (name.end > fileSize) {
    throw new CorruptionError(`commit ${name.seq} ends at ${name.end}, beyond the end of the file (${fileSize})`, name.recordOffset);
  }
  const { record, name: actual } = readCommitRecord(backend, name.recordOffset, fileSize);
  if (actual.seq !== name.seq || actual.end !== name.end || actual.recordCrc !== name.recordCrc) {
    throw new CorruptionError(`commit record at offset ${name.recordOffset} does not match its slot`, name.recordOffset);
  }
  return { name: actual, meta: record.meta };
}

/** Reads one commit record frame, checking its checksum. */
export function readCommitRecord(
  backend: FileBackend,
  recordOffset: number,
  fileSize: number,
): { name: CommitName; record: CommitRecord } {
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  const corrupt = (what: string) => new CorruptionError(`commit record at offset ${recordOffset} ${what}`, recordOffset);
  if (backend.read(header, recordOffset) !== FRAME_HEADER_BYTES) throw corrupt('lies beyond the end of the file');
  const length = header.readUInt32LE(0);
  if (header.readUInt32LE(4) !== FrameKind.commit || length < COMMIT_FIXED_BYTES) throw corrupt('is not a commit record');
  if (recordOffset + FRAME_HEADER_BYTES + length > fileSize) throw corrupt('runs past the end of the file');
  // Not zero-filled (a bulk import's record runs to megabytes): every byte is read over, or the
  // short read is refused.
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  if (backend.read(frame, recordOffset) !== frame.length) throw corrupt('runs past the end of the file');
  const crc = frame.readUInt32LE(8);
  if (frameCrc(frame, recordOffset, length) !== crc) throw corrupt('fails its checksum');
  const record = decodeCommitPayload(frame.subarray(FRAME_HEADER_BYTES), recordOffset);
  return { record, name: { seq: record.seq, recordOffset, end: recordOffset + frame.length, recordCrc: crc } };
}

/** Sequential reads through a moving window, so scanning costs few system calls. */
class WindowReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly backend: FileBackend,
    private readonly windowBytes: number,
  ) {}

  /** `length` bytes at `position` (the caller has checked they lie inside the file). */
  read(position: number, length: number): Buffer {
    const offset = position - this.windowStart;
    if (offset >= 0 && offset + length <= this.window.length) return this.window.subarray(offset, offset + length);
    this.window = Buffer.alloc(Math.max(length, this.windowBytes));
    this.windowStart = position;
    const n = this.backend.read(this.window, position);
    this.window = this.window.subarray(0, n);
    return this.window.subarray(0, Math.min(n, length));
  }
}

/**
 * Accepts complete commits after `from`, one by one, and stops at the first frame or record that
 * does not check out. Returns the last accepted commit.
 */
export function scanForward(
  backend: FileBackend,
  from: CommitName,
  fromMeta: Buffer,
  fileSize: number,
): { head: CommitName; meta: Buffer } {
  const reader = new WindowReader(backend, 1 << 20);
  let head = from;
  let meta = fromMeta;
  let position = from.end;
  let rangeCrc = 0;
  while (position + FRAME_HEADER_BYTES <= fileSize) {
    const header = reader.read(position, FRAME_HEADER_BYTES);
    if (header.length < FRAME_HEADER_BYTES) break;
    const length = header.readUInt32LE(0);
    const kind = header.readUInt32LE(4); // kind byte and three zero bytes
    const frameEnd = position + FRAME_HEADER_BYTES + length;
    if (!isFrameKind(kind) || frameEnd > fileSize) break;
    const frame = reader.read(position, FRAME_HEADER_BYTES + length);
    if (frame.length < FRAME_HEADER_BYTES + length) break;
    if (frameCrc(frame, position, length) !== frame.readUInt32LE(8)) break;
    if (kind === FrameKind.commit) {
      if (length < COMMIT_FIXED_BYTES) break;
      let record: CommitRecord;
      try {
        record = decodeCommitPayload(frame.subarray(FRAME_HEADER_BYTES), position);
      } catch {
        break;
      }
      const follows =
        record.seq === head.seq + 1 &&
        record.start === head.end &&
        record.previousRecordOffset === head.recordOffset &&
        record.rangeCrc === rangeCrc;
      if (!follows) break;
      head = { seq: record.seq, recordOffset: position, end: frameEnd, recordCrc: frame.readUInt32LE(8) };
      meta = Buffer.from(record.meta);
      rangeCrc = 0;
    } else {
      rangeCrc = crc32(frame, rangeCrc);
    }
    position = frameEnd;
  }
  return { head, meta };
}

/**
 * The commit records after commit `from`, up to and including the one at `toRecordOffset`, read
 * forward in large windows rather than one record at a time. Everything read here is committed,
 * so any frame that fails its checks, or a chain that does not link up, is corruption.
 */
export function readCommitsAfter(
  backend: FileBackend,
  from: CommitName,
  toRecordOffset: number,
  fileSize: number,
): { offset: number; record: CommitRecord }[] {
  const reader = new WindowReader(backend, 1 << 20);
  const out: { offset: number; record: CommitRecord }[] = [];
  let previous = from;
  let position = from.end;
  while (position <= toRecordOffset) {
    const corrupt = (what: string) => new CorruptionError(`frame at offset ${position} ${what}`, position);
    const header = reader.read(position, FRAME_HEADER_BYTES);
    if (header.length < FRAME_HEADER_BYTES) throw corrupt('lies beyond the end of the file');
    const length = header.readUInt32LE(0);
    const kind = header.readUInt32LE(4);
    const frameEnd = position + FRAME_HEADER_BYTES + length;
    if (!isFrameKind(kind) || frameEnd > fileSize) throw corrupt('has a malformed header');
    const frame = reader.read(position, FRAME_HEADER_BYTES + length);
    if (frame.length < FRAME_HEADER_BYTES + length) throw corrupt('is cut short by the end of the file');
    if (frameCrc(frame, position, length) !== frame.readUInt32LE(8)) throw corrupt('fails its checksum');
    if (kind === FrameKind.commit) {
      const record = decodeCommitPayload(frame.subarray(FRAME_HEADER_BYTES), position);
      if (record.seq !== previous.seq + 1 || record.previousRecordOffset !== previous.recordOffset) {
        throw corrupt(`does not follow commit ${previous.seq} at ${previous.recordOffset}`);
      }
      out.push({ offset: position, record: { ...record, meta: Buffer.from(record.meta) } });
      previous = { seq: record.seq, recordOffset: position, end: frameEnd, recordCrc: frame.readUInt32LE(8) };
    }
    position = frameEnd;
  }
  if (previous.recordOffset !== toRecordOffset) {
    throw new CorruptionError(`no commit record at offset ${toRecordOffset} after commit ${from.seq}`, toRecordOffset);
  }
  return out;
}
