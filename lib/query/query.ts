/**
 * `db.q` and `db.explain`: parse (cached by query text), bind the inputs, plan (cached per
 * database value), execute, shape the result.
 *
 * Inputs follow `:in`, except that a plain `$` is the database `q` is called on and takes no
 * input (so `:in $ ?min` takes one input, the minimum). Without `:in`, the query takes `$` only.
 */
import { Db } from '../db/db.js';
import { ErrorCode, QueryError } from '../errors.js';
import type { Arg, Binding, Clause, ClauseKind, PredicateClause, Query, Rules } from './ast.js';
import { addRelation, collect, Env, Relation, runSteps, type Source } from './execute.js';
import { elementsOf, findVars, shapeResult } from './find.js';
import { formText, keywordNames, parseQuery, parseRules } from './parse.js';
import { bindingVars, explainSteps, type Step, termVars } from './plan.js';
import { type ValueRange, valueRangeOf } from './value-range.js';
import { valueEquals } from './values.js';

interface Compiled {
  readonly query: Query;
  readonly findVars: readonly string[];
  /** Plans by database value, then by rule-set text ('' without rules). */
  readonly plans: WeakMap<Db, Map<string, Step[]>>;
}

const CACHE_SIZE = 512;
const textCache = new Map<string, Compiled>();
const formCache = new WeakMap<object, Compiled>();
const rulesCache = new Map<string, Rules>();

/** The parsed query, from the cache when the same text (or the same array) was seen before. */
export function compile(query: unknown): Compiled {
  if (typeof query === 'string') {
    const hit = textCache.get(query);
    if (hit !== undefined) {
      // Refresh its place: the Map's order is the eviction order.
      textCache.delete(query);
      textCache.set(query, hit);
      return hit;
    }
  } else if (typeof query === 'object' && query !== null) {
    const hit = formCache.get(query);
    if (hit !== undefined) return hit;
  } else {
    throw new QueryError(ErrorCode.queryParse, 'a query is EDN text or the array form');
  }
  const parsed = parseQuery(query);
  checkFind(parsed);
  const compiled: Compiled = { query: parsed, findVars: findVars(parsed), plans: new WeakMap() };
  if (typeof query === 'string') {
    textCache.set(query, compiled);
    if (textCache.size > CACHE_SIZE) textCache.delete(textCache.keys().next().value!);
  } else {
    formCache.set(query as object, compiled);
  }
  return compiled;
}

/** Every variable `:find` and `:with` name must be bound by `:in` or a top-level clause. */
function checkFind(q: Query): void {
  const bound = new Set<string>();
  for (const b of q.in) if (b.kind !== 'source' && b.kind !== 'rules') for (const v of bindingVars(b)) bound.add(v);
  for (const c of q.where) for (const v of BINDS[c.kind](c as never)) bound.add(v);
  elementsOf(q.find).forEach((e, i) => {
    const vars = e.kind === 'var' ? [e.name] : e.kind === 'aggregate' ? [e.var, ...(e.fn.kind === 'input' ? [e.fn.name] : [])] : [e.var, ...('var' in e.pattern ? [e.pattern.var] : [])];
    for (const v of vars) {
      if (!bound.has(v)) throw new QueryError(ErrorCode.queryUnbound, `${v} is not bound by :in or :where`, `:find element ${i + 1}`, e.kind === 'var' ? e.name : e.kind === 'aggregate' ? e.text : `(pull ${e.var} ...)`);
    }
  });
  q.with.forEach((v, i) => {
    if (!bound.has(v)) throw new QueryError(ErrorCode.queryUnbound, `${v} is not bound by :in or :where`, `:with element ${i + 1}`, v);
  });
}

/** The variables a top-level clause binds for the rest of the query. */
const BINDS: { [K in ClauseKind]: (c: Extract<Clause, { kind: K }>) => string[] } = {
  pattern: (c) => termVars(c.terms),
  predicate: () => [],
  function: (c) => bindingVars(c.binding),
  not: () => [],
  or: (c) => c.joinVars?.slice() ?? [...new Set(c.branches.flatMap((b) => b.flatMap((x) => BINDS[x.kind](x as never))))],
  rule: (c) => termVars(c.args),
};

interface Bound {
  readonly env: Env;
  readonly relations: Relation[];
  readonly scalars: Map<string, unknown>;
  readonly rulesKey: string | undefined;
}

