/**
 * Workload 2, point reads by entity and attribute: the age of random people, one read at a time,
 * through each engine's ordinary read path (Sediment db.datoms('eavt', e, 'age'), a prepared
 * SELECT, DataScript datoms(':eavt', e, 'age'), an lmdb-js key range [e, a]..[e, a + 1]), with a
 * plain JavaScript Map as the floor.
 *  - warm: the same database object read over and over (everything cached in process);
 *  - cold: just reopened, each run reading people not read before in that process. The OS page
 *    cache stays warm (dropping it needs root), so "cold" is the engines' own caches only.
 *    DataScript and the Map live in memory and have no cold case.
 */
import { Database } from '../../lib/index.js';
import { prng } from '../../spec/support/store-workload.js';
import { peopleCount, peopleDataset } from './datasets.js';
import { type Dataset, ds, lmdbOpen, lmdbValues, sqliteOpen } from './engines.js';
import { closeAll, loadAll, type Loaded } from './import.js';
import { type Context, count, fail, figure, nowUs, repeat, same, stat, type Workload } from './harness.js';

const WORKLOAD = '2. point reads';

interface Readers {
  readonly Sediment: (e: number) => number;
  readonly 'better-sqlite3': (e: number) => number;
  readonly DataScript: (e: number) => number;
  readonly 'lmdb-js': (e: number) => number;
  readonly floor: (e: number) => number;
}

/** One reader per engine, each taking an entity id of that engine (engineIds) and returning the age. */
function readers(l: Loaded, d: Dataset): Readers {
  const db = l.sediment.conn.db();
  const age = l.sqlite.attrs.get('age')!;
  const select = l.sqlite.db.prepare('SELECT v FROM datoms WHERE e = ? AND a = ?').pluck();
  const map = new Map<number, number>();
  for (const [e, a, v] of d.facts) if (a === 'age') map.set(e, v as number);
  return {
    Sediment: (e) => {
      let v = 0;
      for (const x of db.datoms('eavt', e, 'age')) v = x.v as number;
      return v;
    },
    'better-sqlite3': (e) => select.get(e, age) as number,
    DataScript: (e) => ds.datoms(l.datascript, ':eavt', e, 'age')[0]!.v as number,
    'lmdb-js': (e) => lmdbValues(l.lmdb, e, age)[0] as number,
    floor: (e) => map.get(e)!,
  };
}

/**
 * The engine's own ids of generated entity ids, translated before timing, as an application holds
 * its database's ids: Sediment allocated its own at import (a Map lookup per read, ~0.1 µs of a
 * 1 µs read, was timed as Sediment's until this), the others were given the generated ones.
 */
function engineIds(l: Loaded, engine: keyof Readers, entities: readonly number[]): number[] {
  return engine === 'Sediment' ? entities.map((e) => l.sediment.ids.get(e) ?? fail(`Sediment has no entity for ${e}`)) : [...entities];
}

/** Every engine reads the same ages as the data set holds. */
function checkReads(l: Loaded, d: Dataset, r: Readers, entities: readonly number[]): void {
  const ages = new Map<number, number>();
  for (const [e, a, v] of d.facts) if (a === 'age') ages.set(e, v as number);
  let expected = 0;
  for (const e of entities) expected += ages.get(e) ?? fail(`no age for ${e}`);
  const sums: Record<string, number> = {};
  for (const [engine, read] of Object.entries(r)) {
    let sum = 0;
    for (const e of engineIds(l, engine as keyof Readers, entities)) sum += read(e);
    sums[engine] = sum;
  }
  same(`sum of ${entities.length} ages`, expected, sums);
}

const randomEntities = (n: number, people: number, seed: number) => {
  const random = prng(seed);
  return Array.from({ length: n }, () => 1 + Math.floor(random() * people));
};

/** µs per read over `entities`, ctx.runs times after a warm-up. */
const warm = (ctx: Context, read: (e: number) => number, entities: readonly number[]) =>
  repeat(ctx, () => {
    const t0 = nowUs();
    for (const e of entities) read(e);
    return (nowUs() - t0) / entities.length;
  });

/**
 * µs per read just after reopening the file engines: each run closes and reopens Sediment,
 * better-sqlite3 and lmdb-js, then reads `perRun` people no earlier run read.
 */
