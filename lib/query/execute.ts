/**
 * The executor: runs planned steps over a context of relations (sets of bindings).
 *
 * A context is a list of relations over disjoint variables; a clause joins into the relations it
 * shares variables with and otherwise starts a relation of its own, so variables that are never
 * joined are never multiplied out (the find stage takes the product only of what it returns).
 * Data patterns stream from index iterators: a pattern either scans its range once (the
 * constants form the index prefix) and hash-joins the matches, or, when few rows are bound,
 * seeks once per distinct binding (index nested-loop join). Nothing reads a whole index unless a
 * pattern has no constant and no bound variable at all.
 *
 * Rules: a call with no bound argument computes the rule's whole extension bottom-up with
 * semi-naive evaluation over the rules it is mutually recursive with (each round joins only the
 * facts new in the previous round); a call with bound arguments evaluates top-down from those
 * values, tabling each rule's answers by its bound arguments (a tabled call that is still being
 * evaluated answers what it has so far, and the evaluation repeats until nothing new appears).
 */
import type { Db } from '../db/db.js';
import { encodePrefix, type IndexOrder, type KeyComponents } from '../db/encoding/datom-key.js';
import { prefixEnd, type StoredValue } from '../db/encoding/key-codec.js';
import type { KeyRange } from '../db/index/index-reader.js';
import { Keyword } from '../db/edn.js';
import type { Attribute } from '../db/schema/schema.js';
import { normalizeValue } from '../db/schema/value-type.js';
import { ErrorCode, QueryError, SedimentError } from '../errors.js';
import type { Arg, Binding, Clause, PatternClause, PredicateClause, RuleBranch, RuleClause, Rules, Term } from './ast.js';
import { BUILTINS, type QueryFunction, truthy } from './functions.js';
import { keywordNames } from './parse.js';
import { countEntries, encodedValue, type ScannedDatom, scanEntries } from './pattern-scan.js';
import { bindingVars, type Estimator, planClauses, type PlanOptions, predicatesAfter, type Step, type StepKind, termVars } from './plan.js';
import { type ValueRange, valueRangeOf } from './value-range.js';
import { addNew, rowKey, valueEquals } from './values.js';

export class Relation {
  constructor(
    readonly vars: readonly string[],
    readonly rows: unknown[][],
    /** Known to hold no row twice (data patterns and what joins and filters make of them), so the find stage need not check. */
    readonly distinct = false,
  ) {}
}

export type Source = { readonly kind: 'db'; readonly db: Db } | { readonly kind: 'collection'; readonly tuples: readonly (readonly unknown[])[] };

interface Table {
  /** Seeds (bound-argument tuples) evaluated in this pass: 'running' until their evaluation ends. */
  readonly seeds: Map<unknown, 'running' | 'done'>;
  readonly answers: Map<unknown, unknown[][]>;
  readonly answerKeys: Set<unknown>;
}

/** Everything one execution of a query shares: its sources, rules and rule-evaluation state. */
export class Env {
  readonly extensions = new Map<string, unknown[][]>();
  readonly overrides = new Map<RuleClause, readonly unknown[][]>();
  readonly tables = new Map<string, Table>();
  readonly branchPlans = new Map<RuleBranch, Map<string, Step[]>>();
  /**
   * Relations of patterns scanned without bindings, by clause: the same in every round of a
   * rule's evaluation, so each is read once. Relations are never changed once made.
   */
  readonly scans = new Map<PatternClause, Relation>();
  seededDepth = 0;
  incomplete = false;
  grew = false;

  constructor(
    readonly sources: ReadonlyMap<string, Source>,
    readonly rules: Rules | undefined,
  ) {}

  source(name: string, c: { position: string; text: string }): Source {
    const s = this.sources.get(name);
    if (s === undefined) throw new QueryError(ErrorCode.queryInput, `source ${name} is not given in :in`, c.position, c.text);
    return s;
  }

  readonly planOptions: PlanOptions = {
    rules: undefined,
    estimator: (name) => {
      const s = this.sources.get(name);
      if (s === undefined) return undefined;
      if (s.kind === 'collection') return { count: () => s.tuples.length, valueSeekable: () => false };
      return dbEstimator(s.db);
    },
  };

  plan(clauses: readonly Clause[], entry: ReadonlySet<string>): Step[] {
    return planClauses(clauses, entry, { ...this.planOptions, rules: this.rules });
  }
}

type Ctx = Relation[];

// ----- relations -----------------------------------------------------------------------------------

function locate(ctx: Ctx, v: string): number {
  for (let i = 0; i < ctx.length; i++) if (ctx[i]!.vars.includes(v)) return i;
  return -1;
}

function isBound(ctx: Ctx, v: string): boolean {
  return locate(ctx, v) !== -1;
}

function product(a: Relation, b: Relation): Relation {
  const rows: unknown[][] = [];
  for (const x of a.rows) for (const y of b.rows) rows.push(x.concat(y));
  return new Relation([...a.vars, ...b.vars], rows, a.distinct && b.distinct);
}

/** Brings the relations holding `vars` together (a product only where they are disconnected). */
function gather(ctx: Ctx, vars: readonly string[]): Relation {
  const indexes = [...new Set(vars.map((v) => locate(ctx, v)).filter((i) => i !== -1))].sort((x, y) => y - x);
  if (indexes.length === 0) {
    const unit = new Relation([], [[]]);
    ctx.push(unit);
    return unit;
  }
  let rel = ctx[indexes[0]!]!;
  ctx.splice(indexes[0]!, 1);
  for (const i of indexes.slice(1)) {
    rel = product(ctx[i]!, rel);
    ctx.splice(i, 1);
  }
  ctx.push(rel);
  return rel;
}

/**
 * Hash tables of relations by join columns. Relations never change, and some are joined again
 * and again (a pattern scanned once serves every round of a rule's evaluation), so a table built
 * once serves every later join on the same columns.
 */
const joinTables = new WeakMap<Relation, Map<string, Map<unknown, unknown[][]>>>();

function cachedTable(rel: Relation, cols: readonly number[]): Map<unknown, unknown[][]> | undefined {
  return joinTables.get(rel)?.get(cols.join());
}

/** The rows grouped by their key on `cols`, for a hash join. */
function groupRows(rows: readonly unknown[][], cols: readonly number[]): Map<unknown, unknown[][]> {
  const table = new Map<unknown, unknown[][]>();
  for (const row of rows) {
    const k = rowKey(row, cols);
    const list = table.get(k);
    if (list === undefined) table.set(k, [row]);
    else list.push(row);
  }
  return table;
}

function buildTable(rel: Relation, cols: readonly number[]): Map<unknown, unknown[][]> {
  const table = groupRows(rel.rows, cols);
  let byCols = joinTables.get(rel);
  if (byCols === undefined) {
    byCols = new Map();
    joinTables.set(rel, byCols);
  }
  byCols.set(cols.join(), table);
  return table;
}

