/**
 * Novelty's ordered map of one index (`EntryMap`): each entry's key (the entry's bytes as a latin1
 * string) and its mark. Writes are kept pending, as bytes (pending-writes.ts), and merged into
 * sorted chunks when the map is read in order; the indexing commit reads them as bytes instead.
 * Clones for speculative transactions share the chunks until written. See the class.
 */
import { EntryList, EntryListBuilder } from '../../tree/entry-list.js';
import type { Mark, NovelKey } from './novelty.js';
import { DELETED, PendingWrites } from './pending-writes.js';

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

/**
 * An ordered map of novel keys to marks for one index. Writes are appended to a list of pending
 * writes and reach the sorted part only when something reads the map in key order (`entries`,
 * `size`, a clone), sorted and merged in at once: most maps are read in order only by the next
 * indexing (history, retired, and the current maps of orders no read asks for), so a one-datom
 * transaction's fifteen changes cost a few appends instead of fifteen sorted inserts into maps
 * of some 60,000 keys, and the epoch's merge sorts them instead, reading them (`inOrder`) as
 * bytes merged with the chunks' entries, with no string made for them. Nothing looks a single key up:
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
  /** Writes not yet in the chunks, in the order made; a deletion's mark is DELETED. */
  private readonly pending = new PendingWrites();

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
    this.pending.pushKey(key, mark);
  }

  delete(key: NovelKey): void {
    this.pending.pushKey(key, DELETED);
  }

  /** `set` of the key `bytes[start, end)`, with no string made for it until a read needs one. */
  setBytes(bytes: Uint8Array, start: number, end: number, mark: Mark): void {
    this.pending.push(bytes, start, end, mark);
  }

  /** `delete` of the key `bytes[start, end)`. */
  deleteBytes(bytes: Uint8Array, start: number, end: number): void {
    this.pending.push(bytes, start, end, DELETED);
  }

  /**
   * Every entry in key order, as bytes, with its mark, leaving the map as it is: the indexing
   * commit reads each map once, whole, and then drops it, so the pending writes go from their
   * bytes into the list, merged with the chunks' entries, with no string nor chunk made for them.
   */
  inOrder(): { readonly entries: EntryList; readonly marks: Mark[] } {
    const pending = this.pending;
    const out = new EntryListBuilder(24 * (this.sortedSize + pending.count), this.sortedSize + pending.count);
    const marks: Mark[] = [];
    const sink: MergeSink = {
      chunk(key, mark) {
        out.pushLatin1(key);
        marks.push(mark);
      },
      pending(x) {
        out.push(pending.keyBytes, pending.start(x), pending.end(x));
        marks.push(pending.mark(x));
      },
    };
    mergeWrites(this.chunks, pending, pending.count === 0 ? [] : pending.sortedLast(), sink);
    return { entries: out.finish(), marks };
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

  /**
   * Brings the pending writes into the chunks: one by one when they are few beside the entries
   * (a search and a move within a chunk each), else by one merge into new chunks.
   */
  private settle(): void {
    const pending = this.pending;
    const n = pending.count;
    if (n === 0) return;
    if (n <= FEW_PENDING && n * 64 < this.sortedSize) {
      // A point read after a small transaction: applied in the order made (a later write to a
      // key replaces an earlier one, as the merge's last-write-wins does) with no sort.
      for (let i = 0; i < n; i++) this.write(pending.key(i), pending.mark(i));
    } else {
      const sorted = pending.sortedLast();
      if (sorted.length * 64 < this.sortedSize) for (const x of sorted) this.write(pending.key(x), pending.mark(x));
      else this.rebuild(sorted);
    }
    pending.clear();
  }

  private write(key: NovelKey, mark: Mark): void {
    if (mark === DELETED) this.remove(key);
    else this.insert(key, mark);
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

  /** New chunks, three quarters full, of the chunks' entries and the pending writes (`sorted`) merged. */
  private rebuild(sorted: readonly number[]): void {
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
    const pending = this.pending;
    mergeWrites(this.chunks, pending, sorted, {
      chunk: push,
      pending: (x) => push(pending.key(x), pending.mark(x), pending.prefix(x)),
    });
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

/** Where `mergeWrites` puts each entry: a chunk's, or pending write `x`. */
interface MergeSink {
  chunk(key: NovelKey, mark: Mark, prefix: number): void;
  pending(x: number): void;
}

/**
 * The chunks' entries and the pending writes at positions `sorted` (the last write of each key,
 * in key order) merged in key order: a write replaces the entry of its key, and a deletion
 * leaves none.
 */
function mergeWrites(chunks: readonly Chunk[], pending: PendingWrites, sorted: readonly number[], sink: MergeSink): void {
  let j = 0;
  for (const from of chunks) {
    for (let i = 0; i < from.keys.length; i++) {
      const key = from.keys[i]!;
      const p = from.prefixes[i]!;
      // The writes up to this key; one to the key itself replaces its entry.
      let order = 1;
      for (; j < sorted.length; j++) {
        const x = sorted[j]!;
        order = pending.compareToKey(x, key, p);
        if (order > 0) break;
        if (pending.mark(x) !== DELETED) sink.pending(x);
        if (order === 0) {
          j++;
          break;
        }
      }
      if (order !== 0) sink.chunk(key, from.marks[i]!, p);
    }
  }
  for (; j < sorted.length; j++) if (pending.mark(sorted[j]!) !== DELETED) sink.pending(sorted[j]!);
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
