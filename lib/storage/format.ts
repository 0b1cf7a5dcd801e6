/**
 * The file format, byte for byte (ARCHITECTURE.md explains the why). All integers little-endian;
 * u64 values are kept below 2^53 so they fit a JavaScript number.
 *
 *   [0, 512)      file header, written once at creation
 *   [512, 1024)   commit slot 0 (first 64 bytes used)
 *   [1024, 1536)  commit slot 1 (first 64 bytes used)
 *   [1536, ...)   frames, appended and never rewritten
 */
import { CorruptionError } from '../errors.js';
import { crc32 } from './checksum.js';

export const MAGIC = Buffer.from('SEDIMENT', 'latin1');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 64;
export const SLOT_OFFSETS = [512, 1024] as const;
export const SLOT_BYTES = 64;
export const DATA_START = 1536;
const SLOT_MAGIC = 0x544f4c53; // "SLOT"

const TWO_32 = 2 ** 32;

export function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % TWO_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_32;
}

// ---------------------------------------------------------------------------------------------
// File header: magic(8) version u16 (2) reserved(2) dataStart u32 (4) pageSize u32 (4)
//              reserved zeros up to 60, crc32 of [0,60) at 60.

export interface FileParameters {
  /** Target encoded size of a tree node; recorded so that every writer of the file agrees. */
  readonly pageSize: number;
}

export function encodeHeader(params: FileParameters): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(buf, 0);
  buf.writeUInt16LE(FORMAT_VERSION, 8);
  buf.writeUInt32LE(DATA_START, 12);
  buf.writeUInt32LE(params.pageSize, 16);
  buf.writeUInt32LE(crc32(buf.subarray(0, 60)), 60);
  return buf;
}

export type HeaderCheck =
  | { readonly kind: 'ok'; readonly params: FileParameters }
  | { readonly kind: 'not-a-database' }
  | { readonly kind: 'unsupported-version'; readonly version: number }
  | { readonly kind: 'corrupt' };

export function decodeHeader(buf: Buffer): HeaderCheck {
  if (buf.length < HEADER_BYTES || !buf.subarray(0, 8).equals(MAGIC)) return { kind: 'not-a-database' };
  if (buf.readUInt32LE(60) !== crc32(buf.subarray(0, 60))) return { kind: 'corrupt' };
  const version = buf.readUInt16LE(8);
  if (version !== FORMAT_VERSION) return { kind: 'unsupported-version', version };
  if (buf.readUInt32LE(12) !== DATA_START) return { kind: 'corrupt' };
  return { kind: 'ok', params: { pageSize: buf.readUInt32LE(16) } };
}

// ---------------------------------------------------------------------------------------------
// Commit slot: magic u32, reserved u32, seq u64, recordOffset u64, end u64, recordCrc u32,
//              reserved zeros up to 60, crc32 of [0,60) at 60.
// A slot *names* a commit that was already durable when the slot was written (see page-store.ts).

/** Where a commit ends and how to find and recognise its record. Commit 0 is the empty file. */
export interface CommitName {
  readonly seq: number;
  readonly recordOffset: number;
  readonly end: number;
  readonly recordCrc: number;
}

export const EMPTY_COMMIT: CommitName = { seq: 0, recordOffset: 0, end: DATA_START, recordCrc: 0 };

export function encodeSlot(name: CommitName): Buffer {
  const buf = Buffer.alloc(SLOT_BYTES);
  buf.writeUInt32LE(SLOT_MAGIC, 0);
  writeU64(buf, 8, name.seq);
  writeU64(buf, 16, name.recordOffset);
  writeU64(buf, 24, name.end);
  buf.writeUInt32LE(name.recordCrc, 32);
  buf.writeUInt32LE(crc32(buf.subarray(0, 60)), 60);
  return buf;
}

/** The slot's commit name, or undefined when the slot is torn or garbage. */
export function decodeSlot(buf: Buffer): CommitName | undefined {
  if (buf.length < SLOT_BYTES || buf.readUInt32LE(0) !== SLOT_MAGIC) return undefined;
  if (buf.readUInt32LE(60) !== crc32(buf.subarray(0, 60))) return undefined;
  return {
    seq: readU64(buf, 8),
    recordOffset: readU64(buf, 16),
    end: readU64(buf, 24),
    recordCrc: buf.readUInt32LE(32),
  };
}

// ---------------------------------------------------------------------------------------------
// Frame: payloadLength u32, kind u8, reserved u8[3], crc u32, payload.
// The crc covers the first 8 bytes, the frame's own file offset (u64, not stored) and the payload,
// so a frame copied or misdirected to another offset fails its check.

export const FRAME_HEADER_BYTES = 12;

export const FrameKind = {
  /** A tree node; its encoding belongs to the tree layer. */
  node: 1,
  /** A large value written once and referenced from tree nodes. */
  heap: 2,
  /** The last frame of every commit. */
  commit: 3,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const frameKinds: ReadonlySet<number> = new Set(Object.values(FrameKind));
export const isFrameKind = (kind: number): kind is FrameKind => frameKinds.has(kind);

const crcScratch = Buffer.alloc(16);

/** Checksum of a frame whose 12-byte header and payload lie contiguously in `frame`. */
export function frameCrc(frame: Buffer, offset: number, payloadLength: number): number {
  frame.copy(crcScratch, 0, 0, 8);
  writeU64(crcScratch, 8, offset);
  return crc32(frame.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + payloadLength), crc32(crcScratch));
}

/** Writes a frame header for `payloadLength` bytes already placed after it, computing the crc. */
export function sealFrame(frame: Buffer, offset: number, kind: FrameKind, payloadLength: number): number {
  frame.writeUInt32LE(payloadLength, 0);
  frame.writeUInt32LE(kind, 4); // kind byte plus three zero bytes
  const crc = frameCrc(frame, offset, payloadLength);
  frame.writeUInt32LE(crc, 8);
  return crc;
}

// ---------------------------------------------------------------------------------------------
// Commit record payload: seq u64, previousRecordOffset u64 (0 for the first), start u64 (offset of
// the commit's first frame), rangeCrc u32 (crc32 of every byte in [start, recordOffset)),
// metaLength u32, meta bytes (opaque here: the layers above keep their roots in it).

export const COMMIT_FIXED_BYTES = 32;

export interface CommitRecord {
  readonly seq: number;
  readonly previousRecordOffset: number;
  readonly start: number;
  readonly rangeCrc: number;
  readonly meta: Buffer;
}

export function encodeCommitPayload(record: CommitRecord, target: Buffer, at: number): number {
  writeU64(target, at, record.seq);
  writeU64(target, at + 8, record.previousRecordOffset);
  writeU64(target, at + 16, record.start);
  target.writeUInt32LE(record.rangeCrc, at + 24);
  target.writeUInt32LE(record.meta.length, at + 28);
  record.meta.copy(target, at + COMMIT_FIXED_BYTES);
  return COMMIT_FIXED_BYTES + record.meta.length;
}

export function decodeCommitPayload(payload: Buffer, offset: number): CommitRecord {
  if (payload.length < COMMIT_FIXED_BYTES || payload.readUInt32LE(28) !== payload.length - COMMIT_FIXED_BYTES) {
    throw new CorruptionError(`commit record at offset ${offset} is malformed`, offset);
  }
  return {
    seq: readU64(payload, 0),
    previousRecordOffset: readU64(payload, 8),
    start: readU64(payload, 16),
    rangeCrc: payload.readUInt32LE(24),
    meta: payload.subarray(COMMIT_FIXED_BYTES),
  };
}
