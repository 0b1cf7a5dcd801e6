/**
 * `Db`: an immutable database value — one commit's snapshot, optionally filtered (`since`,
 * `history`). Reading it never takes a lock and never changes, whatever is written afterwards:
 * its trees are immutable pages and its novelty a copy-on-write map that later commits do not
 * write.
 */
import { ErrorCode, SedimentError } from '../errors.js';
import { Datom, type IndexName, type TxOptions, type TxReport } from './datom.js';
import { Keyword } from './edn.js';
import { prefixEnd } from './encoding/key-codec.js';
import { largeStandIn } from './encoding/large-value.js';
import { decodeEntry, encodePrefix, type IndexOrder, INDEX_ORDERS, type KeyComponents, type RawDatom } from './encoding/datom-key.js';
import { findCommitInLog, loadStateAt } from './index/epoch-loader.js';
import { applyDatoms } from './index/indexing.js';
import { type Basis, type ScanOptions, Snapshot } from './read/snapshot.js';
import { type Attribute, BuiltIn } from './schema/schema.js';
import { checkValue, describeValue, type Value } from './schema/value-type.js';
import { runTransaction, type TxOutcome } from './tx/transactor.js';
import { chooseInstant } from './tx/instant.js';
import { Entity } from './read/entity.js';
import { pull, pullMany, type PullPattern } from './read/pull.js';
import { explainQuery, runQuery } from '../query/query.js';

interface Filters {
  /** Only datoms with a tx greater than this. */
  readonly since: number | undefined;
  readonly history: boolean;
}

const NO_FILTERS: Filters = { since: undefined, history: false };

export class Db {
  /** @internal Made by connections; users obtain Db values from `conn.db()` and friends. */
  constructor(
    /** @internal */ readonly snapshot: Snapshot,
    private readonly filters: Filters = NO_FILTERS,
  ) {}

  /** The tx of the commit this snapshot stands at. */
  get basisT(): number {
    return this.snapshot.basis.tx;
  }

  /** The `since` filter's tx, if any. */
  get sinceT(): number | undefined {
    return this.filters.since;
  }

  get isHistory(): boolean {
    return this.filters.history;
  }

  /** The database exactly as it was after the last commit at or before `t` (a tx id or a Date). */
  asOf(t: number | Date): Db {
    const tx = this.txAtOrBefore(t, 'asOf');
    if (tx >= this.snapshot.basis.tx) return this;
    return new Db(this.snapshotAt(tx), this.filters);
  }

  /** Only the datoms added after `t` (a tx id or a Date). */
  since(t: number | Date): Db {
    const tx = typeof t === 'number' ? checkT(t, 'since') : (this.txAtOrBefore(t, 'since', true) ?? 0);
    const since = this.filters.since === undefined ? tx : Math.max(this.filters.since, tx);
    return new Db(this.snapshot, { ...this.filters, since });
  }

  /** Every assertion and retraction, each datom with its `added` flag. */
  history(): Db {
    return this.filters.history ? this : new Db(this.snapshot, { ...this.filters, history: true });
  }

  /** A speculative transaction on this value: nothing is written, no connection changes. */
  with(txData: unknown, options: TxOptions = {}): Omit<TxReport, 'dbBefore'> & { dbBefore: Db } {
    const base = this.snapshot;
    const instant = chooseInstant(base.basis.instant, options.txInstant);
    const outcome = runTransaction(base, txData, instant);
    // The connection keeps writing the epoch's novelty; a speculative commit writes its own copy,
    // cut back to this basis if later commits have written it, since they share its tx ids.
    const older = base.state.novelty.lastTx !== undefined && base.state.novelty.lastTx.tx > base.basis.tx;
    const novelty = older ? base.state.novelty.truncatedTo(base.basis.tx) : base.state.novelty.clone();
    applyDatoms(novelty, outcome.datoms, outcome.schema);
    novelty.txs.push({ tx: outcome.tx, recordOffset: -1, instant: outcome.instant, nextId: outcome.nextId });
    // Nothing is written, so large values stay in memory, where this value's reads find them.
    for (const d of outcome.datoms) {
      const large = d.added ? largeStandIn(outcome.schema.ofDatom(d.a).valueType, d.v as Value) : undefined;
      if (large !== undefined && base.heapPage(large.digest) === undefined) novelty.speculativeValues.set(large.key, d.v as Value);
    }
    const basis: Basis = { tx: outcome.tx, nextId: outcome.nextId, instant: outcome.instant };
    const after = new Snapshot(base.trees, { ...base.state, novelty }, outcome.schema, basis);
    return txReport(outcome, this, new Db(after, this.filters));
  }

