/**
 * Differential test of the query engine against DataScript 1.8: random schemas (two string, two
 * long and two ref attributes, each of random cardinality and indexing), random data, and random
 * queries over every feature both systems share — joins on entities and values, constants,
 * blanks, variable attributes with a known value, predicates, function expressions (scalar and tuple bindings, tuple/untuple, ground),
 * predicates on scalar inputs and ranges, not (one and two join variables), not-join, or, or-join with
 * and, missing?, get-else,
 * recursive rules (bound, unbound and constant arguments; several branches), every :in form (scalar, collection, tuple, relation) and every :find form (relation,
 * :keys, collection, scalar, tuple), aggregates with and without grouping and :with. Results
 * are compared as sets. Entity ids agree because DataScript is given Sediment's ids.
 *
 * Scalar and tuple finds return "the first" result, which neither system orders; Sediment's
 * answer must be one of DataScript's relation answers (and null exactly when there are none).
 *
 * A failure prints the seed (SEDIMENT_SEED replays it; SEDIMENT_QUERY_RUNS sets the number of
 * databases, each queried QUERIES_PER_DB times).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import { type Db } from '../../lib/index.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { initialFileImage, PageStore } from '../../lib/storage/page-store.js';
import { datascript as ds, type DsDb } from '../support/datascript-oracle.js';
import { prng } from '../support/store-workload.js';

const SEED = process.env['SEDIMENT_SEED'] === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env['SEDIMENT_SEED']);
const RUNS = Number(process.env['SEDIMENT_QUERY_RUNS'] ?? 110);
const QUERIES_PER_DB = 10;

const dsq = (ds as unknown as { q(query: string, ...inputs: unknown[]): unknown }).q;
const dbWith = (ds as unknown as { db_with(db: DsDb, tx: unknown[]): DsDb }).db_with;

type VType = 'e' | 'n' | 's';

interface Attr {
  readonly name: string;
  readonly type: 'string' | 'long' | 'ref';
  readonly many: boolean;
  readonly index: boolean;
}

const vtypeOf = (a: Attr): VType => (a.type === 'ref' ? 'e' : a.type === 'long' ? 'n' : 's');

interface World {
  readonly attrs: readonly Attr[];
  readonly ids: readonly number[];
  readonly sediment: Db;
  readonly datascript: DsDb;
  readonly close: () => void;
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rand, p: number) => r() < p;
const STRINGS = ['a', 'b', 'c', 'd', 'e'];

function constant(r: Rand, t: VType, ids: readonly number[]): unknown {
  if (t === 'e') return pick(r, ids);
  if (t === 'n') return Math.floor(r() * 7);
  return pick(r, STRINGS);
}

const lit = (v: unknown) => JSON.stringify(v);

/**
 * Half the worlds index at a small random threshold, so queries read the trees alone, or trees
 * and novelty together (with tombstones over tree entries); the others stay in novelty.
 */
function connection(r: Rand): Connection {
  const store = PageStore.open(new MemoryBackend(initialFileImage({ pageSize: 4096 })), { readOnly: false, durability: 'relaxed', cacheBytes: 1 << 20 });
  return new Connection(store, { indexThreshold: chance(r, 0.5) ? 1 + Math.floor(r() * 120) : 65_536 });
}

