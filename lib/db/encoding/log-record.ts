/**
 * The log record: the meta bytes of every commit, so that a transaction's datoms and the commit
 * that makes them durable are one frame. msgpack (msgpackr, fixed options: no records, integers
 * only) frames the record; the datoms inside are one blob of key-codec bytes, which carry their
 * own value types.
 *
 *   [tx, instantMs, nextId, datoms, index]
 *   datoms   per datom: e, a (unsigned), value (tagged), added (1 byte), and for a retraction the
 *            tx of the assertion it retracts (unsigned), which names that assertion's index entries
 *   index    an indexing commit: [r0..r9], the root page ids of the ten trees (0: empty tree);
 *            any other commit: the record offset of the last indexing commit
 *            (an assertion of a large value has its heap page id, unsigned, after `added`)
 *
 * The transaction's own `db/txInstant` datom is not stored: `instantMs` is it.
 */
import { Packr } from 'msgpackr';
import { CorruptionError } from '../../errors.js';
import type { ValueType } from '../schema/value-type.js';
import type { RawDatom } from './datom-key.js';
import { KeyReader, KeyWriter, type StoredValue } from './key-codec.js';
import { LargeValue, largeStandIn } from './large-value.js';

/** A logged datom: a retraction also names the tx of the assertion it ends. */
export interface LogDatom extends RawDatom {
  readonly assertedTx: number;
  /** The heap page of a large value's assertion. */
  readonly heapPage?: number | undefined;
}

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
  return packr.pack([record.tx, record.instant, record.nextId, encodeDatoms(record.datoms, typeOfAttribute), index]);
}

// A loop of its own: see the note on on-stack replacement in transactor.ts.
function encodeDatoms(datoms: readonly LogDatom[], typeOfAttribute: (a: number) => ValueType): Buffer {
  const writer = new KeyWriter();
  for (const d of datoms) {
    const type = typeOfAttribute(d.a);
    writer.uint(d.e).uint(d.a).value(type, d.v).byte(d.added ? 1 : 0);
    if (!d.added) writer.uint(d.assertedTx);
    else if (isLarge(type, d.v)) {
      if (d.heapPage === undefined) throw new Error(`large value of attribute ${d.a} has no heap page`);
      writer.uint(d.heapPage);
    }
  }
  return writer.finish();
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
    datoms = decodeDatoms(blob, tx);
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

// A loop of its own: see the note on on-stack replacement in transactor.ts.
function decodeDatoms(blob: Uint8Array, tx: number): LogDatom[] {
  const datoms: LogDatom[] = [];
  const reader = new KeyReader().reset(blob);
  while (!reader.atEnd) {
    const e = reader.uint();
    const a = reader.uint();
    const v = reader.value();
    const added = reader.byte() === 1;
    const assertedTx = added ? tx : reader.uint();
    const heapPage = added && v instanceof LargeValue ? reader.uint() : undefined;
    datoms.push({ e, a, v, tx, added, assertedTx, heapPage });
  }
  return datoms;
}

/** Whether a value is kept in the heap (its key holds a stand-in). */
function isLarge(type: ValueType, v: StoredValue): boolean {
  return v instanceof LargeValue || largeStandIn(type, v) !== undefined;
}