  /** Datoms of `index` whose leading components are `components` (in the index's order). */
  datoms(index: IndexName, ...components: unknown[]): Iterable<Datom> {
    return this.read(index, components, false);
  }

  /** Datoms of `index` from the position of `components` onward, to the end of the index. */
  seekDatoms(index: IndexName, ...components: unknown[]): Iterable<Datom> {
    return this.read(index, components, true);
  }

  /** AVET datoms of `attribute` with values in [start, end) (either bound may be omitted). */
  indexRange(attribute: string, start?: unknown, end?: unknown): Iterable<Datom> {
    const a = this.attribute(attribute, 'indexRange');
    if (!a.indexed) {
      throw new SedimentError(ErrorCode.notIndexed, `indexRange: attribute ${a.ident} has neither db/index nor db/unique, so it is not in AVET`);
    }
    const value = (raw: unknown) => (raw === undefined || raw === null ? undefined : this.componentValue(a, raw, 'indexRange'));
    const lower = value(start);
    const upper = value(end);
    if (lower === null || upper === null) return [];
    const snapshot = this.snapshot;
    const filters = this.filters;
    // The value bounds as key bounds, encoded once: the scan stops at the upper one by itself.
    const lowerKey = encodePrefix('avet', { a: a.id, v: lower }, snapshot.typeOf);
    const upperKey = upper === undefined ? prefixEnd(encodePrefix('avet', { a: a.id }, snapshot.typeOf)) : encodePrefix('avet', { a: a.id, v: upper }, snapshot.typeOf);
    return {
      *[Symbol.iterator]() {
        for (const d of snapshot.scanRange('avet', { lower: lowerKey, upper: upperKey }, { history: filters.history, since: filters.since })) yield toDatom(snapshot, d);
      },
    };
  }

  /** A lazy entity: attributes read on demand, refs as entities, reverse refs as `ns/_attr`. */
  entity(e: unknown): Entity | undefined {
    const id = this.entityId(e, 'entity');
    return id === undefined ? undefined : new Entity(this, id);
  }

  pull(pattern: PullPattern, e: unknown): Record<string, unknown> | null {
    return pull(this, pattern, e);
  }

  pullMany(pattern: PullPattern, es: readonly unknown[]): (Record<string, unknown> | null)[] {
    return pullMany(this, pattern, es);
  }

  /**
   * Datalog: `query` in Datomic's EDN syntax or the array form; `inputs` follow `:in`, where a
   * plain `$` is this database and takes no input. Results are DataScript-shaped (see README).
   */
  q(query: unknown, ...inputs: unknown[]): unknown {
    return runQuery(this, query, inputs);
  }

  /** The plan `q` would run for these arguments, as text: clause order, index and prefix, joins. */
  explain(query: unknown, ...inputs: unknown[]): string {
    return explainQuery(this, query, inputs);
  }

  // ----- internals used by entity, pull and query ---------------------------------------------

  /** @internal Current datoms as of this snapshot (the `since` filter applies, `history` does not). */
  scanCurrent(order: IndexOrder, c: KeyComponents): Iterable<RawDatom> {
    return this.snapshot.scan(order, c, { since: this.filters.since });
  }

  /** @internal */
  toDatom(d: RawDatom): Datom {
    return toDatom(this.snapshot, d);
  }

  /** @internal The attribute named `ident` in this snapshot, or a SEDIMENT_UNKNOWN_ATTRIBUTE error. */
  attribute(ident: unknown, where: string): Attribute {
    const name = ident instanceof Keyword ? ident.name : ident;
    if (typeof name !== 'string') throw new SedimentError(ErrorCode.invalidArgument, `${where}: ${describeValue(ident)} is not an attribute ident`);
    return this.snapshot.schema.attribute(name, this.snapshot.basis.tx, where);
  }