function hashJoin(a: Relation, b: Relation): Relation {
  const shared = a.vars.filter((v) => b.vars.includes(v));
  const bExtra = b.vars.map((v, i) => (a.vars.includes(v) ? -1 : i)).filter((i) => i !== -1);
  const vars = [...a.vars, ...bExtra.map((i) => b.vars[i]!)];
  const aCols = shared.map((v) => a.vars.indexOf(v));
  const bCols = shared.map((v) => b.vars.indexOf(v));
  // Probe a table built before if there is one; otherwise build on the smaller side.
  const cachedA = cachedTable(a, aCols);
  const cachedB = cachedA === undefined ? cachedTable(b, bCols) : undefined;
  const buildA = cachedA !== undefined || (cachedB === undefined && a.rows.length <= b.rows.length);
  const table = buildA ? (cachedA ?? buildTable(a, aCols)) : (cachedB ?? buildTable(b, bCols));
  const probe = buildA ? b.rows : a.rows;
  const probeCols = buildA ? bCols : aCols;
  const width = vars.length;
  const aWidth = a.vars.length;
  const rows: unknown[][] = [];
  for (const row of probe) {
    const matches = table.get(rowKey(row, probeCols));
    if (matches === undefined) continue;
    for (const m of matches) {
      const x = buildA ? m : row;
      const y = buildA ? row : m;
      const out = new Array<unknown>(width);
      for (let i = 0; i < aWidth; i++) out[i] = x[i];
      for (let i = 0; i < bExtra.length; i++) out[aWidth + i] = y[bExtra[i]!];
      rows.push(out);
    }
  }
  return new Relation(vars, rows, a.distinct && b.distinct);
}

/** Adds a relation to the context, hash-joining it with every relation it shares variables with. */
export function addRelation(ctx: Ctx, rel: Relation): void {
  let joined = rel;
  for (let i = ctx.length - 1; i >= 0; i--) {
    const other = ctx[i]!;
    if (other.vars.some((v) => joined.vars.includes(v))) {
      joined = hashJoin(other, joined);
      ctx.splice(i, 1);
    }
  }
  ctx.push(joined);
}

/** Rows of `vars` (all bound) across the context: distinct unless the caller removes repeats itself. */
export function collect(ctx: Ctx, vars: readonly string[], distinct = true): unknown[][] {
  if (ctx.some((r) => r.rows.length === 0)) return [];
  const parts: { rel: Relation; cols: number[]; names: string[] }[] = [];
  for (const rel of ctx) {
    const names = vars.filter((v) => rel.vars.includes(v));
    if (names.length > 0) parts.push({ rel, cols: names.map((v) => rel.vars.indexOf(v)), names });
  }
  if (parts.length === 1) return collectOne(parts[0]!.rel, vars, distinct);
  let rows: unknown[][] | undefined;
  let names: string[] = [];
  for (const p of parts) {
    const cols = p.cols;
    // Every variable of a relation known to be a set: its rows are distinct already.
    const check = distinct && !(p.rel.distinct && cols.length === p.rel.vars.length);
    const projected = project(p.rel.rows, cols, check);
    // A product only across relations that were never joined (usually there is one).
    if (rows === undefined) {
      rows = projected;
    } else {
      const next: unknown[][] = [];
      for (const x of rows) for (const y of projected) next.push(x.concat(y));
      rows = next;
    }
    names = names.concat(p.names);
  }
  if (rows === undefined) return [[]];
  const order = vars.map((v) => names.indexOf(v));
  return order.every((o, i) => o === i) ? rows : rows.map((r) => order.map((o) => r[o]));
}

/**
 * `collect` from one relation (the usual case): a relation that is a set over exactly `vars`, in
 * that order, is the answer as it is (its rows are never changed once made); otherwise each row is
 * projected straight into the order of `vars`.
 */
function collectOne(rel: Relation, vars: readonly string[], distinct: boolean): unknown[][] {
  const cols = vars.map((v) => rel.vars.indexOf(v));
  const whole = cols.length === rel.vars.length;
  const check = distinct && !(rel.distinct && whole);
  if (!check && whole && cols.every((c, i) => c === i)) return rel.rows;
  return project(rel.rows, cols, check);
}

function project(rows: readonly unknown[][], cols: readonly number[], check: boolean): unknown[][] {
  const seen = new Set<unknown>();
  const out: unknown[][] = [];
  for (const row of rows) {
    if (check) {
      const k = rowKey(row, cols);
      if (!addNew(seen, k)) continue;
    }
    const t = new Array<unknown>(cols.length);
    for (let i = 0; i < cols.length; i++) t[i] = row[cols[i]!];
    out.push(t);
  }
  return out;
}

// ----- steps ---------------------------------------------------------------------------------------

/** A step's runner; `steps` and `at` place it in its plan (a pattern reads the filters after it). */
const STEP_RUNNERS: { [K in StepKind]: (step: Extract<Step, { kind: K }>, ctx: Ctx, env: Env, steps: readonly Step[], at: number) => void } = {
  pattern: (s, ctx, env, steps, at) => runPattern(s.clause, ctx, env, predicatesAfter(steps, at)),
  predicate: (s, ctx, env) => runPredicate(s.clause, ctx, env),
  function: (s, ctx, env) => runFunction(s.clause, ctx, env),
  not: (s, ctx, env) => runNot(s, ctx, env),
  or: (s, ctx, env) => runOr(s, ctx, env),
  rule: (s, ctx, env) => runRule(s.clause, ctx, env),
};

/** Runs the steps in order; false as soon as the context is empty (nothing can match). */
export function runSteps(steps: readonly Step[], ctx: Ctx, env: Env): boolean {
  for (let at = 0; at < steps.length; at++) {
    const step = steps[at]!;
    if (ctx.some((r) => r.rows.length === 0)) return false;
    STEP_RUNNERS[step.kind](step as never, ctx, env, steps, at);
  }
  return !ctx.some((r) => r.rows.length === 0);
}

/** An argument's value when it is the same for every row: a constant, or a variable of a one-row relation. */
function fixedArg(ctx: Ctx, arg: Arg): { readonly value: unknown } | undefined {
  if (arg.kind === 'const') return { value: keywordNames(arg.value) };
  if (arg.kind !== 'var') return undefined;
  const i = locate(ctx, arg.name);
  if (i === -1) return undefined;
  const rel = ctx[i]!;
  return rel.rows.length === 1 ? { value: rel.rows[0]![rel.vars.indexOf(arg.name)] } : undefined;
}

// ----- data patterns -------------------------------------------------------------------------------

/** A pattern's constants resolved against a database; `never` when one names nothing there. */
interface Resolved {
  readonly never: boolean;
  readonly e: number | undefined;
  readonly a: Attribute | undefined;
  /** The value in stored form (for the index prefix) when the attribute is known. */
  readonly v: StoredValue | undefined;
  /** The value to compare with, when the attribute is not a constant. */
  readonly vAny: unknown;
  readonly tx: number | undefined;
  readonly added: boolean | undefined;
  /** Distinct datoms give distinct rows (see `injective`). */
  readonly injective: boolean;
}

const NEVER: Resolved = { never: true, e: undefined, a: undefined, v: undefined, vAny: undefined, tx: undefined, added: undefined, injective: false };

