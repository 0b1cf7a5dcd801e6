/**
 * The engines the suite compares, loaded with the same data: a Dataset is a schema plus facts
 * [entity, attribute, value] with entity ids 1..n in the generator's own numbering. Each engine
 * stores them its own way with the same indexes:
 *  - Sediment: `lib/` through tsx (the source, not `dist/`), Database.open on a file, default cache;
 *    one transaction of db/add lists with tempids; `ids` maps generated ids to Sediment's.
 *  - better-sqlite3: datoms(e, a, v, tx) WITHOUT ROWID, PRIMARY KEY (e, a, v, tx) (EAVT), an index
 *    (a, e, v, tx) (AEVT) and a partial index (a, v, e, tx) on the indexed and ref attributes
 *    (AVET), created before the data; attributes as small integers; journal_mode=WAL, and
 *    synchronous=FULL where durability is the point, NORMAL elsewhere. It keeps current datoms only
 *    (no history, no log), which favours it in time and bytes.
 *  - DataScript (npm `datascript`): `db_with(empty_db(schema), txData)` with the generated ids.
 *  - lmdb-js: one environment, three databases eavt, aevt and avet with keys [e, a, v, tx],
 *    [a, e, v, tx] and [a, v, e, tx] in its default ordered-binary encoding; one transactionSync,
 *    synced on commit unless relaxed.
 * Neither better-sqlite3 nor datascript ships declarations, hence the small interfaces below.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { open as openLmdb, type Database as LmdbDatabase, type RootDatabase } from 'lmdb';
import { type Connection, Database, type Db } from '../../lib/index.js';
import { type Context, freshFile, removeDb, sizeOf } from './harness.js';

// ----- data ---------------------------------------------------------------------------------------

export interface AttributeDef {
  readonly ident: string;
  readonly type: 'string' | 'long' | 'double' | 'keyword' | 'ref';
  readonly many?: boolean;
  /** In AVET (db/index); refs are in every engine's AVET as well, as Sediment keeps them in VAET. */
  readonly index?: boolean;
}

export type Value = string | number;
export type Fact = readonly [e: number, a: string, v: Value];

export interface Dataset {
  readonly name: string;
  readonly schema: readonly AttributeDef[];
  readonly facts: readonly Fact[];
}

/** Attribute ids for better-sqlite3 and lmdb-js: positions in the schema, from 1. */
export const attributeIds = (d: Dataset): Map<string, number> => new Map(d.schema.map((a, i) => [a.ident, i + 1]));

const isAvet = (a: AttributeDef) => a.index === true || a.type === 'ref';

// ----- Sediment -----------------------------------------------------------------------------------

export interface SedimentHandle {
  readonly file: string;
  readonly conn: Connection;
  /** Generated entity id -> Sediment's. */
  readonly ids: Map<number, number>;
  readonly importTx: number;
}

export function sedimentSchema(d: Dataset): Record<string, unknown>[] {
  return d.schema.map((a) => ({
    'db/ident': a.ident,
    'db/valueType': `db.type/${a.type}`,
    'db/cardinality': a.many === true ? 'db.cardinality/many' : 'db.cardinality/one',
    ...(a.index === true ? { 'db/index': true } : {}),
  }));
}

/** The import transaction, built outside the timed part. */
export function sedimentTxData(d: Dataset): unknown[] {
  const refs = new Set(d.schema.filter((a) => a.type === 'ref').map((a) => a.ident));
  const temp = (id: number) => `t${id}`;
  // An entity that only ever appears as a ref's value needs a datom of its own for its tempid to
  // make an entity in Sediment (Datomic's rule); a db/doc serves, and no workload reads it.
  const subjects = new Set(d.facts.map(([e]) => e));
  const leaves = new Set(d.facts.filter(([, a, v]) => refs.has(a) && !subjects.has(v as number)).map(([, , v]) => v as number));
  return [...d.facts.map(([e, a, v]) => ['db/add', temp(e), a, refs.has(a) ? temp(v as number) : v]), ...[...leaves].map((id) => ['db/add', temp(id), 'db/doc', 'leaf'])];
}