function bindInputs(db: Db, q: Query, inputs: readonly unknown[]): Bound {
  const consumed = q.in.filter((b) => !(b.kind === 'source' && b.name === '$'));
  if (consumed.length !== inputs.length) {
    throw new QueryError(ErrorCode.queryInput, `:in takes ${consumed.length} input${consumed.length === 1 ? '' : 's'} after $ (the database queried), ${inputs.length} given`, ':in');
  }
  const sources = new Map<string, Source>([['$', { kind: 'db', db }]]);
  const relations: Relation[] = [];
  const scalars = new Map<string, unknown>();
  let rules: Rules | undefined;
  let rulesKey: string | undefined = '';
  consumed.forEach((b, i) => {
    const value = inputs[i];
    const position = `:in element ${q.in.indexOf(b) + 1}`;
    switch (b.kind) {
      case 'source':
        if (value instanceof Db) sources.set(b.name, { kind: 'db', db: value });
        else if (Array.isArray(value) && value.every(Array.isArray)) sources.set(b.name, { kind: 'collection', tuples: value as unknown[][] });
        else throw new QueryError(ErrorCode.queryInput, `source ${b.name} must be a Db or an array of tuples`, position);
        rulesKey = undefined; // plans depend on these sources' sizes: not cached
        break;
      case 'rules':
        if (typeof value === 'string') {
          rules = rulesCache.get(value);
          if (rules === undefined) {
            rules = parseRules(value);
            rulesCache.set(value, rules);
            if (rulesCache.size > CACHE_SIZE) rulesCache.delete(rulesCache.keys().next().value!);
          }
          if (rulesKey !== undefined) rulesKey = value;
        } else {
          rules = parseRules(value);
          rulesKey = undefined;
        }
        break;
      default:
        if (b.kind === 'scalar' && b.target.kind === 'var') scalars.set(b.target.name, value);
        relations.push(inputRelation(b, value, position));
    }
  });
  return { env: new Env(sources, rules), relations, scalars, rulesKey };
}

function inputRelation(b: Binding, value: unknown, position: string): Relation {
  const vars = bindingVars(b);
  const tuple = (t: unknown, elements: readonly { kind: string; name?: string }[]): unknown[] | undefined => {
    if (!Array.isArray(t)) throw new QueryError(ErrorCode.queryInput, `expected a tuple of ${elements.length}, got ${formText(t)}`, position);
    if (t.length < elements.length) throw new QueryError(ErrorCode.queryInput, `expected a tuple of ${elements.length}, got ${t.length} values`, position);
    // A variable named twice in one binding takes only tuples that agree on it.
    if (elements.some((e, i) => e.name !== undefined && !valueEquals(t[elements.findIndex((x) => x.name === e.name)], t[i]))) return undefined;
    return vars.map((v) => t[elements.findIndex((e) => e.name === v)]);
  };
  const collection = (v: unknown): unknown[] => {
    if (!Array.isArray(v)) throw new QueryError(ErrorCode.queryInput, `expected a collection (an array), got ${formText(v)}`, position);
    return v;
  };
  let rows: unknown[][];
  switch (b.kind) {
    case 'scalar':
      rows = [vars.length === 0 ? [] : [value]];
      break;
    case 'tuple': {
      const row = tuple(value, b.elements);
      rows = row === undefined ? [] : [row];
      break;
    }
    case 'collection':
      rows = collection(value).map((x) => (vars.length === 0 ? [] : [x]));
      break;
    case 'relation':
      rows = collection(value).flatMap((t) => { const row = tuple(t, b.elements); return row === undefined ? [] : [row]; });
      break;
  }
  return new Relation(vars, rows);
}

function planFor(compiled: Compiled, db: Db, bound: Bound): Step[] {
  const entry = new Set(bound.relations.flatMap((r) => r.vars));
  if (bound.rulesKey === undefined) return bound.env.plan(compiled.query.where, entry);
  let byRules = compiled.plans.get(db);
  if (byRules === undefined) {
    byRules = new Map();
    compiled.plans.set(db, byRules);
  }
  let plan = byRules.get(bound.rulesKey);
  if (plan === undefined) {
    plan = bound.env.plan(compiled.query.where, entry);
    byRules.set(bound.rulesKey, plan);
  }
  return plan;
}

