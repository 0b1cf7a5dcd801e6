/**
 * Comparison predicates pushed into a data pattern's scan. A predicate that runs right after a
 * pattern, comparing the pattern's value variable with a number (`[(> ?s 50000)]`, or a scalar
 * input), bounds the values the pattern can usefully produce. For numeric attributes the index
 * encoding orders values as numbers do (key-codec.ts), so the scan compares each entry's encoded
 * value with the encoded bound and drops the others before decoding anything; an indexed
 * attribute scanned without bindings reads only the AVET range between the bounds. The predicate
 * itself still runs afterwards, so the pushdown only ever removes rows it would remove.
 *
 * Only longs and doubles: strings are ordered by code point in the index and by UTF-16 unit in
 * comparisons, and the other types never meet numbers in a comparison.
 */
import type { StoredValue } from '../db/encoding/key-codec.js';
import type { ValueType } from '../db/schema/value-type.js';
import { compareBytes } from '../tree/tree-schema.js';
import type { Arg, PatternClause, PredicateClause } from './ast.js';
import { encodedValue } from './pattern-scan.js';

/** One side of a value range: the value, its encoding, and whether it is included. */
export interface ValueBound {
  readonly value: StoredValue;
  readonly bytes: Uint8Array;
  readonly inclusive: boolean;
}

export interface ValueRange {
  readonly lower: ValueBound | undefined;
  readonly upper: ValueBound | undefined;
}

/** For each comparison, with the variable on the left: whether it bounds from below, and inclusively. */
const COMPARISONS: ReadonlyMap<string, { readonly lower: boolean; readonly inclusive: boolean }> = new Map([
  ['>', { lower: true, inclusive: false }],
  ['>=', { lower: true, inclusive: true }],
  ['<', { lower: false, inclusive: false }],
  ['<=', { lower: false, inclusive: true }],
]);

/**
 * The range the predicates `following` (those placed right after the pattern) put on the
 * pattern's value variable, or undefined when none applies. `constant` gives the value of an
 * argument that is fixed for the whole scan (a constant, or a variable of a one-row relation).
 */
export function valueRangeOf(
  c: PatternClause,
  type: ValueType | undefined,
  following: readonly PredicateClause[],
  constant: (arg: Arg) => { readonly value: unknown } | undefined,
): ValueRange | undefined {
  if (type !== 'long' && type !== 'double') return undefined;
  const v = c.terms[2];
  if (v.kind !== 'var') return undefined;
  let lower: ValueBound | undefined;
  let upper: ValueBound | undefined;
  for (const p of following) {
    const comparison = p.fn.kind === 'builtin' && p.args.length === 2 ? COMPARISONS.get(p.fn.name) : undefined;
    if (comparison === undefined) continue;
    const [left, right] = p.args;
    const onLeft = left!.kind === 'var' && left!.name === v.name;
    const onRight = right!.kind === 'var' && right!.name === v.name;
    if (onLeft === onRight) continue;
    const other = constant(onLeft ? right! : left!);
    const value = other === undefined ? undefined : storedNumber(type, other.value);
    if (value === undefined) continue;
    // `(< 5 ?v)` bounds ?v from below, as `(> ?v 5)` does.
    const bound: ValueBound = { value, bytes: encodedValue(type, value), inclusive: comparison.inclusive };
    if (comparison.lower === onLeft) lower = tighter(lower, bound, 1);
    else upper = tighter(upper, bound, -1);
  }
  return lower === undefined && upper === undefined ? undefined : { lower, upper };
}

/** A number as the attribute stores it, when the comparison can be made on the encoding. */
function storedNumber(type: 'long' | 'double', value: unknown): number | undefined {
  if (typeof value !== 'number' || Number.isNaN(value)) return undefined;
  if (type === 'long') return Number.isSafeInteger(value) ? value : undefined;
  return value === 0 ? 0 : value; // -0 is stored as 0
}

/** The stricter of two bounds on one side (`direction` 1: the larger is stricter; -1: the smaller). */
function tighter(a: ValueBound | undefined, b: ValueBound, direction: number): ValueBound {
  if (a === undefined) return b;
  const order = compareBytes(a.bytes, 0, a.bytes.length, b.bytes, 0, b.bytes.length) * direction;
  if (order !== 0) return order > 0 ? a : b;
  return a.inclusive ? b : a;
}