/** Opens a fresh file with the schema, imports `txData` in one transaction; `us` is the transact alone (plus sync when relaxed). */
export function sedimentImport(ctx: Context, d: Dataset, txData: readonly unknown[], durability: 'full' | 'relaxed'): { handle: SedimentHandle; us: number; bytes: number } {
  const file = freshFile(ctx, `sediment-${d.name}.db`);
  const conn = Database.open(file, { create: true, durability });
  conn.transact(sedimentSchema(d));
  const before = sizeOf(file);
  const t0 = performance.now();
  const report = conn.transact(txData);
  if (durability === 'relaxed') conn.sync();
  const us = (performance.now() - t0) * 1e3;
  const ids = new Map<number, number>();
  for (const [name, id] of Object.entries(report.tempids)) ids.set(Number(name.slice(1)), id);
  return { handle: { file, conn, ids, importTx: report.tx }, us, bytes: sizeOf(file) - before };
}

export function sedimentClose(h: SedimentHandle): void {
  h.conn.close();
  removeDb(h.file);
}

/** The values of (e, a), sorted as strings: the form every engine's answer is compared in. */
export const sedimentValues = (db: Db, e: number, a: string) => sortedStrings([...db.datoms('eavt', e, a)].map((x) => x.v));

export const sortedStrings = (xs: readonly unknown[]) => xs.map(String).sort();

// ----- better-sqlite3 -----------------------------------------------------------------------------

export interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  pluck(on?: boolean): SqliteStatement;
  raw(on?: boolean): SqliteStatement;
}
export interface SqliteDb {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(pragma: string, options?: { simple: boolean }): unknown;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}

const require = createRequire(import.meta.url);
const BetterSqlite = require('better-sqlite3') as new (file: string) => SqliteDb;

export interface SqliteHandle {
  readonly file: string;
  readonly db: SqliteDb;
  readonly attrs: Map<string, number>;
}