function constOf(t: Term): unknown {
  return t.kind === 'const' ? t.value : undefined;
}

function resolveEntity(db: Db, raw: unknown, c: PatternClause): number | undefined | null {
  if (raw === undefined) return undefined;
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw > 0 ? raw : null;
  if (raw instanceof Keyword || Array.isArray(raw)) return withClause(c, () => db.entityId(lookupForm(raw), 'query')) ?? null;
  throw new QueryError(ErrorCode.queryParse, `${JSON.stringify(raw)} cannot name an entity (use an id, a lookup ref or an :ident)`, c.position, c.text);
}

/** A lookup ref as the database takes it: its attribute as a name. */
function lookupForm(raw: unknown): unknown {
  return Array.isArray(raw) ? [raw[0] instanceof Keyword ? raw[0].name : raw[0], keywordNames(raw[1])] : raw;
}

function withClause<T>(c: { position: string; text: string }, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SedimentError && !(error instanceof QueryError)) {
      throw new QueryError(error.code, error.message.replace(/^query: /, ''), c.position, c.text);
    }
    throw error;
  }
}

function attributeOf(db: Db, raw: unknown, c: PatternClause): Attribute {
  if (typeof raw === 'number') {
    const a = db.snapshot.schema.byEntity(raw);
    if (a === undefined || a.since > db.basisT) throw new QueryError(ErrorCode.unknownAttribute, `no attribute has entity id ${raw}`, c.position, c.text);
    return a;
  }
  const name = raw instanceof Keyword ? raw.name : raw;
  if (typeof name !== 'string') throw new QueryError(ErrorCode.queryParse, 'an attribute is named by a keyword', c.position, c.text);
  const a = db.snapshot.schema.find(name, db.basisT);
  if (a === undefined) throw new QueryError(ErrorCode.unknownAttribute, `unknown attribute :${name}`, c.position, c.text);
  return a;
}

/** A value for attribute `a` in stored form, or undefined when it cannot be one of its values. */
function valueFor(db: Db, a: Attribute, raw: unknown, c: PatternClause): StoredValue | undefined {
  if (a.valueType === 'ref') {
    if (raw instanceof Keyword || Array.isArray(raw)) return withClause(c, () => db.entityId(lookupForm(raw), 'query'));
    return normalizeValue('ref', raw);
  }
  return normalizeValue(a.valueType, raw instanceof Keyword ? raw.name : raw);
}

function resolvePattern(db: Db, c: PatternClause): Resolved {
  const [te, ta, tv, ttx, tadded] = c.terms;
  const e = resolveEntity(db, constOf(te), c);
  if (e === null) return NEVER;
  const a = ta.kind === 'const' ? attributeOf(db, ta.value, c) : undefined;
  let v: StoredValue | undefined;
  let vAny: unknown;
  if (tv.kind === 'const') {
    if (a !== undefined) {
      v = valueFor(db, a, tv.value, c);
      if (v === undefined) return NEVER;
    } else {
      vAny = keywordNames(tv.value);
    }
  }
  const tx = ttx.kind === 'const' ? ttx.value : undefined;
  if (tx !== undefined && typeof tx !== 'number') return NEVER;
  const added = tadded.kind === 'const' ? tadded.value : undefined;
  if (added !== undefined && typeof added !== 'boolean') return NEVER;
  return { never: false, e, a, v, vAny, tx, added, injective: injective(c, db) };
}

interface Probe {
  e: number | undefined;
  a: Attribute | undefined;
  v: StoredValue | undefined;
  vAny: unknown;
}

/** The index and key components for a probe: the longest prefix its bound parts give. */
function access(p: Probe): { order: IndexOrder; c: KeyComponents; vInPrefix: boolean } {
  if (p.e !== undefined) {
    return { order: 'eavt', c: { e: p.e, a: p.a?.id, v: p.a === undefined ? undefined : p.v }, vInPrefix: p.a !== undefined && p.v !== undefined };
  }
  if (p.a !== undefined) {
    if (p.v !== undefined && p.a.indexed) return { order: 'avet', c: { a: p.a.id, v: p.v }, vInPrefix: true };
    if (p.v !== undefined && p.a.valueType === 'ref') return { order: 'vaet', c: { v: p.v, a: p.a.id }, vInPrefix: true };
    return { order: 'aevt', c: { a: p.a.id }, vInPrefix: false };
  }
  return { order: 'eavt', c: {}, vInPrefix: false };
}

/** The key range of a probe's access path. */
function rangeOf(db: Db, order: IndexOrder, c: KeyComponents): KeyRange {
  const lower = encodePrefix(order, c, db.snapshot.typeOf);
  return { lower, upper: prefixEnd(lower) };
}

/**
 * Calls `emit` for every datom the probe matches (value, tx and added filters applied); with
 * `entities` (ascending ids), only datoms of those entities, where the index is in entity order.
 */
function scanProbe(
  db: Db,
  p: Probe,
  tx: number | undefined,
  added: boolean | undefined,
  emit: (d: ScannedDatom) => void,
  entities?: Float64Array,
  values?: ValueRange,
  valueOrdered = false,
): void {
  let { order, c, vInPrefix } = access(p);
  const type = p.a?.valueType;
  // A constant value outside the prefix, of a known attribute: compared as encoded bytes.
  const encoded = !vInPrefix && p.v !== undefined && type !== undefined ? encodedValue(type, p.v) : undefined;
  const oneEntryPerEntity = entities !== undefined && !db.isHistory && p.a?.cardinality === 'one';
  const filter = { tx, added, since: db.sinceT, value: encoded, entities, oneEntryPerEntity, range: values };
  let range: KeyRange;
  let prefixRange = true;
  if (values !== undefined && valueOrdered && order === 'aevt' && p.v === undefined && p.a!.indexed) {
    // An indexed attribute's values in bounds: their AVET range rather than the whole attribute.
    order = 'avet';
    range = avetRange(db, p.a!.id, values);
    prefixRange = false;
  } else {
    range = rangeOf(db, order, c);
  }
  const want = p.vAny;
  if (vInPrefix || want === undefined) return scanEntries(db, order, range, type, filter, emit, prefixRange);
  // The attribute is not known (a variable): values of any type, compared decoded.
  scanEntries(db, order, range, type, filter, (d) => {
    if (valueEquals(d.value(), want)) emit(d);
  });
}

/** The AVET keys of attribute `a` with values inside `values`. */
function avetRange(db: Db, a: number, values: ValueRange): KeyRange {
  const typeOf = db.snapshot.typeOf;
  const { lower, upper } = values;
  const at = (v: StoredValue) => encodePrefix('avet', { a, v }, typeOf);
  const all = encodePrefix('avet', { a }, typeOf);
  return {
    // Past every entry of the value itself when it is excluded (its entries share its prefix).
    lower: lower === undefined ? all : lower.inclusive ? at(lower.value) : prefixEnd(at(lower.value)),
    upper: upper === undefined ? prefixEnd(all) : upper.inclusive ? prefixEnd(at(upper.value)) : at(upper.value),
  };
}

