/**
 * Suffix truncation of separators. A pivot between two children only has to sort after every
 * entry on its left and not after the first entry on its right; under the bytewise order the
 * shortest such key is the right entry cut one byte past where it first differs from the left
 * one. Datom keys differ early (in the entity id), so pivots shrink from ~22 bytes to ~4, and a
 * branch's pivots and child ids take less than half the room: the buffer gets the rest (see
 * `bufferRoom` in node.ts). Only for schemas ordered by `compareBytes` itself: another comparator
 * may read past a key's end (a map's, comparing a fixed-length key) or order prefixes otherwise.
 */
import type { EntryList, EntryListBuilder } from './entry-list.js';
import { compareBytes, type TreeSchema } from './tree-schema.js';

/** Whether separators may be truncated under this order. */
export const truncatesSeparators = (compare: TreeSchema<unknown>['compare']): boolean => compare === compareBytes;

/**
 * Length of the shortest prefix of right[rightStart, rightEnd) that sorts after
 * left[leftStart, leftEnd) bytewise (left < right): one byte past their first difference.
 */
export function separatorLength(left: Uint8Array, leftStart: number, leftEnd: number, right: Uint8Array, rightStart: number, rightEnd: number): number {
  const rightLength = rightEnd - rightStart;
  const common = Math.min(leftEnd - leftStart, rightLength);
  let i = 0;
  while (i < common && left[leftStart + i] === right[rightStart + i]) i++;
  return i + 1 < rightLength ? i + 1 : rightLength;
}

/** Appends the separator between entries `i - 1` and `i` of `list`: entry i, truncated if `truncate`. */
export function pushSeparator(out: EntryListBuilder, list: EntryList, i: number, truncate: boolean): void {
  const start = list.start(i);
  const end = truncate ? start + separatorLength(list.bytes, list.start(i - 1), list.end(i - 1), list.bytes, start, list.end(i)) : list.end(i);
  out.push(list.bytes, start, end);
}