export function sqliteOpen(ctx: Context, d: Dataset, synchronous: 'FULL' | 'NORMAL', file = freshFile(ctx, `sqlite-${d.name}.db`)): SqliteHandle {
  const db = new BetterSqlite(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  const attrs = attributeIds(d);
  const avet = d.schema.filter(isAvet).map((a) => attrs.get(a.ident)!);
  db.exec(
    'CREATE TABLE IF NOT EXISTS datoms (e INTEGER NOT NULL, a INTEGER NOT NULL, v NOT NULL, tx INTEGER NOT NULL, PRIMARY KEY (e, a, v, tx)) WITHOUT ROWID;' +
      'CREATE INDEX IF NOT EXISTS aevt ON datoms (a, e, v, tx);' +
      (avet.length > 0 ? `CREATE INDEX IF NOT EXISTS avet ON datoms (a, v, e, tx) WHERE a IN (${avet.join(', ')});` : ''),
  );
  return { file, db, attrs };
}

/** File plus WAL, after a checkpoint has moved the WAL into the file. */
export function sqliteFileBytes(h: SqliteHandle): number {
  h.db.pragma('wal_checkpoint(TRUNCATE)');
  return sizeOf(h.file) + sizeOf(`${h.file}-wal`);
}

export function sqliteImport(ctx: Context, d: Dataset, synchronous: 'FULL' | 'NORMAL'): { handle: SqliteHandle; us: number; bytes: number } {
  const handle = sqliteOpen(ctx, d, synchronous);
  const before = sqliteFileBytes(handle);
  const insert = handle.db.prepare('INSERT INTO datoms (e, a, v, tx) VALUES (?, ?, ?, 1)');
  const ids = d.facts.map(([, a]) => handle.attrs.get(a)!);
  const load = handle.db.transaction(() => {
    d.facts.forEach(([e, , v], i) => insert.run(e, ids[i], v));
  });
  const t0 = performance.now();
  load();
  const us = (performance.now() - t0) * 1e3;
  handle.db.exec('ANALYZE');
  return { handle, us, bytes: sqliteFileBytes(handle) - before };
}

export function sqliteClose(h: SqliteHandle): void {
  h.db.close();
  removeDb(h.file);
}

// ----- DataScript ---------------------------------------------------------------------------------

export interface DsDatom {
  readonly e: number;
  readonly a: string;
  readonly v: unknown;
}
export type DsDb = { readonly __datascriptDb: never };
export interface DataScriptApi {
  empty_db(schema: Record<string, Record<string, unknown>>): DsDb;
  db_with(db: DsDb, txData: readonly unknown[]): DsDb;
  datoms(db: DsDb, index: ':eavt' | ':aevt' | ':avet', ...components: unknown[]): DsDatom[];
  index_range(db: DsDb, attribute: string, start: unknown, end: unknown): DsDatom[];
  q(query: string, ...inputs: unknown[]): unknown;
}
export const ds = require('datascript') as DataScriptApi;

export function dsSchema(d: Dataset): Record<string, Record<string, unknown>> {
  const schema: Record<string, Record<string, unknown>> = {};
  for (const a of d.schema) {
    schema[a.ident] = {
      ...(a.type === 'ref' ? { ':db/valueType': ':db.type/ref' } : {}),
      ...(a.many === true ? { ':db/cardinality': ':db.cardinality/many' } : {}),
      ...(a.index === true ? { ':db/index': true } : {}),
    };
  }
  return schema;
}

/** DataScript's keywords are strings with a colon. */
export function dsTxData(d: Dataset): unknown[] {
  const keywords = new Set(d.schema.filter((a) => a.type === 'keyword').map((a) => a.ident));
  return d.facts.map(([e, a, v]) => [':db/add', e, a, keywords.has(a) ? `:${v}` : v]);
}

/** DataScript's values in the form the other engines give them (keywords without the colon). */
export const dsValue = (v: unknown) => (typeof v === 'string' && v.startsWith(':') ? v.slice(1) : v);

// ----- lmdb-js ------------------------------------------------------------------------------------

/** lmdb's Key type wants a mutable array; tuples of numbers and strings, ordered-binary encoded. */
export type LmdbKey = Value[];
export interface LmdbHandle {
  readonly dir: string;
  readonly root: RootDatabase;
  readonly eavt: LmdbDatabase<true, LmdbKey>;
  readonly aevt: LmdbDatabase<true, LmdbKey>;
  readonly avet: LmdbDatabase<true, LmdbKey>;
  readonly attrs: Map<string, number>;
}

export function lmdbOpen(ctx: Context, d: Dataset, durability: 'full' | 'relaxed', dir = freshFile(ctx, `lmdb-${d.name}`)): LmdbHandle {
  fs.mkdirSync(dir, { recursive: true });
  const root = openLmdb({ path: `${dir}/data.mdb`, noSync: durability === 'relaxed', overlappingSync: false, maxDbs: 4 });
  const sub = (name: string) => root.openDB<true, LmdbKey>({ name });
  return { dir, root, eavt: sub('eavt'), aevt: sub('aevt'), avet: sub('avet'), attrs: attributeIds(d) };
}

/** Bytes the environment's data file occupies on disk (lmdb preallocates a sparse file). */
export const lmdbFileBytes = (h: LmdbHandle) => fs.statSync(`${h.dir}/data.mdb`).blocks * 512;

export function lmdbImport(ctx: Context, d: Dataset, durability: 'full' | 'relaxed'): { handle: LmdbHandle; us: number; bytes: number } {
  const handle = lmdbOpen(ctx, d, durability);
  const avet = new Set(d.schema.filter(isAvet).map((a) => a.ident));
  const before = lmdbFileBytes(handle);
  const t0 = performance.now();
  handle.root.transactionSync(() => {
    for (const [e, a, v] of d.facts) {
      const id = handle.attrs.get(a)!;
      handle.eavt.putSync([e, id, v, 1], true);
      handle.aevt.putSync([id, e, v, 1], true);
      if (avet.has(a)) handle.avet.putSync([id, v, e, 1], true);
    }
  });
  const us = (performance.now() - t0) * 1e3;
  return { handle, us, bytes: lmdbFileBytes(handle) - before };
}

export async function lmdbClose(h: LmdbHandle): Promise<void> {
  await h.root.close();
  fs.rmSync(h.dir, { recursive: true, force: true });
}

/** The values of (e, a) in lmdb's EAVT: the keys from [e, a] up to [e, a + 1]. */
export function lmdbValues(h: LmdbHandle, e: number, a: number): Value[] {
  const out: Value[] = [];
  for (const key of h.eavt.getKeys({ start: [e, a], end: [e, a + 1] })) out.push(key[2]!);
  return out;
}
