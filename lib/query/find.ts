/**
 * The find stage: the bound variables a query returns, grouped and aggregated, shaped as the
 * find spec says (DataScript's shapes: relation → array of tuples, scalar → a value or null,
 * collection → array, tuple → array or null; `:keys` → objects).
 *
 * As in Datomic, the relation aggregated is the *set* of tuples of the find and `:with`
 * variables: `[:find (sum ?x)]` adds distinct values; `:with ?e` keeps one per entity.
 */
import type { Db } from '../db/db.js';
import { ErrorCode, QueryError } from '../errors.js';
import type { AggregateFn, FindElement, FindElementKind, FindSpec, Query } from './ast.js';
import { addNew, compareValues, keyOf, rowKey } from './values.js';

export type Aggregate = (values: unknown[], ...params: unknown[]) => unknown;

function numbers(values: unknown[], fn: string): number[] {
  for (const v of values) if (typeof v !== 'number') throw new Error(`${fn} takes numbers, got ${typeof v}`);
  return values as number[];
}

const sum = (values: unknown[]) => numbers(values, 'sum').reduce((a, b) => a + b, 0);
const avg = (values: unknown[]) => sum(values) / values.length;
const variance = (values: unknown[]) => {
  const mean = avg(values);
  return numbers(values, 'variance').reduce((acc, x) => acc + (x - mean) * (x - mean), 0) / values.length;
};
const sorted = (values: unknown[]) => values.slice().sort(compareValues);
const distinct = (values: unknown[]) => {
  const seen = new Map<unknown, unknown>();
  for (const v of values) if (!seen.has(keyOf(v))) seen.set(keyOf(v), v);
  return [...seen.values()];
};
const limit = (n: unknown, fn: string): number => {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new Error(`(${fn} n ?x) takes a count n`);
  return n;
};

export const AGGREGATES: ReadonlyMap<string, Aggregate> = new Map<string, Aggregate>([
  ['count', (values) => values.length],
  ['count-distinct', (values) => distinct(values).length],
  ['sum', sum],
  ['avg', avg],
  ['median', (values) => {
    const s = numbers(sorted(values), 'median');
    const mid = s.length >> 1;
    return s.length % 2 === 1 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
  }],
  ['variance', variance],
  ['stddev', (values) => Math.sqrt(variance(values))],
  ['distinct', distinct],
  // (min n ?x) and (max n ?x) take the n least / greatest of the bag, repeats included, as
  // DataScript does: `:with` decides what repeats.
  ['min', (values, n) => (n === undefined ? values.reduce((m, x) => (compareValues(x, m) < 0 ? x : m)) : sorted(values).slice(0, limit(n, 'min')))],
  ['max', (values, n) => (n === undefined ? values.reduce((m, x) => (compareValues(x, m) > 0 ? x : m)) : sorted(values).reverse().slice(0, limit(n, 'max')))],
]);

/** The variables a find element reads from the bindings. */
const ELEMENT_VARS: { [K in FindElementKind]: (e: Extract<FindElement, { kind: K }>) => string[] } = {
  var: (e) => [e.name],
  aggregate: (e) => [e.var],
  // A pattern variable is a scalar input, read from the inputs (FindContext.input).
  pull: (e) => [e.var],
};

export function elementsOf(spec: FindSpec): readonly FindElement[] {
  return spec.kind === 'relation' || spec.kind === 'tuple' ? spec.elements : [spec.element];
}

/** Variables the find stage needs bound, in a fixed order: the find elements', then `:with`. */
export function findVars(q: Query): string[] {
  const out: string[] = [];
  for (const e of elementsOf(q.find)) for (const v of ELEMENT_VARS[e.kind](e as never)) if (!out.includes(v)) out.push(v);
  for (const v of q.with) if (!out.includes(v)) out.push(v);
  return out;
}

export interface FindContext {
  /** Sources by name, for pull. */
  readonly db: (source: string, position: string) => Db;
  /** Scalar inputs, for aggregate functions passed in. */
  readonly input: (name: string) => unknown;
}