function buildWorld(r: Rand): World {
  const attrs: Attr[] = [];
  for (const type of ['string', 'long', 'ref'] as const) {
    for (let i = 0; i < 2; i++) attrs.push({ name: `x/${type[0]}${i}`, type, many: chance(r, 0.4), index: chance(r, 0.5) });
  }
  const conn = connection(r);
  conn.transact(attrs.map((a) => ({
    'db/ident': a.name,
    'db/valueType': `db.type/${a.type}`,
    'db/cardinality': a.many ? 'db.cardinality/many' : 'db.cardinality/one',
    ...(a.index ? { 'db/index': true } : {}),
  })));
  // Mostly small worlds (dense joins); one in five large enough that a few bound rows seek
  // per binding instead of scanning (the executor picks by row count).
  const n = chance(r, 0.2) ? 40 + Math.floor(r() * 60) : 3 + Math.floor(r() * 10);
  const names = Array.from({ length: n }, (_, i) => `e${i}`);
  const { tempids } = conn.transact(names.map((name) => ({ 'db/id': name, 'x/s0': 'seed' })));
  const ids = names.map((name) => tempids[name]!);
  // Entities made, now their attributes (refs need the ids). 'x/s0' "seed" is overwritten or kept.
  const tx: Record<string, unknown>[] = [];
  for (const id of ids) {
    const entity: Record<string, unknown> = { 'db/id': id };
    for (const a of attrs) {
      if (!chance(r, 0.6)) continue;
      const count = a.many ? 1 + Math.floor(r() * 3) : 1;
      const values = [...new Set(Array.from({ length: count }, () => constant(r, vtypeOf(a), ids)))];
      entity[a.name] = a.many ? values : values[0];
    }
    tx.push(entity);
  }
  conn.transact(tx);
  const sediment = conn.db();
  // DataScript gets exactly Sediment's user datoms, with Sediment's entity ids.
  const schema: Record<string, Record<string, unknown>> = {};
  for (const a of attrs) {
    schema[a.name] = {
      ...(a.type === 'ref' ? { ':db/valueType': ':db.type/ref' } : {}),
      ...(a.many ? { ':db/cardinality': ':db.cardinality/many' } : {}),
      ...(a.index ? { ':db/index': true } : {}),
    };
  }
  const datoms: unknown[] = [];
  for (const a of attrs) for (const d of sediment.datoms('aevt', a.name)) datoms.push([':db/add', d.e, a.name, d.v]);
  const datascript = dbWith(ds.empty_db(schema), datoms);
  return { attrs, ids, sediment, datascript, close: () => conn.close() };
}

interface GenQuery {
  /** The query with attributes written @x/s0, rendered per dialect. */
  readonly find: string;
  readonly findKind: 'relation' | 'keys' | 'collection' | 'scalar' | 'tuple' | 'aggregate';
  /** The find of the relation form, for scalar and tuple finds. */
  readonly relationFind: string;
  readonly inputs: unknown[];
  readonly inForms: string[];
  readonly where: string[];
  readonly features: string[];
}

/**
 * The rule set: transitive closure (reach) and a two-branch rule with a predicate (near).
 * Left out, where DataScript 1.8 departs (spec/query/query.spec.ts covers both):
 *   D2 rule heads with required variables (`(near [?a] ?b)` matches entities with no edge);
 *   D3 mutually recursive rules (even/odd path lengths) over cyclic data: DataScript never ends.
 *   D4 a recursive rule called twice in one query: DataScript's rule solver can grow without
 *      bound on cyclic data (tonsky/datascript#151; seed 388520531 ran it out of heap on
 *      `(reach ?e0 ?e3) (reach ?e0 110)`), so a query calls `reach` at most once.
 */
const RULES = (ref: string) =>
  `[[(reach ?a ?b) [?a @${ref} ?b]] [(reach ?a ?b) [?a @${ref} ?t] (reach ?t ?b)] ` +
  `[(near ?a ?b) [?a @${ref} ?b] [(!= ?a ?b)]] [(near ?a ?b) [?b @${ref} ?a] [(!= ?a ?b)]]]`;

