/**
 * A connection: the latest database value of one file, and (unless read-only) the one writer.
 *
 * Write flow: the transactor turns tx data into datoms against the latest snapshot; if novelty
 * has reached INDEX_THRESHOLD_DATOMS, its contents and the datoms are written into the ten trees;
 * the log record (datoms, plus roots or the epoch's offset) becomes the commit's meta; the page
 * store commits. Only then does the connection move to the new state and tell its listeners.
 * Any failure before that leaves the connection as it was (the page store discards the pages
 * written for the failed commit); after it, the datoms go into the epoch's novelty, which its
 * snapshots share (each reads only entries up to its basis).
 */
import { ErrorCode, SedimentError } from '../errors.js';
import type { CommitName } from '../storage/format.js';
import type { PageStore } from '../storage/page-store.js';
import type { LogEntry, TxOptions, TxReport } from './datom.js';
import { Db, txReport } from './db.js';
import { largeStandIn, rawBytes } from './encoding/large-value.js';
import { giveBack } from '../spare-buffers.js';
import { putBytes } from '../storage/value-heap.js';
import type { LogDatom } from './encoding/log-record.js';
import { decodeLogRecord, encodeLogRecord, TREE_COUNT, type TreeRoots } from './encoding/log-record.js';
import { datomsOfRecord, loadStateAt, replayRecords } from './index/epoch-loader.js';
import { decodeLogEntry, encodeLogKey, type IndexState, IndexTrees, rootOf, TreeSlot } from './index/index-trees.js';
import { INDEX_THRESHOLD_DATOMS, planBatches, writeNovelty } from './index/indexing.js';
import { planDatoms } from './index/novelty-plan.js';
import { Novelty } from './index/novelty.js';
import { type Basis, Snapshot } from './read/snapshot.js';
import { loadSchema } from './schema/load.js';
import { BOOTSTRAP_TX, BUILT_IN_ATTRIBUTES, BuiltIn, FIRST_FREE_ID, Schema } from './schema/schema.js';
import { chooseInstant } from './tx/instant.js';
import { runTransaction } from './tx/transactor.js';

export type TxListener = (report: TxReport) => void;

/** Internal tuning, fixed for a file's whole life (its bytes depend on it); tests use small values. */
export interface ConnectionTuning {
  /** Novelty this large (in datoms) is written into the trees. */
  readonly indexThreshold: number;
}

export const DEFAULT_TUNING: ConnectionTuning = { indexThreshold: INDEX_THRESHOLD_DATOMS };

export class Connection {
  private readonly trees: IndexTrees;
  private latest!: Db;
  private readonly listeners = new Set<TxListener>();
  private closed = false;
  private readonly newPages = new Map<string, number>();

  /** @internal Use `Database.open` or `Database.memory`. */
  constructor(
    private readonly store: PageStore,
    private readonly tuning: ConnectionTuning = DEFAULT_TUNING,
  ) {
    this.trees = new IndexTrees(store);
    if (store.head.seq === 0) {
      if (store.options.readOnly) this.latest = this.emptyDb();
      else this.bootstrap();
    } else {
      this.latest = this.loadLatest();
    }
  }

  /** The latest database value: an immutable snapshot. */
  db(): Db {
    this.checkOpen();
    return this.latest;
  }

  get readOnly(): boolean {
    return this.store.options.readOnly;
  }