  /**
   * @internal An entity id from an id, a lookup ref `[attr, value]` or an ident; undefined when
   * a lookup ref or ident names nothing in this snapshot.
   */
  entityId(e: unknown, where: string): number | undefined {
    if (typeof e === 'number' && Number.isSafeInteger(e) && e > 0) return e;
    if (e instanceof Keyword) return this.snapshot.schema.entityOfIdent(e.name, this.snapshot.basis.tx);
    if (Array.isArray(e) && e.length === 2) {
      const a = this.attribute(e[0], where);
      if (a.unique === undefined) throw new SedimentError(ErrorCode.invalidArgument, `${where}: lookup ref attribute ${a.ident} is not db/unique`);
      const v = this.componentValue(a, e[1], where);
      if (v === null) return undefined;
      for (const d of this.snapshot.scan('avet', { a: a.id, v })) return d.e;
      return undefined;
    }
    throw new SedimentError(ErrorCode.invalidArgument, `${where}: ${describeValue(e)} is not an entity id, lookup ref or ident`);
  }

  private read(index: IndexName, components: unknown[], seek: boolean): Iterable<Datom> {
    if (!(INDEX_ORDERS as readonly string[]).includes(index)) {
      throw new SedimentError(ErrorCode.invalidArgument, `unknown index ${describeValue(index)}; use eavt, aevt, avet or vaet`);
    }
    const c = this.components(index, components);
    if (c === undefined) return [];
    if (!seek && !this.filters.history) {
      // Most reads of a few components (an entity's attribute) lie in one leaf: read them at once.
      const datoms = this.snapshot.currentRun(index, c, this.filters.since, toDatom);
      if (datoms !== undefined) return datoms;
    }
    return new DatomScan(this.snapshot, index, c, { history: this.filters.history, since: this.filters.since, seek });
  }

  /** Components in index order to key components; undefined when one names nothing. */
  private components(order: IndexOrder, given: unknown[]): KeyComponents | undefined {
    const where = WHERE_OF[order];
    if (given.length > 4) throw new SedimentError(ErrorCode.invalidArgument, `${where}: at most 4 components (the last a tx)`);
    const names = COMPONENT_NAMES[order];
    const out: { e?: number; a?: number; v?: Value; tx?: number } = {};
    let attribute: Attribute | undefined;
    for (let i = 0; i < given.length; i++) {
      const raw = given[i];
      if (raw === undefined) break;
      if (i === 3) {
        out.tx = checkT(raw, where);
        break;
      }
      const name = names[i];
      if (name === 'a') {
        attribute = this.attribute(raw, where);
        out.a = attribute.id;
      } else if (name === 'e') {
        const id = this.entityId(raw, where);
        if (id === undefined) return undefined;
        out.e = id;
      } else if (order === 'vaet') {
        const id = this.entityId(raw, where);
        if (id === undefined) return undefined;
        out.v = id;
      } else {
        const v = this.componentValue(attribute!, raw, where);
        if (v === null) return undefined;
        out.v = v;
      }
    }
    return out;
  }

  /** A value given for attribute `a` in a read; null when it is a lookup ref naming nothing. */
  private componentValue(a: Attribute, raw: unknown, where: string): Value | null {
    if (a.valueType === 'ref') return this.entityId(raw, where) ?? null;
    return checkValue(a.valueType, raw instanceof Keyword ? raw.name : raw, () => `${where}: ${a.ident}`);
  }

  /** The tx of the last commit at or before `t`, in this snapshot. */
  private txAtOrBefore(t: number | Date, where: string): number;
  private txAtOrBefore(t: number | Date, where: string, allowNone: true): number | undefined;
  private txAtOrBefore(t: number | Date, where: string, allowNone = false): number | undefined {
    let tx: number | undefined;
    if (t instanceof Date) {
      if (Number.isNaN(t.getTime())) throw new SedimentError(ErrorCode.invalidArgument, `${where}: invalid Date`);
      const upper = encodePrefix('avet', { a: BuiltIn.txInstant, v: new Date(t.getTime() + 1) }, this.snapshot.typeOf);
      const cursor = this.snapshot.reader.current('avet', { lower: encodePrefix('avet', { a: BuiltIn.txInstant }, this.snapshot.typeOf), upper, reverse: true });
      const entry = cursor.next();
      // An AVET entry of db/txInstant: its entity is the transaction.
      tx = entry.done === true ? undefined : decodeEntry('avet', entry.value, 0, entry.value.length, false, this.snapshot.typeOf).e;
    } else {
      // Whether a commit precedes it is settled where its snapshot is looked up (snapshotAt).
      tx = Math.min(checkT(t, where), this.snapshot.basis.tx);
    }
    if (tx === undefined && !allowNone) {
      throw new SedimentError(ErrorCode.invalidArgument, `${where}: ${describeValue(t)} is before the first transaction`);
    }
    return tx;
  }

