/**
 * Order-preserving bytes for index keys: comparing two encodings bytewise (memcmp) orders them as
 * the values they encode, and every component is self-delimiting, so a key prefix encodes "every
 * datom that starts with these components" and the trees never decode to compare.
 *
 *   unsigned int  one length byte k (0..7), then k big-endian bytes (0 is the single byte 0x00)
 *   signed int    0x80+k then k bytes of n (n >= 0); 0x7f-k then k bytes of ~(-n-1) (n < 0)
 *   double        8 bytes IEEE-754 big-endian, sign bit flipped (negatives: every bit flipped)
 *   bytes/text    the bytes with 0x00 written as 0x00 0xff, then the terminator 0x00 0x00
 *   value         the body for its attribute's type, untagged: the attribute comes first in every
 *                 index order (or the value is a ref, in vaet), so one attribute's values, all of
 *                 one type, are the only ones ever compared
 *   large value   see large-value.ts: a head, the marker 0x00 0x01, a digest
 */
import type { Value, ValueType } from '../schema/value-type.js';
import { DIGEST_BYTES, LargeValue, largeValueOf } from './large-value.js';

/** A value as stored in keys: the value, or the stand-in of a large one (see large-value.ts). */
export type StoredValue = Value | LargeValue;

/** Type tags, in log records (log-datoms.ts); keys need none (see `value`). */
export const TypeTag = {
  boolean: 1,
  long: 2,
  double: 3,
  bigint: 4,
  instant: 5,
  string: 6,
  keyword: 7,
  uuid: 8,
  ref: 9,
  bytes: 10,
} as const satisfies Record<ValueType, number>;

const BIGINT_MAX_BYTES = 126;
/** Text up to this many characters is tried as ASCII first (longer text: a native write wins). */
const ASCII_PATH_MAX_CHARS = 256;

/** Builds one key in a reused scratch buffer; `finish` copies it out. */
export class KeyWriter {
  private buffer = Buffer.allocUnsafe(256);
  private length = 0;

  reset(): this {
    this.length = 0;
    return this;
  }

  get size(): number {
    return this.length;
  }

  finish(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  /**
   * The key in place, without `finish`'s copy: bytes [0, size) of the returned buffer, valid
   * until the next write or reset (a write may also move it to a larger buffer).
   */
  scratch(): Buffer {
    return this.buffer;
  }

  /** The key as a latin1 string, one character per byte (novelty's keys: see novelty.ts). */
  finishString(): string {
    return this.buffer.toString('latin1', 0, this.length);
  }

  byte(b: number): this {
    this.reserve(1);
    this.buffer[this.length++] = b;
    return this;
  }

  uint(n: number): this {
    this.reserve(9);
    if (n <= MAX_UINT32) {
      this.uint32(0, n);
      return this;
    }
    if (n <= Number.MAX_SAFE_INTEGER) {
      this.uint53(0, n);
      return this;
    }
    const k = uintBytes(n);
    this.buffer[this.length++] = k;
    this.writeBigEndian(n, k, false);
    return this;
  }

  int(n: number): this {
    this.reserve(9);
    if (n >= 0 && n <= MAX_UINT32) {
      this.uint32(0x80, n);
    } else if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
      this.uint53(0x80, n);
    } else if (n >= 0) {
      const k = uintBytes(n);
      this.buffer[this.length++] = 0x80 + k;
      this.writeBigEndian(n, k, false);
    } else {
      const m = -n - 1;
      const k = uintBytes(m);
      this.buffer[this.length++] = 0x7f - k;
      this.writeBigEndian(m, k, true);
    }
    return this;
  }

  bigint(n: bigint): this {
    const negative = n < 0n;
    const magnitude = negative ? -n - 1n : n;
    const hex = magnitude === 0n ? '' : magnitude.toString(16);
    const bytes = Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex');
    if (bytes.length > BIGINT_MAX_BYTES) throw new RangeError(`bigint of ${bytes.length} bytes exceeds ${BIGINT_MAX_BYTES}`);
    this.reserve(1 + bytes.length);
    this.buffer[this.length++] = negative ? 0x7f - bytes.length : 0x80 + bytes.length;
    for (const b of bytes) this.buffer[this.length++] = negative ? 255 - b : b;
    return this;
  }

