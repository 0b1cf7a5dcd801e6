/**
 * The log record: the meta bytes of every commit, so that a transaction's datoms and the commit
 * that makes them durable are one frame. msgpack (msgpackr, fixed options: no records, integers
 * only) frames the record; the datoms inside are one blob packed by log-datoms.ts, which carries
 * their value types.
 *
 *   [tx, instantMs, nextId, datoms, index]
 *   datoms   each datom, and for a retraction the tx of the assertion it retracts, which names
 *            that assertion's index entries; for an assertion of a large value its heap page
 *   index    an indexing commit: [r0..r9], the root page ids of the ten trees (0: empty tree);
 *            any other commit: the record offset of the last indexing commit
 *
 * The transaction's own `db/txInstant` datom is not stored: `instantMs` is it.
 */
import { Packr } from 'msgpackr';
import { CorruptionError } from '../../errors.js';
import type { ValueType } from '../schema/value-type.js';
import { ByteWriter, decodeLogDatoms, type LogDatom, writeDatoms } from './log-datoms.js';

export type { LogDatom } from './log-datoms.js';

export const TREE_COUNT = 10;
/** Root page ids of the ten trees, in the order of `TreeSlot` (undefined: empty). */
export type TreeRoots = readonly (number | undefined)[];

/** A log record without its datoms: what loading an epoch needs of its indexing commit. */
export interface LogHeader {
  readonly tx: number;
  readonly instant: number;
  readonly nextId: number;
  /** Roots for an indexing commit, else the record offset of the last indexing commit. */
  readonly index: TreeRoots | number;
}

export interface LogRecord extends LogHeader {
  readonly datoms: readonly LogDatom[];
}

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' });

/**
 * The record's bytes, exactly as `packr.pack` frames them (a spec compares the two), written
 * around the datoms in one buffer: packing the datoms' blob copied it, and the blob itself was
 * copied out of a writer that had doubled its way up (a million datoms: ~60 MB of ArrayBuffers,
 * and V8 starts a full collection for every 64 MB; a one-datom transaction: two Buffers and
 * msgpackr's walk of the array). The result is valid until the next call: the page store copies
 * it into the commit. Datoms before `from` are left out (a commit's own `db/txInstant` datom,
 * which the record's instant stands for), as a slice of a million would copy the array.
 */
export function encodeLogRecord(record: LogRecord, typeOfAttribute: (a: number) => ValueType, from = 0): Buffer {
  const datoms = record.datoms;
  // Small records reuse one writer; a large one gets a writer sized for it (about 9 bytes a datom
  // for an import of people) in a spare buffer, which its caller may give back once committed.
  const large = datoms.length - from > LARGE_RECORD_DATOMS;
  const out = large ? new ByteWriter(HEAD_ROOM + (datoms.length - from) * 12, true) : smallRecords;
  out.length = HEAD_ROOM;
  writeDatoms(out, datoms, typeOfAttribute, from);
  const blobBytes = out.length - HEAD_ROOM;
  // The head goes right before the blob: [tx, instant, nextId, and the blob's bin header.
  const head = headWriter;
  head.length = 0;
  head.byte(0x95);
  packNumber(head, record.tx);
  packNumber(head, record.instant);
  packNumber(head, record.nextId);
  if (blobBytes < 0x100) {
    head.byte(0xc4);
    head.byte(blobBytes);
  } else if (blobBytes < 0x10000) {
    head.byte(0xc5);
    head.byte(blobBytes >> 8);
    head.byte(blobBytes & 0xff);
  } else {
    head.byte(0xc6);
    head.reserve(4);
    head.buffer.writeUInt32BE(blobBytes, head.length);
    head.length += 4;
  }
  const start = HEAD_ROOM - head.length;
  head.buffer.copy(out.buffer, start, 0, head.length);
  const index = record.index;
  if (typeof index === 'number') packNumber(out, index);
  else {
    out.byte(0x90 | index.length);
    for (let i = 0; i < index.length; i++) packNumber(out, index[i] ?? 0);
  }
  return out.buffer.subarray(start, out.length);
}

