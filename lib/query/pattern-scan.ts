/**
 * Data patterns read index entries in place: each entry's components are read from its bytes
 * into one reused `ScannedDatom`, the value is decoded only when a caller asks for it (most
 * entries of a join are dropped on the entity id alone), and a constant value outside the index
 * prefix is compared as encoded bytes, never decoded. Decoding a `RawDatom` and a string per
 * entry, and collecting them, was about half of a join's time.
 */
import type { Db } from '../db/db.js';
import type { IndexOrder } from '../db/encoding/datom-key.js';
import { KeyReader, KeyWriter, type StoredValue } from '../db/encoding/key-codec.js';
import type { EntryStream, KeyRange } from '../db/index/index-reader.js';
import type { Snapshot } from '../db/read/snapshot.js';
import type { ValueType } from '../db/schema/value-type.js';
import { compareBytes } from '../tree/tree-schema.js';
import type { ValueRange } from './value-range.js';

/** The entry a scan stands on. Valid only during the callback it is passed to. */
export class ScannedDatom {
  e = 0;
  a = 0;
  tx = 0;
  added = true;
  /** With an entity list (EntryFilter.entities): the index of this entry's entity in it. */
  entityIndex = 0;
  bytes: Uint8Array = EMPTY;
  vStart = 0;
  vEnd = 0;
  type: ValueType = 'ref';
  decoded = false;
  private v: unknown = undefined;

  constructor(private readonly snapshot: Snapshot) {}

  /** The value, decoded (and a large value fetched) on first use for this entry. */
  value(): unknown {
    if (!this.decoded) {
      const type = this.type;
      const text = type === 'string' || type === 'keyword' ? plainText(this.bytes, this.vStart, this.vEnd) : undefined;
      this.v = text ?? this.snapshot.resolve(valueReader.reset(this.bytes, this.vStart, this.vEnd).value(type));
      this.decoded = true;
    }
    return this.v;
  }

  /** For VAET, whose value (a ref) was read with the key. */
  setValue(v: number): void {
    this.v = v;
    this.decoded = true;
  }
}

const EMPTY = new Uint8Array(0);

/** A Buffer over the last entry bytes a text was decoded from (entries of one leaf share them). */
let textBytes: Uint8Array = EMPTY;
let textBuffer: Buffer = Buffer.alloc(0);

/**
 * An encoded text value (body, then the terminator 0 0) decoded straight from the leaf's bytes
 * when its body holds no zero byte (no escape, no large value's marker); undefined otherwise, for
 * the key reader. The reader's path makes a view and a Buffer per string, about half of q4's
 * decoding; here one Buffer serves a whole leaf.
 */
function plainText(bytes: Uint8Array, start: number, end: number): string | undefined {
  const bodyEnd = end - 2;
  if (bytes[bodyEnd] !== 0 || bytes[bodyEnd + 1] !== 0) return undefined;
  for (let i = start; i < bodyEnd; i++) if (bytes[i] === 0) return undefined;
  return bodyEnd - start <= RECENT_TEXT_BYTES ? recentText(bytes, start, bodyEnd) : decodeText(bytes, start, bodyEnd);
}

/**
 * Short texts recently decoded, by a hash of their bytes: a column of names, keywords or codes
 * repeats a few values, and finding one here (a hash and a comparison of its bytes) costs a
 * third of decoding it, and makes no new string. A slot holds the last text that hashed to it.
 */
const RECENT_TEXT_BYTES = 32;
const RECENT_TEXT_SLOTS = 1024;
const recentBytes = new Uint8Array(RECENT_TEXT_SLOTS * RECENT_TEXT_BYTES);
/** Each slot's text length, -1 while empty. */
const recentLengths = new Int8Array(RECENT_TEXT_SLOTS).fill(-1);
const recentTexts: string[] = new Array<string>(RECENT_TEXT_SLOTS).fill('');

function recentText(bytes: Uint8Array, start: number, end: number): string {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  const slot = (h >>> 0) & (RECENT_TEXT_SLOTS - 1);
  const at = slot * RECENT_TEXT_BYTES;
  const length = end - start;
  if (recentLengths[slot] === length) {
    let i = 0;
    while (i < length && recentBytes[at + i] === bytes[start + i]) i++;
    if (i === length) return recentTexts[slot]!;
  }
  const text = decodeText(bytes, start, end);
  for (let i = 0; i < length; i++) recentBytes[at + i] = bytes[start + i]!;
  recentLengths[slot] = length;
  recentTexts[slot] = text;
  return text;
}

