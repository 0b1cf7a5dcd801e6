/**
 * The database benchmark of issue 4: Sediment beside better-sqlite3 and DataScript, in one process
 * and on the same generated data, DataScript's own benchmark shape: people with name (8 first
 * names), last-name (6), full-name, alias (cardinality many, 0–9 draws from 11 strings, duplicates
 * collapse), sex (keyword male/female), age (0–99) and salary (0–99,999). People are generated
 * until the user datoms reach 100k (and 1M in the full run): about 9.7 datoms a person, so about
 * 10k and 103k people. Prints a Markdown table with the goals, the machine and its load.
 *
 *   npm run bench:db                full run: 100k and 1M datoms (several minutes on 2 cores)
 *   npm run bench:db -- --quick     100k datoms only, 3 runs, fewer reads (under about 2 minutes)
 *
 * Every timed figure is the median of 5 runs (--quick: 3) after one warm-up run, with min–max.
 * Engine settings (the same in every run):
 *  - Sediment: `lib/` through tsx (the source, not `dist/`), Database.open on a file in a temp dir,
 *    default cache (64 MiB) and indexing threshold. Bulk import: `durability: 'full'`; the 1- and
 *    5-datom transactions and the history database: `'relaxed'` (timed up to and including a
 *    final conn.sync()). Schema: name and age have db/index (so are in AVET); alias is
 *    cardinality many; sex is db.type/keyword.
 *  - better-sqlite3: one table datoms(e, a, v, tx) WITHOUT ROWID with PRIMARY KEY (e, a, v, tx)
 *    (EAVT), an index (a, e, v, tx) (AEVT) and a partial index (a, v, e, tx) WHERE a is name or
 *    age (AVET), created before the data (as a schema-first application would); attributes as
 *    small integers, values in SQLite's dynamic typing; journal_mode=WAL; synchronous=FULL for the
 *    durable import and the durable single-datom commits, NORMAL elsewhere; one transaction per
 *    import or per small transaction, prepared statements. It keeps only current datoms (no
 *    history, no log), which favours it. A 1-datom transaction is an UPDATE of age; a 5-datom one
 *    five INSERTs.
 *  - DataScript (npm `datascript`): JS API, `db_with(empty_db(schema), txData)` for the import,
 *    `datoms(db, ':eavt', e, 'age')` for point reads. Entity ids given explicitly (1..n), as for
 *    better-sqlite3; Sediment's come from its tempids.
 * Bytes: Sediment, file growth (the file only; the lock file is empty); better-sqlite3, file plus
 * WAL after wal_checkpoint(TRUNCATE) for the import, bytes passed to write(2) (/proc/self/io
 * wchar) for the small transactions, since its WAL is reused in place and does not grow.
 * A correctness check runs on every data set: the three engines must give the same point reads
 * and the same counts (per attribute, per AVET value, per entity), equal to the generated data;
 * the history database must read as the model says both as of the import and now. Any mismatch
 * throws and the run fails.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Connection, Database, type Db } from '../lib/index.js';
import { prng } from '../spec/support/store-workload.js';

// ----- options ------------------------------------------------------------------------------------

const args = process.argv.slice(2);
for (const a of args) {
  if (a !== '--quick') {
    console.error(`unknown option ${a}; use --quick`);
    process.exit(2);
  }
}
const QUICK = args.includes('--quick');
const SIZES = QUICK ? [100_000] : [100_000, 1_000_000];
const RUNS = QUICK ? 3 : 5;
const SMALL_TXS = 10_000;
const READS = QUICK ? 50_000 : 200_000;
const DURABLE_TXS = QUICK ? 50 : 100;
const HOT_CHANGES = 1_000;
/** Reads of one entity: fewer than READS, since one case is far slower than the others. */
const ONE_ENTITY_READS = QUICK ? 5_000 : 20_000;
const SEED = 20240704;

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-bench-db-'));
const started = process.hrtime.bigint();
const nowUs = () => Number(process.hrtime.bigint()) / 1e3;
const progress = (message: string) => console.error(`[${((nowUs() - Number(started) / 1e3) / 1e6).toFixed(1)} s] ${message}`);
const loadAtStart = os.loadavg();

// ----- engines' APIs (neither package ships declarations) -----------------------------------------

interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  pluck(on?: boolean): SqliteStatement;
}
interface SqliteDb {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(pragma: string, options?: { simple: boolean }): unknown;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
type SqliteConstructor = new (file: string) => SqliteDb;

interface DsDatom {
  readonly e: number;
  readonly a: string;
  readonly v: unknown;
}
type DsDb = { readonly __datascriptDb: never };
interface DataScriptApi {
  empty_db(schema: Record<string, Record<string, unknown>>): DsDb;
  db_with(db: DsDb, txData: readonly unknown[]): DsDb;
  datoms(db: DsDb, index: ':eavt' | ':aevt' | ':avet', ...components: unknown[]): DsDatom[];
}

const require = createRequire(import.meta.url);
const BetterSqlite = require('better-sqlite3') as SqliteConstructor;
const ds = require('datascript') as DataScriptApi;

// ----- data ---------------------------------------------------------------------------------------

const FIRST_NAMES = ['Ivan', 'Petr', 'Sergei', 'Oleg', 'Yuri', 'Dmitry', 'Fedor', 'Denis'];
const LAST_NAMES = ['Ivanov', 'Petrov', 'Sidorov', 'Kovalev', 'Kuznetsov', 'Voronoi'];
const ALIASES = ['A. C. Q. W.', 'A. J. Finn', 'A.A.Pernandes', 'Agent 001', 'Agent 007', 'Agent 047', 'Agent Kallus', 'Agent Smith', 'Asterisk', 'Alban', 'Amarillo'];

interface Person {
  readonly name: string;
  readonly lastName: string;
  readonly fullName: string;
  /** Distinct: a cardinality-many attribute holds a set. */
  readonly alias: readonly string[];
  readonly sex: 'male' | 'female';
  readonly age: number;
  readonly salary: number;
}

const datomsOf = (p: Person) => 6 + p.alias.length;

function makePeople(targetDatoms: number, random: () => number): Person[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const people: Person[] = [];
  let datoms = 0;
  while (datoms < targetDatoms) {
    const name = pick(FIRST_NAMES);
    const lastName = pick(LAST_NAMES);
    const draws = Math.floor(random() * 10);
    const alias = new Set<string>();
    for (let i = 0; i < draws; i++) alias.add(pick(ALIASES));
    const p: Person = {
      name,
      lastName,
      fullName: `${name} ${lastName}`,
      alias: [...alias],
      sex: random() < 0.5 ? 'male' : 'female',
      age: Math.floor(random() * 100),
      salary: Math.floor(random() * 100_000),
    };
    people.push(p);
    datoms += datomsOf(p);
  }
  return people;
}

/** Attribute ids for better-sqlite3; its AVET index covers the indexed ones. */
const ATTR = { name: 1, 'last-name': 2, 'full-name': 3, alias: 4, sex: 5, age: 6, salary: 7 } as const;
type AttrName = keyof typeof ATTR;
const ATTR_NAMES = Object.keys(ATTR) as AttrName[];
const INDEXED: readonly AttrName[] = ['name', 'age'];

function valuesOf(p: Person, a: AttrName): readonly (string | number)[] {
  switch (a) {
    case 'name':
      return [p.name];
    case 'last-name':
      return [p.lastName];
    case 'full-name':
      return [p.fullName];
    case 'alias':
      return p.alias;
    case 'sex':
      return [p.sex];
    case 'age':
      return [p.age];
    case 'salary':
      return [p.salary];
  }
}

const SEDIMENT_SCHEMA = [
  { 'db/ident': 'name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'last-name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'full-name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'alias', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
  { 'db/ident': 'sex', 'db/valueType': 'db.type/keyword', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'age', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'salary', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one' },
];

const DS_SCHEMA: Record<string, Record<string, unknown>> = {
  alias: { ':db/cardinality': ':db.cardinality/many' },
  name: { ':db/index': true },
  age: { ':db/index': true },
};

/** One map per person; the entity id under `idKey`, as `id(i)` names it (a tempid or an integer). */
function peopleTxData(people: readonly Person[], idKey: string, id: (i: number) => string | number): Record<string, unknown>[] {
  return people.map((p, i) => ({
    [idKey]: id(i),
    name: p.name,
    'last-name': p.lastName,
    'full-name': p.fullName,
    ...(p.alias.length > 0 ? { alias: p.alias } : {}),
    sex: p.sex,
    age: p.age,
    salary: p.salary,
  }));
}

const sedimentTxData = (people: readonly Person[]) => peopleTxData(people, 'db/id', (i) => `p${i}`);
const datascriptTxData = (people: readonly Person[]) => peopleTxData(people, ':db/id', (i) => i + 1);

// ----- measuring ----------------------------------------------------------------------------------

interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

function stat(xs: readonly number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

/** One warm-up call, then RUNS timed calls; `run` returns its own measure (so it can exclude setup). */
function repeat(run: (round: number) => number): Stat {
  run(-1);
  const xs: number[] = [];
  for (let r = 0; r < RUNS; r++) xs.push(run(r));
  return stat(xs);
}

const num = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const count = (x: number) => x.toLocaleString('en-US');
const show = (s: Stat, unit: string) => `${num(s.median)} ${unit} (${num(s.min)}–${num(s.max)})`;
const ratio = (x: number, y: number) => `${(x / y).toFixed(2)}×`;

/** Bytes this process passed to write system calls so far. */
function writtenBytes(): number {
  const match = /^wchar:\s*(\d+)/m.exec(fs.readFileSync('/proc/self/io', 'utf8'));
  if (match === null) throw new Error('no wchar in /proc/self/io');
  return Number(match[1]);
}

const sizeOf = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

let fileCounter = 0;
const freshFile = (label: string) => path.join(directory, `${label}-${fileCounter++}`);

function removeDb(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '.lock']) fs.rmSync(file + suffix, { force: true });
}

// ----- Sediment -----------------------------------------------------------------------------------

interface SedimentHandle {
  readonly file: string;
  readonly conn: Connection;
  /** Person index -> entity id. */
  readonly ids: number[];
  readonly importTx: number;
}

function sedimentOpen(durability: 'full' | 'relaxed'): { file: string; conn: Connection } {
  const file = freshFile(`sediment-${durability}.db`);
  const conn = Database.open(file, { create: true, durability });
  conn.transact(SEDIMENT_SCHEMA);
  return { file, conn };
}

/** Imports `people` in one transaction; returns the handle and the time the transact took (µs). */
function sedimentImport(people: readonly Person[], txData: readonly unknown[], durability: 'full' | 'relaxed'): { handle: SedimentHandle; us: number; bytes: number } {
  const { file, conn } = sedimentOpen(durability);
  const before = sizeOf(file);
  const t0 = nowUs();
  const report = conn.transact(txData);
  if (durability === 'relaxed') conn.sync();
  const us = nowUs() - t0;
  const ids = people.map((_, i) => {
    const id = report.tempids[`p${i}`];
    if (id === undefined) throw new Error(`Sediment: no entity id for tempid p${i}`);
    return id;
  });
  return { handle: { file, conn, ids, importTx: report.tx }, us, bytes: sizeOf(file) - before };
}

function sedimentValue(db: Db, e: number, a: string): unknown {
  let value: unknown;
  for (const d of db.datoms('eavt', e, a)) value = d.v;
  return value;
}

function sedimentCount(iterable: Iterable<unknown>): number {
  let n = 0;
  for (const _ of iterable) n++;
  return n;
}

// ----- better-sqlite3 -----------------------------------------------------------------------------

interface SqliteHandle {
  readonly file: string;
  readonly db: SqliteDb;
  readonly selectV: SqliteStatement;
}

function sqliteOpen(synchronous: 'FULL' | 'NORMAL'): SqliteHandle {
  const file = freshFile(`sqlite-${synchronous}.db`);
  const db = new BetterSqlite(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(
    'CREATE TABLE datoms (e INTEGER NOT NULL, a INTEGER NOT NULL, v NOT NULL, tx INTEGER NOT NULL, PRIMARY KEY (e, a, v, tx)) WITHOUT ROWID;' +
      'CREATE INDEX aevt ON datoms (a, e, v, tx);' +
      `CREATE INDEX avet ON datoms (a, v, e, tx) WHERE a IN (${INDEXED.map((a) => ATTR[a]).join(', ')});`,
  );
  return { file, db, selectV: db.prepare('SELECT v FROM datoms WHERE e = ? AND a = ?').pluck() };
}

const sqliteFileBytes = (h: SqliteHandle) => sizeOf(h.file) + sizeOf(`${h.file}-wal`);

function sqliteImport(people: readonly Person[], synchronous: 'FULL' | 'NORMAL'): { handle: SqliteHandle; us: number; bytes: number } {
  const handle = sqliteOpen(synchronous);
  handle.db.pragma('wal_checkpoint(TRUNCATE)');
  const before = sqliteFileBytes(handle);
  const insert = handle.db.prepare('INSERT INTO datoms (e, a, v, tx) VALUES (?, ?, ?, ?)');
  const load = handle.db.transaction(() => {
    for (let i = 0; i < people.length; i++) {
      const p = people[i]!;
      for (const a of ATTR_NAMES) for (const v of valuesOf(p, a)) insert.run(i + 1, ATTR[a], v, 1);
    }
  });
  const t0 = nowUs();
  load();
  const us = nowUs() - t0;
  handle.db.pragma('wal_checkpoint(TRUNCATE)');
  return { handle, us, bytes: sqliteFileBytes(handle) - before };
}

function sqliteClose(h: SqliteHandle): void {
  h.db.close();
  removeDb(h.file);
}

// ----- the report ---------------------------------------------------------------------------------

interface Row {
  readonly workload: string;
  readonly sediment: string;
  readonly sqlite: string;
  readonly datascript: string;
  readonly ratios: string;
  readonly goal: string;
  readonly met: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const yesNo = (ok: boolean) => (ok ? 'yes' : '**no**');

// ----- correctness --------------------------------------------------------------------------------

function fail(message: string): never {
  throw new Error(`correctness check failed: ${message}`);
}

function same(what: string, expected: unknown, got: Record<string, unknown>): void {
  for (const [engine, value] of Object.entries(got)) {
    if (JSON.stringify(value) !== JSON.stringify(expected)) fail(`${what}: expected ${JSON.stringify(expected)}, ${engine} gave ${JSON.stringify(value)}`);
  }
}

/** Point reads of every attribute for a sample of people, attribute counts, AVET counts. */
function checkEngines(people: readonly Person[], s: SedimentHandle, q: SqliteHandle, d: DsDb, random: () => number): number {
  const db = s.conn.db();
  const selectAll = q.db.prepare('SELECT v FROM datoms WHERE e = ? AND a = ? ORDER BY v').pluck();
  let checks = 0;
  const sortedValues = (xs: Iterable<unknown>) => [...xs].map(String).sort();
  for (let k = 0; k < 500; k++) {
    const i = Math.floor(random() * people.length);
    const p = people[i]!;
    for (const a of ATTR_NAMES) {
      const expected = sortedValues(valuesOf(p, a));
      const sediment = sortedValues([...db.datoms('eavt', s.ids[i]!, a)].map((x) => x.v));
      const rowsOf = (selectAll as unknown as { all(...params: unknown[]): unknown[] }).all(i + 1, ATTR[a]);
      same(`person ${i} ${a}`, expected, { Sediment: sediment, 'better-sqlite3': sortedValues(rowsOf), DataScript: sortedValues(ds.datoms(d, ':eavt', i + 1, a).map((x) => x.v)) });
      checks++;
    }
  }
  const countAttr = q.db.prepare('SELECT count(*) FROM datoms WHERE a = ?').pluck();
  for (const a of ATTR_NAMES) {
    let expected = 0;
    for (const p of people) expected += valuesOf(p, a).length;
    same(`count of ${a}`, expected, {
      Sediment: sedimentCount(db.datoms('aevt', a)),
      'better-sqlite3': countAttr.get(ATTR[a]),
      DataScript: ds.datoms(d, ':aevt', a).length,
    });
    checks++;
  }
  const countAv = q.db.prepare('SELECT count(*) FROM datoms WHERE a = ? AND v = ?').pluck();
  for (const [a, v] of [['age', 42], ['age', 0], ['age', 99], ['name', 'Oleg'], ['name', 'Denis']] as const) {
    const expected = people.filter((p) => valuesOf(p, a).includes(v)).length;
    same(`AVET count of ${a} = ${v}`, expected, {
      Sediment: sedimentCount(db.datoms('avet', a, v)),
      'better-sqlite3': countAv.get(ATTR[a], v),
      DataScript: ds.datoms(d, ':avet', a, v).length,
    });
    checks++;
  }
  return checks;
}

// ----- rows 1 and 3: bulk import, point reads -----------------------------------------------------

function importAndRead(target: number): void {
  const random = prng(SEED + target);
  const people = makePeople(target, random);
  const datoms = people.reduce((n, p) => n + datomsOf(p), 0);
  const label = `${count(datoms)} datoms (${count(people.length)} people)`;
  progress(`import ${label}`);
  const sTx = sedimentTxData(people);
  const dTx = datascriptTxData(people);

  let sediment: SedimentHandle | undefined;
  let sBytes = 0;
  const sUs = repeat(() => {
    if (sediment !== undefined) {
      sediment.conn.close();
      removeDb(sediment.file);
    }
    const r = sedimentImport(people, sTx, 'full');
    sediment = r.handle;
    sBytes = r.bytes;
    return r.us / datoms;
  });
  progress(`  Sediment ${num(sUs.median)} µs/datom`);
  let sqlite: SqliteHandle | undefined;
  let qBytes = 0;
  const qUs = repeat(() => {
    if (sqlite !== undefined) sqliteClose(sqlite);
    const r = sqliteImport(people, 'FULL');
    sqlite = r.handle;
    qBytes = r.bytes;
    return r.us / datoms;
  });
  progress(`  better-sqlite3 ${num(qUs.median)} µs/datom`);
  let dsDb: DsDb | undefined;
  const dUs = repeat(() => {
    dsDb = undefined;
    const t0 = nowUs();
    const db = ds.db_with(ds.empty_db(DS_SCHEMA), dTx);
    const us = nowUs() - t0;
    dsDb = db;
    return us / datoms;
  });
  progress(`  DataScript ${num(dUs.median)} µs/datom`);
  if (sediment === undefined || sqlite === undefined || dsDb === undefined) throw new Error('internal: no database after the runs');
  const s = sediment;
  const q = sqlite;
  const d = dsDb;

  const checks = checkEngines(people, s, q, d, prng(SEED + target + 1));
  progress(`  correctness: ${checks} checks agree`);

  rows.push({
    workload: `1. bulk import, one transaction, ${label}: µs/datom (Sediment full, better-sqlite3 WAL + FULL)`,
    sediment: show(sUs, 'µs'),
    sqlite: show(qUs, 'µs'),
    datascript: show(dUs, 'µs (db_with)'),
    ratios: `S/sqlite ${ratio(sUs.median, qUs.median)}, DataScript/S ${ratio(dUs.median, sUs.median)}`,
    goal: 'Sediment ≤ better-sqlite3; 10× faster than DataScript db_with',
    met: `${yesNo(sUs.median <= qUs.median)}; ${yesNo(dUs.median >= 10 * sUs.median)}`,
  });
  rows.push({
    workload: `1. file bytes/datom after that import (better-sqlite3: file + WAL after checkpoint)`,
    sediment: `${num(sBytes / datoms)} B`,
    sqlite: `${num(qBytes / datoms)} B`,
    datascript: '—',
    ratios: `S/sqlite ${ratio(sBytes, qBytes)}`,
    goal: '≤ better-sqlite3',
    met: yesNo(sBytes <= qBytes),
  });

  // Row 3: warm point reads of random people's age.
  const readRandom = prng(SEED + target + 2);
  const picks = Array.from({ length: READS }, () => Math.floor(readRandom() * people.length));
  const sIds = picks.map((i) => s.ids[i]!);
  const otherIds = picks.map((i) => i + 1);
  let expectedSum = 0;
  for (const i of picks) expectedSum += people[i]!.age;
  const sums = { Sediment: 0, 'better-sqlite3': 0, DataScript: 0 };
  const sdb = s.conn.db();
  const sRead = repeat(() => {
    let sum = 0;
    const t0 = nowUs();
    for (const e of sIds) for (const datom of sdb.datoms('eavt', e, 'age')) sum += datom.v as number;
    const us = nowUs() - t0;
    sums.Sediment = sum;
    return us / READS;
  });
  const ageId = ATTR.age;
  const qRead = repeat(() => {
    let sum = 0;
    const t0 = nowUs();
    for (const e of otherIds) sum += q.selectV.get(e, ageId) as number;
    const us = nowUs() - t0;
    sums['better-sqlite3'] = sum;
    return us / READS;
  });
  const dRead = repeat(() => {
    let sum = 0;
    const t0 = nowUs();
    for (const e of otherIds) sum += ds.datoms(d, ':eavt', e, 'age')[0]!.v as number;
    const us = nowUs() - t0;
    sums.DataScript = sum;
    return us / READS;
  });
  same(`sum of ages over the ${count(READS)} point reads`, expectedSum, sums);
  rows.push({
    workload: `3. point read (entity, age), warm, ${count(READS)} random people of ${label}`,
    sediment: show(sRead, 'µs'),
    sqlite: show(qRead, 'µs'),
    datascript: show(dRead, 'µs'),
    ratios: `sqlite/S ${ratio(qRead.median, sRead.median)}, S/DataScript ${ratio(sRead.median, dRead.median)}`,
    goal: '≤ 1 µs and 3× faster than better-sqlite3',
    met: `${yesNo(sRead.median <= 1)}; ${yesNo(qRead.median >= 3 * sRead.median)}`,
  });

  if (target === 100_000) durableSingles(s, q, people);
  s.conn.close();
  removeDb(s.file);
  sqliteClose(q);
}

// ----- row 2, durable: one full-durability 1-datom transaction -----------------------------------

function durableSingles(s: SedimentHandle, q: SqliteHandle, people: readonly Person[]): void {
  progress(`durable 1-datom transactions, ${DURABLE_TXS} a run`);
  const random = prng(SEED + 7);
  let nextAge = 1_000_000;
  let sBytesPerTx = 0;
  const sLatency = repeat(() => {
    const latencies: number[] = [];
    const before = sizeOf(s.file);
    for (let k = 0; k < DURABLE_TXS; k++) {
      const e = s.ids[Math.floor(random() * people.length)]!;
      const t0 = nowUs();
      s.conn.transact([['db/add', e, 'age', nextAge++]]);
      latencies.push(nowUs() - t0);
    }
    sBytesPerTx = (sizeOf(s.file) - before) / DURABLE_TXS;
    return stat(latencies).median;
  });
  const update = q.db.prepare('UPDATE datoms SET v = ?, tx = ? WHERE e = ? AND a = ?');
  let tx = 2;
  const updateTx = q.db.transaction((e: number, v: number) => {
    update.run(v, tx++, e, ATTR.age);
  });
  const qLatency = repeat(() => {
    const latencies: number[] = [];
    for (let k = 0; k < DURABLE_TXS; k++) {
      const e = 1 + Math.floor(random() * people.length);
      const t0 = nowUs();
      updateTx(e, nextAge++);
      latencies.push(nowUs() - t0);
    }
    return stat(latencies).median;
  });
  const rawFile = freshFile('raw.bin');
  const fd = fs.openSync(rawFile, 'w+');
  const chunk = Buffer.alloc(Math.max(1, Math.round(sBytesPerTx)), 7);
  let position = 0;
  const rawLatency = repeat(() => {
    const latencies: number[] = [];
    for (let k = 0; k < DURABLE_TXS; k++) {
      const t0 = nowUs();
      fs.writeSync(fd, chunk, 0, chunk.length, position);
      fs.fdatasyncSync(fd);
      latencies.push(nowUs() - t0);
      position += chunk.length;
    }
    return stat(latencies).median;
  });
  fs.closeSync(fd);
  fs.rmSync(rawFile, { force: true });
  rows.push({
    workload: `2. one 1-datom transaction, durability full: latency (median of ${DURABLE_TXS} per run; better-sqlite3 WAL + FULL; raw: write + fdatasync of ${Math.round(sBytesPerTx)} B, Sediment's growth per commit)`,
    sediment: show(sLatency, 'µs'),
    sqlite: show(qLatency, 'µs'),
    datascript: `raw ${show(rawLatency, 'µs')}`,
    ratios: `S/sqlite ${ratio(sLatency.median, qLatency.median)}, S/raw ${ratio(sLatency.median, rawLatency.median)}`,
    goal: '— (reported)',
    met: '—',
  });
}

// ----- row 2, relaxed: 1- and 5-datom transactions -----------------------------------------------

function smallTransactions(): void {
  const people = makePeople(100_000, prng(SEED + 100_000));
  progress(`1- and 5-datom transactions, ${count(SMALL_TXS)} of each a run, on ${count(people.length)} imported people`);
  const s = sedimentImport(people, sedimentTxData(people), 'relaxed').handle;
  const q = sqliteImport(people, 'NORMAL').handle;
  q.db.pragma('wal_checkpoint(TRUNCATE)');
  const random = prng(SEED + 11);
  const newPerson = () => {
    const name = FIRST_NAMES[Math.floor(random() * FIRST_NAMES.length)]!;
    const lastName = LAST_NAMES[Math.floor(random() * LAST_NAMES.length)]!;
    return { name, lastName, fullName: `${name} ${lastName}`, sex: random() < 0.5 ? 'male' : 'female', age: Math.floor(random() * 100) };
  };
  let nextAge = 100;
  const expectedAge = new Map<number, number>();

  // Workloads are generated before timing, so both engines get the same ones and no generator is timed.
  const singles = () => Array.from({ length: SMALL_TXS }, () => [Math.floor(random() * people.length), nextAge++] as const);
  const fives = () => Array.from({ length: SMALL_TXS }, newPerson);

  const sSingleBytes: number[] = [];
  const sFiveBytes: number[] = [];
  const sSingle: number[] = [];
  const sFive: number[] = [];
  let sNewPeople = 0;
  const runSediment = (round: number, work1: ReturnType<typeof singles>, work5: ReturnType<typeof fives>) => {
    let before = sizeOf(s.file);
    let t0 = nowUs();
    for (const [i, age] of work1) s.conn.transact([['db/add', s.ids[i]!, 'age', age]]);
    s.conn.sync();
    const us = nowUs() - t0;
    const singleBytes = (sizeOf(s.file) - before) / SMALL_TXS;
    before = sizeOf(s.file);
    t0 = nowUs();
    for (const p of work5) s.conn.transact([{ name: p.name, 'last-name': p.lastName, 'full-name': p.fullName, sex: p.sex, age: p.age }]);
    s.conn.sync();
    const us5 = nowUs() - t0;
    const fiveBytes = (sizeOf(s.file) - before) / (5 * SMALL_TXS);
    sNewPeople += work5.length;
    if (round >= 0) {
      sSingle.push(SMALL_TXS / (us / 1e6));
      sFive.push(SMALL_TXS / (us5 / 1e6));
      sSingleBytes.push(singleBytes);
      sFiveBytes.push(fiveBytes);
    }
  };
  const update = q.db.prepare('UPDATE datoms SET v = ?, tx = ? WHERE e = ? AND a = ?');
  const insert = q.db.prepare('INSERT INTO datoms (e, a, v, tx) VALUES (?, ?, ?, ?)');
  let tx = 2;
  let nextE = people.length + 1;
  const updateTx = q.db.transaction((e: number, v: number) => {
    update.run(v, tx++, e, ATTR.age);
  });
  const insertTx = q.db.transaction((p: ReturnType<typeof newPerson>) => {
    const e = nextE++;
    insert.run(e, ATTR.name, p.name, tx);
    insert.run(e, ATTR['last-name'], p.lastName, tx);
    insert.run(e, ATTR['full-name'], p.fullName, tx);
    insert.run(e, ATTR.sex, p.sex, tx);
    insert.run(e, ATTR.age, p.age, tx);
    tx++;
  });
  const qSingle: number[] = [];
  const qFive: number[] = [];
  const qSingleBytes: number[] = [];
  const qFiveBytes: number[] = [];
  const runSqlite = (round: number, work1: ReturnType<typeof singles>, work5: ReturnType<typeof fives>) => {
    let before = writtenBytes();
    let t0 = nowUs();
    for (const [i, age] of work1) updateTx(i + 1, age);
    const us = nowUs() - t0;
    const singleBytes = (writtenBytes() - before) / SMALL_TXS;
    before = writtenBytes();
    t0 = nowUs();
    for (const p of work5) insertTx(p);
    const us5 = nowUs() - t0;
    const fiveBytes = (writtenBytes() - before) / (5 * SMALL_TXS);
    if (round >= 0) {
      qSingle.push(SMALL_TXS / (us / 1e6));
      qFive.push(SMALL_TXS / (us5 / 1e6));
      qSingleBytes.push(singleBytes);
      qFiveBytes.push(fiveBytes);
    }
  };
  for (let round = -1; round < RUNS; round++) {
    const work1 = singles();
    const work5 = fives();
    for (const [i, age] of work1) expectedAge.set(i, age);
    runSediment(round, work1, work5);
    runSqlite(round, work1, work5);
  }

  // Both engines must now agree on every person's age and on the number of people.
  const sdb = s.conn.db();
  for (let i = 0; i < people.length; i += 7) {
    const expected = expectedAge.get(i) ?? people[i]!.age;
    same(`age of person ${i} after the small transactions`, expected, { Sediment: sedimentValue(sdb, s.ids[i]!, 'age'), 'better-sqlite3': q.selectV.get(i + 1, ATTR.age) });
  }
  const expectedPeople = people.length + sNewPeople;
  same('people after the small transactions', expectedPeople, {
    Sediment: sedimentCount(sdb.datoms('aevt', 'full-name')),
    'better-sqlite3': q.db.prepare('SELECT count(*) FROM datoms WHERE a = ?').pluck().get(ATTR['full-name']),
  });

  const s1 = stat(sSingle);
  const q1 = stat(qSingle);
  const sb1 = stat(sSingleBytes);
  rows.push({
    workload: `2. 1-datom transactions (set age of a random person), relaxed / WAL + NORMAL, ${count(SMALL_TXS)} a run: tx/s; bytes/datom`,
    sediment: `${show(s1, 'tx/s')}; ${show(sb1, 'B')}`,
    sqlite: `${show(q1, 'tx/s')}; ${show(stat(qSingleBytes), 'B written')}`,
    datascript: '—',
    ratios: `S/sqlite ${ratio(s1.median, q1.median)} (tx/s)`,
    goal: '≥ 50k tx/s and ≤ 300 B/datom',
    met: `${yesNo(s1.median >= 50_000)}; ${yesNo(sb1.median <= 300)}`,
  });
  const s5 = stat(sFive);
  const q5 = stat(qFive);
  rows.push({
    workload: `2. 5-datom transactions (a new person), relaxed / WAL + NORMAL, ${count(SMALL_TXS)} a run: tx/s; bytes/datom`,
    sediment: `${show(s5, 'tx/s')}; ${show(stat(sFiveBytes), 'B')}`,
    sqlite: `${show(q5, 'tx/s')}; ${show(stat(qFiveBytes), 'B written')}`,
    datascript: '—',
    ratios: `S/sqlite ${ratio(s5.median, q5.median)} (tx/s)`,
    goal: '— (reported)',
    met: '—',
  });
  notes.push(
    `Small transactions run on one growing database per engine (${count(people.length)} people imported, then ${RUNS + 1} rounds of ${count(SMALL_TXS)} 1-datom and ${count(SMALL_TXS)} 5-datom transactions, the first round a warm-up). ` +
      `Sediment bytes/datom = file growth / user datoms, after conn.sync(); each Sediment 1-datom transaction also writes the retraction of the old age and the transaction's db/txInstant.`,
  );
  s.conn.close();
  removeDb(s.file);
  sqliteClose(q);
}

// ----- rows 4 and 5: as-of reads, history independence --------------------------------------------

function historyReads(): void {
  const people = makePeople(100_000, prng(SEED + 100_000));
  const { handle: s } = sedimentImport(people, sedimentTxData(people), 'relaxed');
  const random = prng(SEED + 21);
  // Two entities change HOT_CHANGES times: `indexed` early, interleaved with other changes and
  // followed by enough new people that its history is written into the trees; `recent` in the last
  // transactions, so that its history is still in novelty. `cold` never changes.
  const indexed = 0;
  const cold = 1;
  const recent = 2;
  const expectedAge = new Map<number, number>();
  const transactions = HOT_CHANGES * 10;
  progress(
    `history: ${count(transactions)} 1-datom transactions, every tenth on one entity, then ${count(transactions)} new people, then ${count(HOT_CHANGES)} changes of another entity`,
  );
  let nextAge = 100;
  const setAge = (i: number) => {
    const age = nextAge++;
    s.conn.transact([['db/add', s.ids[i]!, 'age', age]]);
    expectedAge.set(i, age);
  };
  for (let k = 0; k < transactions; k++) {
    let i = indexed;
    if (k % 10 !== 0) {
      do i = Math.floor(random() * people.length);
      while (i === indexed || i === cold || i === recent);
    }
    setAge(i);
  }
  for (let k = 0; k < transactions; k++) s.conn.transact([{ name: 'New', 'last-name': 'Person', 'full-name': 'New Person', sex: 'male', age: k % 100 }]);
  for (let k = 0; k < HOT_CHANGES; k++) setAge(recent);
  s.conn.sync();

  const latest = s.conn.db();
  const old = latest.asOf(s.importTx);
  for (let i = 0; i < people.length; i += 5) {
    same(`as-of-import age of person ${i}`, people[i]!.age, { Sediment: sedimentValue(old, s.ids[i]!, 'age') });
    same(`latest age of person ${i}`, expectedAge.get(i) ?? people[i]!.age, { Sediment: sedimentValue(latest, s.ids[i]!, 'age') });
  }
  for (const i of [indexed, recent]) {
    same(`history datoms of person ${i}'s age`, 2 * HOT_CHANGES + 1, { Sediment: sedimentCount(latest.history().datoms('eavt', s.ids[i]!, 'age')) });
  }
  // Internal, for the note only: how much of the last epoch is still unindexed.
  const noveltyDatoms = latest.snapshot.state.novelty.datomCount;

  const readRandom = prng(SEED + 22);
  const sIds = Array.from({ length: READS }, () => s.ids[Math.floor(readRandom() * people.length)]!);
  const readAll = (db: Db) => () => {
    let sum = 0;
    const t0 = nowUs();
    for (const e of sIds) for (const datom of db.datoms('eavt', e, 'age')) sum += datom.v as number;
    const us = nowUs() - t0;
    if (sum <= 0) fail('no ages read');
    return us / READS;
  };
  const onLatest = repeat(readAll(latest));
  const onOld = repeat(readAll(old));
  rows.push({
    workload: `4. point read on db.asOf(import tx), the oldest root with data, vs the latest db, after ${count(2 * transactions)} more transactions (${count(READS)} random people)`,
    sediment: `as-of ${show(onOld, 'µs')}; latest ${show(onLatest, 'µs')}`,
    sqlite: '—',
    datascript: '—',
    ratios: `as-of/latest ${ratio(onOld.median, onLatest.median)}`,
    goal: 'as-of within 1.2× of latest',
    met: yesNo(onOld.median <= 1.2 * onLatest.median),
  });

  const readOne = (e: number) => () => {
    let sum = 0;
    const t0 = nowUs();
    for (let k = 0; k < ONE_ENTITY_READS; k++) for (const datom of latest.datoms('eavt', e, 'age')) sum += datom.v as number;
    const us = nowUs() - t0;
    if (sum <= 0) fail('no ages read');
    return us / ONE_ENTITY_READS;
  };
  const coldRead = repeat(readOne(s.ids[cold]!));
  const indexedRead = repeat(readOne(s.ids[indexed]!));
  const recentRead = repeat(readOne(s.ids[recent]!));
  rows.push({
    workload:
      `5. read age of an entity changed ${count(HOT_CHANGES)} times vs one never changed (latest db, ${count(ONE_ENTITY_READS)} reads each): ` +
      `changes indexed into the trees; changes in the last ${count(HOT_CHANGES)} transactions (novelty: ${count(noveltyDatoms)} datoms at the end)`,
    sediment: `never changed ${show(coldRead, 'µs')}; indexed ${show(indexedRead, 'µs')}; in novelty ${show(recentRead, 'µs')}`,
    sqlite: '—',
    datascript: '—',
    ratios: `indexed/unchanged ${ratio(indexedRead.median, coldRead.median)}, novelty/unchanged ${ratio(recentRead.median, coldRead.median)}`,
    goal: '≤ 2× (both cases)',
    met: `${yesNo(indexedRead.median <= 2 * coldRead.median)}; ${yesNo(recentRead.median <= 2 * coldRead.median)}`,
  });
  s.conn.close();
  removeDb(s.file);
}

// ----- main ---------------------------------------------------------------------------------------

function machineLine(): string {
  const cpus = os.cpus();
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  return (
    `machine: ${cpus[0]?.model ?? 'cpu'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()} ${os.release()}, tmp ${directory}; ` +
    `load average (1/5/15 min) at start ${load(loadAtStart)}, at end ${load(os.loadavg())}`
  );
}

try {
  for (const target of SIZES) importAndRead(target);
  smallTransactions();
  historyReads();
  console.log(`\n## Database benchmark${QUICK ? ' (--quick)' : ''}: Sediment, better-sqlite3, DataScript\n`);
  console.log(machineLine());
  console.log('');
  console.log('| workload | Sediment | better-sqlite3 | DataScript | ratio(s) | goal | met? |');
  console.log('|---|---|---|---|---|---|---|');
  // Rows are pushed as measured; print them in the order (the sort is stable).
  const ordered = [...rows].sort((x, y) => Number.parseInt(x.workload, 10) - Number.parseInt(y.workload, 10));
  for (const r of ordered) console.log(`| ${r.workload} | ${r.sediment} | ${r.sqlite} | ${r.datascript} | ${r.ratios} | ${r.goal} | ${r.met} |`);
  console.log('');
  console.log(`Each figure: median of ${RUNS} runs after one warm-up run, (min–max) of those runs. Correctness checks passed on every data set.`);
  for (const n of notes) console.log(`\n${n}`);
  progress(`total ${((nowUs() - Number(started) / 1e3) / 1e6).toFixed(0)} s`);
} finally {
  fs.rmSync(directory, { recursive: true, force: true });
}
