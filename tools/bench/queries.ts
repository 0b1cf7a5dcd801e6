/**
 * Workload 4, DataScript's own benchmark queries on Sediment, on DataScript and as the equivalent
 * SQL on better-sqlite3, on the same data: q1–q4, qpred1 and qpred2 on 20,000 people, and the
 * recursive `follows` rules on DataScript's wide and long graphs (better-sqlite3: a recursive CTE).
 * Sediment runs queries as EDN strings (parsed once and cached, as an application would run
 * them); DataScript's JS API gets the same text with attributes as strings. Each figure: one
 * warm-up call, then the median (min–max) of the runs, a run being the mean per call over at
 * least 100 ms. Before timing, every query's results are compared across the three engines.
 */
import { longGraph, peopleDataset, wideGraph } from './datasets.js';
import { type Dataset, ds, type SqliteStatement } from './engines.js';
import { closeAll, loadAll, type Loaded } from './import.js';
import { type Context, count, fail, figure, perCall, type Row, type Workload } from './harness.js';

const WORKLOAD = '4. queries';

interface Case {
  readonly name: string;
  readonly edn: string;
  /** The same query for DataScript's JS API: attributes as strings, keywords with a colon. */
  readonly dsEdn: string;
  readonly sql: string;
  readonly inputs: readonly unknown[];
  readonly dsInputs: readonly unknown[];
  readonly sqlParams: readonly unknown[];
  /** Result columns holding entity ids. */
  readonly entityColumns: readonly number[];
  /** q1–q4 are also held to better-sqlite3 (issue 5). */
  readonly goalSqlite: boolean;
}

/** Rows as sorted canonical strings, entity ids mapped to the generated ones. */
function canonical(rows: unknown, toGenerated: (id: number) => number, entityColumns: readonly number[]): string[] {
  return (rows as unknown[][]).map((r) => JSON.stringify(r.map((v, i) => (entityColumns.includes(i) ? toGenerated(v as number) : v)))).sort();
}

/** The three engines' answers must be equal; returns the number of result rows. */
function checkCase(l: Loaded, c: Case, statement: SqliteStatement): number {
  const reverse = new Map([...l.sediment.ids].map(([g, s]) => [s, g]));
  const fromSediment = canonical(l.sediment.conn.db().q(c.edn, ...c.inputs), (id) => reverse.get(id)!, c.entityColumns);
  const fromDs = canonical(ds.q(c.dsEdn, l.datascript, ...c.dsInputs), (id) => id, c.entityColumns);
  const fromSql = canonical(statement.all(...c.sqlParams), (id) => id, c.entityColumns);
  if (JSON.stringify(fromSediment) !== JSON.stringify(fromDs) || JSON.stringify(fromSql) !== JSON.stringify(fromDs)) {
    fail(`${c.name}: results differ (Sediment ${fromSediment.length} rows, DataScript ${fromDs.length}, better-sqlite3 ${fromSql.length})`);
  }
  return fromDs.length;
}

function timeCase(ctx: Context, l: Loaded, c: Case): Row {
  const statement = l.sqlite.db.prepare(c.sql).raw(true);
  const results = checkCase(l, c, statement);
  ctx.progress(`${c.name}: ${results} rows`);
  const db = l.sediment.conn.db();
  const s = perCall(ctx, () => db.q(c.edn, ...c.inputs));
  const d = perCall(ctx, () => ds.q(c.dsEdn, l.datascript, ...c.dsInputs));
  const q = perCall(ctx, () => statement.all(...c.sqlParams));
  const dsMet = d.median >= 10 * s.median;
  return {
    workload: WORKLOAD,
    metric: `${c.name} (${count(results)} rows): ms/query`,
    sediment: figure(s, 'ms'),
    peers: { DataScript: figure(d, 'ms'), 'better-sqlite3': figure(q, 'ms', c.name.startsWith('rules') ? 'recursive CTE' : 'SQL') },
    goal: c.goalSqlite ? '≥ 10× faster than DataScript; ≤ better-sqlite3' : '≥ 10× faster than DataScript',
    met: c.goalSqlite ? dsMet && s.median <= q.median : dsMet,
  };
}