/** `db.q(query, ...inputs)`. */
export function runQuery(db: Db, query: unknown, inputs: readonly unknown[]): unknown {
  const compiled = compile(query);
  const q = compiled.query;
  const bound = bindInputs(db, q, inputs);
  const plan = planFor(compiled, db, bound);
  const ctx: Relation[] = [];
  for (const r of bound.relations) addRelation(ctx, r);
  const rows = runSteps(plan, ctx, bound.env) ? collect(ctx, compiled.findVars) : [];
  return shapeResult(q, compiled.findVars, rows, {
    db: (name, position) => {
      const s = bound.env.sources.get(name);
      if (s === undefined || s.kind !== 'db') throw new QueryError(ErrorCode.queryInput, `pull needs ${name} to be a database`, position);
      return s.db;
    },
    input: (name) => bound.scalars.get(name),
  });
}

/** `db.explain(query, ...inputs)`: the plan as text, one step a line. */
export function explainQuery(db: Db, query: unknown, inputs: readonly unknown[]): string {
  const compiled = compile(query);
  const bound = bindInputs(db, compiled.query, inputs);
  const plan = planFor(compiled, db, bound);
  const entry = [...new Set(bound.relations.flatMap((r) => r.vars))];
  const lines = [`inputs bind: ${entry.length === 0 ? '(nothing)' : entry.join(' ')}`];
  lines.push(...explainSteps(plan, (s, following) => describePattern(s, following, bound)));
  lines.push(`find: ${elementsOf(compiled.query.find).map((e) => (e.kind === 'var' ? e.name : e.kind === 'aggregate' ? e.text : `(pull ${e.var} ...)`)).join(' ')}${compiled.query.with.length > 0 ? ` :with ${compiled.query.with.join(' ')}` : ''}`);
  return lines.join('\n');
}

function describePattern(step: Extract<Step, { kind: 'pattern' }>, following: readonly PredicateClause[], bound: Bound): string {
  const env = bound.env;
  const source = env.sources.get(step.clause.source);
  if (source?.kind === 'collection') return `match ${step.clause.source} (collection of ${source.tuples.length})`;
  const [e, a, v] = step.clause.terms;
  const known = (t: typeof e) => t.kind === 'const' || (t.kind === 'var' && step.bound.includes(t.name));
  const show = (t: typeof e) => (t.kind === 'const' ? formText(t.value) : t.kind === 'var' ? t.name : '_');
  let index: string;
  let prefix: string[];
  const attribute = a.kind === 'const' && source?.kind === 'db' ? source.db.snapshot.schema.find(formText(a.value).replace(/^:/, ''), source.db.basisT) : undefined;
  if (known(e)) {
    index = 'EAVT';
    prefix = [show(e), ...(known(a) ? [show(a), ...(known(v) ? [show(v)] : [])] : [])];
  } else if (known(a) && known(v) && attribute !== undefined && (attribute.indexed || attribute.valueType === 'ref')) {
    index = attribute.indexed ? 'AVET' : 'VAET';
    prefix = attribute.indexed ? [show(a), show(v)] : [show(v), show(a)];
  } else if (known(a)) {
    index = 'AEVT';
    prefix = [show(a)];
  } else {
    index = 'EAVT';
    prefix = [];
  }
  // The comparisons that follow, as execute.ts applies them: on the encoded values in the scan,
  // and for an indexed attribute scanned on its own, as the AVET range between the bounds.
  const range = attribute === undefined ? undefined : valueRangeOf(step.clause, attribute.valueType, following, (arg) => explainedArg(arg, bound));
  if (range !== undefined && index === 'AEVT' && step.bound.length === 0 && attribute!.indexed) index = 'AVET';
  const values = range === undefined ? '' : `; values ${describeRange(range)}, compared in the scan`;
  const joined = step.bound.length > 0 ? `; joins ${step.bound.join(' ')}: seek per binding or scan + hash join, by row count` : '';
  return `${index} [${prefix.join(' ')}] est. ${step.estimate}${values}${joined}`;
}

/** An argument's value fixed for the whole query when explaining: a constant or a scalar input. */
function explainedArg(arg: Arg, bound: Bound): { readonly value: unknown } | undefined {
  if (arg.kind === 'const') return { value: keywordNames(arg.value) };
  return arg.kind === 'var' && bound.scalars.has(arg.name) ? { value: bound.scalars.get(arg.name) } : undefined;
}

function describeRange({ lower, upper }: ValueRange): string {
  const sides: string[] = [];
  if (lower !== undefined) sides.push(`${lower.inclusive ? '>=' : '>'} ${String(lower.value)}`);
  if (upper !== undefined) sides.push(`${upper.inclusive ? '<=' : '<'} ${String(upper.value)}`);
  return sides.join(' and ');
}
