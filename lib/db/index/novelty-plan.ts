/**
 * Which index entries a datom makes, and a transaction's changes to novelty's maps planned from
 * them. An assertion adds an entry to each current index it belongs in. A retraction removes the
 * assertion's entry from the current indexes and adds two history entries: the assertion, with
 * its own tx, and the retraction. EAVT and AEVT take every datom; AVET only `db/index` and
 * `db/unique` attributes; VAET only refs.
 */
import { type IndexOrder, writeEntry } from '../encoding/datom-key.js';
import { KeyWriter } from '../encoding/key-codec.js';
import type { LogDatom } from '../encoding/log-record.js';
import type { Attribute, Schema } from '../schema/schema.js';
import { EntryListBuilder } from '../../tree/entry-list.js';
import { type DeferredDatoms, deferredDatom } from './deferred-datoms.js';
import type { NoveltyChange, NoveltyPlan } from './novelty.js';

/**
 * Which of an order's maps in novelty: its current entries (with its retired ones, which are
 * written together) or its history. Sets of them are bit masks, a bit each (`partBit`).
 */
export type NoveltyPart = 'current' | 'history';

const ORDER_BIT: Record<IndexOrder, number> = { eavt: 0, aevt: 2, avet: 4, vaet: 6 };

export const partBit = (order: IndexOrder, part: NoveltyPart): number => 1 << (ORDER_BIT[order] + (part === 'history' ? 1 : 0));

/** Every map of every order. */
export const ALL_PARTS = 0xff;

const ALL: readonly IndexOrder[] = ['eavt', 'aevt', 'avet', 'vaet'];
const PLAIN: readonly IndexOrder[] = ['eavt', 'aevt'];
const INDEXED: readonly IndexOrder[] = ['eavt', 'aevt', 'avet'];
const REF: readonly IndexOrder[] = ['eavt', 'aevt', 'vaet'];

export function ordersOf(attribute: Attribute): readonly IndexOrder[] {
  if (attribute.valueType === 'ref') return attribute.indexed ? ALL : REF;
  return attribute.indexed ? INDEXED : PLAIN;
}

/**
 * The changes a transaction's datoms make to the maps of `parts` (partBit; all by default), their
 * keys written as bytes into one list: a one-datom transaction's fifteen keys were a string each.
 * Encoding can fail; applying them cannot.
 */
export function planDatoms(datoms: readonly LogDatom[], schema: Schema, parts = ALL_PARTS): NoveltyPlan {
  const planner = new Planner(datoms.length, parts);
  for (let i = 0; i < datoms.length; i++) {
    const d = datoms[i]!;
    planner.datom(d, schema.ofDatom(d.a));
  }
  return planner.finish();
}

/**
 * `planDatoms` of the first `count` datoms held in `deferred`, each with the schema it came with.
 * A read fills a map with this while the shared key writer may hold its prefix: keys are written
 * with a writer of their own.
 */
export function planDeferred(deferred: DeferredDatoms, count: number, parts: number): NoveltyPlan {
  const planner = new Planner(count, parts, fillWriter);
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

/** Room for a datom's planned keys at first: two or three entries of ~20 bytes (a retraction's grow the list). */
const PLANNED_KEY_BYTES = 64;

class Planner {
  private readonly keys: EntryListBuilder;
  private readonly changes: NoveltyChange[] = [];

  constructor(
    datoms: number,
    private readonly parts: number,
    /** Where keys are written: writeEntry's shared writer when undefined. */
    private readonly writer?: KeyWriter,
  ) {
    this.keys = new EntryListBuilder(PLANNED_KEY_BYTES * datoms, 4 * datoms);
  }

  datom(d: LogDatom, attribute: Attribute): void {
    const type = attribute.valueType;
    const orders = ordersOf(attribute);
    for (let k = 0; k < orders.length; k++) {
      const order = orders[k]!;
      const current = (this.parts & partBit(order, 'current')) !== 0;
      if (d.added) {
        if (current) this.change(writeEntry(order, d, type, false, this.writer), { order, kind: 'add', tx: d.tx, assertedTx: 0 });
        continue;
      }
      const history = (this.parts & partBit(order, 'history')) !== 0;
      if (!current && !history) continue;
      const assertion = { e: d.e, a: d.a, v: d.v, tx: d.assertedTx, added: true };
      if (current) this.change(writeEntry(order, assertion, type, false, this.writer), { order, kind: 'remove', tx: d.tx, assertedTx: d.assertedTx });
      if (!history) continue;
      this.change(writeEntry(order, assertion, type, true, this.writer), { order, kind: 'history', tx: d.tx, assertedTx: 0 });
      this.change(writeEntry(order, d, type, true, this.writer), { order, kind: 'history', tx: d.tx, assertedTx: 0 });
    }
  }

  finish(): NoveltyPlan {
    return { keys: this.keys.finish(), changes: this.changes, parts: this.parts };
  }

  private change(key: KeyWriter, change: NoveltyChange): void {
    pushKey(this.keys, key);
    this.changes.push(change);
  }
}

/** The key just written into `key` (the shared writer), copied to the end of `list`. */
export function pushKey(list: EntryListBuilder, key: KeyWriter): void {
  list.push(key.scratch(), 0, key.size);
}