  transact(txData: unknown, options: TxOptions = {}): TxReport {
    this.checkOpen();
    // Read-only, or poisoned by a failed write: refused before anything is validated.
    this.store.checkWritable();
    const before = this.latest;
    const snapshot = before.snapshot;
    const instant = chooseInstant(snapshot.basis.instant, options.txInstant);
    const outcome = runTransaction(snapshot, txData, instant);

    // Everything that can fail comes before the commit: afterwards the change only lands in memory.
    const novelty = snapshot.state.novelty;
    const indexing = novelty.datomCount + outcome.datoms.length >= this.tuning.indexThreshold;
    // An indexing commit's datoms go straight into the tree batches; any other's into novelty.
    const own = indexing ? planBatches(outcome.datoms, outcome.schema) : undefined;
    const changes = indexing ? undefined : planDatoms(outcome.datoms, outcome.schema, novelty.filledParts);
    let roots = snapshot.state.roots;
    let recordOffset: number;
    // Heap pages this commit writes, by large value; one map for every commit, as most write none.
    const newPages = this.newPages;
    newPages.clear();
    let datoms: readonly LogDatom[];
    try {
      datoms = this.storeLargeValues(snapshot, outcome.datoms, outcome.schema, newPages);
      if (own !== undefined) roots = writeNovelty(this.trees, roots, novelty, own, newPages);
      const meta = encodeLogRecord(
        {
          tx: outcome.tx,
          instant,
          nextId: outcome.nextId,
          datoms,
          index: indexing ? roots : snapshot.state.epochOffset,
        },
        outcome.schema.typeOfDatom,
        1, // the txInstant datom: the record's instant
      );
      recordOffset = this.store.commit(meta).recordOffset;
      // The store copied the record; a large one's buffer serves the next large commit.
      giveBack(meta.buffer);
    } catch (error) {
      this.store.abort();
      throw error;
    }

    const epochTx = { tx: outcome.tx, recordOffset, instant, nextId: outcome.nextId };
    let state: IndexState;
    if (changes === undefined) {
      const fresh = Novelty.empty();
      fresh.txs.push(epochTx);
      state = { roots, novelty: fresh, epochOffset: recordOffset };
    } else {
      // The epoch's novelty is shared by its snapshots; this commit's entries lie after their bases.
      novelty.apply(changes, outcome.datoms, outcome.schema);
      novelty.txs.push(epochTx);
      if (newPages.size > 0) for (const [digest, page] of newPages) novelty.heap.set(digest, page);
      state = snapshot.state;
    }
    const basis: Basis = { tx: outcome.tx, nextId: outcome.nextId, instant };
    const after = new Snapshot(this.trees, state, outcome.schema, basis);
    this.latest = new Db(after);
    const report = txReport(outcome, before, this.latest);
    this.notify(report);
    return report;
  }

  /** @internal For `stats` and `verify`: the page store and the trees under the latest value. */
  internals(): { readonly store: PageStore; readonly trees: IndexTrees } {
    this.checkOpen();
    return { store: this.store, trees: this.trees };
  }