/** Room before the blob for the head: the array byte, three numbers of up to 9 bytes, a bin32 header. */
const HEAD_ROOM = 1 + 3 * 9 + 5;
/** Records of more datoms than this get a writer of their own. */
const LARGE_RECORD_DATOMS = 4096;
const smallRecords = new ByteWriter(64 * 1024);
const headWriter = new ByteWriter(64);

/** A number as msgpackr writes it with these options (`useRecords: false`, no float32). */
function packNumber(out: ByteWriter, n: number): void {
  out.reserve(9);
  const buffer = out.buffer;
  if (n >>> 0 === n) {
    if (n < 0x80) buffer[out.length++] = n;
    else if (n < 0x100) {
      buffer[out.length++] = 0xcc;
      buffer[out.length++] = n;
    } else if (n < 0x10000) {
      buffer[out.length++] = 0xcd;
      buffer[out.length++] = n >> 8;
      buffer[out.length++] = n & 0xff;
    } else {
      buffer[out.length++] = 0xce;
      buffer.writeUInt32BE(n, out.length);
      out.length += 4;
    }
  } else if (n >> 0 === n) {
    if (n >= -0x20) buffer[out.length++] = 0x100 + n;
    else if (n >= -0x80) {
      buffer[out.length++] = 0xd0;
      buffer[out.length++] = n + 0x100;
    } else if (n >= -0x8000) {
      buffer[out.length++] = 0xd1;
      buffer.writeInt16BE(n, out.length);
      out.length += 2;
    } else {
      buffer[out.length++] = 0xd2;
      buffer.writeInt32BE(n, out.length);
      out.length += 4;
    }
  } else {
    buffer[out.length++] = 0xcb;
    buffer.writeDoubleBE(n, out.length);
    out.length += 8;
  }
}

export function decodeLogRecord(meta: Uint8Array, recordOffset: number): LogRecord {
  const { header, blob } = decodeFields(meta, recordOffset);
  let datoms: LogDatom[];
  try {
    datoms = decodeLogDatoms(blob, header.tx);
  } catch (error) {
    throw new CorruptionError(`log record at ${recordOffset} holds malformed datoms: ${(error as Error).message}`, recordOffset);
  }
  return { ...header, datoms };
}

/**
 * The record's fields but its datoms, left undecoded: an epoch's indexing commit is read for its
 * roots alone, and after a bulk import it holds every datom of the import (opening a database
 * of one 1M-datom import decoded them all, ~300 ms).
 */
export function decodeLogHeader(meta: Uint8Array, recordOffset: number): LogHeader {
  return decodeFields(meta, recordOffset).header;
}

function decodeFields(meta: Uint8Array, recordOffset: number): { header: LogHeader; blob: Uint8Array } {
  let fields: unknown;
  try {
    fields = packr.unpack(meta);
  } catch (error) {
    throw new CorruptionError(`log record at ${recordOffset} is not valid msgpack: ${(error as Error).message}`, recordOffset);
  }
  if (!Array.isArray(fields) || fields.length !== 5) {
    throw new CorruptionError(`log record at ${recordOffset} has the wrong shape`, recordOffset);
  }
  const [tx, instant, nextId, blob, index] = fields as [unknown, unknown, unknown, unknown, unknown];
  if (typeof tx !== 'number' || typeof instant !== 'number' || typeof nextId !== 'number' || !(blob instanceof Uint8Array)) {
    throw new CorruptionError(`log record at ${recordOffset} has malformed fields`, recordOffset);
  }
  let decodedIndex: TreeRoots | number;
  if (typeof index === 'number') decodedIndex = index;
  else if (Array.isArray(index) && index.length === TREE_COUNT && index.every((r) => typeof r === 'number')) {
    decodedIndex = (index as number[]).map((r) => (r === 0 ? undefined : r));
  } else throw new CorruptionError(`log record at ${recordOffset} has malformed roots`, recordOffset);
  return { header: { tx, instant, nextId, index: decodedIndex }, blob };
}
