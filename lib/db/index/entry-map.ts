/**
 * Novelty's ordered map of one index (`EntryMap`): each entry's key (the entry's bytes as a latin1
 * string) and its mark. Writes are kept pending and merged into sorted chunks when the map is read
 * in order; clones for speculative transactions share the chunks until written. See the class.
 */
import type { Mark, NovelKey } from './novelty.js';

/** Entries of a chunk at most; a full chunk splits in two. */
const CHUNK = 512;

/** Pending writes few enough to insert one by one in the order made, without sorting them first. */
const FEW_PENDING = 16;

/**
 * A key's first six bytes as one number (missing bytes as 0), so that `prefix(a) < prefix(b)`
 * implies `a < b` and only keys with equal prefixes need their strings compared.
 */
function prefixOf(key: NovelKey): number {
  let p = 0;
  for (let i = 0; i < 6; i++) p = p * 256 + (i < key.length ? key.charCodeAt(i) : 0);
  return p;
}

/** A run of a map's entries in key order; written in place by its owner only (copy on write). */
interface Chunk {
  readonly keys: NovelKey[];
  readonly marks: Mark[];
  /** `prefixOf` of each key, so that a search mostly reads this array rather than the key strings. */
  readonly prefixes: Float64Array;
  readonly owner: object;
}