  /** Calls `listener` with every later TxReport, in commit order; returns the unsubscribe function. */
  listen(listener: TxListener): () => void {
    this.checkOpen();
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Makes every applied commit durable (relaxed mode; a no-op in full mode). */
  sync(): void {
    this.checkOpen();
    this.store.sync();
  }

  /** Read-only connections: moves to the newest commit another process wrote. Returns whether it moved. */
  refresh(): boolean {
    this.checkOpen();
    const before = this.store.head;
    if (!this.store.refresh()) return false;
    this.latest = this.catchUp(before) ?? this.loadLatest();
    return true;
  }

  /**
   * The commits after `before` replayed into the current epoch's novelty, as the writer applied
   * them: a refresh costs what was committed since, not a whole epoch. Undefined when one of them
   * began a new epoch (then the state is loaded afresh).
   */
  private catchUp(before: CommitName): Db | undefined {
    const snapshot = this.latest.snapshot;
    if (before.seq === 0) return undefined;
    const records = this.store
      .readCommitsAfter(before, this.store.head.recordOffset)
      .map(({ offset, record }) => ({ offset, record: decodeLogRecord(record.meta, offset) }));
    if (records.some(({ record }) => record.index !== snapshot.state.epochOffset)) return undefined;
    const schema = replayRecords(snapshot.state.novelty, snapshot.schema, records, true);
    const last = records[records.length - 1]!.record;
    return new Db(new Snapshot(this.trees, snapshot.state, schema, { tx: last.tx, nextId: last.nextId, instant: last.instant }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.store.close();
  }

  /** The transaction log: `txRange(from, to)` yields transactions with from <= tx < to. */
  log(): { txRange(from?: number, to?: number): Iterable<LogEntry> } {
    this.checkOpen();
    const latest = this.latest;
    const snapshot = latest.snapshot;
    const store = this.store;
    const trees = this.trees;
    return {
      txRange(from = 0, to = Number.MAX_SAFE_INTEGER): Iterable<LogEntry> {
        return {
          *[Symbol.iterator]() {
            const offsets: number[] = [];
            const cursor = trees.tree.scan(rootOf(snapshot.state.roots, TreeSlot.log), {
              lower: encodeLogKey(from),
              upper: encodeLogKey(to),
            });
            for (let entry = cursor.nextEntry(); entry !== undefined; entry = cursor.nextEntry()) {
              offsets.push(decodeLogEntry(entry).recordOffset);
            }
            for (const t of snapshot.state.novelty.txs) if (t.tx >= from && t.tx < to) offsets.push(t.recordOffset);
            for (const offset of offsets) {
              const record = decodeLogRecord(store.readCommit(offset).record.meta, offset);
              const data = datomsOfRecord(record).map((d) => latest.toDatom(d));
              yield { tx: record.tx, txInstant: new Date(record.instant), data };
            }
          },
        };
      },
    };
  }

  /**
   * Writes each large value the transaction asserts to the heap, once per file: a value the heap
   * directory already knows is not written again. Returns the datoms with their heap pages.
   */
  private storeLargeValues(snapshot: Snapshot, datoms: readonly LogDatom[], schema: Schema, newPages: Map<string, number>): readonly LogDatom[] {
    // Most transactions hold no large value: then the datoms themselves, not a copy.
    let out: LogDatom[] | undefined;
    for (let i = 0; i < datoms.length; i++) {
      const d = datoms[i]!;
      const v = d.v;
      // Assertions come from transaction data: values, not stand-ins. Only text and bytes can be
      // large, so other values skip the attribute lookup.
      const large = d.added && (typeof v === 'string' || v instanceof Uint8Array) ? largeStandIn(schema.ofDatom(d.a).valueType, v) : undefined;
      if (large === undefined) {
        out?.push(d);
        continue;
      }
      out ??= datoms.slice(0, i);
      let page = newPages.get(large.key) ?? snapshot.heapPage(large.digest);
      if (page === undefined) {
        page = putBytes(this.store, rawBytes(d.v as string | Uint8Array)) as number;
        newPages.set(large.key, page);
      }
      out.push({ ...d, heapPage: page });
    }
    return out ?? datoms;
  }

  private notify(report: TxReport): void {
    if (this.listeners.size === 0) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(report);
      } catch (error) {
        // The commit has happened; a failing listener must not make it look as if it had not.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private bootstrap(): void {
    const schema = Schema.builtIn();
    const datoms: LogDatom[] = [];
    const add = (e: number, a: number, v: LogDatom['v']) =>
      datoms.push({ e, a, v, tx: BOOTSTRAP_TX, added: true, assertedTx: BOOTSTRAP_TX });
    for (const attribute of BUILT_IN_ATTRIBUTES) {
      add(attribute.id, BuiltIn.ident, attribute.ident);
      add(attribute.id, BuiltIn.valueType, `db.type/${attribute.valueType}`);
      add(attribute.id, BuiltIn.cardinality, `db.cardinality/${attribute.cardinality}`);
      if (attribute.unique !== undefined) add(attribute.id, BuiltIn.unique, `db.unique/${attribute.unique}`);
      else if (attribute.indexed) add(attribute.id, BuiltIn.index, true);
      if (attribute.doc !== undefined) add(attribute.id, BuiltIn.doc, attribute.doc);
    }
    const instant = 0;
    const txDatom: LogDatom = { e: BOOTSTRAP_TX, a: BuiltIn.txInstant, v: new Date(instant), tx: BOOTSTRAP_TX, added: true, assertedTx: BOOTSTRAP_TX };
    const own = planBatches([txDatom, ...datoms], schema);
    let recordOffset: number;
    let roots: TreeRoots;
    try {
      roots = writeNovelty(this.trees, new Array<undefined>(TREE_COUNT).fill(undefined), Novelty.empty(), own);
      const meta = encodeLogRecord(
        { tx: BOOTSTRAP_TX, instant, nextId: FIRST_FREE_ID, datoms, index: roots },
        (a) => schema.ofDatom(a).valueType,
      );
      recordOffset = this.store.commit(meta).recordOffset;
    } catch (error) {
      this.store.abort();
      throw error;
    }
    const fresh = Novelty.empty();
    fresh.txs.push({ tx: BOOTSTRAP_TX, recordOffset, instant, nextId: FIRST_FREE_ID });
    const state: IndexState = { roots, novelty: fresh, epochOffset: recordOffset };
    this.latest = new Db(new Snapshot(this.trees, state, schema, { tx: BOOTSTRAP_TX, nextId: FIRST_FREE_ID, instant }));
  }

  private loadLatest(): Db {
    const loaded = loadStateAt(
      this.store,
      this.store.head.recordOffset,
      (epochState) => loadSchema(new Snapshot(this.trees, epochState, Schema.builtIn(), { tx: Number.MAX_SAFE_INTEGER, nextId: 0, instant: 0 })),
      true,
    );
    return new Db(new Snapshot(this.trees, loaded.state, loaded.schema, loaded.basis));
  }

  /** A file whose creation was interrupted before its first commit, opened read-only. */
  private emptyDb(): Db {
    const state: IndexState = { roots: new Array<undefined>(TREE_COUNT).fill(undefined), novelty: Novelty.empty(), epochOffset: 0 };
    return new Db(new Snapshot(this.trees, state, Schema.builtIn(), { tx: 0, nextId: FIRST_FREE_ID, instant: 0 }));
  }

  private checkOpen(): void {
    if (this.closed) throw new SedimentError(ErrorCode.closed, 'the connection is closed');
  }
}