function genQuery(r: Rand, w: World): GenQuery {
  const vars = new Map<string, VType>();
  let nextVar = 0;
  const fresh = (t: VType) => {
    const name = `?${t}${nextVar++}`;
    vars.set(name, t);
    return name;
  };
  const varsOf = (t: VType) => [...vars].filter(([, vt]) => vt === t).map(([n]) => n);
  const where: string[] = [];
  const inForms: string[] = [];
  const inputs: unknown[] = [];
  const features: string[] = [];
  /** D4: one call of the recursive rule per query. */
  let reachCalled = false;
  const useRules = () => {
    if (inForms.includes('%')) return;
    inForms.push('%');
    inputs.push(RULES(attrOf('e').name));
  };
  const attrOf = (t?: VType, one?: boolean) => pick(r, w.attrs.filter((a) => (t === undefined || vtypeOf(a) === t) && (one !== true || !a.many)));

  // A value position: a join on an existing variable, a fresh one, a constant, an input or _.
  const valueTerm = (t: VType, subject: string): string => {
    // D1: DataScript does not unify a variable repeated inside one pattern ([?e :r ?e]).
    const existing = varsOf(t).filter((v) => v !== subject);
    const roll = r();
    if (roll < 0.3 && existing.length > 0) return pick(r, existing);
    if (roll < 0.65) return fresh(t);
    if (roll < 0.8) return lit(constant(r, t, w.ids));
    if (roll < 0.9) {
      const name = `?in${inputs.length}`;
      if (chance(r, 0.5)) {
        inForms.push(name);
        inputs.push(constant(r, t, w.ids));
        features.push('in-scalar');
      } else {
        inForms.push(`[${name} ...]`);
        inputs.push(Array.from({ length: 1 + Math.floor(r() * 3) }, () => constant(r, t, w.ids)));
        features.push('in-collection');
      }
      vars.set(name, t);
      return name;
    }
    return '_';
  };

  const first = attrOf();
  const e0 = fresh('e');
  where.push(`[${e0} @${first.name} ${valueTerm(vtypeOf(first), e0)}]`);
  const patterns = 1 + Math.floor(r() * 3);
  for (let i = 0; i < patterns; i++) {
    const a = attrOf();
    const es = varsOf('e');
    // A fresh subject starts a disconnected part (a cartesian product); DataScript multiplies
    // it out, so only small worlds get them.
    const subject = w.ids.length > 12 || chance(r, 0.85) ? pick(r, es) : fresh('e');
    where.push(`[${subject} @${a.name} ${valueTerm(vtypeOf(a), subject)}]`);
  }
  if (chance(r, 0.25)) {
    // A variable attribute with a known value ([?e ?a "x"], or the value joined): every attribute
    // of the entity, values of any type compared decoded. The entity is bound by a user pattern, so
    // Sediment's schema datoms (which DataScript does not hold) never join in.
    const e = pick(r, varsOf('e'));
    const t = pick(r, ['e', 'n', 's'] as const);
    const existing = varsOf(t).filter((v) => v !== e && !v.startsWith('?attr'));
    const value = existing.length > 0 && chance(r, 0.4) ? pick(r, existing) : lit(constant(r, t, w.ids));
    const attr = `?attr${nextVar++}`;
    vars.set(attr, 's');
    where.push(`[${e} ${attr} ${value}]`);
    features.push('attribute-variable');
  }
  if (chance(r, 0.15)) {
    // Tuple and relation inputs joined on values.
    const a = attrOf('n');
    const e = pick(r, varsOf('e'));
    const v = fresh('n');
    if (chance(r, 0.5)) {
      inForms.push(`[${v} ?tin]`);
      vars.set('?tin', 's');
      inputs.push([constant(r, 'n', w.ids), 'tag']);
      features.push('in-tuple');
    } else {
      inForms.push(`[[${v} ?rin]]`);
      vars.set('?rin', 's');
      inputs.push(Array.from({ length: 1 + Math.floor(r() * 4) }, () => [constant(r, 'n', w.ids), pick(r, STRINGS)]));
      features.push('in-relation');
    }
    where.push(`[${e} @${a.name} ${v}]`);
  }
  const extras = Math.floor(r() * 3);
  for (let i = 0; i < extras; i++) {
    const e = pick(r, varsOf('e'));
    const roll = Math.floor(r() * 18);
    const ns = varsOf('n');
    const ss = varsOf('s').filter((s) => !s.startsWith('?in') && s !== '?tin' && s !== '?rin');
    switch (roll) {
      case 0:
        if (ns.length === 0) break;
        where.push(`[(${pick(r, ['<', '>', '<=', '>=', '!=', '='])} ${pick(r, ns)} ${constant(r, 'n', w.ids)})]`);
        features.push('predicate');
        break;
      case 1:
        if (ss.length === 0) break;
        where.push(`[(${pick(r, ['<', '>=', 'not='])} ${pick(r, ss)} ${lit(pick(r, STRINGS))})]`);
        features.push('predicate-string');
        break;
      case 2:
        if (ns.length === 0) break;
        where.push(`[(${pick(r, ['+', '-', '*'])} ${pick(r, ns)} ${constant(r, 'n', w.ids)}) ${fresh('n')}]`);
        features.push('function');
        break;
      case 3:
        if (ss.length === 0) break;
        where.push(`[(str ${pick(r, ss)} "z") ${fresh('s')}]`);
        features.push('function-str');
        break;
      case 4: {
        const a = attrOf();
        where.push(`(not [${e} @${a.name} ${lit(constant(r, vtypeOf(a), w.ids))}])`);
        features.push('not');
        break;
      }
      case 5: {
        const a = attrOf('n');
        where.push(`(not-join [${e}] [${e} @${a.name} ?nz] [(> ?nz ${constant(r, 'n', w.ids)})])`);
        features.push('not-join');
        break;
      }
      case 6: {
        const a = attrOf();
        const b = attrOf();
        where.push(`(or [${e} @${a.name} ${lit(constant(r, vtypeOf(a), w.ids))}] [${e} @${b.name} ${lit(constant(r, vtypeOf(b), w.ids))}])`);
        features.push('or');
        break;
      }
      case 7: {
        const a = attrOf('n');
        const b = attrOf();
        where.push(`(or-join [${e}] (and [${e} @${a.name} ?oz] [(< ?oz ${constant(r, 'n', w.ids)})]) [${e} @${b.name} _])`);
        features.push('or-join');
        break;
      }
      case 8:
        where.push(`[(missing? $ ${e} @${attrOf().name})]`);
        features.push('missing?');
        break;
      case 9: {
        const a = pick(r, w.attrs.filter((x) => !x.many && x.type !== 'ref'));
        if (a === undefined) break;
        where.push(`[(get-else $ ${e} @${a.name} ${a.type === 'long' ? -1 : '"none"'}) ${fresh(vtypeOf(a))}]`);
        features.push('get-else');
        break;
      }
      case 10: {
        if (reachCalled) break;
        reachCalled = true;
        // An unbound call is a whole transitive closure, disconnected from the rest: small worlds only.
        const bound = w.ids.length > 12 || chance(r, 0.5);
        where.push(`(reach ${bound ? e : fresh('e')} ${fresh('e')})`);
        useRules();
        features.push(bound ? 'rule-bound' : 'rule-free');
        break;
      }
      case 11:
        if (ns.length === 0) break;
        where.push(`[(tuple ${e} ${pick(r, ns)}) ?tup]`, `[(untuple ?tup) [${fresh('e')} ${fresh('n')}]]`);
        features.push('tuple');
        break;
      case 12:
        where.push(`(near ${e} ${fresh('e')})`);
        useRules();
        features.push('rule-two-branches');
        break;
      case 13:
        if (reachCalled) break;
        reachCalled = true;
        where.push(`(reach ${e} ${pick(r, w.ids)})`);
        useRules();
        features.push('rule-constant');
        break;
      case 14: {
        const a = attrOf();
        const bound = varsOf(vtypeOf(a)).filter((v) => v !== e && !v.startsWith('?in') && v !== '?tin' && v !== '?rin');
        if (bound.length === 0) break;
        where.push(`(not [${e} @${a.name} ${pick(r, bound)}])`);
        features.push('not-two-vars');
        break;
      }
      case 15: {
        if (ns.length === 0) break;
        const a = attrOf('n');
        const n = pick(r, ns);
        where.push(`(or-join [${e} ${n}] (and [${e} @${a.name} ?oz] [(< ?oz ${n})]) [${e} @${a.name} ${n}])`);
        features.push('or-join-two-vars');
        break;
      }
      case 16: {
        // A predicate reading a scalar input that no pattern joins: a one-row relation of its own.
        if (ns.length === 0) break;
        const name = `?in${inputs.length}`;
        inForms.push(name);
        inputs.push(constant(r, 'n', w.ids));
        where.push(`[(${pick(r, ['<', '>', '<=', '>=', '!=', '='])} ${pick(r, ns)} ${name})]`);
        features.push('predicate-input');
        break;
      }
      case 17: {
        // Two bounds on one variable, either way round (a range pushed into the pattern's scan).
        if (ns.length === 0) break;
        const n = pick(r, ns);
        const low = constant(r, 'n', w.ids);
        const high = (low as number) + Math.floor(r() * 4);
        where.push(chance(r, 0.5) ? `[(${pick(r, ['>', '>='])} ${n} ${low})]` : `[(${pick(r, ['<', '<='])} ${low} ${n})]`);
        where.push(chance(r, 0.5) ? `[(${pick(r, ['<', '<='])} ${n} ${high})]` : `[(${pick(r, ['>', '>='])} ${high} ${n})]`);
        features.push('predicate-range');
        break;
      }
    }
  }
  // Variables bound at the top level (inputs included), for :find.
  const findable = [...vars.keys()].filter((v) => where.some((c) => c.includes(`${v} `) || c.includes(`${v}]`) || c.includes(`${v})`)) && !v.startsWith('?in'));
  const boundTop = findable.filter((v) => !['?nz', '?oz', '?tup'].includes(v));
  const choose = (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n && boundTop.length > out.length; i++) {
      const v = pick(r, boundTop.filter((x) => !out.includes(x)));
      out.push(v);
    }
    return out;
  };
  const roll = r();
  let find: string;
  let relationFind: string;
  let findKind: GenQuery['findKind'];
  if (roll < 0.45) {
    find = choose(1 + Math.floor(r() * 3)).join(' ');
    relationFind = find;
    findKind = 'relation';
  } else if (roll < 0.55) {
    const vs = choose(1 + Math.floor(r() * 2));
    find = `${vs.join(' ')} :keys ${vs.map((v) => v.slice(1)).join(' ')}`;
    relationFind = vs.join(' ');
    findKind = 'keys';
  } else if (roll < 0.65) {
    const v = choose(1)[0]!;
    find = `[${v} ...]`;
    relationFind = v;
    findKind = 'collection';
  } else if (roll < 0.72) {
    const v = choose(1)[0]!;
    find = `${v} .`;
    relationFind = v;
    findKind = 'scalar';
  } else if (roll < 0.78) {
    const vs = choose(2);
    find = `[${vs.join(' ')}]`;
    relationFind = vs.join(' ');
    findKind = 'tuple';
  } else {
    const group = chance(r, 0.5) ? choose(1) : [];
    const numeric = boundTop.filter((v) => vars.get(v) === 'n' && !group.includes(v));
    const any = boundTop.filter((v) => !group.includes(v));
    const aggs: string[] = [];
    for (let i = 0; i < 1 + Math.floor(r() * 2); i++) {
      if (numeric.length > 0 && chance(r, 0.6)) {
        aggs.push(`(${pick(r, ['sum', 'avg', 'median', 'variance', 'stddev', 'min', 'max', 'count'])} ${pick(r, numeric)})`);
        if (chance(r, 0.2)) aggs.push(`(${pick(r, ['min', 'max'])} 2 ${pick(r, numeric)})`);
      } else if (any.length > 0) {
        aggs.push(`(${pick(r, ['count', 'count-distinct', 'distinct', 'min', 'max'])} ${pick(r, any)})`);
      }
    }
    if (aggs.length === 0) aggs.push(`(count ${boundTop[0]})`);
    // DataScript refuses a :with variable that :find names.
    const withVars = chance(r, 0.4) ? boundTop.filter((v) => vars.get(v) === 'e' && !group.includes(v) && !aggs.some((a) => a.includes(`${v})`))).slice(0, 1) : [];
    find = `${[...group, ...aggs].join(' ')}${withVars.length > 0 ? ` :with ${withVars.join(' ')}` : ''}`;
    relationFind = find;
    findKind = 'aggregate';
  }
  return { find, findKind, relationFind, inputs, inForms, where, features: [...features, `find-${findKind}`] };
}

