/** Binary searches over packed entry lists: the key is a byte range, nothing is allocated. */
import type { EntryList } from './entry-list.js';
import type { TreeSchema } from './tree-schema.js';

type Compare = TreeSchema<unknown>['compare'];

/** First index i in [from, to) whose entry is >= key (or `to`). */
export function lowerBound(list: EntryList, key: Uint8Array, keyStart: number, keyEnd: number, compare: Compare, from = 0, to = list.count): number {
  const bytes = list.bytes;
  const offsets = list.offsets;
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(bytes, offsets[mid]!, offsets[mid + 1]!, key, keyStart, keyEnd) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i in [from, to) whose entry is > key (or `to`). */
export function upperBound(list: EntryList, key: Uint8Array, keyStart: number, keyEnd: number, compare: Compare, from = 0, to = list.count): number {
  const bytes = list.bytes;
  const offsets = list.offsets;
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(bytes, offsets[mid]!, offsets[mid + 1]!, key, keyStart, keyEnd) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Entry i of `a` against entry j of `b`. */
export const compareAt = (compare: Compare, a: EntryList, i: number, b: EntryList, j: number): number =>
  compare(a.bytes, a.start(i), a.end(i), b.bytes, b.start(j), b.end(j));
