/**
 * Rebuilding the index state of any commit from the file: the roots its indexing commit wrote,
 * plus the novelty of the commits after that one, replayed from their log records. Opening the
 * latest state and opening an `asOf` snapshot in an older epoch both come here, so the work is
 * bounded by one epoch (at most INDEX_THRESHOLD_DATOMS datoms), however long the history.
 */
import { CorruptionError } from '../../errors.js';
import type { PageStore } from '../../storage/page-store.js';
import { LargeValue } from '../encoding/large-value.js';
import { decodeLogHeader, decodeLogRecord, type LogDatom, type LogHeader, type LogRecord } from '../encoding/log-record.js';
import type { Basis } from '../read/snapshot.js';
import { schemaAfter } from '../schema/install.js';
import { BuiltIn, type Schema } from '../schema/schema.js';
import { decodeLogEntry, encodeLogKey, type IndexState, type IndexTrees, rootOf, TreeSlot } from './index-trees.js';
import { applyDatoms } from './indexing.js';
import { type EpochTx, Novelty } from './novelty.js';

export interface LoadedState {
  readonly state: IndexState;
  readonly basis: Basis;
  /** The schema after replaying (only when asked to evolve one). */
  readonly schema: Schema;
}

/** The transaction's datoms as the log stores them, with its `db/txInstant` datom restored. */
export function datomsOfRecord(record: LogRecord): LogDatom[] {
  const txDatom: LogDatom = {
    e: record.tx,
    a: BuiltIn.txInstant,
    v: new Date(record.instant),
    tx: record.tx,
    added: true,
    assertedTx: record.tx,
  };
  return [txDatom, ...record.datoms];
}

/**
 * The state as of the commit whose record is at `recordOffset`. `schema` is the schema at the
 * epoch's start (when `evolveSchema`, the replay extends it with the epoch's installations) or
 * any later schema (attributes never change, so a later one serves an older epoch).
 */
export function loadStateAt(
  store: PageStore,
  recordOffset: number,
  schemaAtEpochStart: (roots: IndexState) => Schema,
  evolveSchema: boolean,
): LoadedState {
  // The newest commit's record was read and checked when the store opened or last moved: after
  // a bulk import, reading and checking its megabytes again was most of what opening cost.
  const meta = recordOffset === store.head.recordOffset ? store.headMeta : store.readCommit(recordOffset).record.meta;
  const target = decodeLogHeader(meta, recordOffset);
  // The indexing commit gives the roots; the commits after it, up to the target, are replayed.
  let epoch: { header: LogHeader; offset: number };
  const replayed: { record: LogRecord; offset: number }[] = [];
  if (typeof target.index === 'number') {
    const epochOffset = target.index;
    if (epochOffset >= recordOffset) {
      throw new CorruptionError(`log record at ${recordOffset} names a later commit (${epochOffset}) as its epoch`, recordOffset);
    }
    const commit = store.readCommit(epochOffset);
    epoch = { header: decodeLogHeader(commit.record.meta, epochOffset), offset: epochOffset };
    if (typeof epoch.header.index === 'number') {
      throw new CorruptionError(`commit at ${epochOffset}, named as an indexing commit, holds no roots`, epochOffset);
    }
    // The epoch's commits lie one after another behind its indexing commit: one forward read.
    for (const { offset, record } of store.readCommitsAfter(commit.name, recordOffset)) {
      replayed.push({ record: decodeLogRecord(record.meta, offset), offset });
    }
  } else {
    epoch = { header: target, offset: recordOffset };
  }
  const roots = epoch.header.index as Exclude<LogHeader['index'], number>;
  const novelty = Novelty.empty();
  novelty.txs.push(epochTxOf(epoch.header, epoch.offset));
  const schemaAtStart = schemaAtEpochStart({ roots, novelty: Novelty.empty(), epochOffset: epoch.offset });
  const schema = replayRecords(novelty, schemaAtStart, replayed, evolveSchema);
  const last = replayed.length === 0 ? epoch.header : replayed[replayed.length - 1]!.record;
  return {
    state: { roots, novelty, epochOffset: epoch.offset },
    basis: { tx: last.tx, nextId: last.nextId, instant: last.instant },
    schema,
  };
}

/** The record offset of the last commit with a tx at or before `t`, from the log tree of `state`. */
export function findCommitInLog(trees: IndexTrees, state: IndexState, t: number): number | undefined {
  const cursor = trees.tree.scan(rootOf(state.roots, TreeSlot.log), { upper: encodeLogKey(t + 1), reverse: true });
  const entry = cursor.nextEntry();
  return entry === undefined ? undefined : decodeLogEntry(entry).recordOffset;
}

/**
 * Applies committed log records, oldest first, to an epoch's novelty, as their commits did; returns
 * the schema after them (evolved from `schema` when asked; else `schema`, a later one, serves).
 * A loop of its own: see the note on on-stack replacement in transactor.ts.
 */
export function replayRecords(
  novelty: Novelty,
  schema: Schema,
  records: readonly { record: LogRecord; offset: number }[],
  evolveSchema: boolean,
): Schema {
  for (const c of records) {
    const datoms = datomsOfRecord(c.record);
    if (evolveSchema) schema = schemaAfter(schema, datoms, c.record.tx);
    applyDatoms(novelty, datoms, schema);
    novelty.txs.push(epochTxOf(c.record, c.offset));
    for (const d of datoms) if (d.heapPage !== undefined && d.v instanceof LargeValue) novelty.heap.set(d.v.key, d.heapPage);
  }
  return schema;
}

function epochTxOf(record: LogHeader, offset: number): EpochTx {
  return { tx: record.tx, recordOffset: offset, instant: record.instant, nextId: record.nextId };
}
