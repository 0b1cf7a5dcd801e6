/**
 * The query benchmark of issue 5: DataScript's own benchmark queries on Sediment, on DataScript
 * and as the equivalent SQL on better-sqlite3, in one process and on the same data.
 *
 *   npm run bench:query              7 runs per figure
 *   npm run bench:query -- --quick   3 runs per figure
 *
 * Data (DataScript's bench/datascript/bench shape): 20,000 people with name (8 first names),
 * last-name (6), full-name, alias (cardinality many, 0–9 draws from 11), sex (keyword), age
 * (0–99), salary (0–99,999); name and age have db/index (AVET) in every engine (better-sqlite3:
 * a partial index (a, v, e) on those attributes; DataScript: :db/index). Graphs for the rules:
 * "wide" trees (every node follows `width` children, `depth` levels) and "long" chains (`width`
 * chains of `depth` edges), DataScript's wide-db and long-db.
 *
 * Engines: Sediment from `lib/` through tsx, on a file in a temp dir (import in one transaction,
 * default cache), queries as EDN strings (parsed once and cached, as an application would run
 * them); DataScript's JS API (`q` with the same EDN text, attributes as strings); better-sqlite3
 * with one table datoms(e, a, v) WITHOUT ROWID, primary key (e, a, v), an index (a, e, v) and
 * the partial AVET index, prepared statements; rules as a recursive CTE.
 *
 * Each figure: one warm-up call, then the median (min–max) of the runs; a run calls the query
 * repeatedly for at least 100 ms and reports the mean per call. Before timing, every query's
 * results are compared across the three engines as sets; any difference fails the run.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { Database, type Db } from '../lib/index.js';
import { prng } from '../spec/support/store-workload.js';

const args = process.argv.slice(2);
for (const a of args) {
  if (a !== '--quick') {
    console.error(`unknown option ${a}; use --quick`);
    process.exit(2);
  }
}
const RUNS = args.includes('--quick') ? 3 : 7;
const PEOPLE = 20_000;
const MIN_RUN_MS = 100;

const require = createRequire(import.meta.url);

interface SqliteStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  raw(on: boolean): SqliteStatement;
}
interface SqliteDb {
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  pragma(p: string): unknown;
  transaction<T extends (...a: never[]) => unknown>(fn: T): T;
  close(): void;
}
type DsDb = { readonly __ds: never };
interface DataScriptApi {
  empty_db(schema: Record<string, Record<string, unknown>>): DsDb;
  db_with(db: DsDb, tx: unknown[]): DsDb;
  q(query: string, ...inputs: unknown[]): unknown;
}
const BetterSqlite = require('better-sqlite3') as new (file: string) => SqliteDb;
const ds = require('datascript') as DataScriptApi;

const loadAtStart = os.loadavg();
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-bench-query-'));
const progress = (line: string) => process.stderr.write(`${line}\n`);

// ----- data ---------------------------------------------------------------------------------------

const FIRST_NAMES = ['Ivan', 'Petr', 'Sergei', 'Oleg', 'Yuri', 'Dmitry', 'Fedor', 'Denis'];
const LAST_NAMES = ['Ivanov', 'Petrov', 'Sidorov', 'Kovalev', 'Kuznetsov', 'Voronoi'];
const ALIASES = ['A. C. Q. W.', 'A. J. Finn', 'A.A.Pernandes', 'Agent 001', 'Agent 007', 'Agent 047', 'Agent Kallus', 'Agent Smith', 'Asterisk', 'Alban', 'Amarillo'];

interface Person {
  readonly name: string;
  readonly lastName: string;
  readonly alias: readonly string[];
  readonly sex: 'male' | 'female';
  readonly age: number;
  readonly salary: number;
}

function makePeople(n: number, random: () => number): Person[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  return Array.from({ length: n }, () => {
    const alias = new Set<string>();
    const draws = Math.floor(random() * 10);
    for (let i = 0; i < draws; i++) alias.add(pick(ALIASES));
    return { name: pick(FIRST_NAMES), lastName: pick(LAST_NAMES), alias: [...alias], sex: random() < 0.5 ? 'male' : 'female', age: Math.floor(random() * 100), salary: Math.floor(random() * 100_000) };
  });
}

/** Each person's datoms as [attribute, value]; ids are 1..n in every engine's own numbering. */
function attributesOf(p: Person): [string, string | number][] {
  return [['name', p.name], ['last-name', p.lastName], ['full-name', `${p.name} ${p.lastName}`], ...p.alias.map((a): [string, string] => ['alias', a]), ['sex', p.sex], ['age', p.age], ['salary', p.salary]];
}