/** How many index entries the probe's prefix covers, counting no further than `cap`. */
function countUpTo(db: Db, p: Probe, cap: number): number {
  const { order, c } = access(p);
  return countEntries(db, order, rangeOf(db, order, c), cap);
}

/**
 * Range counts per database value and pattern, for the run-time choice between a scan and a seek
 * per binding and for the planner's estimates: a value never changes, so neither do its counts.
 * `n` is exact when below `cap`.
 */
const rangeCounts = new WeakMap<Db, Map<string, { n: number; cap: number }>>();
const COUNTS_PER_VALUE = 4_096;

function cachedCount(db: Db, c: PatternClause, cap: number, resolve: () => Resolved): number {
  let counts = rangeCounts.get(db);
  if (counts === undefined) {
    counts = new Map();
    rangeCounts.set(db, counts);
  }
  const known = counts.get(c.text);
  if (known !== undefined && (known.n < known.cap || cap <= known.cap)) return Math.min(known.n, cap);
  const r = resolve();
  const n = r.never ? 0 : countUpTo(db, r, cap);
  // Bounded, as a long-lived value may see endless query texts (constants written inline).
  if (counts.size >= COUNTS_PER_VALUE) counts.clear();
  counts.set(c.text, { n, cap });
  return n;
}

const ESTIMATE_CAP = 4_096;
/** A seek costs about as much as stepping over this many entries of a scan. */
const SEEK_COST = 16;

function dbEstimator(db: Db): Estimator {
  return {
    count(pattern) {
      return cachedCount(db, pattern, ESTIMATE_CAP, () => resolvePattern(db, pattern));
    },
    valueSeekable(pattern) {
      const a = pattern.terms[1];
      if (a.kind !== 'const') return false;
      const attribute = attributeOf(db, a.value, pattern);
      return attribute.indexed || attribute.valueType === 'ref';
    },
  };
}

/** Positions of a pattern: e a v tx added. */
const E = 0;
const A = 1;
const V = 2;
const TX = 3;
const ADDED = 4;

function runPattern(c: PatternClause, ctx: Ctx, env: Env, following: readonly PredicateClause[]): void {
  const source = env.source(c.source, c);
  if (source.kind === 'collection') return addRelation(ctx, matchCollection(c, source.tuples));
  const db = source.db;
  const r = resolvePattern(db, c);
  const vars = termVars(c.terms);
  if (r.never) return addRelation(ctx, new Relation(vars, []));
  const values = following.length === 0 ? undefined : valueRangeOf(c, r.a?.valueType, following, (arg) => fixedArg(ctx, arg));
  // Positions holding each variable (a variable may repeat: [?x :a ?x]).
  const varAt = c.terms.map((t) => (t.kind === 'var' ? t.name : undefined));
  const boundHere = vars.filter((v) => isBound(ctx, v));
  const seekVar = varAt[E] !== undefined && boundHere.includes(varAt[E]!) ? varAt[E]
    : varAt[V] !== undefined && boundHere.includes(varAt[V]!) && r.a !== undefined && (r.a.indexed || r.a.valueType === 'ref') ? varAt[V]
    : undefined;
  if (seekVar !== undefined) {
    const rel = ctx[locate(ctx, seekVar)]!;
    const cap = rel.rows.length * SEEK_COST;
    if (cachedCount(db, c, cap + 1, () => r) > cap) return lookupJoin(db, c, r, rel, ctx, varAt, values);
  }
  // Joined with exactly one relation: probe its hash table while scanning, so only matches
  // become rows. Otherwise (no relation, or several) the matches form a relation of their own.
  const holders = new Set(boundHere.map((v) => locate(ctx, v)));
  if (holders.size === 1) return scanJoin(db, r, ctx[[...holders][0]!]!, ctx, vars, varAt, values);
  // Filtered by what follows, the scan is no longer the pattern's alone: not shared.
  if (values !== undefined) return addRelation(ctx, scanPattern(db, r, vars, varAt, values));
  let scanned = env.scans.get(c);
  if (scanned === undefined) {
    scanned = scanPattern(db, r, vars, varAt, undefined);
    env.scans.set(c, scanned);
  }
  addRelation(ctx, scanned);
}

/** Hash join streamed from the index: `rel` hashed on the shared variables, the scan probes it. */
function scanJoin(db: Db, r: Resolved, rel: Relation, ctx: Ctx, vars: readonly string[], varAt: readonly (string | undefined)[], values: ValueRange | undefined): void {
  const schema = db.snapshot.schema;
  const shared = vars.filter((v) => rel.vars.includes(v));
  const relCols = shared.map((v) => rel.vars.indexOf(v));
  const sharedPos = shared.map((v) => varAt.indexOf(v));
  const fresh = vars.filter((v) => !rel.vars.includes(v));
  const freshPos = fresh.map((v) => varAt.indexOf(v));
  const repeats = varAt.some((v, i) => v !== undefined && varAt.indexOf(v) !== i);
  // Joined on the entity alone, through EAVT or AEVT (entries in entity order): a merge join.
  if (sharedPos.length === 1 && sharedPos[0] === E && entityOrdered(r)) {
    return mergeJoin(db, r, rel, ctx, relCols[0]!, fresh, freshPos, repeats ? varAt : undefined, values);
  }
  const table = groupRows(rel.rows, relCols);
  const rows: unknown[][] = [];
  const probe = new Array<unknown>(sharedPos.length);
  const probeCols = sharedPos.map((_, i) => i);
  scanProbe(db, r, r.tx, r.added, (d) => {
    for (let i = 0; i < sharedPos.length; i++) probe[i] = positionValue(sharedPos[i]!, d, schema);
    const matches = table.get(rowKey(probe, probeCols));
    if (matches === undefined) return;
    if (repeats && !repeatsAgree(varAt, d, schema)) return;
    for (const m of matches) {
      const out = m.slice();
      for (let i = 0; i < freshPos.length; i++) out.push(positionValue(freshPos[i]!, d, schema));
      rows.push(out);
    }
  }, undefined, values);
  ctx[ctx.indexOf(rel)] = new Relation([...rel.vars, ...fresh], rows, rel.distinct && r.injective);
}

/** Whether the pattern reads EAVT or AEVT, whose entries for one attribute come in entity order. */
function entityOrdered(r: Resolved): boolean {
  const order = access(r).order;
  return order === 'eavt' || order === 'aevt';
}

/**
 * The relation's rows grouped by the entity id in column `col`, groups ascending: group k holds
 * `rows[starts[k], starts[k + 1])`, all with id `ids[k]`. Rows without an entity id there (a
 * positive safe integer) are left out: they can match nothing.
 */
interface EntityGroups {
  readonly ids: Float64Array;
  readonly starts: Int32Array;
  readonly rows: readonly unknown[][];
}

const isEntityId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

