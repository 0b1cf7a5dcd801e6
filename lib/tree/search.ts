/** Binary searches shared by the read and write paths: no allocation, no closures per step. */

/** First index i in [from, to) with compare(items[i], key) >= 0 (or `to`). */
export function lowerBound<E>(items: readonly E[], key: E, compare: (a: E, b: E) => number, from = 0, to = items.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(items[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i in [from, to) with compare(items[i], key) > 0 (or `to`). */
export function upperBound<E>(items: readonly E[], key: E, compare: (a: E, b: E) => number, from = 0, to = items.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(items[mid]!, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with predicate(items[i]) false, for a predicate true on a prefix of items. */
export function partitionPoint<E>(items: readonly E[], predicate: (item: E) => boolean, from = 0, to = items.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (predicate(items[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
