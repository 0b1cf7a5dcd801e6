/**
 * Workload 3, AVET range scans of about 1,000 datoms: people whose age lies in [lo, hi), the range
 * wide enough for ~1k people, through Sediment's Db.indexRange, a SELECT on better-sqlite3's AVET
 * index, DataScript's index_range (inclusive at both ends, so hi - 1) and an lmdb-js key range on
 * its avet database. Each scan collects the entity ids, which is what a caller wants from it: the
 * engine's own ids (Sediment allocated its own at import; the others were given the generated
 * ones), translated to the generated ones only to check the answers, outside the timing.
 */
import { prng } from '../../spec/support/store-workload.js';
import { peopleCount, peopleDataset } from './datasets.js';
import { type Dataset, ds } from './engines.js';
import { closeAll, loadAll, type Loaded } from './import.js';
import { type Context, count, figure, perCall, type Row, same, type Workload } from './harness.js';

const WORKLOAD = '3. AVET range scan';

type Scan = (lo: number, hi: number) => number[];

function scanners(l: Loaded): Record<'Sediment' | 'better-sqlite3' | 'DataScript' | 'lmdb-js', Scan> {
  const db = l.sediment.conn.db();
  const age = l.sqlite.attrs.get('age')!;
  const select = l.sqlite.db.prepare('SELECT e FROM datoms WHERE a = ? AND v >= ? AND v < ?').pluck();
  return {
    Sediment: (lo, hi) => [...db.indexRange('age', lo, hi)].map((x) => x.e),
    'better-sqlite3': (lo, hi) => select.all(age, lo, hi) as number[],
    DataScript: (lo, hi) => ds.index_range(l.datascript, 'age', lo, hi - 1).map((x) => x.e),
    'lmdb-js': (lo, hi) => [...l.lmdb.avet.getKeys({ start: [age, lo], end: [age, hi] })].map((k) => k[2] as number),
  };
}

/** Ages 0–99 are uniform, so a range of `width` ages holds about width/100 of the people. */
const widthFor = (d: Dataset) => Math.max(1, Math.round(1000 / (peopleCount(d) / 100)));

function checkScans(d: Dataset, l: Loaded, s: ReturnType<typeof scanners>, ranges: readonly [number, number][]): number {
  const toGenerated = new Map([...l.sediment.ids].map(([g, id]) => [id, g]));
  const generated = (engine: string, ids: number[]) => (engine === 'Sediment' ? ids.map((id) => toGenerated.get(id)!) : ids);
  let datoms = 0;
  for (const [lo, hi] of ranges) {
    const expected = d.facts.filter(([, a, v]) => a === 'age' && (v as number) >= lo && (v as number) < hi).map(([e]) => e).sort((x, y) => x - y);
    datoms += expected.length;
    const got: Record<string, number[]> = {};
    for (const [engine, scan] of Object.entries(s)) got[engine] = generated(engine, scan(lo, hi)).sort((x, y) => x - y);
    same(`people with age in [${lo}, ${hi})`, expected, got);
  }
  return datoms / ranges.length;
}

function ranges(d: Dataset, n: number): [number, number][] {
  const width = widthFor(d);
  const random = prng(3);
  return Array.from({ length: n }, () => {
    const lo = Math.floor(random() * (100 - width));
    return [lo, lo + width];
  });
}

export const rangeScanWorkload: Workload = {
  name: 'range-scan',
  async run(ctx: Context) {
    const d = peopleDataset({ datoms: ctx.quick ? 100_000 : 1_000_000 });
    ctx.progress(`range scans: ${count(d.facts.length)} datoms`);
    const l = loadAll(ctx, d);
    const s = scanners(l);
    const rs = ranges(d, 20);
    const perScan = checkScans(d, l, s, rs);
    // Each call scans all the ranges in turn, so no engine is timed on one lucky range.
    const time = (scan: Scan) => {
      const stat = perCall(ctx, () => {
        for (const [lo, hi] of rs) scan(lo, hi);
      });
      return { median: (stat.median * 1e3) / rs.length, min: (stat.min * 1e3) / rs.length, max: (stat.max * 1e3) / rs.length };
    };
    const t = { Sediment: time(s.Sediment), 'better-sqlite3': time(s['better-sqlite3']), DataScript: time(s.DataScript), 'lmdb-js': time(s['lmdb-js']) };
    await closeAll(l);
    const row: Row = {
      workload: WORKLOAD,
      metric: `age in a range of ${widthFor(d)} values (~${count(Math.round(perScan))} datoms) of ${count(d.facts.length)} datoms: µs/scan`,
      sediment: figure(t.Sediment, 'µs'),
      peers: { 'better-sqlite3': figure(t['better-sqlite3'], 'µs'), DataScript: figure(t.DataScript, 'µs', 'index_range'), 'lmdb-js': figure(t['lmdb-js'], 'µs') },
      goal: '—',
      met: null,
    };
    return [row];
  },
  async check(ctx) {
    const d = peopleDataset({ people: 2_000 });
    const l = loadAll(ctx, d);
    checkScans(d, l, scanners(l), ranges(d, 5));
    await closeAll(l);
  },
};