const ATTR: Record<string, number> = { name: 1, 'last-name': 2, 'full-name': 3, alias: 4, sex: 5, age: 6, salary: 7, follows: 8 };

/** Edges of DataScript's wide-db: node id follows its `width` children, `depth` levels down. */
function wideEdges(depth: number, width: number): [number, number][] {
  const edges: [number, number][] = [];
  const grow = (id: number, d: number) => {
    if (d === 0) return;
    for (let i = 0; i < width; i++) {
      const child = id * width + i;
      edges.push([id, child]);
      grow(child, d - 1);
    }
  };
  grow(1, depth);
  return edges;
}

/** Edges of DataScript's long-db: `width` chains of `depth` edges. */
function longEdges(depth: number, width: number): [number, number][] {
  const edges: [number, number][] = [];
  for (let x = 0; x < width; x++) for (let y = 0; y < depth; y++) edges.push([1 + x * (depth + 1) + y, 2 + x * (depth + 1) + y]);
  return edges;
}

// ----- engines ------------------------------------------------------------------------------------

interface Engines {
  readonly sediment: Db;
  /** Sediment's entity id for each generated id (1..n), to compare results across engines. */
  readonly ids: Map<number, number>;
  readonly datascript: DsDb;
  readonly sqlite: SqliteDb;
}

function load(name: string, schema: { ident: string; type: string; many?: boolean; index?: boolean }[], facts: [number, string, string | number][]): Engines {
  const conn = Database.open(path.join(directory, `${name}.sediment`), { create: true, durability: 'relaxed' });
  conn.transact(schema.map((a) => ({
    'db/ident': a.ident,
    'db/valueType': `db.type/${a.type}`,
    'db/cardinality': a.many === true ? 'db.cardinality/many' : 'db.cardinality/one',
    ...(a.index === true ? { 'db/index': true } : {}),
  })));
  const refs = new Set(schema.filter((a) => a.type === 'ref').map((a) => a.ident));
  const temp = (id: number) => `t${id}`;
  // A node that only ever appears as a value (a leaf) needs a datom of its own for its tempid to
  // make an entity in Sediment (Datomic's rule); a db/doc serves, and no query reads it.
  const subjects = new Set(facts.map(([e]) => e));
  const leaves = new Set(facts.filter(([, a, v]) => refs.has(a) && !subjects.has(v as number)).map(([, , v]) => v as number));
  const report = conn.transact([
    ...facts.map(([e, a, v]) => ['db/add', temp(e), a, refs.has(a) ? temp(v as number) : v]),
    ...[...leaves].map((id) => ['db/add', temp(id), 'db/doc', 'leaf']),
  ]);
  const ids = new Map<number, number>();
  for (const [e, , v] of facts) {
    ids.set(e, report.tempids[temp(e)]!);
    if (typeof v === 'number' && report.tempids[temp(v)] !== undefined) ids.set(v, report.tempids[temp(v)]!);
  }
  const sediment = conn.db();

  const dsSchema: Record<string, Record<string, unknown>> = {};
  for (const a of schema) {
    dsSchema[a.ident] = {
      ...(a.type === 'ref' ? { ':db/valueType': ':db.type/ref' } : {}),
      ...(a.many === true ? { ':db/cardinality': ':db.cardinality/many' } : {}),
      ...(a.index === true ? { ':db/index': true } : {}),
    };
  }
  const datascript = ds.db_with(ds.empty_db(dsSchema), facts.map(([e, a, v]) => [':db/add', e, a, a === 'sex' ? `:${v}` : v]));

  const sqlite = new BetterSqlite(path.join(directory, `${name}.sqlite`));
  sqlite.pragma('journal_mode = WAL');
  sqlite.exec('CREATE TABLE datoms (e INTEGER NOT NULL, a INTEGER NOT NULL, v, PRIMARY KEY (e, a, v)) WITHOUT ROWID');
  sqlite.exec('CREATE INDEX aev ON datoms (a, e, v)');
  const indexed = schema.filter((a) => a.index === true || a.type === 'ref').map((a) => ATTR[a.ident]!);
  sqlite.exec(`CREATE INDEX ave ON datoms (a, v, e) WHERE a IN (${indexed.join(', ')})`);
  const insert = sqlite.prepare('INSERT INTO datoms (e, a, v) VALUES (?, ?, ?)');
  sqlite.transaction(() => {
    for (const [e, a, v] of facts) insert.run(e, ATTR[a]!, v);
  })();
  sqlite.exec('ANALYZE');
  return { sediment, ids, datascript, sqlite };
}

