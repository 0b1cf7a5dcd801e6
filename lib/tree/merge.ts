/** Applying sorted operations to a sorted packed list: shared by the write path and the cursor. */
import { type EntryList, EntryListBuilder, prefixOf } from './entry-list.js';
import { compareAt, lowerBound } from './search.js';
import { compareBytes, OpKind, type TreeSchema } from './tree-schema.js';

export interface MergedList {
  readonly entries: EntryList;
  readonly kinds: Uint8Array;
}

const noKinds = new Uint8Array(0);

/**
 * Applies ops[from, to) (with `kinds`) to base[baseFrom, baseTo) (by default all of it; every op
 * must fall inside that part's key range). For entries (`baseKinds` undefined) a remove deletes
 * and an insert adds or replaces; for a buffer of operations (`baseKinds` given) the incoming
 * operation replaces any buffered one on the same entry, whatever the kinds. Runs of `base`
 * between operations are copied whole, and so are runs of operations between two base entries:
 * a sorted batch appended to a leaf or buffer is one copy, not one search and push per entry.
 */
export function mergeOps(
  compare: TreeSchema<unknown>['compare'],
  base: EntryList,
  baseKinds: Uint8Array | undefined,
  ops: EntryList,
  kinds: Uint8Array,
  from: number,
  to: number,
  baseFrom = 0,
  baseTo = base.count,
): MergedList {
  const baseBytes = baseTo > baseFrom ? base.end(baseTo - 1) - base.start(baseFrom) : 0;
  const out = new EntryListBuilder(baseBytes + ops.start(to) - ops.start(from), baseTo - baseFrom + to - from);
  const isBuffer = baseKinds !== undefined;
  const outKinds = isBuffer ? new Uint8Array(baseTo - baseFrom + to - from) : noKinds;
  let i = baseFrom;
  for (let j = from; j < to; ) {
    const at = gallop(compare, base, i, baseTo, ops, j);
    if (isBuffer) outKinds.set(baseKinds.subarray(i, at), out.size);
    out.pushRun(base, i, at);
    i = at;
    if (i < baseTo && compareAt(compare, base, i, ops, j) === 0) i++;
    // Ops j to k all lie before base entry i (the next one kept): they go out together.
    const k = i < baseTo ? gallop(compare, ops, j + 1, to, base, i) : to;
    if (isBuffer) {
      outKinds.set(kinds.subarray(j, k), out.size);
      out.pushRun(ops, j, k);
    } else {
      while (j < k) {
        while (j < k && kinds[j] !== OpKind.insert) j++;
        const inserts = j;
        while (j < k && kinds[j] === OpKind.insert) j++;
        out.pushRun(ops, inserts, j);
      }
    }
    j = k;
  }
  if (isBuffer) outKinds.set(baseKinds.subarray(i, baseTo), out.size);
  out.pushRun(base, i, baseTo);
  return { entries: out.finish(), kinds: isBuffer ? outKinds.slice(0, out.size) : noKinds };
}

/**
 * First index in [from, to) of `list` whose entry is >= entry `at` of `other`, probing from `from`
 * at doubling distances: about 2·log2(distance) comparisons, where a binary search over the rest
 * takes log2(to - from). A merge steps through both lists: the runs of base entries between
 * consecutive operations are short when the operations are many (a batch landing in a buffer), and
 * a run of operations between two base entries mostly holds one (random operations) or very many
 * (sorted ones).
 */
function gallop(compare: TreeSchema<unknown>['compare'], list: EntryList, from: number, to: number, other: EntryList, at: number): number {
  if (compare === compareBytes) return gallopBytewise(list, from, to, other.bytes, other.start(at), other.end(at));
  let lo = from;
  let hi = from;
  let step = 1;
  while (hi < to && compareAt(compare, list, hi, other, at) < 0) {
    lo = hi + 1;
    hi = lo + step;
    step *= 2;
  }
  return lowerBound(list, other.bytes, other.start(at), other.end(at), compare, lo, hi < to ? hi : to);
}

/**
 * `gallop` under the bytewise order, comparing first four bytes as one integer and the rest only
 * on a tie: the lists a batch merges (drafts, batches, replaced pages) carry no prefix index, and
 * most neighbouring entries differ early (datoms: in the entity).
 */
function gallopBytewise(list: EntryList, from: number, to: number, key: Uint8Array, keyStart: number, keyEnd: number): number {
  const bytes = list.bytes;
  const offsets = list.offsets;
  const keyPrefix = prefixOf(key, keyStart, keyEnd);
  let lo = from;
  let hi = from;
  let step = 1;
  while (hi < to && orderBytewise(bytes, offsets[hi]!, offsets[hi + 1]!, key, keyStart, keyEnd, keyPrefix) < 0) {
    lo = hi + 1;
    hi = lo + step;
    step *= 2;
  }
  if (hi > to) hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (orderBytewise(bytes, offsets[mid]!, offsets[mid + 1]!, key, keyStart, keyEnd, keyPrefix) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** bytes[start, end) against the key, whose prefix (prefixOf) is `keyPrefix`. */
function orderBytewise(bytes: Uint8Array, start: number, end: number, key: Uint8Array, keyStart: number, keyEnd: number, keyPrefix: number): number {
  const prefix = prefixOf(bytes, start, end);
  if (prefix !== keyPrefix) return prefix < keyPrefix ? -1 : 1;
  return compareBytes(bytes, start, end, key, keyStart, keyEnd);
}