function groupByEntity(rows: readonly unknown[][], col: number): EntityGroups {
  // Rows often are all entity ids in entity order already (from an AVET range of one value, or
  // from an earlier merge join): then they are grouped as they are, else filtered and sorted.
  let numeric = rows;
  if (!ascendingIds(rows, col)) {
    numeric = rows.filter((row) => isEntityId(row[col]));
    let ordered = true;
    for (let i = 1; i < numeric.length && ordered; i++) ordered = (numeric[i - 1]![col] as number) <= (numeric[i]![col] as number);
    if (!ordered) numeric = numeric.slice().sort((x, y) => (x[col] as number) - (y[col] as number));
  }
  const ids = new Float64Array(numeric.length);
  const starts = new Int32Array(numeric.length + 1);
  let k = 0;
  for (let i = 0; i < numeric.length; i++) {
    const id = numeric[i]![col] as number;
    if (k === 0 || ids[k - 1] !== id) {
      ids[k] = id;
      starts[k++] = i;
    }
  }
  starts[k] = numeric.length;
  return { ids: ids.subarray(0, k), starts: starts.subarray(0, k + 1), rows: numeric };
}

/** Whether column `col` of every row is an entity id, in ascending order. */
function ascendingIds(rows: readonly unknown[][], col: number): boolean {
  let last = 0;
  for (let i = 0; i < rows.length; i++) {
    const id = rows[i]![col];
    if (!isEntityId(id) || id < last) return false;
    last = id;
  }
  return true;
}

/** The scan, merged with the relation's sorted entity ids, skips every entry of another entity. */
function mergeJoin(
  db: Db,
  r: Resolved,
  rel: Relation,
  ctx: Ctx,
  col: number,
  fresh: readonly string[],
  freshPos: readonly number[],
  repeatsOf: readonly (string | undefined)[] | undefined,
  values: ValueRange | undefined,
): void {
  const schema = db.snapshot.schema;
  const groups = groupByEntity(rel.rows, col);
  const { starts, rows: sorted } = groups;
  const rows: unknown[][] = [];
  const relWidth = rel.vars.length;
  const width = relWidth + freshPos.length;
  scanProbe(db, r, r.tx, r.added, (d) => {
    if (repeatsOf !== undefined && !repeatsAgree(repeatsOf, d, schema)) return;
    const k = d.entityIndex;
    // A pattern binding nothing new only filters: the rows are kept as they are (rows are never
    // changed once made, so two relations may share one).
    if (freshPos.length === 0) {
      for (let j = starts[k]!; j < starts[k + 1]!; j++) rows.push(sorted[j]!);
      return;
    }
    for (let j = starts[k]!; j < starts[k + 1]!; j++) {
      // Sized once: a copy grown by push allocates its backing store twice.
      const row = sorted[j]!;
      const out = new Array<unknown>(width);
      for (let i = 0; i < relWidth; i++) out[i] = row[i];
      for (let i = 0; i < freshPos.length; i++) out[relWidth + i] = positionValue(freshPos[i]!, d, schema);
      rows.push(out);
    }
  }, groups.ids, values);
  ctx[ctx.indexOf(rel)] = new Relation([...rel.vars, ...fresh], rows, rel.distinct && r.injective);
}

/**
 * Whether distinct datoms give distinct rows of the pattern's variables: entity, attribute and
 * value are each a variable or a constant (no blank), and, in a history database, where one
 * datom may be asserted and retracted again and again, tx and added too.
 */
function injective(c: PatternClause, db: Db): boolean {
  const t = c.terms;
  if (t[E]!.kind === 'blank' || t[A]!.kind === 'blank' || t[V]!.kind === 'blank') return false;
  return !db.isHistory || (t[TX]!.kind !== 'blank' && t[ADDED]!.kind !== 'blank');
}

/** The pattern's matches as a relation over its variables, one scan of its constant range. */
function scanPattern(db: Db, r: Resolved, vars: readonly string[], varAt: readonly (string | undefined)[], values: ValueRange | undefined): Relation {
  const rows: unknown[][] = [];
  const cols = vars.map((v) => varAt.indexOf(v));
  const repeats = varAt.some((v, i) => v !== undefined && varAt.indexOf(v) !== i);
  const schema = db.snapshot.schema;
  // One closure per scan, not per datom; it fills a row in the order of `vars`.
  scanProbe(db, r, r.tx, r.added, (d) => {
    const row = new Array<unknown>(cols.length);
    for (let i = 0; i < cols.length; i++) row[i] = positionValue(cols[i]!, d, schema);
    if (repeats && !repeatsAgree(varAt, d, schema)) return;
    rows.push(row);
  }, undefined, values, true);
  return new Relation(vars, rows, r.injective);
}

function positionValue(position: number, d: ScannedDatom, schema: Db['snapshot']['schema']): unknown {
  switch (position) {
    case E:
      return d.e;
    case A:
      return schema.ofDatom(d.a).ident;
    case V:
      return d.value();
    case TX:
      return d.tx;
    default:
      return d.added;
  }
}

function repeatsAgree(varAt: readonly (string | undefined)[], d: ScannedDatom, schema: Db['snapshot']['schema']): boolean {
  for (let i = 0; i < varAt.length; i++) {
    const name = varAt[i];
    if (name === undefined) continue;
    const first = varAt.indexOf(name);
    if (first !== i && !valueEquals(positionValue(first, d, schema), positionValue(i, d, schema))) return false;
  }
  return true;
}

/** Index nested-loop join: one seek per distinct binding of the relation's variables in the pattern. */
function lookupJoin(db: Db, c: PatternClause, r: Resolved, rel: Relation, ctx: Ctx, varAt: readonly (string | undefined)[], values: ValueRange | undefined): void {
  const schema = db.snapshot.schema;
  const boundCols = varAt.map((v) => (v === undefined ? -1 : rel.vars.indexOf(v)));
  const newVars = termVars(c.terms).filter((v) => !rel.vars.includes(v));
  const newPos = newVars.map((v) => varAt.indexOf(v));
  const keyCols = boundCols.filter((i) => i !== -1);
  const memo = new Map<unknown, unknown[][]>();
  const rows: unknown[][] = [];
  for (const row of rel.rows) {
    const k = rowKey(row, keyCols);
    let found = memo.get(k);
    if (found === undefined) {
      found = [];
      seek(row, found);
      memo.set(k, found);
    }
    for (const extra of found) rows.push(row.concat(extra));
  }
  ctx.splice(ctx.indexOf(rel), 1);
  addRelation(ctx, new Relation([...rel.vars, ...newVars], rows, rel.distinct && r.injective));

  function seek(row: unknown[], out: unknown[][]): void {
    const p: Probe = { e: r.e, a: r.a, v: r.v, vAny: r.vAny };
    let tx = r.tx;
    let added = r.added;
    const boundValue = (pos: number) => (boundCols[pos] === -1 ? undefined : row[boundCols[pos]!]);
    const e = boundValue(E);
    if (e !== undefined) {
      if (typeof e !== 'number') return;
      p.e = e;
    }
    const a = boundValue(A);
    if (a !== undefined) {
      const attribute = typeof a === 'string' || typeof a === 'number' ? attributeOrUndefined(db, a) : undefined;
      if (attribute === undefined) return;
      p.a = attribute;
    }
    const v = boundValue(V);
    if (v !== undefined) {
      if (p.a !== undefined) {
        const stored = normalizeValue(p.a.valueType, v);
        if (stored === undefined) return;
        p.v = stored;
      } else {
        p.vAny = v;
      }
    }
    const t = boundValue(TX);
    if (t !== undefined) tx = t as number;
    const ad = boundValue(ADDED);
    if (ad !== undefined) added = ad as boolean;
    scanProbe(db, p, tx, added, (d) => {
      if (!repeatsAgree(varAt, d, schema)) return;
      const extra = new Array<unknown>(newPos.length);
      for (let i = 0; i < newPos.length; i++) extra[i] = positionValue(newPos[i]!, d, schema);
      out.push(extra);
    }, undefined, values);
  }
}

