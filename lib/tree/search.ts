/** Binary searches over packed entry lists: the key is a byte range, nothing is allocated. */
import { type EntryList, prefixOf } from './entry-list.js';
import type { TreeSchema } from './tree-schema.js';

type Compare = TreeSchema<unknown>['compare'];

/**
 * Narrows [from, to) to the entries whose prefix equals the key's, when the list has prefixes:
 * entries with a smaller prefix are smaller than the key, those with a larger one larger. The
 * start is found from an interpolated guess, galloping to bracket it, then halving; the end
 * gallops forward from it, since few entries share a prefix (for datoms, one entity's) and most
 * often none does, which then costs one probe. The range goes into `range` rather than a returned
 * pair, so a search allocates nothing.
 *
 * Why a guess: a warm point read's time is mostly the cache misses of halving over a leaf's
 * prefixes (a leaf of ~170 datoms: five or six lines touched). Entity ids come from a counter, so
 * the prefixes of an EAVT leaf (an entity's id) are nearly evenly spread and the guess lands a
 * few entries from the answer, one or two lines. A poor guess costs at most about twice the
 * halving's probes (the gallops are logarithmic in the distance). The guess interpolates between
 * the list's first and last prefixes, or between `lowPrefix` and `highPrefix` when the caller
 * knows bounds of them (>= 0; see boundWithin).
 */
const range = [0, 0];
function narrow(list: EntryList, key: Uint8Array, keyStart: number, keyEnd: number, from: number, to: number, lowPrefix: number, highPrefix: number): void {
  const prefixes = list.prefixes!;
  const p = prefixOf(key, keyStart, keyEnd);
  let lo = from;
  let hi = to;
  // Short ranges (a branch's share of its buffer, runs) are halved at once.
  if (hi - lo > 16) {
    let g = -1;
    if (lowPrefix >= 0) {
      // The parent's pivots bound the prefixes: the guess loads nothing of this list but itself.
      const span = highPrefix - lowPrefix;
      g = p <= lowPrefix || span <= 0 ? lo : lo + Math.floor(Math.min(1, (p - lowPrefix) / span) * (hi - 1 - lo));
    } else {
      const first = prefixes[lo]!;
      const last = prefixes[hi - 1]!;
      if (p <= first) hi = lo;
      else if (p > last) lo = hi;
      else g = lo + Math.floor(((p - first) / (last - first)) * (hi - 1 - lo));
    }
    if (g >= 0) {
      let step = 1;
      if (prefixes[g]! < p) {
        // The start lies after g: gallop forward until a prefix is not below p.
        let a = g;
        while (a + step < hi && prefixes[a + step]! < p) {
          a += step;
          step *= 2;
        }
        lo = a + 1;
        if (a + step < hi) hi = a + step;
      } else {
        // The start is at g or before: gallop back until a prefix is below p.
        let b = g;
        while (b - step >= lo && prefixes[b - step]! >= p) {
          b -= step;
          step *= 2;
        }
        hi = b;
        if (b - step + 1 > lo) lo = b - step + 1;
      }
    }
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (prefixes[mid]! < p) lo = mid + 1;
    else hi = mid;
  }
  // Gallop: prefixes[end - 1] equals p (or end is lo); every prefix from lo on is >= p.
  let end = lo;
  let step = 1;
  while (end < to && prefixes[end]! === p) {
    end += step;
    step *= 2;
  }
  if (step > 2) {
    // The last jump went past the equal run: its end lies after the previous landing point.
    hi = end < to ? end : to;
    end -= step >> 1;
    while (end < hi) {
      const mid = (end + hi) >>> 1;
      if (prefixes[mid]! === p) end = mid + 1;
      else hi = mid;
    }
  }
  range[0] = lo;
  range[1] = end;
}

/**
 * First index i in [from, to) whose entry is past the key: >= key, or with `afterEqual` > key
 * (or `to`).
 */