// ----- measuring ----------------------------------------------------------------------------------

interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Mean ms per call over at least MIN_RUN_MS, RUNS times after a warm-up. */
function time(call: () => unknown): Stat {
  call();
  const xs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      call();
      n++;
      elapsed = performance.now() - start;
    } while (elapsed < MIN_RUN_MS);
    xs.push(elapsed / n);
  }
  xs.sort((a, b) => a - b);
  return { median: xs[Math.floor(xs.length / 2)]!, min: xs[0]!, max: xs[xs.length - 1]! };
}

const num = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const show = (s: Stat) => `${num(s.median)} ms (${num(s.min)}–${num(s.max)})`;

/** Rows as sorted canonical strings, entity ids mapped to the generated ones. */
function canonical(rows: unknown, toGenerated: (id: number) => number, entityColumns: readonly number[]): string[] {
  return (rows as unknown[][]).map((r) => JSON.stringify(r.map((v, i) => (entityColumns.includes(i) ? toGenerated(v as number) : v)))).sort();
}

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
}

const rows: string[] = [];

function run(engines: Engines, c: Case, goalSqlite: boolean): void {
  const { sediment, datascript, sqlite } = engines;
  const statement = sqlite.prepare(c.sql).raw(true);
  const reverse = new Map([...engines.ids].map(([g, s]) => [s, g]));
  const fromSediment = canonical(sediment.q(c.edn, ...c.inputs), (id) => reverse.get(id)!, c.entityColumns);
  const fromDs = canonical(ds.q(c.dsEdn, datascript, ...c.dsInputs), (id) => id, c.entityColumns);
  const fromSql = canonical(statement.all(...c.sqlParams), (id) => id, c.entityColumns);
  if (JSON.stringify(fromSediment) !== JSON.stringify(fromDs) || JSON.stringify(fromSql) !== JSON.stringify(fromDs)) {
    throw new Error(`${c.name}: results differ (Sediment ${fromSediment.length} rows, DataScript ${fromDs.length}, better-sqlite3 ${fromSql.length})`);
  }
  progress(`${c.name}: ${fromDs.length} rows`);
  const s = time(() => sediment.q(c.edn, ...c.inputs));
  const d = time(() => ds.q(c.dsEdn, datascript, ...c.dsInputs));
  const q = time(() => statement.all(...c.sqlParams));
  const dsRatio = d.median / s.median;
  const sqlRatio = s.median / q.median;
  const goal = goalSqlite ? '≥10× DataScript; ≤ better-sqlite3' : '≥10× DataScript';
  const met = goalSqlite ? `${dsRatio >= 10 ? 'yes' : 'no'}; ${sqlRatio <= 1 ? 'yes' : 'no'}` : dsRatio >= 10 ? 'yes' : 'no';
  rows.push(`| ${c.name} (${fromDs.length} rows) | ${show(s)} | ${show(d)} | ${show(q)} | ${dsRatio.toFixed(1)}× | ${sqlRatio.toFixed(2)}× | ${goal} | ${met} |`);
}

