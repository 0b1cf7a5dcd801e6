/**
 * The datoms of a log record, packed for size rather than order: the log is read front to back,
 * never searched, and it is a quarter of the file after an import. Per datom:
 *
 *   head     one byte: bits 0–3 the value's type tag (TypeTag), bit 4 added, bit 5 same entity
 *            as the datom before (e omitted), bit 6 a large value's stand-in, bit 7 a negative
 *            long or instant (its magnitude follows)
 *   e        varint, unless bit 5
 *   a        varint
 *   value    boolean: 1 byte · long, instant (ms), ref: varint (magnitude) · double: 8 bytes
 *            little-endian · string, keyword, bytes: varint length, then the UTF-8 or raw bytes ·
 *            bigint: varint length k, then k bytes of its magnitude big-endian (sign in bit 7) ·
 *            uuid: 16 bytes · a large value (bit 6): varint length, its head, its 16-byte digest
 *   then     a retraction: varint tx of the assertion it retracts; an assertion of a large value:
 *            varint heap page
 *
 * Varints are unsigned LEB128 of numbers up to 2^53 (safe integers), so they use division, not
 * 32-bit shifts.
 */
import { takeSpare } from '../../spare-buffers.js';
import type { ValueType } from '../schema/value-type.js';
import { TypeTag } from './key-codec.js';
import { DIGEST_BYTES, LargeValue, largeStandIn, type LargeType } from './large-value.js';
import type { RawDatom } from './datom-key.js';
import type { StoredValue } from './key-codec.js';

/** A logged datom: a retraction also names the tx of the assertion it ends. */
export interface LogDatom extends RawDatom {
  readonly assertedTx: number;
  /** The heap page of a large value's assertion. */
  readonly heapPage?: number | undefined;
}

const ADDED = 0x10;
const SAME_ENTITY = 0x20;
const LARGE = 0x40;
const NEGATIVE = 0x80;
const TAG_MASK = 0x0f;

const TYPE_OF_TAG: readonly (ValueType | undefined)[] = (() => {
  const types: (ValueType | undefined)[] = [];
  for (const [type, tag] of Object.entries(TypeTag)) types[tag] = type as ValueType;
  return types;
})();

export class ByteWriter {
  buffer: Buffer;
  length = 0;

  /** With `spare`, the buffer is taken with `takeSpare` (spare-buffers.ts), so that it may be given back. */
  constructor(capacity = 1024, spare = false) {
    this.buffer = spare ? Buffer.from(takeSpare(capacity), 0, capacity) : Buffer.allocUnsafe(capacity);
  }

  reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buffer[this.length++] = b;
  }

  varint(n: number): void {
    this.reserve(8);
    while (n >= 0x80) {
      this.buffer[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buffer[this.length++] = n;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** A varint byte length, then the UTF-8 of `s`. */
  text(s: string): void {
    // UTF-8 takes at most three bytes per UTF-16 unit.
    this.reserve(s.length * 3 + 8);
    if (s.length < 0x80) {
      // ASCII text (most text) is its own UTF-8 and its length fits one varint byte: copied by
      // hand, as Buffer#write's call into C++ was two thirds of writing a short string (an
      // import's names and emails: ~40 ms of a million datoms).
      const buffer = this.buffer;
      let at = this.length + 1;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buffer[at++] = c;
      }
      if (i === s.length) {
        buffer[this.length] = s.length;
        this.length = at;
        return;
      }
    }
    if (s.length < 0x80 / 3) {
      // The length fits one varint byte: write the text after it without measuring first.
      const at = this.length++;
      const written = this.buffer.write(s, this.length, 'utf8');
      this.buffer[at] = written;
      this.length += written;
      return;
    }
    this.varint(Buffer.byteLength(s, 'utf8'));
    this.length += this.buffer.write(s, this.length, 'utf8');
  }
}

export function encodeLogDatoms(datoms: readonly LogDatom[], typeOfAttribute: (a: number) => ValueType): Buffer {
  const out = new ByteWriter();
  writeDatoms(out, datoms, typeOfAttribute);
  return Buffer.from(out.buffer.subarray(0, out.length));
}

/**
 * Appends the datoms' bytes (`encodeLogDatoms` without the copy). A loop of its own, with nothing
 * after it: see the note on on-stack replacement in transactor.ts (measured: after an import, ~1
 * deopt per 30 small transactions at the code after this loop).
 */
export function writeDatoms(out: ByteWriter, datoms: readonly LogDatom[], typeOfAttribute: (a: number) => ValueType, from = 0): void {
  let previousE = -1;
  for (let i = from; i < datoms.length; i++) {
    const d = datoms[i]!;
    const type = typeOfAttribute(d.a);
    const v = d.v;
    const large = v instanceof LargeValue ? v : largeStandIn(type, v);
    let head = TypeTag[type] | (d.added ? ADDED : 0) | (d.e === previousE ? SAME_ENTITY : 0) | (large !== undefined ? LARGE : 0);
    if ((type === 'long' && (v as number) < 0) || (type === 'instant' && (v as Date).getTime() < 0)) head |= NEGATIVE;
    if (type === 'bigint' && (v as bigint) < 0n) head |= NEGATIVE;
    out.byte(head);
    if (d.e !== previousE) out.varint(d.e);
    previousE = d.e;
    out.varint(d.a);
    if (large !== undefined) {
      out.varint(large.head.length);
      out.raw(large.head);
      out.raw(large.digest);
    } else {
      writeValue(out, type, v);
    }
    if (!d.added) out.varint(d.assertedTx);
    else if (large !== undefined) {
      if (d.heapPage === undefined) throw new Error(`large value of attribute ${d.a} has no heap page`);
      out.varint(d.heapPage);
    }
  }
}

function writeValue(out: ByteWriter, type: ValueType, v: StoredValue): void {
  switch (type) {
    case 'boolean':
      return out.byte(v === true ? 1 : 0);
    case 'long':
      return out.varint(Math.abs(v as number));
    case 'instant':
      return out.varint(Math.abs((v as Date).getTime()));
    case 'ref':
      return out.varint(v as number);
    case 'double':
      out.reserve(8);
      out.buffer.writeDoubleLE(v as number, out.length);
      out.length += 8;
      return;
    case 'string':
    case 'keyword':
      return out.text(v as string);
    case 'bytes':
      out.varint((v as Uint8Array).length);
      return out.raw(v as Uint8Array);
    case 'bigint': {
      const magnitude = (v as bigint) < 0n ? -(v as bigint) : (v as bigint);
      const hex = magnitude === 0n ? '' : magnitude.toString(16);
      const bytes = Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex');
      out.varint(bytes.length);
      return out.raw(bytes);
    }
    case 'uuid':
      out.reserve(16);
      out.buffer.write((v as string).replaceAll('-', ''), out.length, 'hex');
      out.length += 16;
      return;
  }
}

class ByteReader {
  position = 0;
  constructor(readonly bytes: Buffer) {}

  get atEnd(): boolean {
    return this.position >= this.bytes.length;
  }

  byte(): number {
    if (this.position >= this.bytes.length) throw new RangeError(`datoms end inside a datom at byte ${this.position}`);
    return this.bytes[this.position++]!;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
    throw new RangeError(`varint of more than 8 bytes at byte ${this.position}`);
  }

  take(length: number): Buffer {
    if (this.position + length > this.bytes.length) throw new RangeError(`a value of ${length} bytes runs past the end at byte ${this.position}`);
    const slice = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }
}

export function decodeLogDatoms(blob: Uint8Array, tx: number): LogDatom[] {
  const datoms: LogDatom[] = [];
  const reader = new ByteReader(Buffer.from(blob.buffer, blob.byteOffset, blob.length));
  let e = -1;
  while (!reader.atEnd) {
    const head = reader.byte();
    const type = TYPE_OF_TAG[head & TAG_MASK];
    if (type === undefined) throw new RangeError(`unknown value type tag ${head & TAG_MASK} at byte ${reader.position - 1}`);
    if ((head & SAME_ENTITY) === 0) e = reader.varint();
    else if (e < 0) throw new RangeError('the first datom refers to a previous entity');
    const a = reader.varint();
    const added = (head & ADDED) !== 0;
    let v: StoredValue;
    let heapPage: number | undefined;
    if ((head & LARGE) !== 0) {
      if (type !== 'string' && type !== 'keyword' && type !== 'bytes') throw new RangeError(`a ${type} value marked large`);
      const headBytes = new Uint8Array(reader.take(reader.varint()));
      v = new LargeValue(type satisfies LargeType, headBytes, Buffer.from(reader.take(DIGEST_BYTES)));
      if (added) heapPage = reader.varint();
    } else {
      v = readValue(reader, type, (head & NEGATIVE) !== 0);
    }
    const assertedTx = added ? tx : reader.varint();
    datoms.push({ e, a, v, tx, added, assertedTx, heapPage });
  }
  return datoms;
}

function readValue(reader: ByteReader, type: ValueType, negative: boolean): StoredValue {
  switch (type) {
    case 'boolean':
      return reader.byte() === 1;
    case 'long': {
      const n = reader.varint();
      return negative ? -n : n;
    }
    case 'instant': {
      const ms = reader.varint();
      return new Date(negative ? -ms : ms);
    }
    case 'ref':
      return reader.varint();
    case 'double':
      return reader.take(8).readDoubleLE(0);
    case 'string':
    case 'keyword':
      return reader.take(reader.varint()).toString('utf8');
    case 'bytes':
      return new Uint8Array(reader.take(reader.varint()));
    case 'bigint': {
      const bytes = reader.take(reader.varint());
      const magnitude = bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
      return negative ? -magnitude : magnitude;
    }
    case 'uuid': {
      const hex = reader.take(16).toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }
  }
}