  /** The snapshot of the last commit at or before tx (which is before this one's basis). */
  private snapshotAt(tx: number): Snapshot {
    const { trees, state, schema } = this.snapshot;
    const txs = state.novelty.txs;
    if (txs.length > 0 && tx >= txs[0]!.tx) {
      let i = txs.length - 1;
      while (txs[i]!.tx > tx) i--;
      const t = txs[i]!;
      return new Snapshot(trees, state, schema, { tx: t.tx, nextId: t.nextId, instant: t.instant });
    }
    const offset = findCommitInLog(trees, state, tx);
    if (offset === undefined) throw new SedimentError(ErrorCode.invalidArgument, `asOf: ${tx} is before the first transaction`);
    const loaded = loadStateAt(trees.store, offset, () => schema, false);
    return new Snapshot(trees, loaded.state, schema, loaded.basis);
  }
}

const WHERE_OF: Record<IndexOrder, string> = { eavt: 'datoms(eavt)', aevt: 'datoms(aevt)', avet: 'datoms(avet)', vaet: 'datoms(vaet)' };

const COMPONENT_NAMES: Record<IndexOrder, readonly ('e' | 'a' | 'v')[]> = {
  eavt: ['e', 'a', 'v'],
  aevt: ['a', 'e', 'v'],
  avet: ['a', 'v', 'e'],
  vaet: ['v', 'a', 'e'],
};

/**
 * What `datoms` and `seekDatoms` return: each iteration scans afresh. A class rather than an
 * object literal with a computed `Symbol.iterator` key, which V8 builds through a slow path (it
 * was 8% of a point read).
 */
class DatomScan implements Iterable<Datom> {
  constructor(
    private readonly snapshot: Snapshot,
    private readonly index: IndexOrder,
    private readonly c: KeyComponents,
    private readonly options: ScanOptions,
  ) {}

  [Symbol.iterator](): Iterator<Datom> {
    return new PublicDatoms(this.snapshot, this.snapshot.scan(this.index, this.c, this.options));
  }
}

class PublicDatoms implements IterableIterator<Datom> {
  constructor(
    private readonly snapshot: Snapshot,
    private readonly raw: IterableIterator<RawDatom>,
  ) {}

  [Symbol.iterator](): IterableIterator<Datom> {
    return this;
  }

  next(): IteratorResult<Datom> {
    const step = this.raw.next();
    return step.done === true ? step : { done: false, value: toDatom(this.snapshot, step.value) };
  }
}

/**
 * A transaction's report, its `txData` made when first read: a bulk import's report is mostly read
 * for its tempids, and a million Datom objects made at once cost ~0.14 µs a datom, then a
 * collection to move them. A transaction that retracted a large value makes them at once: that
 * value's bytes come from the heap, which a connection closed in between could no longer read.
 */
/**
 * A transaction of at most this many datoms gets its report's `txData` made at once: an object
 * with a getter and the closure behind it cost a one-datom transaction ~0.3 µs, its few `Datom`s
 * a tenth of that. A larger one (an import's) makes them when first read, if ever.
 */
const EAGER_TX_DATA = 64;

export function txReport(outcome: TxOutcome, dbBefore: Db, dbAfter: Db): TxReport {
  const { tx, tempids, datoms } = outcome;
  if (datoms.length <= EAGER_TX_DATA) return { tx, tempids, txData: toDatoms(dbAfter.snapshot, datoms), dbBefore, dbAfter };
  let txData: Datom[] | undefined = outcome.retractsLargeValue ? toDatoms(dbAfter.snapshot, datoms) : undefined;
  return {
    tx,
    tempids,
    get txData(): Datom[] {
      return (txData ??= toDatoms(dbAfter.snapshot, datoms));
    },
    dbBefore,
    dbAfter,
  };
}

function toDatoms(snapshot: Snapshot, raw: readonly RawDatom[]): Datom[] {
  const out = new Array<Datom>(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = toDatom(snapshot, raw[i]!);
  return out;
}

/** Also a current run's MakeFromRun: every field of `d` is read before `resolve` reads a heap page. */
function toDatom(snapshot: Snapshot, d: RawDatom): Datom {
  const e = d.e;
  const tx = d.tx;
  const added = d.added;
  return new Datom(e, snapshot.schema.ofDatom(d.a).ident, snapshot.resolve(d.v), tx, added);
}

function checkT(t: unknown, where: string): number {
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
    throw new SedimentError(ErrorCode.invalidArgument, `${where}: ${describeValue(t)} is not a tx id or a Date`);
  }
  return t;
}