function attributeOrUndefined(db: Db, a: string | number): Attribute | undefined {
  if (typeof a === 'number') {
    const attribute = db.snapshot.schema.byEntity(a);
    return attribute !== undefined && attribute.since <= db.basisT ? attribute : undefined;
  }
  return db.snapshot.schema.find(a, db.basisT);
}

/** A pattern against a collection source: tuples matched position by position. */
function matchCollection(c: PatternClause, tuples: readonly (readonly unknown[])[]): Relation {
  const vars = termVars(c.terms);
  const width = c.terms.reduce((w, t, i) => (t.kind === 'blank' ? w : i + 1), 0);
  const rows: unknown[][] = [];
  for (const tuple of tuples) {
    if (tuple.length < width) continue;
    const row = new Array<unknown>(vars.length);
    const set = new Array<boolean>(vars.length).fill(false);
    let ok = true;
    for (let i = 0; i < width && ok; i++) {
      const t = c.terms[i]!;
      const value = tuple[i];
      if (t.kind === 'const') ok = valueEquals(value, keywordNames(t.value));
      else if (t.kind === 'var') {
        const j = vars.indexOf(t.name);
        if (set[j]) ok = valueEquals(row[j], value);
        row[j] = value;
        set[j] = true;
      }
    }
    if (ok) rows.push(row);
  }
  return new Relation(vars, rows);
}

// ----- expressions ---------------------------------------------------------------------------------

/** A one-row relation whose variables an expression reads as constants (see runPredicate). */
interface Fixed {
  readonly rel: Relation;
  readonly row: readonly unknown[];
}

function functionOf(c: Extract<Clause, { kind: 'predicate' | 'function' }>, rel: Relation, row: unknown[], fixed?: Fixed): QueryFunction {
  if (c.fn.kind === 'builtin') return BUILTINS.get(c.fn.name)!;
  const i = rel.vars.indexOf(c.fn.name);
  const f = i === -1 && fixed !== undefined ? fixed.row[fixed.rel.vars.indexOf(c.fn.name)] : row[i];
  if (typeof f !== 'function') throw new QueryError(ErrorCode.queryUnknownFunction, `${c.fn.name} is not bound to a function`, c.position, c.text);
  return f as QueryFunction;
}

function argGetters(args: readonly Arg[], rel: Relation, env: Env, c: Clause, fixed?: Fixed): ((row: unknown[]) => unknown)[] {
  return args.map((a) => {
    switch (a.kind) {
      case 'var': {
        const i = rel.vars.indexOf(a.name);
        if (i === -1 && fixed !== undefined) {
          const value = fixed.row[fixed.rel.vars.indexOf(a.name)];
          return () => value;
        }
        return (row: unknown[]) => row[i];
      }
      case 'const': {
        const value = keywordNames(a.value);
        return () => value;
      }
      case 'source': {
        const s = env.source(a.name, c);
        const value = s.kind === 'db' ? s.db : s.tuples;
        return () => value;
      }
      case 'blank':
        return () => undefined;
    }
  });
}

function call(c: Extract<Clause, { kind: 'predicate' | 'function' }>, f: QueryFunction, args: unknown[]): unknown {
  try {
    return f(...args);
  } catch (error) {
    if (error instanceof SedimentError) throw withClause(c, () => { throw error; });
    throw new QueryError(ErrorCode.queryFunction, `${c.fn.name} failed: ${(error as Error).message ?? String(error)}`, c.position, c.text);
  }
}

function runPredicate(c: Extract<Clause, { kind: 'predicate' }>, ctx: Ctx, env: Env): void {
  const vars = termVars(c.args).concat(c.fn.kind === 'input' ? [c.fn.name] : []);
  // Variables of one-row relations (scalar inputs, mostly) are constants here: filtering the
  // other relations' product alone is filtering its product with that row, which is not built.
  const rowVars = vars.filter((v) => ctx[locate(ctx, v)]!.rows.length !== 1);
  const split = rowVars.length > 0 && rowVars.length < vars.length;
  const rel = gather(ctx, split ? rowVars : vars);
  let fixed: Fixed | undefined;
  if (split) {
    const one = gather(ctx, vars.filter((v) => !rowVars.includes(v)));
    fixed = { rel: one, row: one.rows[0]! };
  }
  const getters = argGetters(c.args, rel, env, c, fixed);
  const kept: unknown[][] = [];
  const args = new Array<unknown>(getters.length);
  for (const row of rel.rows) {
    for (let i = 0; i < getters.length; i++) args[i] = getters[i]!(row);
    if (truthy(call(c, functionOf(c, rel, row, fixed), args))) kept.push(row);
  }
  ctx[ctx.indexOf(rel)] = new Relation(rel.vars, kept, rel.distinct);
}

function runFunction(c: Extract<Clause, { kind: 'function' }>, ctx: Ctx, env: Env): void {
  const outVars = bindingVars(c.binding);
  const vars = termVars(c.args).concat(c.fn.kind === 'input' ? [c.fn.name] : [], outVars.filter((v) => isBound(ctx, v)));
  const rel = gather(ctx, vars);
  const getters = argGetters(c.args, rel, env, c);
  const fresh = outVars.filter((v) => !rel.vars.includes(v));
  const rows: unknown[][] = [];
  for (const row of rel.rows) {
    const args = getters.map((g) => g(row));
    const result = call(c, functionOf(c, rel, row), args);
    if (result === null || result === undefined) continue;
    for (const values of destructure(c.binding, result, c)) {
      // Bind the fresh variables; a variable bound already must equal the result (unification).
      const out = row.slice();
      let ok = true;
      for (const [name, value] of values) {
        const i = rel.vars.indexOf(name);
        if (i !== -1) ok &&= valueEquals(row[i], value);
      }
      if (!ok) continue;
      for (const v of fresh) out.push(values.get(v));
      rows.push(out);
    }
  }
  ctx[ctx.indexOf(rel)] = new Relation([...rel.vars, ...fresh], rows);
}

