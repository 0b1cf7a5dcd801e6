/**
 * The read core of one database value: index state, schema and basis, with the lookups that
 * both the public `Db` and the transactor need (current values of an attribute, the holder of a
 * unique value, an entity's datoms, the references to it) and datom scans in any index, current
 * or history, with a `since` filter.
 */
import { type IndexOrder, type KeyComponents, type RawDatom, decodeEntry, decodeEntryInPlace, encodePrefix, type TypeOf, writePrefix } from '../encoding/datom-key.js';
import { prefixEnd, type StoredValue } from '../encoding/key-codec.js';
import { LargeValue, valueFromHeap } from '../encoding/large-value.js';
import { CorruptionError } from '../../errors.js';
import { asPageId } from '../../ids.js';
import { prefixRunBounds } from '../../tree/cursor.js';
import type { EntryList } from '../../tree/entry-list.js';
import { getBytes } from '../../storage/value-heap.js';
import { type EntryStream, IndexReader, type KeyRange } from '../index/index-reader.js';
import { decodeHeapPage, type IndexState, type IndexTrees, rootOf, TreeSlot } from '../index/index-trees.js';
import { NO_VALUE, UNKNOWN } from '../index/latest-values.js';
import type { Attribute, Schema } from '../schema/schema.js';
import type { Value, ValueType } from '../schema/value-type.js';

/**
 * What a current run keeps of a datom. `d` is the decoder's shared object, valid only until the
 * next entry is decoded: read its fields before anything else reads the database.
 */
export type MakeFromRun<T> = (snapshot: Snapshot, d: RawDatom) => T;

const copyRaw: MakeFromRun<RawDatom> = (_snapshot, d) => ({ e: d.e, a: d.a, v: d.v, tx: d.tx, added: d.added });

/** The commit a snapshot stands at. */
export interface Basis {
  readonly tx: number;
  /** The entity-id counter after that commit: ids below it have been allocated. */
  readonly nextId: number;
  /** Its `db/txInstant` in milliseconds. */
  readonly instant: number;
}

export interface ScanOptions {
  readonly history?: boolean | undefined;
  /** Only datoms with a tx greater than this. */
  readonly since?: number | undefined;
  /** Scan from the components onward (seek) instead of only entries that start with them. */
  readonly seek?: boolean | undefined;
  readonly reverse?: boolean | undefined;
}

export class Snapshot {
  readonly reader: IndexReader;

  constructor(
    readonly trees: IndexTrees,
    readonly state: IndexState,
    readonly schema: Schema,
    readonly basis: Basis,
  ) {
    this.reader = new IndexReader(trees, state, basis.tx);
  }

  /** The value type of an attribute id: the schema's function, not a closure per snapshot (one a commit). */
  get typeOf(): (attribute: number) => ValueType {
    return this.schema.typeOfDatom;
  }

  /** Datoms of `order` whose leading components are `c` (or from `c` onward with `seek`). */
  scan(order: IndexOrder, c: KeyComponents, options: ScanOptions = {}): IterableIterator<RawDatom> {
    const prefix = encodePrefix(order, c, this.typeOf);
    const range: KeyRange = options.seek === true
      ? { lower: prefix, reverse: options.reverse }
      : { lower: prefix, upper: prefixEnd(prefix), reverse: options.reverse };
    return this.scanRange(order, range, options);
  }

  /**
   * Current datoms of `order` whose leading components are `c` (with the `since` filter), all at
   * once, when the tree's part of them lies in one leaf (IndexReader.currentRun, merging novelty's
   * entries with the prefix); undefined when a scan must read them. A point read then builds no
   * bounds, cursor or stream. `make` turns each decoded datom into what the caller keeps.
   */
  currentRun<T>(order: IndexOrder, c: KeyComponents, since: number | undefined, make: MakeFromRun<T>): T[] | undefined {
    // The prefix stays in the encoder's scratch buffer: nothing encodes a key until the run is found.
    const prefix = writePrefix(order, c, this.typeOf);
    return this.datomsOfRun(order, this.reader.currentRun(order, prefix.scratch(), prefix.size), since, make);
  }

  /** `currentRun` of the tree alone (IndexReader.treeRun): novelty holds none of these datoms. */
  private treeRun<T>(order: IndexOrder, c: KeyComponents, make: MakeFromRun<T>): T[] | undefined {
    const prefix = writePrefix(order, c, this.typeOf);
    return this.datomsOfRun(order, this.reader.treeRun(order, prefix.scratch(), prefix.size), undefined, make);
  }

  private datomsOfRun<T>(order: IndexOrder, found: EntryList | Uint8Array[] | null, since: number | undefined, make: MakeFromRun<T>): T[] | undefined {
    if (found === null) return undefined;
    if (Array.isArray(found)) return this.mergedRun(order, found, since, make);
    const from = prefixRunBounds.from;
    const to = prefixRunBounds.to;
    // Sized up front: an array grown by push holds 17 slots, and a point read's one datom then
    // cost ~130 bytes more for the collector (a quarter of what a read allocated).
    const out = new Array<T>(to - from);
    let n = 0;
    for (let i = from; i < to; i++) {
      const datom = decodeEntryInPlace(order, found.bytes, found.start(i), found.end(i), false, this.typeOf);
      if (since === undefined || datom.tx > since) out[n++] = make(this, datom);
    }
    if (n < out.length) out.length = n;
    return out;
  }