function decodeText(bytes: Uint8Array, start: number, bodyEnd: number): string {
  if (bytes !== textBytes) {
    textBytes = bytes;
    textBuffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  return textBuffer.toString('utf8', start, bodyEnd);
}
const valueReader = new KeyReader();
const entryReader = new KeyReader();
const headReader = new KeyReader();
const valueWriter = new KeyWriter();

/** What a scan keeps: entries whose tx, added flag and value (as encoded bytes) match. */
export interface EntryFilter {
  readonly tx: number | undefined;
  readonly added: boolean | undefined;
  /** Only datoms with a tx greater than this (a `since` database). */
  readonly since: number | undefined;
  /** The encoded value every kept entry has (a constant outside the index prefix). */
  readonly value: Uint8Array | undefined;
  /**
   * Entity ids, ascending and distinct: only entries of these entities are kept. For EAVT and
   * AEVT scans, whose entries of one attribute come in entity order, so the scan merges with the
   * list (each entry costs a comparison, nothing else is read from it) and stops at its end.
   */
  readonly entities?: Float64Array | undefined;
  /**
   * With `entities`: each entity has at most one entry in the range (a cardinality-one attribute in
   * the current index), so once an entity's entry is read the scan moves straight on to the next
   * listed entity instead of stepping to the following entry first.
   */
  readonly oneEntryPerEntity?: boolean | undefined;
  /** Bounds on the value (see value-range.ts), compared as encoded bytes. */
  readonly range?: ValueRange | undefined;
}

/** The encoded form of `v` for an attribute of `type`, as keys hold it. */
export function encodedValue(type: ValueType, v: StoredValue): Uint8Array {
  return valueWriter.reset().value(type, v).finish();
}

/**
 * Entity ids ahead (most entities hold most attributes, so about as many entries) from which a
 * merge seeks rather than steps. The seek is told the id distance as its guess of the entries
 * ahead (TreeCursor.seek), right for a cardinality-one attribute on consecutive ids, and then costs
 * about three comparisons: in-process A/B on the people data (gaps 0, 1, 2, 3, 6, 12), seeking
 * past any gap of more than one id was fastest; without the guess the break-even was about 12.
 */
const SEEK_GAP = 1;

const ORDER_CODE: Record<IndexOrder, number> = { eavt: 0, aevt: 1, avet: 2, vaet: 3 };

/**
 * Calls `emit` with every entry of `range` in `order` that passes `filter`: current entries, or
 * current and history ones for a history database. `type` is the attribute's value type when the
 * pattern names the attribute (else it is looked up per entry).
 */
export function scanEntries(
  db: Db,
  order: IndexOrder,
  range: KeyRange,
  type: ValueType | undefined,
  filter: EntryFilter,
  emit: (d: ScannedDatom) => void,
  prefixRange = false,
): void {
  const snapshot = db.snapshot;
  const stream = db.isHistory ? snapshot.reader.historyStream(order, range) : snapshot.reader.currentStream(order, range);
  const typeOf = type === undefined ? snapshot.typeOf : undefined;
  // With an entity list, the scan seeks from one listed entity to the next: keys are the range's
  // prefix (the components before the entity) and the entity id.
  const seekKey = filter.entities !== undefined && (order === 'eavt' || order === 'aevt') ? seekKeyFor(range.lower) : undefined;
  const head = prefixRange && type !== undefined ? headOf(order, range.lower, type) : undefined;
  readEntries(stream, ORDER_CODE[order], type, typeOf, filter, seekKey, head, new ScannedDatom(snapshot), emit);
}

/**
 * The components every entry of a prefix range begins with, read once from the prefix: in AEVT
 * the attribute, in AVET the attribute and the value. A scan then starts each entry at the entity,
 * rather than reading the attribute and skipping the value again (most of an AVET entry's bytes).
 */
interface Head {
  readonly length: number;
  readonly a: number;
  /** Where the value starts in every entry (AVET). */
  readonly vStart: number;
}

function headOf(order: IndexOrder, prefix: Uint8Array | undefined, type: ValueType): Head | undefined {
  if (prefix === undefined || (order !== 'aevt' && order !== 'avet')) return undefined;
  const r = headReader.reset(prefix, 0, prefix.length);
  const a = r.uint();
  const vStart = r.position;
  if (order === 'avet') {
    // Only a prefix of attribute and value fixes the value.
    if (r.position === prefix.length) return undefined;
    r.skipValue(type);
  }
  return r.position === prefix.length ? { length: prefix.length, a, vStart } : undefined;
}

// The hot loop, alone in its function (see ARCHITECTURE's OSR note).
function readEntries(
  stream: EntryStream,
  order: number,
  fixedType: ValueType | undefined,
  typeOf: ((a: number) => ValueType) | undefined,
  filter: EntryFilter,
  seekKey: SeekKey | undefined,
  head: Head | undefined,
  d: ScannedDatom,
  emit: (d: ScannedDatom) => void,
): void {
  const r = entryReader;
  const want = filter.value;
  const { tx, added, since } = filter;
  const entities = order <= 1 ? filter.entities : undefined;
  const single = filter.oneEntryPerEntity === true && seekKey !== undefined;
  // The entity just read was the last listed one, and has no other entry.
  let last = false;
  const lower = filter.range?.lower;
  const upper = filter.range?.upper;
  let next = 0;
  // The entity to seek to next, or -1 to step to the next entry.
  let target = -1;
  for (;;) {
    if (last || !(target < 0 ? stream.advance() : stream.seek(seekKey!.bytes, seekKey!.to(target), target - d.e))) return;
    target = -1;
    const bytes = stream.entryBytes;
    r.reset(bytes, stream.entryStart, stream.entryEnd);
    d.bytes = bytes;
    d.decoded = false;
    if (order === 3) {
      // vaet: v a e tx, the value a ref.
      const v = r.uint();
      d.a = r.uint();
      d.e = r.uint();
      d.type = 'ref';
      d.setValue(v);
    } else {
      if (head !== undefined) {
        d.a = head.a;
        r.position = stream.entryStart + head.length;
        if (order === 1) d.e = r.uint();
      } else if (order === 0) {
        d.e = r.uint();
        d.a = r.uint();
      } else {
        d.a = r.uint();
        if (order === 1) d.e = r.uint();
      }
      if (entities !== undefined) {
        const e = d.e;
        while (next < entities.length && entities[next]! < e) next++;
        if (next === entities.length) return;
        if (entities[next] !== e) {
          // Seek only past a wide gap: a seek costs about as much as stepping over a dozen entries.
          if (seekKey !== undefined && entities[next]! - e > SEEK_GAP) target = entities[next]!;
          continue;
        }
        d.entityIndex = next;
        if (single) {
          if (next + 1 === entities.length) last = true;
          else if (entities[next + 1]! - e > SEEK_GAP) target = entities[next + 1]!;
        }
      }
      const type = fixedType ?? typeOf!(d.a);
      d.type = type;
      if (head !== undefined && order === 2) {
        d.vStart = stream.entryStart + head.vStart;
        d.vEnd = r.position;
        if (want !== undefined && !sameBytes(bytes, d.vStart, d.vEnd, want)) continue;
      } else {
        d.vStart = r.position;
        if (want !== undefined) {
          // Value encodings are prefix-free: a value that begins with the wanted bytes is the
          // wanted value, and it ends there (no skipping over a text to find its end).
          if (!startsWith(bytes, r.position, stream.entryEnd, want)) continue;
          r.position += want.length;
        } else {
          r.skipValue(type);
        }
        d.vEnd = r.position;
      }
      if (order === 2) d.e = r.uint();
      if (lower !== undefined) {
        const order = compareBytes(bytes, d.vStart, d.vEnd, lower.bytes, 0, lower.bytes.length);
        if (order < 0 || (order === 0 && !lower.inclusive)) continue;
      }
      if (upper !== undefined) {
        const order = compareBytes(bytes, d.vStart, d.vEnd, upper.bytes, 0, upper.bytes.length);
        if (order > 0 || (order === 0 && !upper.inclusive)) continue;
      }
    }
    d.tx = r.uint();
    d.added = stream.entryHistory ? bytes[stream.entryEnd - 1] === 1 : true;
    if (tx !== undefined && d.tx !== tx) continue;
    if (added !== undefined && d.added !== added) continue;
    if (since !== undefined && d.tx <= since) continue;
    emit(d);
  }
}

/** A seek key in place: a fixed prefix, then an entity id written over the rest for each seek. */
class SeekKey {
  readonly bytes: Uint8Array;

  constructor(private readonly prefix: Uint8Array) {
    this.bytes = new Uint8Array(prefix.length + 8);
    this.bytes.set(prefix);
  }

  /** Writes entity `e` after the prefix (as key-codec's unsigned int); returns the key's end. */
  to(e: number): number {
    const bytes = this.bytes;
    const at = this.prefix.length;
    // Ids below 2^32 in integer arithmetic: the division loop below was a tenth of a merge join
    // that seeks per wanted id.
    if (e < 0x1_0000_0000) {
      const k = e === 0 ? 0 : e < 0x100 ? 1 : e < 0x1_0000 ? 2 : e < 0x100_0000 ? 3 : 4;
      bytes[at] = k;
      let n = e >>> 0;
      for (let i = k; i >= 1; i--) {
        bytes[at + i] = n & 0xff;
        n >>>= 8;
      }
      return at + 1 + k;
    }
    let k = 0;
    for (let n = e; n > 0; n = Math.floor(n / 256)) k++;
    bytes[at] = k;
    let n = e;
    for (let i = k; i >= 1; i--) {
      bytes[at + i] = n % 256;
      n = Math.floor(n / 256);
    }
    return at + 1 + k;
  }
}

function seekKeyFor(prefix: Uint8Array | undefined): SeekKey {
  return new SeekKey(prefix ?? EMPTY);
}

function startsWith(bytes: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start < want.length) return false;
  for (let i = 0; i < want.length; i++) if (bytes[start + i] !== want[i]) return false;
  return true;
}

function sameBytes(bytes: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  return end - start === want.length && startsWith(bytes, start, end, want);
}

/** How many entries `range` holds in the current index, counting no further than `cap`; nothing is decoded. */
export function countEntries(db: Db, order: IndexOrder, range: KeyRange, cap: number): number {
  const stream = db.snapshot.reader.currentStream(order, range);
  return countUpTo(stream, cap);
}

function countUpTo(stream: EntryStream, cap: number): number {
  let n = 0;
  while (n < cap && stream.advance()) n++;
  return n;
}