/** The variable assignments a binding form makes of a value (none, one, or many). */
function destructure(b: Binding, value: unknown, c: { position: string; text: string }): Map<string, unknown>[] {
  const tuple = (elements: readonly Term[], t: unknown): Map<string, unknown> | undefined => {
    if (!Array.isArray(t)) throw new QueryError(ErrorCode.queryFunction, `a tuple binding needs a tuple, got ${String(t)}`, c.position, c.text);
    if (t.length < elements.length) throw new QueryError(ErrorCode.queryFunction, `a tuple binding of ${elements.length} got ${t.length} values`, c.position, c.text);
    const m = new Map<string, unknown>();
    for (let i = 0; i < elements.length; i++) {
      const el = elements[i]!;
      if (el.kind !== 'var') continue;
      if (m.has(el.name) && !valueEquals(m.get(el.name), t[i])) return undefined;
      m.set(el.name, t[i]);
    }
    return m;
  };
  const many = (v: unknown): unknown[] => {
    if (Array.isArray(v)) return v;
    if (v instanceof Set) return [...(v as Set<unknown>)];
    throw new QueryError(ErrorCode.queryFunction, `a collection binding needs a collection, got ${String(v)}`, c.position, c.text);
  };
  switch (b.kind) {
    case 'scalar':
      return [b.target.kind === 'var' ? new Map([[b.target.name, value]]) : new Map()];
    case 'tuple': {
      const m = tuple(b.elements, value);
      return m === undefined ? [] : [m];
    }
    case 'collection':
      return many(value).map((x) => (b.element.kind === 'var' ? new Map([[b.element.name, x]]) : new Map()));
    case 'relation':
      return many(value).flatMap((t) => {
        const m = tuple(b.elements, t);
        return m === undefined ? [] : [m];
      });
  }
}

// ----- not, or -------------------------------------------------------------------------------------

function runNot(s: Extract<Step, { kind: 'not' }>, ctx: Ctx, env: Env): void {
  const rel = gather(ctx, s.joinVars);
  const cols = s.joinVars.map((v) => rel.vars.indexOf(v));
  const input = distinctProjection(rel, cols, s.joinVars);
  const inner: Ctx = [input];
  const excluded = new Set<unknown>();
  if (runSteps(s.body, inner, env)) {
    for (const row of collect(inner, s.joinVars)) excluded.add(rowKey(row, s.joinVars.map((_, i) => i)));
  }
  ctx[ctx.indexOf(rel)] = new Relation(rel.vars, rel.rows.filter((row) => !excluded.has(rowKey(row, cols))));
}

function runOr(s: Extract<Step, { kind: 'or' }>, ctx: Ctx, env: Env): void {
  let input: Relation;
  if (s.inputVars.length > 0) {
    const rel = gather(ctx, s.inputVars);
    input = distinctProjection(rel, s.inputVars.map((v) => rel.vars.indexOf(v)), s.inputVars);
  } else {
    input = new Relation([], [[]]);
  }
  const seen = new Set<unknown>();
  const rows: unknown[][] = [];
  const all = s.joinVars.map((_, i) => i);
  for (const branch of s.branches) {
    const inner: Ctx = [new Relation(input.vars, input.rows)];
    if (!runSteps(branch, inner, env)) continue;
    for (const row of collect(inner, s.joinVars)) {
      const k = rowKey(row, all);
      if (!addNew(seen, k)) continue;
      rows.push(row);
    }
  }
  addRelation(ctx, new Relation(s.joinVars, rows));
}

function distinctProjection(rel: Relation, cols: readonly number[], vars: readonly string[]): Relation {
  const seen = new Set<unknown>();
  const rows: unknown[][] = [];
  for (const row of rel.rows) {
    const k = rowKey(row, cols);
    if (!addNew(seen, k)) continue;
    rows.push(cols.map((c) => row[c]));
  }
  return new Relation(vars, rows);
}

/**
 * A rule called as `($src rule ...)` runs its body against `$src` as `$` (clauses inside
 * `($src not ...)` and `($src or ...)` already name their source, from parsing).
 */
function envFor(env: Env, source: string): Env {
  if (source === '$') return env;
  const sources = new Map(env.sources);
  sources.set('$', env.source(source, { position: 'source', text: source }));
  return new Env(sources, env.rules);
}

// ----- rules ---------------------------------------------------------------------------------------

function runRule(c: RuleClause, ctx: Ctx, env: Env): void {
  const ruleEnv = envFor(env, c.source);
  const branches = env.rules?.get(c.name);
  if (branches === undefined) throw new QueryError(ErrorCode.queryUnknownRule, `no rule named ${c.name}`, c.position, c.text);
  const arity = branches[0]!.vars.length;
  const override = ruleEnv.overrides.get(c);
  let answers: readonly unknown[][];
  const boundPositions = c.args.map((t, i) => (t.kind === 'const' || (t.kind === 'var' && isBound(ctx, t.name)) ? i : -1)).filter((i) => i !== -1);
  if (override !== undefined) {
    answers = override;
  } else if (boundPositions.length === 0) {
    answers = fullExtension(c.name, ruleEnv);
  } else {
    const boundVars = termVars(boundPositions.map((i) => c.args[i]!));
    const rel = boundVars.length > 0 ? gather(ctx, boundVars) : new Relation([], [[]]);
    const getters = boundPositions.map((i) => {
      const t = c.args[i]!;
      if (t.kind === 'const') {
        const value = keywordNames(t.value);
        return () => value;
      }
      const col = rel.vars.indexOf((t as { name: string }).name);
      return (row: unknown[]) => row[col];
    });
    const seeds = distinctRows(rel.rows.map((row) => getters.map((g) => g(row))));
    answers = seeded(c.name, boundPositions, seeds, ruleEnv);
  }
  // The answers (rows over the rule's head positions) as a relation over the call's variables.
  const vars = termVars(c.args);
  if (vars.length === arity && c.args.every((t, i) => t.kind === 'var' && t.name === vars[i])) {
    // Distinct variables, no constants: the answers are the relation as they are, a set (every
    // source of answers keeps one row per distinct tuple: the extension's and the tables' keys).
    addRelation(ctx, new Relation(vars, answers as unknown[][], true));
    return;
  }
  const firstAt = vars.map((v) => c.args.findIndex((t) => t.kind === 'var' && t.name === v));
  const rows: unknown[][] = [];
  for (const answer of answers) {
    let ok = answer.length === arity;
    for (let i = 0; i < c.args.length && ok; i++) {
      const t = c.args[i]!;
      if (t.kind === 'const') ok = valueEquals(answer[i], keywordNames(t.value));
      else if (t.kind === 'var') ok = valueEquals(answer[firstAt[vars.indexOf(t.name)]!], answer[i]);
    }
    if (ok) rows.push(firstAt.map((i) => answer[i]));
  }
  addRelation(ctx, new Relation(vars, distinctRows(rows)));
}

function distinctRows(rows: unknown[][]): unknown[][] {
  if (rows.length === 0) return rows;
  const cols = rows[0]!.map((_, i) => i);
  const seen = new Set<unknown>();
  return rows.filter((r) => {
    const k = rowKey(r, cols);
    return addNew(seen, k);
  });
}

/** Rules mutually recursive with `name` (its strongly connected component in the call graph). */
function componentOf(name: string, rules: Rules): Set<string> {
  const calls = (n: string): string[] => {
    const out: string[] = [];
    const visit = (clauses: readonly Clause[]) => {
      for (const c of clauses) {
        if (c.kind === 'rule') out.push(c.name);
        else if (c.kind === 'not') visit(c.clauses);
        else if (c.kind === 'or') c.branches.forEach(visit);
      }
    };
    for (const b of rules.get(n) ?? []) visit(b.clauses);
    return out;
  };
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      for (const m of calls(stack.pop()!)) {
        if (!seen.has(m) && rules.has(m)) {
          seen.add(m);
          stack.push(m);
        }
      }
    }
    return seen;
  };
  const out = new Set<string>([name]);
  for (const m of reach(name)) if (reach(m).has(name)) out.add(m);
  return out;
}