/** Shapes `rows` (distinct tuples over `vars`) into the query's result. */
export function shapeResult(q: Query, vars: readonly string[], rows: unknown[][], ctx: FindContext): unknown {
  const elements = elementsOf(q.find);
  const cols = elements.map((e) => vars.indexOf(e.kind === 'var' ? e.name : e.var));
  let tuples: unknown[][];
  if (elements.some((e) => e.kind === 'aggregate')) {
    tuples = aggregate(elements, cols, rows, ctx);
  } else if (q.with.length === 0 && cols.every((c, i) => c === i) && cols.length === vars.length) {
    // The rows are already the distinct tuples of exactly these variables.
    tuples = rows;
  } else {
    // Drop the :with columns, then duplicates.
    const seen = new Set<unknown>();
    tuples = [];
    for (const row of rows) {
      const t = cols.map((c) => row[c]);
      const k = rowKey(t, ALL[t.length] ?? t.map((_, i) => i));
      if (!addNew(seen, k)) continue;
      tuples.push(t);
    }
  }
  const pulls = elements.map((e, i) => (e.kind === 'pull' ? { e, i } : undefined)).filter((x) => x !== undefined);
  if (pulls.length > 0) {
    for (const { e, i } of pulls) {
      if (e.kind !== 'pull') continue;
      const db = ctx.db(e.source, `:find element ${i + 1}`);
      const pattern = 'var' in e.pattern ? ctx.input(e.pattern.var) : e.pattern.value;
      for (const t of tuples) t[i] = db.pull(pattern as never, t[i]);
    }
  }
  const shaped = q.keys === undefined ? tuples : tuples.map((t) => Object.fromEntries(q.keys!.map((k, i) => [k, t[i]])));
  switch (q.find.kind) {
    case 'relation':
      return shaped;
    case 'tuple':
      return shaped[0] ?? null;
    case 'scalar':
      return tuples[0]?.[0] ?? null;
    case 'collection':
      return tuples.map((t) => t[0]);
  }
}

const ALL: number[][] = [[], [0], [0, 1], [0, 1, 2], [0, 1, 2, 3]];

function aggregateFn(fn: AggregateFn, text: string, position: string, ctx: FindContext): Aggregate {
  if (fn.kind === 'builtin') {
    const f = AGGREGATES.get(fn.name);
    if (f === undefined) throw new QueryError(ErrorCode.queryUnknownFunction, `unknown aggregate ${fn.name} (pass your own as an :in variable: (aggregate ?f ?x))`, position, text);
    return f;
  }
  const f = ctx.input(fn.name);
  if (typeof f !== 'function') throw new QueryError(ErrorCode.queryUnknownFunction, `${fn.name} is not bound to a function by :in`, position, text);
  return f as Aggregate;
}

/** Groups by the non-aggregate elements and aggregates each group's values (a bag). */
function aggregate(elements: readonly FindElement[], cols: readonly number[], rows: unknown[][], ctx: FindContext): unknown[][] {
  const fns = elements.map((e, i) => (e.kind === 'aggregate' ? aggregateFn(e.fn, e.text, `:find element ${i + 1}`, ctx) : undefined));
  const groupCols = cols.filter((_, i) => elements[i]!.kind !== 'aggregate');
  const groups = new Map<unknown, unknown[][]>();
  for (const row of rows) {
    const k = rowKey(row, groupCols);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [row]);
    else g.push(row);
  }
  const out: unknown[][] = [];
  for (const g of groups.values()) {
    out.push(elements.map((e, i) => {
      if (e.kind !== 'aggregate') return g[0]![cols[i]!];
      const values = g.map((row) => row[cols[i]!]);
      try {
        // Built-ins take the values first; functions passed in take the constant arguments
        // first and the values last, as DataScript calls them.
        return e.fn.kind === 'builtin' ? fns[i]!(values, ...e.args) : (fns[i] as (...args: unknown[]) => unknown)(...e.args, values);
      } catch (error) {
        if (error instanceof QueryError) throw error;
        throw new QueryError(ErrorCode.queryFunction, `aggregate failed: ${(error as Error).message}`, `:find element ${i + 1}`, e.text);
      }
    }));
  }
  return out;
}