function peopleCases(): void {
  const people = makePeople(PEOPLE, prng(20_000));
  const facts: [number, string, string | number][] = [];
  people.forEach((p, i) => {
    for (const [a, v] of attributesOf(p)) facts.push([i + 1, a, v]);
  });
  progress(`people: ${people.length}, ${facts.length} datoms; loading the three engines`);
  const engines = load('people', [
    { ident: 'name', type: 'string', index: true },
    { ident: 'last-name', type: 'string' },
    { ident: 'full-name', type: 'string' },
    { ident: 'alias', type: 'string', many: true },
    { ident: 'sex', type: 'keyword' },
    { ident: 'age', type: 'long', index: true },
    { ident: 'salary', type: 'long' },
  ], facts);
  const dsText = (edn: string) => edn.replace(/:(name|last-name|age|sex|salary)\b(?!\/)/g, '"$1"').replace('"sex" :male', '"sex" ":male"');
  const q = (name: string, edn: string, sql: string, entityColumns: number[], inputs: unknown[] = [], sqlParams: unknown[] = []): Case => ({ name, edn, dsEdn: dsText(edn), sql, inputs, dsInputs: inputs, sqlParams, entityColumns });
  const join = (alias: string, a: string, extra = '') => ` JOIN datoms ${alias} ON ${alias}.e = n.e AND ${alias}.a = ${ATTR[a]}${extra}`;
  const cases = [
    q('q1', '[:find ?e :where [?e :name "Ivan"]]', `SELECT n.e FROM datoms n WHERE n.a = ${ATTR.name} AND n.v = 'Ivan'`, [0]),
    q('q2', '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a]]', `SELECT n.e, g.v FROM datoms n${join('g', 'age')} WHERE n.a = ${ATTR.name} AND n.v = 'Ivan'`, [0]),
    q('q3', '[:find ?e ?a :where [?e :name "Ivan"] [?e :age ?a] [?e :sex :male]]', `SELECT n.e, g.v FROM datoms n${join('g', 'age')}${join('s', 'sex', " AND s.v = 'male'")} WHERE n.a = ${ATTR.name} AND n.v = 'Ivan'`, [0]),
    q('q4', '[:find ?e ?l ?a :where [?e :name "Ivan"] [?e :last-name ?l] [?e :age ?a] [?e :sex :male]]', `SELECT n.e, l.v, g.v FROM datoms n${join('l', 'last-name')}${join('g', 'age')}${join('s', 'sex', " AND s.v = 'male'")} WHERE n.a = ${ATTR.name} AND n.v = 'Ivan'`, [0]),
    q('qpred1', '[:find ?e ?s :where [?e :salary ?s] [(> ?s 50000)]]', `SELECT e, v FROM datoms WHERE a = ${ATTR.salary} AND v > 50000`, [0]),
    q('qpred2', '[:find ?e ?s :in $ ?min_s :where [?e :salary ?s] [(> ?s ?min_s)]]', `SELECT e, v FROM datoms WHERE a = ${ATTR.salary} AND v > ?`, [0], [50_000], [50_000]),
  ];
  for (const c of cases) run(engines, c, ['q1', 'q2', 'q3', 'q4'].includes(c.name));
  engines.sqlite.close();
}

const RULES = '[[(follows ?x ?y) [?x :follows ?y]] [(follows ?x ?y) [?x :follows ?t] (follows ?t ?y)]]';
const RECURSIVE_SQL =
  `WITH RECURSIVE r(x, y) AS (SELECT e, v FROM datoms WHERE a = ${ATTR.follows} ` +
  `UNION SELECT d.e, r.y FROM datoms d JOIN r ON d.v = r.x AND d.a = ${ATTR.follows}) SELECT x, y FROM r`;

function ruleCase(name: string, edges: [number, number][]): void {
  progress(`${name}: ${edges.length} edges`);
  const engines = load(name.replace(/\W+/g, '-'), [{ ident: 'follows', type: 'ref', many: true }], edges.map(([e, v]) => [e, 'follows', v]));
  run(engines, {
    name,
    edn: '[:find ?e ?e2 :in $ % :where (follows ?e ?e2)]',
    dsEdn: '[:find ?e ?e2 :in $ % :where (follows ?e ?e2)]',
    sql: RECURSIVE_SQL,
    inputs: [RULES],
    dsInputs: [RULES.replace(/:follows/g, '"follows"')],
    sqlParams: [],
    entityColumns: [0, 1],
  }, false);
  engines.sqlite.close();
}

function machineLine(): string {
  const cpus = os.cpus();
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  return `machine: ${cpus[0]?.model ?? 'cpu'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()} ${os.release()}; load average (1/5/15 min) at start ${load(loadAtStart)}, at end ${load(os.loadavg())}`;
}

try {
  peopleCases();
  ruleCase('rules, wide 4×6', wideEdges(4, 6));
  ruleCase('rules, wide 7×3', wideEdges(7, 3));
  ruleCase('rules, long 10×3', longEdges(10, 3));
  ruleCase('rules, long 30×5', longEdges(30, 5));
  console.log('\n## Query benchmark: Sediment, DataScript, better-sqlite3\n');
  console.log(machineLine());
  console.log('');
  console.log('| query | Sediment | DataScript | better-sqlite3 | DataScript/Sediment | Sediment/better-sqlite3 | goal | met? |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('');
  console.log(`Each figure: median of ${RUNS} runs (min–max), each run the mean of as many calls as fit in ${MIN_RUN_MS} ms, after a warm-up call. Results were equal across the three engines for every query.`);
} finally {
  fs.rmSync(directory, { recursive: true, force: true });
}
