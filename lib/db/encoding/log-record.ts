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
import { decodeLogDatoms, encodeLogDatoms, type LogDatom } from './log-datoms.js';

export type { LogDatom } from './log-datoms.js';

export const TREE_COUNT = 10;
/** Root page ids of the ten trees, in the order of `TreeSlot` (undefined: empty). */
export type TreeRoots = readonly (number | undefined)[];

export interface LogRecord {
  readonly tx: number;
  readonly instant: number;
  readonly nextId: number;
  readonly datoms: readonly LogDatom[];
  /** Roots for an indexing commit, else the record offset of the last indexing commit. */
  readonly index: TreeRoots | number;
}

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' });

export function encodeLogRecord(record: LogRecord, typeOfAttribute: (a: number) => ValueType): Buffer {
  const index = typeof record.index === 'number' ? record.index : record.index.map((r) => r ?? 0);
  return packr.pack([record.tx, record.instant, record.nextId, encodeLogDatoms(record.datoms, typeOfAttribute), index]);
}

export function decodeLogRecord(meta: Uint8Array, recordOffset: number): LogRecord {
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
  let datoms: LogDatom[];
  try {
    datoms = decodeLogDatoms(blob, tx);
  } catch (error) {
    throw new CorruptionError(`log record at ${recordOffset} holds malformed datoms: ${(error as Error).message}`, recordOffset);
  }
  let decodedIndex: TreeRoots | number;
  if (typeof index === 'number') decodedIndex = index;
  else if (Array.isArray(index) && index.length === TREE_COUNT && index.every((r) => typeof r === 'number')) {
    decodedIndex = (index as number[]).map((r) => (r === 0 ? undefined : r));
  } else throw new CorruptionError(`log record at ${recordOffset} has malformed roots`, recordOffset);
  return { tx, instant, nextId, datoms, index: decodedIndex };
}
