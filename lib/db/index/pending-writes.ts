/**
 * An EntryMap's writes not yet merged into its sorted chunks, kept as bytes: each key's bytes in
 * one growing buffer, its end offset, its mark, and the words it sorts by. A one-datom transaction
 * writes some fifteen keys, most of which no read asks for before the next indexing; as strings,
 * each cost an allocation (~0.25 µs) and an object for the collector to copy and then trace until
 * the epoch, whose sort read them again scattered on the heap. Here a write is a copy of a few
 * bytes, and only a read in key order makes strings, of the keys it settles.
 */
import type { Mark, NovelKey } from './novelty.js';
import { compareBytesToKey } from './novelty.js';

/**
 * Words a write's key is sorted by, written with it: its bytes 0–3, 4–5 (the word's high half)
 * and 6–9, big-endian, missing bytes as 0. A sort then reads a key's bytes only where all ten tie.
 */
const WORDS = 3;

/** Keys a block of `sortedLast` holds at most: its positions take the low 16 bits of a 64-bit word. */
const SORT_BLOCK = 1 << 16;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The mark of a write that deletes its key. */
export const DELETED: Mark = Object.freeze({ added: -1, removed: -1 });

const EMPTY = Buffer.alloc(0);

export class PendingWrites {
  /** Keys' bytes, back to back; key i is bytes [ends[i - 1], ends[i]) (from 0 for the first). */
  // Empty until the first write: a Db.with clones twelve maps, most never written.
  private bytes = EMPTY;
  private ends = new Uint32Array(0);
  private words = new Uint32Array(0);
  private marks: Mark[] = [];

  get count(): number {
    return this.marks.length;
  }