/** Attributes are written @x/s0: Sediment reads keywords, DataScript's JS API strings. */
function dialect(text: string, to: 'sediment' | 'datascript'): string {
  return text.replace(/@([a-z]+\/[a-z0-9]+)/g, (_, a: string) => (to === 'sediment' ? `:${a}` : `"${a}"`));
}

function render(q: GenQuery, find: string, to: 'sediment' | 'datascript'): string {
  const inPart = q.inForms.length > 0 ? ` :in $ ${q.inForms.join(' ')}` : '';
  return dialect(`[:find ${find}${inPart} :where ${q.where.join(' ')}]`, to);
}

const renderInputs = (inputs: readonly unknown[], to: 'sediment' | 'datascript') => inputs.map((x) => (typeof x === 'string' && x.includes('@') ? dialect(x, to) : x));

/** A canonical string for a value: numbers to 12 digits, nested arrays (sets) sorted. */
function canon(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
  if (Array.isArray(v)) return `[${v.map(canon).sort().join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}:${canon(x)}`).sort().join(',')}}`;
  return JSON.stringify(v);
}

const rowsCanon = (rows: unknown) => (rows as unknown[]).map(canon).sort();

interface Totals {
  /** The slowest case (both engines), to keep the generator's worst cases in view. */
  slowest: { ms: number; query: string };
  cases: number;
  nonEmpty: number;
  features: Map<string, number>;
}

function runCase(r: Rand, w: World, totals: Totals): void {
  const q = genQuery(r, w);
  const started = performance.now();
  const sedimentText = render(q, q.find, 'sediment');
  const dsText = render(q, q.relationFind, 'datascript');
  const expected = dsq(dsText, w.datascript, ...renderInputs(q.inputs, 'datascript')) as unknown[];
  let actual: unknown;
  try {
    actual = w.sediment.q(sedimentText, ...renderInputs(q.inputs, 'sediment'));
  } catch (error) {
    throw new Error(`Sediment failed on ${sedimentText} inputs ${JSON.stringify(q.inputs)}: ${(error as Error).message}`);
  }
  const fail = (why: string) =>
    new Error(`${why}\n  sediment:   ${sedimentText}\n  datascript: ${dsText}\n  inputs: ${JSON.stringify(q.inputs)}\n  sediment result: ${JSON.stringify(actual)}\n  datascript result: ${JSON.stringify(expected)}`);
  switch (q.findKind) {
    case 'relation':
    case 'aggregate':
      if (JSON.stringify(rowsCanon(actual)) !== JSON.stringify(rowsCanon(expected))) throw fail('results differ');
      break;
    case 'keys': {
      const names = q.relationFind.split(' ').map((v) => v.slice(1));
      const asRows = (actual as Record<string, unknown>[]).map((o) => names.map((n) => o[n]));
      if (JSON.stringify(rowsCanon(asRows)) !== JSON.stringify(rowsCanon(expected))) throw fail('results differ');
      break;
    }
    case 'collection': {
      const values = (expected as unknown[][]).map((row) => row[0]);
      if (JSON.stringify((actual as unknown[]).map(canon).sort()) !== JSON.stringify(values.map(canon).sort())) throw fail('results differ');
      break;
    }
    case 'scalar':
    case 'tuple': {
      const candidates = new Set((expected as unknown[][]).map((row) => canon(q.findKind === 'scalar' ? row[0] : row)));
      if (actual === null ? candidates.size > 0 : !candidates.has(canon(actual))) throw fail('result is not one of the answers');
      break;
    }
  }
  const ms = performance.now() - started;
  if (ms > totals.slowest.ms) totals.slowest = { ms, query: `${sedimentText} (${w.ids.length} entities)` };
  totals.cases++;
  if ((expected as unknown[]).length > 0) totals.nonEmpty++;
  for (const f of q.features) totals.features.set(f, (totals.features.get(f) ?? 0) + 1);
}

describe('queries against DataScript', () => {
  it(`agree on ${RUNS * QUERIES_PER_DB} random queries`, () => {
    const totals: Totals = { slowest: { ms: 0, query: '' }, cases: 0, nonEmpty: 0, features: new Map() };
    const started = performance.now();
    let failure = '';
    try {
      fc.assert(
        fc.property(fc.integer(), (seed) => {
          const r = prng(seed);
          const world = buildWorld(r);
          try {
            for (let i = 0; i < QUERIES_PER_DB; i++) runCase(r, world, totals);
          } catch (error) {
            failure = (error as Error).message;
            throw error;
          } finally {
            world.close();
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    } catch (error) {
      throw new Error(`query-diff failed; replay with SEDIMENT_SEED=${SEED}\n${failure}\n${(error as Error).message}`);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const features = [...totals.features].sort().map(([f, n]) => `${f} ${n}`).join(', ');
    console.log(`query-diff: seed ${SEED}, ${totals.cases} queries on ${RUNS} databases agree with DataScript (${totals.nonEmpty} with non-empty results), ${seconds} s, slowest ${totals.slowest.ms.toFixed(0)} ms: ${totals.slowest.query}; features: ${features}`);
    expect(totals.cases).toBeGreaterThanOrEqual(1000);
    expect(totals.nonEmpty).toBeGreaterThan(totals.cases / 4);
  });
});
