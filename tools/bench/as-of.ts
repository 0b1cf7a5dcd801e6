/**
 * Workload 5, as-of reads: point reads of file line counts on the redis-history database (the
 * real redis commit history in fixtures/, one transaction per commit, built as `sediment demo`
 * builds it) at the oldest root (the first commit), a middle one and the latest, in one process.
 * The same files are read at every root (a file not yet created reads as nothing). The goal
 * (issue 4): as-of reads within 1.2× of reads on the latest database. No peer keeps history.
 * Correctness: every as-of read must equal what the file's history (Db.history(), an independent
 * read path) says was current at that root.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_FIXTURE, openDemoDatabase } from '../../lib/cli/demo/demo.js';
import type { Connection, Db } from '../../lib/index.js';
import { prng } from '../../spec/support/store-workload.js';
import { type Context, count, fail, figure, freshFile, nowUs, repeat, type Row, same, type Stat, stat, type Workload } from './harness.js';

const WORKLOAD = '5. as-of reads';

interface Roots {
  readonly oldest: Db;
  readonly middle: Db;
  readonly latest: Db;
}

function roots(conn: Connection): Roots {
  // The first transaction holds the schema; the oldest root with data is the first commit's.
  const txs = [...conn.log().txRange()].map((entry) => entry.tx);
  if (txs.length < 3) fail('the redis-history database has too few transactions');
  const latest = conn.db();
  return { oldest: latest.asOf(txs[1]!), middle: latest.asOf(txs[Math.floor(txs.length / 2)]!), latest };
}

/** `n` file entities (with repeats), drawn from every file the history ever had. */
function files(db: Db, n: number): number[] {
  const all = [...db.datoms('aevt', 'file/path')].map((d) => d.e);
  const random = prng(5);
  return Array.from({ length: n }, () => all[Math.floor(random() * all.length)]!);
}

const readLines = (db: Db, entities: readonly number[]) => {
  let sum = 0;
  for (const e of entities) for (const d of db.datoms('eavt', e, 'file/lines')) sum += d.v as number;
  return sum;
};

/** Each root's reads against the file's history replayed up to that root's basis. */
function checkRoots(r: Roots, entities: readonly number[]): void {
  const history = r.latest.history();
  for (const [name, db] of Object.entries(r)) {
    for (const e of new Set(entities)) {
      const current = new Set<number>();
      const changes = [...history.datoms('eavt', e, 'file/lines')].filter((d) => d.tx <= db.basisT).sort((x, y) => x.tx - y.tx || Number(x.added) - Number(y.added));
      for (const d of changes) d.added ? current.add(d.v as number) : current.delete(d.v as number);
      same(`lines of file ${e} at the ${name} root`, [...current].sort(), { Sediment: [...db.datoms('eavt', e, 'file/lines')].map((d) => d.v as number).sort() });
    }
  }
}

/** The fixture cut to its first `commits` lines, for the tests. */
function shortFixture(ctx: Context, commits: number): string {
  const file = path.join(ctx.directory, 'redis-short.jsonl');
  fs.writeFileSync(file, fs.readFileSync(DEFAULT_FIXTURE, 'utf8').split('\n').slice(0, commits).join('\n'));
  return file;
}

export const asOfWorkload: Workload = {
  name: 'as-of',
  async run(ctx) {
    ctx.progress('as-of: building the redis-history database');
    const { conn, built } = openDemoDatabase(freshFile(ctx, 'redis.db'), DEFAULT_FIXTURE);
    const r = roots(conn);
    const entities = files(r.latest, ctx.quick ? 20_000 : 100_000);
    checkRoots(r, entities.slice(0, 500));
    // Interleaved rounds, so that a slow moment of the shared machine falls on every root alike.
    const times: Record<keyof Roots, number[]> = { oldest: [], middle: [], latest: [] };
    repeat(ctx, (round) => {
      for (const name of ['latest', 'middle', 'oldest'] as const) {
        const t0 = nowUs();
        readLines(r[name], entities);
        if (round >= 0) times[name].push((nowUs() - t0) / entities.length);
      }
      return 0;
    });
    conn.close();
    const stats = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, stat(xs)])) as Record<keyof Roots, Stat>;
    const label = `${count(built?.commits ?? 0)} commits, ${count(built?.datoms ?? 0)} datoms; ${count(entities.length)} reads of (file, lines)`;
    const row = (name: 'oldest' | 'middle'): Row => ({
      workload: WORKLOAD,
      metric: `${name} root vs latest (${label}): µs/read`,
      sediment: figure(stats[name], 'µs'),
      peers: { floor: figure(stats.latest, 'µs', 'the latest database') },
      goal: '≤ 1.2× the latest',
      met: stats[name].median <= 1.2 * stats.latest.median,
    });
    return [row('oldest'), row('middle')];
  },
  async check(ctx) {
    const { conn } = openDemoDatabase(freshFile(ctx, 'redis.db'), shortFixture(ctx, 300));
    const r = roots(conn);
    checkRoots(r, files(r.latest, 300));
    conn.close();
  },
};