  double(x: number): this {
    this.reserve(8);
    this.buffer.writeDoubleBE(x, this.length);
    if (this.buffer[this.length]! & 0x80) {
      for (let i = 0; i < 8; i++) this.buffer[this.length + i] = 255 - this.buffer[this.length + i]!;
    } else {
      this.buffer[this.length] = this.buffer[this.length]! | 0x80;
    }
    this.length += 8;
    return this;
  }

  text(s: string): this {
    if (s.length <= ASCII_PATH_MAX_CHARS && this.ascii(s)) return this;
    // UTF-8 takes at most three bytes per UTF-16 unit; escaping at most doubles that.
    this.reserve(s.length * 3 + 2);
    const start = this.length;
    const written = this.buffer.write(s, start, 'utf8');
    if (this.buffer.subarray(start, start + written).includes(0)) {
      const raw = Buffer.from(this.buffer.subarray(start, start + written));
      this.length = start;
      return this.escaped(raw);
    }
    this.length += written;
    this.buffer[this.length++] = 0;
    this.buffer[this.length++] = 0;
    return this;
  }

  /**
   * Writes `s` as `text` would if it is ASCII without NUL (its characters are its UTF-8 bytes,
   * nothing to escape) and returns true; else writes nothing and returns false. Short ASCII text is
   * most text; the general path's UTF-8 write and scan for zeros through Buffer views was a third
   * of an import's key encoding.
   */
  private ascii(s: string): boolean {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0 || c > 0x7f) return false;
    }
    this.reserve(s.length + 2);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < s.length; i++) buffer[at++] = s.charCodeAt(i);
    buffer[at++] = 0;
    buffer[at++] = 0;
    this.length = at;
    return true;
  }

  escaped(bytes: Uint8Array): this {
    this.reserve(bytes.length * 2 + 2);
    for (const b of bytes) {
      this.buffer[this.length++] = b;
      if (b === 0) this.buffer[this.length++] = 0xff;
    }
    this.buffer[this.length++] = 0;
    this.buffer[this.length++] = 0;
    return this;
  }

  /** A value of attribute type `type` (no tag); a large one as its stand-in. */
  value(type: ValueType, v: StoredValue): this {
    if (v instanceof LargeValue) return this.large(v);
    switch (type) {
      case 'boolean':
        return this.byte(v === true ? 1 : 0);
      case 'long':
        return this.int(v as number);
      case 'ref':
        return this.uint(v as number);
      case 'double':
        return this.double(v as number);
      case 'bigint':
        return this.bigint(v as bigint);
      case 'instant':
        return this.int((v as Date).getTime());
      case 'string':
      case 'keyword': {
        const large = largeValueOf(type, v as string);
        return large === undefined ? this.text(v as string) : this.large(large);
      }
      case 'uuid':
        this.reserve(16);
        this.buffer.write((v as string).replaceAll('-', ''), this.length, 'hex');
        this.length += 16;
        return this;
      case 'bytes': {
        const large = largeValueOf('bytes', v as Uint8Array);
        return large === undefined ? this.escaped(v as Uint8Array) : this.large(large);
      }
    }
  }

  private large(v: LargeValue): this {
    this.escaped(v.head);
    // Replace the terminator with the marker: a large value extends its head.
    this.buffer[this.length - 1] = 1;
    this.reserve(DIGEST_BYTES);
    v.digest.copy(this.buffer, this.length);
    this.length += DIGEST_BYTES;
    return this;
  }

  /**
   * `tag + k` and then `n`'s k bytes, big-endian, for `n` below 2^32 (ids, most longs): with
   * shifts, where the general path divides by 256 for each byte and once more to count them.
   */
  private uint32(tag: number, n: number): void {
    const b = this.buffer;
    let at = this.length;
    const k = n === 0 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
    b[at++] = tag + k;
    if (k >= 4) b[at++] = n >>> 24;
    if (k >= 3) b[at++] = (n >>> 16) & 0xff;
    if (k >= 2) b[at++] = (n >>> 8) & 0xff;
    if (k >= 1) b[at++] = n & 0xff;
    this.length = at;
  }

  /** As `uint32`, for `n` from 2^32 to 2^53 (instants in milliseconds): its high word, then its low. */
  private uint53(tag: number, n: number): void {
    const b = this.buffer;
    let at = this.length;
    const high = Math.floor(n / 0x1_0000_0000);
    const k = high < 0x100 ? 1 : high < 0x10000 ? 2 : 3;
    b[at++] = tag + 4 + k;
    if (k >= 3) b[at++] = high >>> 16;
    if (k >= 2) b[at++] = (high >>> 8) & 0xff;
    b[at++] = high & 0xff;
    const low = n >>> 0;
    b[at++] = low >>> 24;
    b[at++] = (low >>> 16) & 0xff;
    b[at++] = (low >>> 8) & 0xff;
    b[at++] = low & 0xff;
    this.length = at;
  }

  private writeBigEndian(n: number, k: number, invert: boolean): void {
    for (let i = k - 1; i >= 0; i--) {
      const b = n % 256;
      this.buffer[this.length + i] = invert ? 255 - b : b;
      n = Math.floor(n / 256);
    }
    this.length += k;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

const MAX_UINT32 = 0xffff_ffff;

function uintBytes(n: number): number {
  let k = 0;
  while (n > 0) {
    k++;
    n = Math.floor(n / 256);
  }
  return k;
}

/** Reads keys written by `KeyWriter`, component by component. */
export class KeyReader {
  bytes: Uint8Array = new Uint8Array(0);
  position = 0;
  end = 0;

  reset(bytes: Uint8Array, start = 0, end = bytes.length): this {
    this.bytes = bytes;
    this.position = start;
    this.end = end;
    return this;
  }

  get atEnd(): boolean {
    return this.position >= this.end;
  }

  byte(): number {
    return this.bytes[this.position++]!;
  }

  uint(): number {
    const bytes = this.bytes;
    const k = bytes[this.position]!;
    // Up to three bytes (ids below 2^24: entities, attributes and txs of most databases) in
    // integer arithmetic, inline: this is read two or three times per index entry a scan visits.
    if (k <= 3) {
      let p = this.position + 1;
      let n = 0;
      for (let i = 0; i < k; i++) n = (n << 8) | bytes[p++]!;
      this.position = p;
      return n;
    }
    this.position++;
    return this.readBigEndian(k, false);
  }

  int(): number {
    const head = this.bytes[this.position++]!;
    if (head >= 0x80) return this.readBigEndian(head - 0x80, false);
    return -this.readBigEndian(0x7f - head, true) - 1;
  }

  bigint(): bigint {
    const head = this.bytes[this.position++]!;
    const negative = head < 0x80;
    const k = negative ? 0x7f - head : head - 0x80;
    let n = 0n;
    for (let i = 0; i < k; i++) {
      const b = this.bytes[this.position++]!;
      n = (n << 8n) | BigInt(negative ? 255 - b : b);
    }
    return negative ? -n - 1n : n;
  }

  double(): number {
    const scratch = Buffer.from(this.bytes.subarray(this.position, this.position + 8));
    if (scratch[0]! & 0x80) scratch[0] = scratch[0]! & 0x7f;
    else for (let i = 0; i < 8; i++) scratch[i] = 255 - scratch[i]!;
    this.position += 8;
    return scratch.readDoubleBE(0);
  }

  /** An escaped body; `largeDigest` is set when it was a large value's head (see large-value.ts). */
  escaped(): Uint8Array {
    const bytes = this.bytes;
    let i = this.position;
    this.largeDigest = undefined;
    // Fast path: no escaped zero before the terminator, so the body is one slice.
    while (bytes[i] !== 0 || bytes[i + 1] !== 0) {
      if (bytes[i] === 0) {
        if (bytes[i + 1] === 1) return this.largeHead(bytes.subarray(this.position, i), i);
        return this.unescape();
      }
      i++;
    }
    const body = bytes.subarray(this.position, i);
    this.position = i + 2;
    return body;
  }

  /** Set by `escaped` when the body read was a large value's head. */
  largeDigest: Buffer | undefined;

  private largeHead(head: Uint8Array, marker: number): Uint8Array {
    this.largeDigest = Buffer.from(this.bytes.subarray(marker + 2, marker + 2 + DIGEST_BYTES));
    this.position = marker + 2 + DIGEST_BYTES;
    return head;
  }

  private textOrLarge(type: 'string' | 'keyword'): StoredValue {
    const body = this.escaped();
    if (this.largeDigest !== undefined) return new LargeValue(type, new Uint8Array(body), this.largeDigest);
    return Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8');
  }

  /** A value of attribute type `type` in its stored form (a large one as its stand-in). */
  value(type: ValueType): StoredValue {
    switch (type) {
      case 'boolean':
        return this.bytes[this.position++] === 1;
      case 'long':
        return this.int();
      case 'ref':
        return this.uint();
      case 'double':
        return this.double();
      case 'bigint':
        return this.bigint();
      case 'instant':
        return new Date(this.int());
      case 'string':
      case 'keyword':
        return this.textOrLarge(type);
      case 'uuid': {
        const hex = Buffer.from(this.bytes.subarray(this.position, this.position + 16)).toString('hex');
        this.position += 16;
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      }
      case 'bytes': {
        const body = new Uint8Array(this.escaped());
        return this.largeDigest === undefined ? body : new LargeValue('bytes', body, this.largeDigest);
      }
    }
  }

  /** Steps over a value of attribute type `type` without decoding it. */
  skipValue(type: ValueType): void {
    const bytes = this.bytes;
    switch (type) {
      case 'boolean':
        this.position++;
        return;
      case 'ref':
        this.position += 1 + bytes[this.position]!;
        return;
      case 'long':
      case 'instant':
      case 'bigint': {
        const head = bytes[this.position]!;
        this.position += 1 + (head >= 0x80 ? head - 0x80 : 0x7f - head);
        return;
      }
      case 'double':
        this.position += 8;
        return;
      case 'uuid':
        this.position += 16;
        return;
      case 'string':
      case 'keyword':
      case 'bytes':
        this.skipEscaped();
        return;
    }
  }

  /** Past an escaped body's terminator, or past a large value's marker and digest. */
  private skipEscaped(): void {
    const bytes = this.bytes;
    let i = this.position;
    for (;;) {
      if (bytes[i] === 0) {
        const next = bytes[i + 1];
        if (next === 0) {
          this.position = i + 2;
          return;
        }
        if (next === 1) {
          this.position = i + 2 + DIGEST_BYTES;
          return;
        }
        i += 2; // an escaped zero
      } else {
        i++;
      }
    }
  }

  private unescape(): Uint8Array {
    const bytes = this.bytes;
    const out: number[] = [];
    let i = this.position;
    for (;;) {
      const b = bytes[i]!;
      if (b === 0) {
        if (bytes[i + 1] === 0) break;
        if (bytes[i + 1] === 1) {
          this.largeHead(new Uint8Array(0), i);
          return Uint8Array.from(out);
        }
        out.push(0);
        i += 2;
      } else {
        out.push(b);
        i++;
      }
    }
    this.position = i + 2;
    return Uint8Array.from(out);
  }

  private readBigEndian(k: number, invert: boolean): number {
    let n = 0;
    for (let i = 0; i < k; i++) {
      const b = this.bytes[this.position++]!;
      n = n * 256 + (invert ? 255 - b : b);
    }
    return n;
  }
}

/** The smallest key greater than every key that starts with `prefix` (undefined: none is). */
export function prefixEnd(prefix: Uint8Array): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}
