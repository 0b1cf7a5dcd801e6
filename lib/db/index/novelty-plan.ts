/**
 * Which index entries a datom makes, and a transaction's changes to novelty's maps planned from
 * them. An assertion adds an entry to each current index it belongs in. A retraction removes the
 * assertion's entry from the current indexes and adds two history entries: the assertion, with
 * its own tx, and the retraction. EAVT and AEVT take every datom; AVET only `db/index` and
 * `db/unique` attributes; VAET only refs.
 */
import { INDEX_ORDERS, type IndexOrder, writeEntry } from '../encoding/datom-key.js';
import { KeyWriter } from '../encoding/key-codec.js';
import type { LogDatom } from '../encoding/log-record.js';
import type { Attribute, Schema } from '../schema/schema.js';
import { EntryList, EntryListBuilder } from '../../tree/entry-list.js';
import { type DeferredDatoms, deferredDatom, grown } from './deferred-datoms.js';
import type { NoveltyPlan } from './novelty.js';

/**
 * Which of an order's maps in novelty: its current entries (with its retired ones, which are
 * written together) or its history. Sets of them are bit masks, a bit each (`partBit`).
 */
export type NoveltyPart = 'current' | 'history';

const ORDER_BIT: Record<IndexOrder, number> = { eavt: 0, aevt: 2, avet: 4, vaet: 6 };

export const partBit = (order: IndexOrder, part: NoveltyPart): number => 1 << (ORDER_BIT[order] + (part === 'history' ? 1 : 0));

/** Every map of every order. */
export const ALL_PARTS = 0xff;

/** What a planned change does to its entry (NoveltyPlan.kinds). */
export const ChangeKind = { add: 0, remove: 1, history: 2 } as const;

const ALL: readonly IndexOrder[] = ['eavt', 'aevt', 'avet', 'vaet'];
const PLAIN: readonly IndexOrder[] = ['eavt', 'aevt'];
const INDEXED: readonly IndexOrder[] = ['eavt', 'aevt', 'avet'];
const REF: readonly IndexOrder[] = ['eavt', 'aevt', 'vaet'];

export function ordersOf(attribute: Attribute): readonly IndexOrder[] {
  if (attribute.valueType === 'ref') return attribute.indexed ? ALL : REF;
  return attribute.indexed ? INDEXED : PLAIN;
}

/**
 * The changes a transaction's datoms make to the maps of `parts` (partBit bits), their
 * keys written as bytes into one list: a one-datom transaction's fifteen keys were a string each.
 * Encoding can fail; applying them cannot. The plan is the planner's own memory, reused by the
 * next call: apply it before planning again (a commit plans, writes, then applies; nothing in
 * between plans).
 */
export function planDatoms(datoms: readonly LogDatom[], schema: Schema, parts: number): NoveltyPlan {
  const planner = commitPlanner.begin(parts);
  for (let i = 0; i < datoms.length; i++) {
    const d = datoms[i]!;
    planner.datom(d, schema.ofDatom(d.a));
  }
  return planner.finish();
}

/**
 * `planDatoms` of the first `count` datoms held in `deferred`, each with the schema it came with.
 * A read fills a map with this while the shared key writer may hold its prefix: keys are written
 * with a writer of their own, into a plan of their own.
 */
export function planDeferred(deferred: DeferredDatoms, count: number, parts: number): NoveltyPlan {
  const planner = new Planner(fillWriter).begin(parts);
  const d = deferredDatom();
  for (const [schema, from, to] of deferred.runs(count)) {
    for (let i = from; i < to; i++) {
      deferred.read(i, d);
      planner.datom(d, schema.ofDatom(d.a));
    }
  }
  return planner.finish();
}

/** Where a read's filling of a map writes keys. */
const fillWriter = new KeyWriter();

/** An order's position in INDEX_ORDERS, as NoveltyPlan.orders holds it. */
const ORDER_INDEX = Object.fromEntries(INDEX_ORDERS.map((order, i) => [order, i])) as Record<IndexOrder, number>;

/** Plans into columns that it keeps from one plan to the next: a plan's objects are what a small commit allocates most. */
class Planner implements NoveltyPlan {
  keys = EntryList.empty;
  count = 0;
  orders = new Uint8Array(16);
  kinds = new Uint8Array(16);
  txs = new Float64Array(16);
  assertedTxs = new Float64Array(16);
  parts = ALL_PARTS;
  private readonly list = new EntryListBuilder(1024, 16);
  /** The assertion a retraction ends, rewritten for each: its keys are written at once. */
  private readonly assertion = { e: 0, a: 0, v: 0 as LogDatom['v'], tx: 0, added: true };

  constructor(
    /** Where keys are written: writeEntry's shared writer when undefined. */
    private readonly writer?: KeyWriter,
  ) {}

  begin(parts: number): this {
    this.list.clear();
    this.count = 0;
    this.parts = parts;
    return this;
  }

  datom(d: LogDatom, attribute: Attribute): void {
    const type = attribute.valueType;
    const orders = ordersOf(attribute);
    for (let k = 0; k < orders.length; k++) {
      const order = orders[k]!;
      const current = (this.parts & partBit(order, 'current')) !== 0;
      if (d.added) {
        if (current) this.change(writeEntry(order, d, type, false, this.writer), order, ChangeKind.add, d.tx, 0);
        continue;
      }
      const history = (this.parts & partBit(order, 'history')) !== 0;
      if (!current && !history) continue;
      const assertion = this.assertion;
      assertion.e = d.e;
      assertion.a = d.a;
      assertion.v = d.v;
      assertion.tx = d.assertedTx;
      if (current) this.change(writeEntry(order, assertion, type, false, this.writer), order, ChangeKind.remove, d.tx, d.assertedTx);
      if (!history) continue;
      this.change(writeEntry(order, assertion, type, true, this.writer), order, ChangeKind.history, d.tx, 0);
      this.change(writeEntry(order, d, type, true, this.writer), order, ChangeKind.history, d.tx, 0);
    }
  }

  finish(): NoveltyPlan {
    this.keys = this.list.finish();
    return this;
  }

  private change(key: KeyWriter, order: IndexOrder, kind: number, tx: number, assertedTx: number): void {
    pushKey(this.list, key);
    const i = this.count++;
    if (i === this.orders.length) this.grow();
    this.orders[i] = ORDER_INDEX[order];
    this.kinds[i] = kind;
    this.txs[i] = tx;
    this.assertedTxs[i] = assertedTx;
  }

  private grow(): void {
    const n = this.orders.length * 2;
    this.orders = grown(this.orders, new Uint8Array(n));
    this.kinds = grown(this.kinds, new Uint8Array(n));
    this.txs = grown(this.txs, new Float64Array(n));
    this.assertedTxs = grown(this.assertedTxs, new Float64Array(n));
  }
}

const commitPlanner = new Planner();

/** The key just written into `key` (the shared writer), copied to the end of `list`. */
export function pushKey(list: EntryListBuilder, key: KeyWriter): void {
  list.push(key.scratch(), 0, key.size);
}