function peopleCases(l: Loaded): Case[] {
  const attr = (a: string) => l.sqlite.attrs.get(a)!;
  const dsText = (edn: string) => edn.replace(/:(name|last-name|age|sex|salary)\b(?!\/)/g, '"$1"').replace('"sex" :male', '"sex" ":male"');
  const q = (name: string, edn: string, sql: string, inputs: unknown[] = []): Case => ({
    name,
    edn,
    dsEdn: dsText(edn),
    sql,
    inputs,
    dsInputs: inputs,
    sqlParams: inputs,
    entityColumns: [0],
    goalSqlite: /^q\d$/.test(name),
  });
  const join = (alias: string, a: string, extra = '') => ` JOIN datoms ${alias} ON ${alias}.e = n.e AND ${alias}.a = ${attr(a)}${extra}`;
  const ivan = `WHERE n.a = ${attr('name')} AND n.v = 'Ivan'`;
  return [
    q('q1', '[:find ?e :where [?e :name "Ivan"]]', `SELECT n.e FROM datoms n ${ivan}`),
    q('q2', '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a]]', `SELECT n.e, g.v FROM datoms n${join('g', 'age')} ${ivan}`),
    q('q3', '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a] [?e :sex :male]]', `SELECT n.e, g.v FROM datoms n${join('g', 'age')}${join('s', 'sex', " AND s.v = 'male'")} ${ivan}`),
    q(
      'q4',
      '[:find ?e ?l ?a :where [?e :name "Ivan"] [?e :last-name ?l] [?e :age ?a] [?e :sex :male]]',
      `SELECT n.e, l.v, g.v FROM datoms n${join('l', 'last-name')}${join('g', 'age')}${join('s', 'sex', " AND s.v = 'male'")} ${ivan}`,
    ),
    q('qpred1', '[:find ?e ?s :where [?e :salary ?s] [(> ?s 50000)]]', `SELECT e, v FROM datoms WHERE a = ${attr('salary')} AND v > 50000`),
    q('qpred2', '[:find ?e ?s :in $ ?min_s :where [?e :salary ?s] [(> ?s ?min_s)]]', `SELECT e, v FROM datoms WHERE a = ${attr('salary')} AND v > ?`, [50_000]),
  ];
}

const RULES = '[[(follows ?x ?y) [?x :follows ?y]] [(follows ?x ?y) [?x :follows ?t] (follows ?t ?y)]]';

function ruleCase(name: string, l: Loaded): Case {
  const follows = l.sqlite.attrs.get('follows')!;
  return {
    name,
    edn: '[:find ?e ?e2 :in $ % :where (follows ?e ?e2)]',
    dsEdn: '[:find ?e ?e2 :in $ % :where (follows ?e ?e2)]',
    sql: `WITH RECURSIVE r(x, y) AS (SELECT e, v FROM datoms WHERE a = ${follows} UNION SELECT d.e, r.y FROM datoms d JOIN r ON d.v = r.x AND d.a = ${follows}) SELECT x, y FROM r`,
    inputs: [RULES],
    dsInputs: [RULES.replace(/:follows/g, '"follows"')],
    sqlParams: [],
    entityColumns: [0, 1],
    goalSqlite: false,
  };
}

/** Loads each data set in turn and hands its cases to `each`. */
async function forEachCase(ctx: Context, people: number, graphs: readonly [string, Dataset][], each: (l: Loaded, c: Case) => void): Promise<void> {
  const d = peopleDataset({ people }, 20_000);
  ctx.progress(`queries: ${count(people)} people, ${count(d.facts.length)} datoms`);
  const l = loadAll(ctx, d);
  for (const c of peopleCases(l)) each(l, c);
  await closeAll(l);
  for (const [name, g] of graphs) {
    const lg = loadAll(ctx, g);
    each(lg, ruleCase(name, lg));
    await closeAll(lg);
  }
}

const GRAPHS: readonly [string, Dataset][] = [
  ['rules, wide 4×6', wideGraph(4, 6)],
  ['rules, wide 7×3', wideGraph(7, 3)],
  ['rules, long 10×3', longGraph(10, 3)],
  ['rules, long 30×5', longGraph(30, 5)],
];

export const queriesWorkload: Workload = {
  name: 'queries',
  async run(ctx) {
    const rows: Row[] = [];
    // --quick leaves out wide 7×3, where better-sqlite3's recursive CTE takes seconds a call.
    await forEachCase(ctx, 20_000, ctx.quick ? GRAPHS.filter(([name]) => !name.includes('7×3')) : GRAPHS, (l, c) => rows.push(timeCase(ctx, l, c)));
    return rows;
  },
  async check(ctx) {
    await forEachCase(ctx, 500, [['rules, wide 3×3', wideGraph(3, 3)], ['rules, long 5×2', longGraph(5, 2)]], (l, c) => {
      checkCase(l, c, l.sqlite.db.prepare(c.sql).raw(true));
    });
  },
};