function search(
  list: EntryList,
  key: Uint8Array,
  keyStart: number,
  keyEnd: number,
  compare: Compare,
  from: number,
  to: number,
  afterEqual: boolean,
  lowPrefix = -1,
  highPrefix = -1,
): number {
  const bytes = list.bytes;
  const offsets = list.offsets;
  let lo = from;
  let hi = to;
  if (list.prefixes !== undefined) {
    narrow(list, key, keyStart, keyEnd, from, to, lowPrefix, highPrefix);
    lo = range[0]!;
    hi = range[1]!;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = compare(bytes, offsets[mid]!, offsets[mid + 1]!, key, keyStart, keyEnd);
    if (order < 0 || (afterEqual && order === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Index of the entry equal to the key among [from, to), or -1: a lookup stops at the first equal
 * entry it meets, and needs no comparison at all when no entry shares the key's prefix.
 */
export function find(list: EntryList, key: Uint8Array, keyStart: number, keyEnd: number, compare: Compare, from = 0, to = list.count): number {
  const bytes = list.bytes;
  const offsets = list.offsets;
  let lo = from;
  let hi = to;
  if (list.prefixes !== undefined) {
    narrow(list, key, keyStart, keyEnd, lo, hi, -1, -1);
    lo = range[0]!;
    hi = range[1]!;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = compare(bytes, offsets[mid]!, offsets[mid + 1]!, key, keyStart, keyEnd);
    if (order === 0) return mid;
    if (order < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** First index i in [from, to) whose entry is >= key (or `to`). */
export const lowerBound = (list: EntryList, key: Uint8Array, keyStart: number, keyEnd: number, compare: Compare, from = 0, to = list.count): number =>
  search(list, key, keyStart, keyEnd, compare, from, to, false);

/** First index i in [from, to) whose entry is > key (or `to`). */
export const upperBound = (list: EntryList, key: Uint8Array, keyStart: number, keyEnd: number, compare: Compare, from = 0, to = list.count): number =>
  search(list, key, keyStart, keyEnd, compare, from, to, true);

/**
 * `lowerBound` (with `afterEqual`: `upperBound`) over a whole list with prefixes that lie in
 * [lowPrefix, highPrefix], the prefixes of the pivots around it in its parent: the first guess
 * comes from those, already in the cache, instead of the list's own first and last prefixes, two
 * more cache misses before the first probe on a descent to a cold node.
 */
export const boundWithin = (list: EntryList, key: Uint8Array, keyEnd: number, compare: Compare, afterEqual: boolean, lowPrefix: number, highPrefix: number): number =>
  search(list, key, 0, keyEnd, compare, 0, list.count, afterEqual, lowPrefix, highPrefix);

/** Whether entry i of `list` begins with `key[0, keyEnd)`. */
export function startsWith(list: EntryList, i: number, key: Uint8Array, keyEnd: number): boolean {
  const bytes = list.bytes;
  const start = list.offsets[i]!;
  if (list.offsets[i + 1]! - start < keyEnd) return false;
  for (let j = 0; j < keyEnd; j++) if (bytes[start + j] !== key[j]) return false;
  return true;
}

/** Entry i of `a` against entry j of `b`. */
export const compareAt = (compare: Compare, a: EntryList, i: number, b: EntryList, j: number): number =>
  compare(a.bytes, a.start(i), a.end(i), b.bytes, b.start(j), b.end(j));

/**
 * Where each child's share of a branch's buffered operations starts: child c's operations are
 * bounds[c] to bounds[c + 1] (the buffer is sorted, so each share is one run).
 */
export function bufferBounds(buffer: EntryList, pivots: EntryList, compare: Compare): Uint32Array {
  const bounds = new Uint32Array(pivots.count + 2);
  for (let c = 0; c < pivots.count; c++) bounds[c + 1] = lowerBound(buffer, pivots.bytes, pivots.start(c), pivots.end(c), compare, bounds[c]);
  bounds[pivots.count + 1] = buffer.count;
  return bounds;
}