async function cold(ctx: Context, l: Loaded, d: Dataset, perRun: number): Promise<{ loaded: Loaded; stats: Record<'Sediment' | 'better-sqlite3' | 'lmdb-js', ReturnType<typeof stat>> }> {
  const people = peopleCount(d);
  // A shuffle of all people, so that no run reads what an earlier one did while there are enough.
  const random = prng(99);
  const order = Array.from({ length: people }, (_, i) => i + 1);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const times = { Sediment: [] as number[], 'better-sqlite3': [] as number[], 'lmdb-js': [] as number[] };
  let current = l;
  for (let round = -1; round < ctx.runs; round++) {
    current.sediment.conn.close();
    current.sqlite.db.close();
    await current.lmdb.root.close();
    current = {
      ...current,
      sediment: { ...current.sediment, conn: Database.open(current.sediment.file) },
      sqlite: sqliteOpen(ctx, d, 'NORMAL', current.sqlite.file),
      lmdb: lmdbOpen(ctx, d, 'relaxed', current.lmdb.dir),
    };
    const r = readers(current, d);
    const start = ((round + 1) * perRun) % Math.max(1, people - perRun);
    const entities = order.slice(start, start + perRun);
    for (const engine of ['Sediment', 'better-sqlite3', 'lmdb-js'] as const) {
      const ids = engineIds(current, engine, entities);
      const t0 = nowUs();
      for (const e of ids) r[engine](e);
      if (round >= 0) times[engine].push((nowUs() - t0) / entities.length);
    }
  }
  return { loaded: current, stats: { Sediment: stat(times.Sediment), 'better-sqlite3': stat(times['better-sqlite3']), 'lmdb-js': stat(times['lmdb-js']) } };
}

export const pointReadsWorkload: Workload = {
  name: 'point-reads',
  async run(ctx) {
    const d = peopleDataset({ datoms: ctx.quick ? 100_000 : 1_000_000 });
    const people = peopleCount(d);
    ctx.progress(`point reads: ${count(d.facts.length)} datoms, ${count(people)} people`);
    const l = loadAll(ctx, d);
    const entities = randomEntities(ctx.quick ? 50_000 : 200_000, people, 7);
    const r = readers(l, d);
    checkReads(l, d, r, entities);
    const w = {
      Sediment: warm(ctx, r.Sediment, engineIds(l, 'Sediment', entities)),
      'better-sqlite3': warm(ctx, r['better-sqlite3'], entities),
      DataScript: warm(ctx, r.DataScript, entities),
      'lmdb-js': warm(ctx, r['lmdb-js'], entities),
      floor: warm(ctx, r.floor, entities),
    };
    const c = await cold(ctx, l, d, ctx.quick ? 1_000 : 2_000);
    await closeAll(c.loaded);
    return [
      {
        workload: WORKLOAD,
        metric: `(entity, age), warm, ${count(entities.length)} random of ${count(people)} people: µs/read`,
        sediment: figure(w.Sediment, 'µs'),
        peers: { 'better-sqlite3': figure(w['better-sqlite3'], 'µs'), DataScript: figure(w.DataScript, 'µs'), 'lmdb-js': figure(w['lmdb-js'], 'µs'), floor: figure(w.floor, 'µs', 'Map.get') },
        goal: '≤ 1 µs and 3× faster than better-sqlite3; < lmdb-js',
        met: w.Sediment.median <= 1 && 3 * w.Sediment.median <= w['better-sqlite3'].median && w.Sediment.median < w['lmdb-js'].median,
      },
      {
        workload: WORKLOAD,
        metric: `(entity, age), cold (just reopened; OS cache warm), first reads of ${count(ctx.quick ? 1_000 : 2_000)} people: µs/read`,
        sediment: figure(c.stats.Sediment, 'µs'),
        peers: { 'better-sqlite3': figure(c.stats['better-sqlite3'], 'µs'), 'lmdb-js': figure(c.stats['lmdb-js'], 'µs') },
        goal: '—',
        met: null,
      },
    ];
  },
  async check(ctx) {
    const d = peopleDataset({ people: 300 });
    const l = loadAll(ctx, d);
    checkReads(l, d, readers(l, d), randomEntities(500, 300, 7));
    const c = await cold(ctx, l, d, 50);
    checkReads(c.loaded, d, readers(c.loaded, d), randomEntities(500, 300, 8));
    await closeAll(c.loaded);
  },
};