/** The first index of `chunk` whose key is at or after `key` (of prefix `p`). */
function lowerBound(chunk: Chunk, key: NovelKey, p: number): number {
  const { keys, prefixes } = chunk;
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const q = prefixes[mid]!;
    if (q < p || (q === p && keys[mid]! < key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Keys a block of `sortedPositions` holds at most: its positions take the low 16 bits of a 64-bit word. */
const SORT_BLOCK = 1 << 16;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The positions of `keys` in key order, equal keys in position order. Each key's first six bytes
 * and its position go into one 64-bit word, the words are sorted natively (BigUint64Array), and
 * only keys whose six bytes tie are compared as strings: the epoch's merge sorts some 250,000
 * pending keys, and comparing them as strings (`sort()`) read each key string again at every
 * step, scattered on the heap.
 */
function sortedPositions(keys: readonly NovelKey[]): number[] {
  if (keys.length < 64 || !LITTLE_ENDIAN) return byKey(keys, Array.from(keys, (_, i) => i));
  let sorted: number[] = [];
  for (let from = 0; from < keys.length; from += SORT_BLOCK) {
    const block = sortedBlock(keys, from, Math.min(keys.length, from + SORT_BLOCK));
    sorted = from === 0 ? block : mergedPositions(keys, sorted, block);
  }
  return sorted;
}

/** `positions` sorted by their keys; stable (Array.prototype.sort is), so equal keys keep their order. */
const byKey = (keys: readonly NovelKey[], positions: number[]): number[] =>
  positions.sort((x, y) => (keys[x]! < keys[y]! ? -1 : keys[x]! > keys[y]! ? 1 : 0));

const byteOf = (key: NovelKey, i: number): number => (i < key.length ? key.charCodeAt(i) : 0);

function sortedBlock(keys: readonly NovelKey[], from: number, to: number): number[] {
  const n = to - from;
  const packed = new BigUint64Array(n);
  // Little-endian: word 2i is the low half of element i (bytes 4-5 and the position), 2i+1 the high.
  const words = new Uint32Array(packed.buffer);
  for (let i = 0; i < n; i++) {
    const key = keys[from + i]!;
    words[2 * i + 1] = ((byteOf(key, 0) << 24) | (byteOf(key, 1) << 16) | (byteOf(key, 2) << 8) | byteOf(key, 3)) >>> 0;
    words[2 * i] = ((byteOf(key, 4) << 24) | (byteOf(key, 5) << 16) | i) >>> 0;
  }
  packed.sort();
  const out: number[] = [];
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && words[2 * j + 1] === words[2 * i + 1] && words[2 * j]! >>> 16 === words[2 * i]! >>> 16) j++;
    if (j === i + 1) {
      out.push(from + (words[2 * i]! & 0xffff));
    } else {
      // Six bytes tie: in position order (the words' low bits), then by the whole key. Most
      // such runs are a few history entries of one entity and attribute: sorted by insertion,
      // as a call to sort() costs more than they do.
      const start = out.length;
      for (let k = i; k < j; k++) out.push(from + (words[2 * k]! & 0xffff));
      if (j - i > 16) {
        const run = byKey(keys, out.slice(start));
        for (let k = 0; k < run.length; k++) out[start + k] = run[k]!;
      } else {
        for (let k = start + 1; k < out.length; k++) {
          const position = out[k]!;
          let at = k;
          for (; at > start && keys[out[at - 1]!]! > keys[position]!; at--) out[at] = out[at - 1]!;
          out[at] = position;
        }
      }
    }
    i = j;
  }
  return out;
}

/** Two sorted runs of positions merged; on equal keys the first run's (earlier positions) first. */
function mergedPositions(keys: readonly NovelKey[], a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(keys[a[i]!]! <= keys[b[j]!]! ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** A pending write that deletes its key. */
const DELETED: Mark = Object.freeze({ added: -1, removed: -1 });

/**
 * An ordered map of novel keys to marks for one index. Writes are appended to a list of pending
 * writes and reach the sorted part only when something reads the map in key order (`entries`,
 * `size`, a clone), sorted and merged in at once: most maps are read in order only by the next
 * indexing (history, retired, and the current maps of orders no read asks for), so a one-datom
 * transaction's fifteen changes cost a few appends instead of fifteen sorted inserts into maps
 * of some 60,000 keys, and the epoch's merge sorts them instead. Nothing looks a single key up:
 * novelty's removals know from the entry's tx whether it is in the tree (Novelty.apply), so the
 * map needs no hash index of its pending writes (one cost about as much as the appends saved).
 * A reader after a small transaction finds a few pending writes, inserted one by one.
 *
 * The sorted part is a list of chunks of at most 512 entries (as Python's SortedList): an insert
 * finds its chunk among the chunks' first keys, then its place by a binary search over the
 * chunk's key prefixes (numbers side by side rather than key strings scattered on the heap).
 * A clone (`Db.with`) shares every chunk with the original; each copies a chunk before its first
 * write to it (`owner`). Iterators read the chunks in place, so a write makes them stale: readers
 * re-seek by key when the novelty's `version` changed, as they did with sorted-btree, and since
 * a write bumps the version, so does the merge of pending writes that a later read makes.
 */
export class EntryMap {
  private sortedSize = 0;
  private chunks: Chunk[] = [];
  /** Marks the chunks this map may write in place; a clone takes a new one for each map. */
  private token: object = {};
  /** Writes not yet in the chunks, in the order made: a key and its mark, DELETED for a deletion. */
  private pendingKeys: NovelKey[] = [];
  private pendingMarks: Mark[] = [];

  /** Entries, counting each key once and no deleted one. */
  get size(): number {
    this.settle();
    return this.sortedSize;
  }

  clone(): EntryMap {
    this.settle();
    const copy = new EntryMap();
    copy.sortedSize = this.sortedSize;
    copy.chunks = this.chunks.slice();
    this.token = {};
    return copy;
  }

  set(key: NovelKey, mark: Mark): void {
    this.pendingKeys.push(key);
    this.pendingMarks.push(mark);
  }

  delete(key: NovelKey): void {
    this.pendingKeys.push(key);
    this.pendingMarks.push(DELETED);
  }

  /** The entries from `lowest` (inclusive; the first when undefined) upward, each in `pair`. */
  entries(lowest?: NovelKey, pair: (NovelKey | Mark)[] = []): EntryIterator {
    this.settle();
    if (lowest === undefined || this.chunks.length === 0) return new EntryIterator(this.chunks, 0, 0, false, pair);
    const p = prefixOf(lowest);
    const c = this.chunkOf(lowest, p);
    return new EntryIterator(this.chunks, c, lowerBound(this.chunks[c]!, lowest, p), false, pair);
  }

  /** The entries from `highest` (inclusive unless `skipHighest`; the last when undefined) downward. */
  entriesReversed(highest?: NovelKey, pair: (NovelKey | Mark)[] = [], skipHighest = false): EntryIterator {
    this.settle();
    const { chunks } = this;
    if (chunks.length === 0) return new EntryIterator(chunks, -1, -1, true, pair);
    if (highest === undefined) return new EntryIterator(chunks, chunks.length - 1, chunks[chunks.length - 1]!.keys.length - 1, true, pair);
    const p = prefixOf(highest);
    const c = this.chunkOf(highest, p);
    const chunk = chunks[c]!;
    const i = lowerBound(chunk, highest, p);
    // From the last key before `highest`, or at it; -1 steps back into the chunk before.
    const at = i < chunk.keys.length && chunk.keys[i] === highest && !skipHighest ? i : i - 1;
    return new EntryIterator(chunks, c, at, true, pair);
  }

  /**
   * The entries whose keys begin with `prefix`, pushed onto `keys` and `marks` in key order: a
   * point read's share of the map, read straight from the chunks with no iterator.
   */
  extensions(prefix: NovelKey, keys: NovelKey[], marks: Mark[]): void {
    this.settle();
    const { chunks } = this;
    if (chunks.length === 0) return;
    const p = prefixOf(prefix);
    let c = this.chunkOf(prefix, p);
    let i = lowerBound(chunks[c]!, prefix, p);
    for (;;) {
      const chunk = chunks[c]!;
      if (i === chunk.keys.length) {
        if (++c === chunks.length) return;
        i = 0;
        continue;
      }
      const key = chunk.keys[i]!;
      if (!key.startsWith(prefix)) return;
      keys.push(key);
      marks.push(chunk.marks[i]!);
      i++;
    }
  }

  /** The keys in order: collected into an array at once, as the next indexing wants them all. */
  keys(): IterableIterator<NovelKey> {
    this.settle();
    const keys: NovelKey[] = [];
    for (const chunk of this.chunks) for (let i = 0; i < chunk.keys.length; i++) keys.push(chunk.keys[i]!);
    return keys.values();
  }

  /**
   * Brings the pending writes into the chunks: one by one when they are few beside the entries
   * (a search and a move within a chunk each), else by one merge into new chunks.
   */
  private settle(): void {
    const { pendingKeys, pendingMarks } = this;
    const n = pendingKeys.length;
    if (n === 0) return;
    if (n <= FEW_PENDING && n * 64 < this.sortedSize) {
      // A point read after a small transaction: applied in the order made (a later write to a
      // key replaces an earlier one, as the merge's last-write-wins does) with no sort.
      this.applyEach(pendingKeys, pendingMarks);
      pendingKeys.length = 0;
      pendingMarks.length = 0;
      return;
    }
    // The last write per key, in key order.
    const sorted = sortedPositions(pendingKeys);
    const keys: NovelKey[] = [];
    const marks: Mark[] = [];
    for (let i = 0; i < sorted.length; i++) {
      const key = pendingKeys[sorted[i]!]!;
      if (i + 1 < sorted.length && pendingKeys[sorted[i + 1]!] === key) continue;
      keys.push(key);
      marks.push(pendingMarks[sorted[i]!]!);
    }
    this.pendingKeys = [];
    this.pendingMarks = [];
    if (keys.length * 64 < this.sortedSize) this.applyEach(keys, marks);
    else this.rebuild(keys, marks);
  }

  /** Writes `keys` with `marks` into the chunks one at a time, in the order given. */
  private applyEach(keys: readonly NovelKey[], marks: readonly Mark[]): void {
    for (let i = 0; i < keys.length; i++) {
      const mark = marks[i]!;
      if (mark === DELETED) this.remove(keys[i]!);
      else this.insert(keys[i]!, mark);
    }
  }

  private insert(key: NovelKey, mark: Mark): void {
    if (this.chunks.length === 0) this.chunks.push(newChunk(this.token));
    const p = prefixOf(key);
    const c = this.chunkOf(key, p);
    let chunk = this.chunks[c]!;
    const i = lowerBound(chunk, key, p);
    chunk = this.writable(c);
    if (i < chunk.keys.length && chunk.keys[i] === key) {
      chunk.marks[i] = mark;
      return;
    }
    this.sortedSize++;
    chunk.prefixes.copyWithin(i + 1, i, chunk.keys.length);
    chunk.prefixes[i] = p;
    chunk.keys.splice(i, 0, key);
    chunk.marks.splice(i, 0, mark);
    if (chunk.keys.length === CHUNK) this.split(c);
  }

  private remove(key: NovelKey): void {
    if (this.chunks.length === 0) return;
    const p = prefixOf(key);
    const c = this.chunkOf(key, p);
    let chunk = this.chunks[c]!;
    const i = lowerBound(chunk, key, p);
    if (i === chunk.keys.length || chunk.keys[i] !== key) return;
    chunk = this.writable(c);
    this.sortedSize--;
    chunk.prefixes.copyWithin(i, i + 1, chunk.keys.length);
    chunk.keys.splice(i, 1);
    chunk.marks.splice(i, 1);
    if (chunk.keys.length === 0) this.chunks.splice(c, 1);
  }

  /** New chunks, three quarters full, of the chunks' entries and the pending writes (`keys` sorted, their `marks`) merged. */
  private rebuild(keys: readonly NovelKey[], marks: readonly Mark[]): void {
    const chunks: Chunk[] = [];
    let chunk = newChunk(this.token);
    let size = 0;
    const push = (key: NovelKey, mark: Mark, prefix: number) => {
      if (chunk.keys.length === (CHUNK * 3) >>> 2) {
        chunks.push(chunk);
        chunk = newChunk(this.token);
      }
      chunk.prefixes[chunk.keys.length] = prefix;
      chunk.keys.push(key);
      chunk.marks.push(mark);
      size++;
    };
    let j = 0;
    const pendingUpTo = (key: NovelKey | undefined) => {
      for (; j < keys.length && (key === undefined || keys[j]! <= key); j++) {
        if (marks[j] !== DELETED) push(keys[j]!, marks[j]!, prefixOf(keys[j]!));
      }
    };
    for (const from of this.chunks) {
      for (let i = 0; i < from.keys.length; i++) {
        const key = from.keys[i]!;
        pendingUpTo(key);
        // A pending write to the same key (the last one taken above) replaced this entry.
        if (j === 0 || keys[j - 1] !== key) push(key, from.marks[i]!, from.prefixes[i]!);
      }
    }
    pendingUpTo(undefined);
    if (chunk.keys.length > 0) chunks.push(chunk);
    this.chunks = chunks;
    this.sortedSize = size;
  }

  /**
   * The chunk that holds `key` (of prefix `p`) or would: the last whose first key is at or before
   * it (else the first). Compared by the first keys' prefixes, which the chunks keep beside their
   * keys, and by the strings only on a tie: reading each probed chunk's first key string was most
   * of a point read's time in novelty (three dependent loads a probe, scattered on the heap).
   */
  private chunkOf(key: NovelKey, p: number): number {
    const { chunks } = this;
    let lo = 1;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid]!;
      const first = chunk.prefixes[0]!;
      if (first < p || (first === p && chunk.keys[0]! <= key)) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Chunk `c`, copied first unless this map owns it. */
  private writable(c: number): Chunk {
    const chunk = this.chunks[c]!;
    if (chunk.owner === this.token) return chunk;
    const copy = { keys: chunk.keys.slice(), marks: chunk.marks.slice(), prefixes: chunk.prefixes.slice(), owner: this.token };
    this.chunks[c] = copy;
    return copy;
  }

  private split(c: number): void {
    const chunk = this.chunks[c]!;
    const half = CHUNK >>> 1;
    const prefixes = new Float64Array(CHUNK);
    prefixes.set(chunk.prefixes.subarray(half, CHUNK));
    const upper = { keys: chunk.keys.splice(half), marks: chunk.marks.splice(half), prefixes, owner: this.token };
    this.chunks.splice(c + 1, 0, upper);
  }
}

const newChunk = (owner: object): Chunk => ({ keys: [], marks: [], prefixes: new Float64Array(CHUNK), owner });

/** A map's entries in key order (or reversed) from a chunk and a position in it. */
export class EntryIterator implements IterableIterator<[NovelKey, Mark]> {
  private readonly result: IteratorResult<[NovelKey, Mark]>;

  constructor(
    private readonly chunks: readonly Chunk[],
    private c: number,
    /** The next entry's position in chunk `c`: past either end continues in the next chunk. */
    private i: number,
    private readonly reverse: boolean,
    private readonly pair: (NovelKey | Mark)[],
  ) {
    this.result = { done: false, value: pair as [NovelKey, Mark] };
  }

  next(): IteratorResult<[NovelKey, Mark]> {
    const { chunks } = this;
    for (;;) {
      if (this.c < 0 || this.c >= chunks.length) return { done: true, value: undefined };
      const chunk = chunks[this.c]!;
      if (this.i >= 0 && this.i < chunk.keys.length) {
        this.pair[0] = chunk.keys[this.i]!;
        this.pair[1] = chunk.marks[this.i]!;
        this.i += this.reverse ? -1 : 1;
        return this.result;
      }
      if (this.reverse) {
        this.c--;
        this.i = this.c >= 0 ? chunks[this.c]!.keys.length - 1 : -1;
      } else {
        this.c++;
        this.i = 0;
      }
    }
  }

  [Symbol.iterator](): IterableIterator<[NovelKey, Mark]> {
    return this;
  }
}