/** Calls of rules in `component` anywhere inside the clauses. */
function recursiveCalls(clauses: readonly Clause[], component: ReadonlySet<string>, out: RuleClause[] = []): RuleClause[] {
  for (const c of clauses) {
    if (c.kind === 'rule' && component.has(c.name)) out.push(c);
    else if (c.kind === 'not') recursiveCalls(c.clauses, component, out);
    else if (c.kind === 'or') for (const b of c.branches) recursiveCalls(b, component, out);
  }
  return out;
}

function branchPlan(branch: RuleBranch, entry: readonly string[], env: Env): Step[] {
  let plans = env.branchPlans.get(branch);
  if (plans === undefined) {
    plans = new Map();
    env.branchPlans.set(branch, plans);
  }
  const key = entry.join(' ');
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = env.plan(branch.clauses, new Set(entry));
    plans.set(key, plan);
  }
  return plan;
}

/** Rows of a branch's head variables after running its body from `start` (`distinct`: see collect). */
function evalBranch(branch: RuleBranch, start: Relation, env: Env, distinct = true): unknown[][] {
  const ctx: Ctx = [start];
  if (!runSteps(branchPlan(branch, start.vars, env), ctx, env)) return [];
  const unbound = branch.vars.filter((v) => !isBound(ctx, v));
  if (unbound.length > 0) {
    throw new QueryError(ErrorCode.queryInsufficientBinding, `the head variables ${unbound.join(' ')} of rule ${branch.name} are not bound by its body`, branch.position);
  }
  return collect(ctx, branch.vars, distinct);
}

/** The rule's whole extension, bottom-up, semi-naive over its recursive component. */
function fullExtension(name: string, env: Env): unknown[][] {
  const cached = env.extensions.get(name);
  if (cached !== undefined) return cached;
  const rules = env.rules!;
  const component = componentOf(name, rules);
  const full = new Map<string, { rows: unknown[][]; keys: Set<unknown> }>();
  let delta = new Map<string, unknown[][]>();
  for (const r of component) {
    full.set(r, { rows: [], keys: new Set() });
    delta.set(r, []);
  }
  const calls = new Map<RuleBranch, RuleClause[]>();
  for (const r of component) for (const b of rules.get(r)!) calls.set(b, recursiveCalls(b.clauses, component));
  const unit = new Relation([], [[]]);
  const add = (r: string, rows: unknown[][], next: Map<string, unknown[][]>) => {
    const f = full.get(r)!;
    const cols = rows[0]?.map((_, i) => i) ?? [];
    for (const row of rows) {
      const k = rowKey(row, cols);
      if (!addNew(f.keys, k)) continue;
      next.get(r)!.push(row);
    }
  };
  const emptyDelta = () => new Map([...component].map((r) => [r, [] as unknown[][]]));
  try {
    // Round 0: every recursive call answers nothing, so only the exit branches derive facts.
    let next = emptyDelta();
    for (const r of component) {
      for (const b of rules.get(r)!) {
        for (const c of calls.get(b)!) env.overrides.set(c, []);
        add(r, evalBranch(b, unit, env, false), next);
      }
    }
    for (const [r, rows] of next) appendRows(full.get(r)!.rows, rows);
    delta = next;
    // Each later round: a branch once per recursive call, that call reading the previous round's
    // new facts and the others everything so far; only facts not seen before go on.
    while ([...delta.values()].some((rows) => rows.length > 0)) {
      next = emptyDelta();
      for (const r of component) {
        for (const b of rules.get(r)!) {
          const recursive = calls.get(b)!;
          for (let j = 0; j < recursive.length; j++) {
            if (delta.get(recursive[j]!.name)!.length === 0) continue;
            recursive.forEach((c, i) => env.overrides.set(c, i === j ? delta.get(c.name)! : full.get(c.name)!.rows));
            add(r, evalBranch(b, unit, env, false), next);
          }
        }
      }
      for (const [r, rows] of next) appendRows(full.get(r)!.rows, rows);
      delta = next;
    }
  } finally {
    for (const list of calls.values()) for (const c of list) env.overrides.delete(c);
  }
  for (const r of component) env.extensions.set(r, full.get(r)!.rows);
  return full.get(name)!.rows;
}

/** Appends in a loop: spreading a large array into push() overflows the stack. */
function appendRows(to: unknown[][], rows: readonly unknown[][]): void {
  for (const row of rows) to.push(row);
}

/**
 * Answers of `name` for the given seeds (values of the bound head positions), top-down with
 * tabling. The outermost call repeats the evaluation while a recursive call met a table still
 * being filled and the last pass found new answers.
 */
function seeded(name: string, positions: readonly number[], seeds: unknown[][], env: Env): unknown[][] {
  if (env.seededDepth > 0) return seededPass(name, positions, seeds, env);
  env.seededDepth++;
  try {
    for (;;) {
      env.incomplete = false;
      env.grew = false;
      const answers = seededPass(name, positions, seeds, env);
      if (!env.incomplete || !env.grew) return answers;
      for (const t of env.tables.values()) t.seeds.clear();
    }
  } finally {
    env.seededDepth--;
  }
}

function seededPass(name: string, positions: readonly number[], seeds: unknown[][], env: Env): unknown[][] {
  const branches = env.rules!.get(name)!;
  const key = `${name}/${positions.join(',')}`;
  let table = env.tables.get(key);
  if (table === undefined) {
    table = { seeds: new Map(), answers: new Map(), answerKeys: new Set() };
    env.tables.set(key, table);
  }
  const all = seeds[0]?.map((_, i) => i) ?? [];
  const fresh: unknown[][] = [];
  for (const s of seeds) {
    const k = rowKey(s, all);
    const state = table.seeds.get(k);
    if (state === undefined) {
      table.seeds.set(k, 'running');
      fresh.push(s);
    } else if (state === 'running') {
      env.incomplete = true;
    }
  }
  if (fresh.length > 0) {
    const headCols = branches[0]!.vars.map((_, i) => i);
    for (const b of branches) {
      const start = new Relation(positions.map((i) => b.vars[i]!), fresh);
      for (const row of evalBranch(b, start, env)) {
        const k = rowKey(row, headCols);
        if (!addNew(table.answerKeys, k)) continue;
        env.grew = true;
        const seedKey = rowKey(row, positions);
        const list = table.answers.get(seedKey);
        if (list === undefined) table.answers.set(seedKey, [row]);
        else list.push(row);
      }
    }
    for (const s of fresh) table.seeds.set(rowKey(s, all), 'done');
  }
  const out: unknown[][] = [];
  for (const s of seeds) {
    const list = table.answers.get(rowKey(s, all));
    if (list !== undefined) for (const row of list) out.push(row);
  }
  return out;
}
