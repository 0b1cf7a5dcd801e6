/**
 * Values inside the engine: hash keys for joins and de-duplication, equality, and the total order
 * the comparison predicates and `min`/`max` use. Values are what datoms show (numbers, strings,
 * booleans, bigints, Dates, Uint8Arrays) plus whatever functions return (arrays for tuples).
 */

/**
 * A Map key equal for equal values: primitives are their own keys (Map compares them by value,
 * and 0 and -0 alike); Dates, byte arrays and tuples become tagged strings. A string starting
 * with NUL is tagged too, so no string can collide with an encoded key.
 */
export function keyOf(v: unknown): unknown {
  if (typeof v === 'string') return v.charCodeAt(0) === 0 ? `\u0000s${v}` : v;
  if (typeof v !== 'object' || v === null) return v;
  if (v instanceof Date) return `\u0000d${v.getTime()}`;
  if (v instanceof Uint8Array) return `\u0000b${Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex')}`;
  if (Array.isArray(v)) return `\u0000[${v.map(keyString).join(',')}]`;
  return v; // other objects (functions from inputs, Db values) by identity
}

let nextObjectId = 1;
const objectIds = new WeakMap<object, number>();

/** An injective string for any value: the parts of composite keys. */
export function keyString(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return `n${v}`;
    case 'string':
      return `s${v.length}:${v}`;
    case 'bigint':
      return `i${v}`;
    case 'boolean':
      return v ? 'T' : 'F';
    case 'undefined':
      return 'z';
    case 'object':
      if (v === null) return 'z';
      if (v instanceof Date) return `d${v.getTime()}`;
      if (v instanceof Uint8Array) return `b${Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex')}`;
      if (Array.isArray(v)) return `[${v.map(keyString).join(',')}]`;
      break;
    default:
      break;
  }
  const o = v as object;
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(o, id);
  }
  return `o${id}`;
}

const PAIR_HIGH = 2 ** 21 - 1;
const PAIR_LOW = 2 ** 32;
const SMALL_HIGH = 2 ** 15;
const SMALL_LOW = 2 ** 16;

/**
 * The key of several columns of a row. Two small non-negative integers (entity ids, mostly: rule
 * answers, ref joins) pack into one exact number, which hashes without building a string: below
 * 2^31 (a small integer V8 neither boxes nor allocates) when the first is under 2^15 and the
 * second under 2^16, else from 2^32 up (the first plus one, times 2^32), so the two packings
 * never meet. Any other pair gets a string key, so numbers and strings never collide either.
 */
export function rowKey(row: readonly unknown[], columns: readonly number[]): unknown {
  if (columns.length === 1) return keyOf(row[columns[0]!]);
  if (columns.length === 2) {
    const a = row[columns[0]!];
    const b = row[columns[1]!];
    if (typeof a === 'number' && typeof b === 'number' && Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= 0) {
      if (a < SMALL_HIGH && b < SMALL_LOW) return a * SMALL_LOW + b;
      if (a < PAIR_HIGH && b < PAIR_LOW) return (a + 1) * PAIR_LOW + b;
    }
  }
  let key = '';
  for (let i = 0; i < columns.length; i++) key += `${keyString(row[columns[i]!])}|`;
  return key;
}

/** Adds `key` to `set`; false when it was there already. One hash lookup, where `has` then `add` make two. */
export function addNew(set: Set<unknown>, key: unknown): boolean {
  const size = set.size;
  set.add(key);
  return set.size !== size;
}

export function valueEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return keyOf(a) === keyOf(b);
}

/** Rank of a value's type in the total order: numbers of every kind compare with each other. */
function typeRank(v: unknown): number {
  switch (typeof v) {
    case 'undefined':
      return 0;
    case 'boolean':
      return 1;
    case 'number':
    case 'bigint':
      return 2;
    case 'string':
      return 4;
    case 'object':
      if (v === null) return 0;
      if (v instanceof Date) return 3;
      if (v instanceof Uint8Array) return 5;
      if (Array.isArray(v)) return 6;
      return 7;
    default:
      return 7;
  }
}

/**
 * A total order: nil, booleans, numbers (longs, doubles and bigints by value), instants, strings
 * (by UTF-16 unit, as JavaScript and DataScript compare them), bytes, tuples (element-wise).
 * Values of different types order by type; Datomic would throw instead.
 */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 1:
      return (a === true ? 1 : 0) - (b === true ? 1 : 0);
    case 2:
      // Mixed number and bigint: compare exactly when both are integers.
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 3:
      return (a as Date).getTime() - (b as Date).getTime();
    case 5:
      return Buffer.compare(a as Uint8Array, b as Uint8Array);
    case 6: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    default:
      return 0;
  }
}