  /** `currentRun`'s datoms from the entries of a run merged with novelty. */
  private mergedRun<T>(order: IndexOrder, entries: readonly Uint8Array[], since: number | undefined, make: MakeFromRun<T>): T[] {
    const out = new Array<T>(entries.length);
    let n = 0;
    for (const entry of entries) {
      const datom = decodeEntryInPlace(order, entry, 0, entry.length, false, this.typeOf);
      if (since === undefined || datom.tx > since) out[n++] = make(this, datom);
    }
    if (n < out.length) out.length = n;
    return out;
  }

  /** Datoms of `order` whose keys lie in `range` (encoded bounds: lower inclusive, upper exclusive). */
  scanRange(order: IndexOrder, range: KeyRange, options: ScanOptions = {}): IterableIterator<RawDatom> {
    if (options.history !== true) return new CurrentDatoms(order, this.reader.currentInPlace(order, range), options.since, this.typeOf);
    return this.historyScan(order, range, options.since);
  }

  private *historyScan(order: IndexOrder, range: KeyRange, since: number | undefined): Generator<RawDatom> {
    // History: current and history entries merged in key order. A current entry (no added byte)
    // never has the components and tx of a history entry, so the two streams never tie.
    const direction = range.reverse === true ? -1 : 1;
    const current = this.reader.current(order, range);
    const past = this.reader.history(order, range);
    let a = current.next();
    let b = past.next();
    while (a.done !== true || b.done !== true) {
      let datom: RawDatom;
      if (b.done === true || (a.done !== true && Buffer.compare(a.value, b.value) * direction < 0)) {
        datom = decodeEntry(order, a.value!, 0, a.value!.length, false, this.typeOf);
        a = current.next();
      } else {
        datom = decodeEntry(order, b.value, 0, b.value.length, true, this.typeOf);
        b = past.next();
      }
      if (since === undefined || datom.tx > since) yield datom;
    }
  }

  /** The value itself: a large value's bytes come from its heap page. */
  resolve(v: StoredValue): Value {
    if (!(v instanceof LargeValue)) return v;
    const speculative = this.state.novelty.speculativeValues.get(v.key);
    if (speculative !== undefined) return speculative;
    const page = this.heapPage(v.digest);
    if (page === undefined) throw new CorruptionError(`no heap page holds the value with digest ${v.key}`);
    return valueFromHeap(v.type, getBytes(this.trees.store, asPageId(page)));
  }

  /** The heap page of the large value with `digest`, if the database holds one. */
  heapPage(digest: Buffer): number | undefined {
    const page = this.state.novelty.heap.get(digest.toString('hex'));
    if (page !== undefined) return page;
    const cursor = this.trees.tree.scan(rootOf(this.state.roots, TreeSlot.heap), { lower: digest, upper: prefixEnd(digest) });
    const entry = cursor.nextEntry();
    return entry === undefined ? undefined : decodeHeapPage(entry);
  }

  /** Current datoms of attribute `a` on entity `e`. */
  values(e: number, a: number): RawDatom[] {
    const latest = this.state.novelty.latestValuesAt(this.basis.tx);
    if (latest !== undefined && this.schema.ofDatom(a).cardinality === 'one') {
      const held = latest.get(e, a);
      if (held === undefined) {
        const tree = this.treeRun('eavt', { e, a }, copyRaw);
        if (tree !== undefined) return tree;
      } else if (held === NO_VALUE) return [];
      else if (held !== UNKNOWN) return [{ e, a, v: held.v, tx: held.tx, added: true }];
    }
    return this.currentRun('eavt', { e, a }, undefined, copyRaw) ?? [...this.scan('eavt', { e, a })];
  }

  /** The current datom [e a v], if it holds. */
  find(e: number, a: Attribute, v: StoredValue): RawDatom | undefined {
    for (const d of this.scan('eavt', { e, a: a.id, v })) return d;
    return undefined;
  }

  /** Entities currently holding `v` for a unique (hence AVET-indexed) attribute. */
  holders(a: Attribute, v: StoredValue): number[] {
    const out: number[] = [];
    for (const d of this.scan('avet', { a: a.id, v })) out.push(d.e);
    return out;
  }

  entityDatoms(e: number): RawDatom[] {
    return [...this.scan('eavt', { e })];
  }

  /** Current datoms whose ref value is `e`. */
  referencesTo(e: number): RawDatom[] {
    return [...this.scan('vaet', { v: e })];
  }
}

/** Current entries decoded, with the `since` filter: a plain iterator, as scans are hot. */
class CurrentDatoms implements IterableIterator<RawDatom> {
  constructor(
    private readonly order: IndexOrder,
    private readonly entries: EntryStream,
    private readonly since: number | undefined,
    private readonly typeOf: TypeOf,
  ) {}

  [Symbol.iterator](): IterableIterator<RawDatom> {
    return this;
  }

  next(): IteratorResult<RawDatom> {
    const entries = this.entries;
    for (;;) {
      if (!entries.advance()) return { done: true, value: undefined };
      const datom = decodeEntry(this.order, entries.entryBytes, entries.entryStart, entries.entryEnd, false, this.typeOf);
      if (this.since === undefined || datom.tx > this.since) return { done: false, value: datom };
    }
  }
}
