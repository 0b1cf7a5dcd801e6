/**
 * Sorting the entries of an EntryList bytewise (memcmp, a shorter prefix first) without a string
 * or an object per entry: the order comes back as an array of indices. An import's index keys
 * used to be latin1 strings sorted natively; at a million datoms those strings (never pretenured)
 * were copied by every scavenge and marked by every full collection.
 *
 * Most-significant-byte-first radix sort: a run of entries that agree on their first `depth`
 * bytes is split by byte `depth` with a counting sort, and each group of entries with equal bytes
 * is sorted the same way from `depth + 1`. A pass is a read of one byte an entry and, unless the
 * run is in order by that byte already (as an import's EAVT keys are, entity by entity), one
 * scatter. Small runs are sorted by insertion, comparing bytes from `depth`.
 */
import type { EntryList } from './entry-list.js';

/** Runs at most this long are sorted by insertion: below it, a counting pass costs more. */
const SMALL_RUN = 24;

/**
 * Sorts lists of entries bytewise. Its working memory (5 bytes an entry of the longest list) is
 * shared by the lists it sorts: at a million keys a list, allocating it per list was megabytes of
 * ArrayBuffers, and V8 runs a full collection for every 64 MB of those.
 */
export class EntrySorter {
  private digits: Uint8Array;
  private moved: Uint32Array;
  private readonly counts = new Uint32Array(256);

  constructor(capacity = 0) {
    this.digits = new Uint8Array(capacity);
    this.moved = new Uint32Array(capacity);
  }

  /** Indices of `list`'s entries in ascending byte order; equal entries in no particular order. */
  sortedOrder(list: EntryList): Uint32Array {
    const n = list.count;
    if (this.digits.length < n) {
      this.digits = new Uint8Array(n);
      this.moved = new Uint32Array(n);
    }
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    new RunSorter(list.bytes, list.offsets, order, this.digits, this.moved, this.counts).sort(0, n, 0);
    return order;
  }
}

/**
 * One list's sort. The working arrays are indexed like `order`: sorting a group uses only its own
 * share of them, so the groups after it, still to be found, keep their bytes.
 */
class RunSorter {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly offsets: Uint32Array,
    private readonly order: Uint32Array,
    /** Each entry's byte at the run's depth, in the run's current order. */
    private readonly digits: Uint8Array,
    /** The run's order while it is rearranged. */
    private readonly moved: Uint32Array,
    /** Entries per byte value, then where each value's group goes; used before any recursion. */
    private readonly counts: Uint32Array,
  ) {}

  /** Sorts order[from, to), whose entries agree on their first `depth` bytes. */
  sort(from: number, to: number, depth: number): void {
    const order = this.order;
    const offsets = this.offsets;
    const bytes = this.bytes;
    const digits = this.digits;
    // A run whose entries all have the same byte here goes on at the next byte, in this loop.
    for (;;) {
      if (to - from <= SMALL_RUN) {
        this.insertionSort(from, to, depth);
        return;
      }
      // Entries that end at `depth` are prefixes of every longer one in the run, and equal to
      // each other: they come first. Taking them out is what ends the loop for equal entries.
      for (let i = from; i < to; i++) {
        const at = order[i]!;
        if (offsets[at + 1]! - offsets[at]! === depth) {
          order[i] = order[from]!;
          order[from++] = at;
        }
      }
      if (to - from <= 1) return;
      let inOrder = true;
      let same = true;
      const first = bytes[offsets[order[from]!]! + depth]!;
      let previous = first;
      for (let i = from; i < to; i++) {
        const b = bytes[offsets[order[i]!]! + depth]!;
        if (b < previous) inOrder = false;
        if (b !== first) same = false;
        previous = b;
        digits[i] = b;
      }
      if (same) {
        depth++;
        continue;
      }
      if (!inOrder) this.scatter(from, to);
      let start = from;
      for (let i = from + 1; i <= to; i++) {
        if (i < to && digits[i] === digits[start]) continue;
        if (i - start > 1) this.sort(start, i, depth + 1);
        start = i;
      }
      return;
    }
  }

  /** Reorders order[from, to) by `digits` (a counting sort), the digits with it. */
  private scatter(from: number, to: number): void {
    const order = this.order;
    const digits = this.digits;
    const moved = this.moved;
    const counts = this.counts;
    counts.fill(0);
    for (let i = from; i < to; i++) counts[digits[i]!]!++;
    let at = from;
    for (let b = 0; b < 256; b++) {
      const c = counts[b]!;
      counts[b] = at;
      at += c;
    }
    for (let i = from; i < to; i++) moved[counts[digits[i]!]!++] = order[i]!;
    order.set(moved.subarray(from, to), from);
    // The digits in the new order: each value's group, one after another.
    let i = from;
    for (let b = 0; b < 256; b++) {
      const end = counts[b]!;
      if (end > i) digits.fill(b, i, end);
      i = end;
    }
  }

  private insertionSort(from: number, to: number, depth: number): void {
    const order = this.order;
    for (let i = from + 1; i < to; i++) {
      const at = order[i]!;
      let j = i - 1;
      while (j >= from && this.compareFrom(order[j]!, at, depth) > 0) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = at;
    }
  }

  /** Entries a and b compared from byte `depth`, where they agree before it: bytes, then length. */
  private compareFrom(a: number, b: number, depth: number): number {
    const bytes = this.bytes;
    const offsets = this.offsets;
    const aStart = offsets[a]!;
    const bStart = offsets[b]!;
    const aLength = offsets[a + 1]! - aStart;
    const bLength = offsets[b + 1]! - bStart;
    const n = aLength < bLength ? aLength : bLength;
    for (let i = depth; i < n; i++) {
      const d = bytes[aStart + i]! - bytes[bStart + i]!;
      if (d !== 0) return d;
    }
    return aLength - bLength;
  }
}
