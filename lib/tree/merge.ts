/** Applying sorted operations to a sorted packed list: shared by the write path and the cursor. */
import { type EntryList, EntryListBuilder } from './entry-list.js';
import { compareAt, lowerBound } from './search.js';
import { OpKind, type TreeSchema } from './tree-schema.js';

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
 * between operations are copied whole.
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
  const copyRun = (end: number) => {
    if (isBuffer) outKinds.set(baseKinds.subarray(i, end), out.size);
    out.pushRun(base, i, end);
    i = end;
  };
  for (let j = from; j < to; j++) {
    copyRun(Math.min(baseTo, lowerBound(base, ops.bytes, ops.start(j), ops.end(j), compare, i)));
    if (i < baseTo && compareAt(compare, base, i, ops, j) === 0) i++;
    if (isBuffer) outKinds[out.size] = kinds[j]!;
    if (isBuffer || kinds[j] === OpKind.insert) out.pushEntry(ops, j);
  }
  copyRun(baseTo);
  return { entries: out.finish(), kinds: isBuffer ? outKinds.slice(0, out.size) : noKinds };
}
