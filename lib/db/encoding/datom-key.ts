/**
 * Datoms as index entries. Each index order puts the components in its own order, then the tx;
 * a history entry adds one byte for `added` (0 retraction, 1 assertion). Current entries carry no
 * such byte: every entry of a current index is an assertion that still holds.
 *
 *   eavt  e a v tx [added]      aevt  a e v tx [added]
 *   avet  a v e tx [added]      vaet  v a e tx [added]   (v a ref: an unsigned int, no tag)
 */
import type { ValueType } from '../schema/value-type.js';
import { KeyReader, KeyWriter, type StoredValue } from './key-codec.js';

export type IndexOrder = 'eavt' | 'aevt' | 'avet' | 'vaet';
export const INDEX_ORDERS: readonly IndexOrder[] = ['eavt', 'aevt', 'avet', 'vaet'];

/** A datom inside the database: the attribute by its entity id. */
export interface RawDatom {
  readonly e: number;
  readonly a: number;
  readonly v: StoredValue;
  readonly tx: number;
  readonly added: boolean;
}

/** What the encoder needs to know of attributes: each one's value type. */
export type TypeOf = (attribute: number) => ValueType;

const writer = new KeyWriter();
const reader = new KeyReader();

export function encodeEntry(order: IndexOrder, d: RawDatom, type: ValueType, history: boolean): Buffer {
  return writeEntry(order, d, type, history).finish();
}

/** The entry as a key string (one latin1 character per byte), as novelty keys it. */
export function encodeEntryKey(order: IndexOrder, d: RawDatom, type: ValueType, history: boolean): string {
  return writeEntry(order, d, type, history).finishString();
}

/**
 * The entry left in the shared writer (`scratch()`, `size`), valid until the next key is encoded
 * here: an indexing commit copies it straight into its key lists, with no Buffer or string each.
 * `into` writes it elsewhere: what may run inside a read (filling a novelty map) must leave the
 * shared writer alone, which may hold the read's prefix (`writePrefix`).
 */
export function writeEntry(order: IndexOrder, d: RawDatom, type: ValueType, history: boolean, into: KeyWriter = writer): KeyWriter {
  into.reset();
  switch (order) {
    case 'eavt':
      into.uint(d.e).uint(d.a).value(type, d.v);
      break;
    case 'aevt':
      into.uint(d.a).uint(d.e).value(type, d.v);
      break;
    case 'avet':
      into.uint(d.a).value(type, d.v).uint(d.e);
      break;
    case 'vaet':
      into.uint(d.v as number).uint(d.a).uint(d.e);
      break;
  }
  into.uint(d.tx);
  if (history) into.byte(d.added ? 1 : 0);
  return into;
}

/** The datom an entry encodes; `history` says whether the entry has the `added` byte. */
export function decodeEntry(order: IndexOrder, bytes: Uint8Array, start: number, end: number, history: boolean, typeOf: TypeOf): RawDatom {
  const d = decodeEntryInPlace(order, bytes, start, end, history, typeOf);
  return { e: d.e, a: d.a, v: d.v, tx: d.tx, added: d.added };
}

/** decodeEntryInPlace's one result object: its fields change with every call. */
const decoded = { e: 0, a: 0, v: 0 as StoredValue, tx: 0, added: true };

/**
 * decodeEntry without allocating the datom: the fields are left in a shared object, valid until
 * the next entry is decoded here. For readers that make their own object of the datom at once:
 * a point read's raw datom was 64 of the 337 bytes it left the collector, beside its Datom.
 */
export function decodeEntryInPlace(order: IndexOrder, bytes: Uint8Array, start: number, end: number, history: boolean, typeOf: TypeOf): RawDatom {
  const r = reader.reset(bytes, start, end);
  const d = decoded;
  switch (order) {
    case 'eavt':
      d.e = r.uint();
      d.a = r.uint();
      d.v = r.value(typeOf(d.a));
      break;
    case 'aevt':
      d.a = r.uint();
      d.e = r.uint();
      d.v = r.value(typeOf(d.a));
      break;
    case 'avet':
      d.a = r.uint();
      d.v = r.value(typeOf(d.a));
      d.e = r.uint();
      break;
    case 'vaet':
      d.v = r.uint();
      d.a = r.uint();
      d.e = r.uint();
      break;
  }
  d.tx = r.uint();
  d.added = history ? r.byte() === 1 : true;
  return d;
}

/**
 * Leading components of a key in the order's sequence, as far as they are given: `[e]`, `[e, a]`,
 * `[e, a, v]` for eavt and so on. The value needs its attribute's type, which every order but
 * vaet names before it (vaet's value is a ref). `tx` may follow the three components.
 */
export interface KeyComponents {
  readonly e?: number | undefined;
  readonly a?: number | undefined;
  readonly v?: StoredValue | undefined;
  readonly tx?: number | undefined;
}

/** Encodes the given leading components; stops at the first one that is missing. */
export function encodePrefix(order: IndexOrder, c: KeyComponents, typeOf: TypeOf): Buffer {
  return writePrefix(order, c, typeOf).finish();
}

/**
 * The key of the given leading components left in the shared writer (`scratch()`, `size`), valid
 * until the next key is encoded here; `encodePrefix` copies it out. A point read uses it in place,
 * where the copy (a Buffer allocated per read) cost more than the encoding.
 */
export function writePrefix(order: IndexOrder, c: KeyComponents, typeOf: TypeOf): KeyWriter {
  writer.reset();
  // Written out per order: this runs for every read, so no closures or arrays.
  switch (order) {
    case 'eavt':
      if (c.e === undefined) break;
      writer.uint(c.e);
      if (c.a === undefined) break;
      writer.uint(c.a);
      if (c.v === undefined) break;
      writer.value(typeOf(c.a), c.v);
      if (c.tx !== undefined) writer.uint(c.tx);
      break;
    case 'aevt':
      if (c.a === undefined) break;
      writer.uint(c.a);
      if (c.e === undefined) break;
      writer.uint(c.e);
      if (c.v === undefined) break;
      writer.value(typeOf(c.a), c.v);
      if (c.tx !== undefined) writer.uint(c.tx);
      break;
    case 'avet':
      if (c.a === undefined) break;
      writer.uint(c.a);
      if (c.v === undefined) break;
      writer.value(typeOf(c.a), c.v);
      if (c.e === undefined) break;
      writer.uint(c.e);
      if (c.tx !== undefined) writer.uint(c.tx);
      break;
    case 'vaet':
      if (c.v === undefined) break;
      writer.uint(c.v as number);
      if (c.a === undefined) break;
      writer.uint(c.a);
      if (c.e === undefined) break;
      writer.uint(c.e);
      if (c.tx !== undefined) writer.uint(c.tx);
      break;
  }
  return writer;
}
