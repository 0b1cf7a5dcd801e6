/**
 * Built-in functions and predicates of `:where` expressions, by the names Datomic and DataScript
 * give them. Arguments arrive evaluated (a `$` argument as its Db); a function that cannot take
 * its arguments throws a plain Error, which the executor reports as SEDIMENT_QUERY_FUNCTION
 * naming the clause. Truthiness is Clojure's: only `false`, `null` and `undefined` are false.
 */
import { Db } from '../db/db.js';
import { compareValues, valueEquals } from './values.js';

export type QueryFunction = (...args: unknown[]) => unknown;

const truthy = (v: unknown) => v !== false && v !== null && v !== undefined;

function num(v: unknown, fn: string): number {
  if (typeof v !== 'number') throw new Error(`${fn} takes numbers, got ${describe(v)}`);
  return v;
}

function str(v: unknown, fn: string): string {
  if (typeof v !== 'string') throw new Error(`${fn} takes strings, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a tuple';
  return typeof v === 'object' ? v.constructor.name : `${typeof v} ${String(v)}`;
}

function chain(test: (c: number) => boolean): QueryFunction {
  return (...args) => {
    for (let i = 1; i < args.length; i++) if (!test(compareValues(args[i - 1], args[i]))) return false;
    return true;
  };
}

/** Clojure's `str`: nil prints as nothing, values as their text. */
function strOf(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

function arithmetic(name: string, identity: number | undefined, op: (a: number, b: number) => number): QueryFunction {
  return (...args) => {
    if (args.length === 0) {
      if (identity === undefined) throw new Error(`${name} needs at least one argument`);
      return identity;
    }
    let acc = num(args[0], name);
    if (args.length === 1 && name === '-') return -acc;
    if (args.length === 1 && name === '/') return 1 / acc;
    for (let i = 1; i < args.length; i++) acc = op(acc, num(args[i], name));
    return acc;
  };
}

function dbArg(v: unknown, fn: string): Db {
  if (!(v instanceof Db)) throw new Error(`${fn} takes a database ($) first`);
  return v;
}

/** The current values of attribute `a` on entity `e` in `db`. */
function valuesOf(db: Db, e: unknown, a: unknown, fn: string): unknown[] {
  const attribute = db.attribute(a, fn);
  const id = db.entityId(e, fn);
  if (id === undefined) return [];
  const out: unknown[] = [];
  for (const d of db.scanCurrent('eavt', { e: id, a: attribute.id })) out.push(db.snapshot.resolve(d.v));
  return out;
}

export const BUILTINS: ReadonlyMap<string, QueryFunction> = new Map<string, QueryFunction>([
  ['=', (...args) => args.every((a) => valueEquals(a, args[0]))],
  ['==', (...args) => args.every((a) => num(a, '==') === num(args[0], '=='))],
  ['not=', (...args) => !args.every((a) => valueEquals(a, args[0]))],
  ['!=', (...args) => !args.every((a) => valueEquals(a, args[0]))],
  ['<', chain((c) => c < 0)],
  ['>', chain((c) => c > 0)],
  ['<=', chain((c) => c <= 0)],
  ['>=', chain((c) => c >= 0)],
  ['compare', (a, b) => compareValues(a, b)],
  ['+', arithmetic('+', 0, (a, b) => a + b)],
  ['-', arithmetic('-', undefined, (a, b) => a - b)],
  ['*', arithmetic('*', 1, (a, b) => a * b)],
  ['/', arithmetic('/', undefined, (a, b) => a / b)],
  ['quot', (a, b) => Math.trunc(num(a, 'quot') / num(b, 'quot'))],
  ['rem', (a, b) => num(a, 'rem') % num(b, 'rem')],
  ['mod', (a, b) => {
    const x = num(a, 'mod');
    const y = num(b, 'mod');
    const m = x % y;
    return m !== 0 && (m < 0) !== (y < 0) ? m + y : m;
  }],
  ['inc', (a) => num(a, 'inc') + 1],
  ['dec', (a) => num(a, 'dec') - 1],
  ['max', (...args) => args.reduce((m, x) => (compareValues(x, m) > 0 ? x : m))],
  ['min', (...args) => args.reduce((m, x) => (compareValues(x, m) < 0 ? x : m))],
  ['abs', (a) => Math.abs(num(a, 'abs'))],
  ['zero?', (a) => num(a, 'zero?') === 0],
  ['pos?', (a) => num(a, 'pos?') > 0],
  ['neg?', (a) => num(a, 'neg?') < 0],
  ['even?', (a) => num(a, 'even?') % 2 === 0],
  ['odd?', (a) => Math.abs(num(a, 'odd?') % 2) === 1],
  ['true?', (a) => a === true],
  ['false?', (a) => a === false],
  ['nil?', (a) => a === null || a === undefined],
  ['some?', (a) => a !== null && a !== undefined],
  ['not', (a) => !truthy(a)],
  ['identity', (a) => a],
  ['str', (...args) => args.map(strOf).join('')],
  ['subs', (s, start, end) => {
    const text = str(s, 'subs');
    const from = num(start, 'subs');
    const to = end === undefined ? text.length : num(end, 'subs');
    if (from < 0 || to > text.length || from > to) throw new Error(`subs: range ${from}..${to} is outside a string of ${text.length}`);
    return text.slice(from, to);
  }],
  ['count', (a) => {
    if (typeof a === 'string' || Array.isArray(a)) return a.length;
    throw new Error(`count takes a string or a tuple, got ${describe(a)}`);
  }],
  ['upper-case', (s) => str(s, 'upper-case').toUpperCase()],
  ['lower-case', (s) => str(s, 'lower-case').toLowerCase()],
  ['clojure.string/upper-case', (s) => str(s, 'upper-case').toUpperCase()],
  ['clojure.string/lower-case', (s) => str(s, 'lower-case').toLowerCase()],
  ['starts-with?', (s, p) => str(s, 'starts-with?').startsWith(str(p, 'starts-with?'))],
  ['ends-with?', (s, p) => str(s, 'ends-with?').endsWith(str(p, 'ends-with?'))],
  ['includes?', (s, p) => str(s, 'includes?').includes(str(p, 'includes?'))],
  ['blank?', (s) => s === null || s === undefined || str(s, 'blank?').trim() === ''],
  ['clojure.string/starts-with?', (s, p) => str(s, 'starts-with?').startsWith(str(p, 'starts-with?'))],
  ['clojure.string/ends-with?', (s, p) => str(s, 'ends-with?').endsWith(str(p, 'ends-with?'))],
  ['clojure.string/includes?', (s, p) => str(s, 'includes?').includes(str(p, 'includes?'))],
  ['clojure.string/blank?', (s) => s === null || s === undefined || str(s, 'blank?').trim() === ''],
  ['re-find', (re, s) => {
    const m = regex(re).exec(str(s, 're-find'));
    return m === null ? null : m.length > 1 ? [...m] : m[0];
  }],
  ['re-matches', (re, s) => {
    const text = str(s, 're-matches');
    const m = regex(re).exec(text);
    if (m === null || m.index !== 0 || m[0].length !== text.length) return null;
    return m.length > 1 ? [...m] : m[0];
  }],
  ['re-pattern', (s) => new RegExp(str(s, 're-pattern'))],
  ['vector', (...args) => args],
  ['tuple', (...args) => args],
  ['untuple', (t) => {
    if (!Array.isArray(t)) throw new Error(`untuple takes a tuple, got ${describe(t)}`);
    return t;
  }],
  ['ground', (v) => v],
  ['missing?', (db, e, a) => valuesOf(dbArg(db, 'missing?'), e, a, 'missing?').length === 0],
  ['get-else', (db, e, a, otherwise) => {
    const source = dbArg(db, 'get-else');
    if (source.attribute(a, 'get-else').cardinality === 'many') throw new Error('get-else takes a cardinality-one attribute');
    if (otherwise === null || otherwise === undefined) throw new Error('get-else takes a default other than nil');
    const values = valuesOf(source, e, a, 'get-else');
    return values.length === 0 ? otherwise : values[0];
  }],
  ['get-some', (db, e, ...attrs) => {
    const source = dbArg(db, 'get-some');
    for (const a of attrs) {
      const values = valuesOf(source, e, a, 'get-some');
      if (values.length > 0) return [source.attribute(a, 'get-some').ident, values[0]];
    }
    return null;
  }],
]);

/**
 * Built-ins that return for any arguments. The planner may run these on rows that a clause written
 * before them would have dropped; the others (arithmetic, string functions, `missing?` …) throw
 * on some values, so they wait for the clauses written before them (see plan.ts).
 */
export const TOTAL_BUILTINS: ReadonlySet<string> = new Set([
  '=', 'not=', '!=', '<', '>', '<=', '>=', 'compare', 'max', 'min',
  'true?', 'false?', 'nil?', 'some?', 'not', 'identity', 'str', 'vector', 'tuple', 'ground',
]);

function regex(re: unknown): RegExp {
  if (re instanceof RegExp) return new RegExp(re.source, re.flags.replace('g', ''));
  return new RegExp(str(re, 're-find'));
}

export { truthy };