  start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]!;
  }

  end(i: number): number {
    return this.ends[i]!;
  }

  /** The buffer key i's bytes lie in, at [start(i), end(i)): valid until the next write or clear. */
  get keyBytes(): Buffer {
    return this.bytes;
  }

  mark(i: number): Mark {
    return this.marks[i]!;
  }

  /** Key i as a novel key (a latin1 string of its bytes). */
  key(i: number): NovelKey {
    return this.bytes.toString('latin1', this.start(i), this.end(i));
  }

  /** `prefixOf` (entry-map.ts) key i: its first six bytes as one number. */
  prefix(i: number): number {
    return this.words[WORDS * i]! * 65536 + (this.words[WORDS * i + 1]! >>> 16);
  }

  /** Appends a write of the key `source[start, end)`. */
  push(source: Uint8Array, start: number, end: number, mark: Mark): void {
    const at = this.reserve(end - start);
    const bytes = this.bytes;
    for (let i = start; i < end; i++) bytes[at + i - start] = source[i]!;
    this.pushed(at + end - start, mark);
  }

  /** Appends a write of a key given as a novel key. */
  pushKey(key: NovelKey, mark: Mark): void {
    const at = this.reserve(key.length);
    const bytes = this.bytes;
    for (let i = 0; i < key.length; i++) bytes[at + i] = key.charCodeAt(i);
    this.pushed(at + key.length, mark);
  }

  clear(): void {
    this.marks = [];
  }

  /** Key i against key j, in the bytes' order: by their words, then by their bytes. */
  compare(i: number, j: number): number {
    const words = this.words;
    const a = WORDS * i;
    const b = WORDS * j;
    for (let k = 0; k < WORDS; k++) {
      const d = words[a + k]! - words[b + k]!;
      if (d !== 0) return d;
    }
    // Words that differ order the keys as their bytes do: a key's missing bytes count as 0, and a
    // key whose bytes end there is a prefix of the other, so the smaller. Equal words: compare on.
    const bytes = this.bytes;
    const aStart = this.start(i);
    const bStart = this.start(j);
    const aLength = this.ends[i]! - aStart;
    const bLength = this.ends[j]! - bStart;
    const n = aLength < bLength ? aLength : bLength;
    for (let k = 10; k < n; k++) {
      const d = bytes[aStart + k]! - bytes[bStart + k]!;
      if (d !== 0) return d;
    }
    return aLength - bLength;
  }

  /** Key i against `key` (of `prefixOf` p), in the bytes' order. */
  compareToKey(i: number, key: NovelKey, p: number): number {
    const q = this.prefix(i);
    if (q !== p) return q - p;
    return compareBytesToKey(this.bytes, this.start(i), this.ends[i]!, key);
  }

  /**
   * The last write of each key, as positions in key order (deletions included). Each key's first
   * six bytes (its first two words) and its position go into one 64-bit word, the words are
   * sorted natively (BigUint64Array), and only keys whose six bytes tie are compared further.
   */
  sortedLast(): number[] {
    const n = this.count;
    let sorted: number[];
    if (n < 64 || !LITTLE_ENDIAN) {
      sorted = Array.from({ length: n }, (_, i) => i).sort((x, y) => this.compare(x, y) || x - y);
    } else {
      sorted = this.sortedBlock(0, Math.min(n, SORT_BLOCK));
      for (let from = SORT_BLOCK; from < n; from += SORT_BLOCK) sorted = this.merged(sorted, this.sortedBlock(from, Math.min(n, from + SORT_BLOCK)));
    }
    // Equal keys are adjacent, in write order: keep the last of each.
    let kept = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (i + 1 < sorted.length && this.compare(sorted[i]!, sorted[i + 1]!) === 0) continue;
      sorted[kept++] = sorted[i]!;
    }
    sorted.length = kept;
    return sorted;
  }

  /** Positions [from, to) in key order, equal keys in position order. */
  private sortedBlock(from: number, to: number): number[] {
    const n = to - from;
    const words = this.words;
    const packed = new BigUint64Array(n);
    // Little-endian: half 2i is the low half of element i (bytes 4-5 and the position), 2i+1 the high.
    const halves = new Uint32Array(packed.buffer);
    for (let i = 0; i < n; i++) {
      halves[2 * i + 1] = words[WORDS * (from + i)]!;
      halves[2 * i] = (words[WORDS * (from + i) + 1]! | i) >>> 0;
    }
    packed.sort();
    const out: number[] = [];
    for (let i = 0; i < n; ) {
      let j = i + 1;
      while (j < n && halves[2 * j + 1] === halves[2 * i + 1] && halves[2 * j]! >>> 16 === halves[2 * i]! >>> 16) j++;
      if (j === i + 1) {
        out.push(from + (halves[2 * i]! & 0xffff));
      } else {
        // Six bytes tie: in position order (the low bits), then by the rest of the key. Most such
        // runs are a few history entries of one entity and attribute: sorted by insertion, as a
        // call to sort() costs more than they do.
        const start = out.length;
        for (let k = i; k < j; k++) out.push(from + (halves[2 * k]! & 0xffff));
        if (j - i > 16) {
          const run = out.slice(start).sort((x, y) => this.compare(x, y) || x - y);
          for (let k = 0; k < run.length; k++) out[start + k] = run[k]!;
        } else {
          for (let k = start + 1; k < out.length; k++) {
            const position = out[k]!;
            let at = k;
            for (; at > start && this.compare(out[at - 1]!, position) > 0; at--) out[at] = out[at - 1]!;
            out[at] = position;
          }
        }
      }
      i = j;
    }
    return out;
  }

  /** Two sorted runs of positions merged; on equal keys the first run's (earlier positions) first. */
  private merged(a: readonly number[], b: readonly number[]): number[] {
    const out: number[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) out.push(this.compare(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
    while (i < a.length) out.push(a[i++]!);
    while (j < b.length) out.push(b[j++]!);
    return out;
  }

  /** Room for a key of `length` bytes; returns where it goes. */
  private reserve(length: number): number {
    const n = this.marks.length;
    const at = n === 0 ? 0 : this.ends[n - 1]!;
    if (at + length > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(at + length, this.bytes.length * 2, 512));
      this.bytes.copy(grown, 0, 0, at);
      this.bytes = grown;
    }
    if (n + 1 > this.ends.length) {
      const ends = new Uint32Array(Math.max(16, this.ends.length * 2));
      ends.set(this.ends);
      this.ends = ends;
      const words = new Uint32Array(WORDS * ends.length);
      words.set(this.words);
      this.words = words;
    }
    return at;
  }

  private pushed(end: number, mark: Mark): void {
    const n = this.marks.length;
    this.ends[n] = end;
    const b = this.bytes;
    const s = n === 0 ? 0 : this.ends[n - 1]!;
    const w = WORDS * n;
    this.words[w] = ((byteAt(b, s, end, 0) << 24) | (byteAt(b, s, end, 1) << 16) | (byteAt(b, s, end, 2) << 8) | byteAt(b, s, end, 3)) >>> 0;
    this.words[w + 1] = ((byteAt(b, s, end, 4) << 24) | (byteAt(b, s, end, 5) << 16)) >>> 0;
    this.words[w + 2] = ((byteAt(b, s, end, 6) << 24) | (byteAt(b, s, end, 7) << 16) | (byteAt(b, s, end, 8) << 8) | byteAt(b, s, end, 9)) >>> 0;
    this.marks.push(mark);
  }
}

/**
 * Byte k of the key `bytes[start, end)`, 0 past its end. A function of its own rather than a
 * closure made per write: tsx (which runs the tests and the sources' tools) wraps every closure
 * it makes in a `__name` call, which cost a one-datom transaction ~6 µs here.
 */
const byteAt = (bytes: Uint8Array, start: number, end: number, k: number): number => (start + k < end ? bytes[start + k]! : 0);
