/**
 * Workload 6, commits: one-datom transactions (set the age of a random person) on a database of
 * 100k people datoms, in every engine that writes a file.
 *  - latency of one durable transaction: Sediment `full`, better-sqlite3 WAL + synchronous=FULL,
 *    lmdb-js a synced transactionSync; beside the floor, a raw write + fdatasync of as many bytes
 *    as Sediment's file grew per commit. Each run: the median latency of its transactions.
 *  - 10,000 transactions in `relaxed` mode (better-sqlite3 synchronous=NORMAL, lmdb-js noSync),
 *    timed up to and including a final conn.sync(): transactions a second and bytes written per
 *    datom (Sediment: file growth; better-sqlite3 and lmdb-js rewrite pages in place, so: bytes
 *    passed to write(2), /proc/self/io wchar). Bytes are amortized over all the runs: Sediment
 *    writes its trees once per indexing epoch (every 65,536 novelty datoms, about 22,000 of these
 *    transactions), so a single run of 10,000 holds one epoch or none, and a median of runs would
 *    leave the epochs out. The transaction rate is sustained over all the runs for the same reason.
 * Each lmdb-js transaction replaces the old age's keys in all three orders, as a datom store on
 * it would; better-sqlite3 updates the row. Neither keeps the old value; Sediment does (history).
 */
import * as fs from 'node:fs';
import { prng } from '../../spec/support/store-workload.js';
import { peopleCount, peopleDataset } from './datasets.js';
import type { Dataset } from './engines.js';
import { closeAll, loadAll, type Loaded } from './import.js';
import { type Context, count, figure, freshFile, nowUs, rateFigure, repeat, same, sizeOf, stat, writtenBytes, type Workload } from './harness.js';

const WORKLOAD = '6. commits';

type Change = readonly [person: number, age: number];
type Engine = 'Sediment' | 'better-sqlite3' | 'lmdb-js';

/** One function per engine committing one change as one transaction. */
function committers(l: Loaded): Record<Engine, (c: Change) => void> {
  const age = l.sqlite.attrs.get('age')!;
  const update = l.sqlite.db.prepare('UPDATE datoms SET v = ?, tx = ? WHERE e = ? AND a = ?');
  let tx = 2;
  const updateTx = l.sqlite.db.transaction((e: number, v: number) => {
    update.run(v, tx, e, age);
  });
  const { root, eavt, aevt, avet } = l.lmdb;
  return {
    Sediment: ([e, v]) => {
      l.sediment.conn.transact([['db/add', l.sediment.ids.get(e)!, 'age', v]]);
    },
    'better-sqlite3': ([e, v]) => {
      updateTx(e, v);
      tx++;
    },
    'lmdb-js': ([e, v]) => {
      root.transactionSync(() => {
        for (const [, , old, oldTx] of [...eavt.getKeys({ start: [e, age], end: [e, age + 1] })]) {
          eavt.removeSync([e, age, old!, oldTx!]);
          aevt.removeSync([age, e, old!, oldTx!]);
          avet.removeSync([age, old!, e, oldTx!]);
        }
        eavt.putSync([e, age, v, tx], true);
        aevt.putSync([age, e, v, tx], true);
        avet.putSync([age, v, e, tx], true);
      });
      tx++;
    },
  };
}

function changes(people: number, n: number, random: () => number, next: { age: number }): Change[] {
  return Array.from({ length: n }, () => [1 + Math.floor(random() * people), next.age++] as const);
}

/** After the same changes, every engine must hold the same age for every person. */
function checkAges(d: Dataset, l: Loaded, applied: readonly Change[]): void {
  const expected = new Map<number, number>();
  for (const [e, a, v] of d.facts) if (a === 'age') expected.set(e, v as number);
  for (const [e, v] of applied) expected.set(e, v);
  const db = l.sediment.conn.db();
  const select = l.sqlite.db.prepare('SELECT v FROM datoms WHERE e = ? AND a = ?').pluck();
  const age = l.sqlite.attrs.get('age')!;
  const got = { Sediment: [] as unknown[], 'better-sqlite3': [] as unknown[], 'lmdb-js': [] as unknown[] };
  for (const e of expected.keys()) {
    got.Sediment.push([...db.datoms('eavt', l.sediment.ids.get(e)!, 'age')].map((x) => x.v));
    got['better-sqlite3'].push([select.get(e, age)]);
    got['lmdb-js'].push([...l.lmdb.eavt.getKeys({ start: [e, age], end: [e, age + 1] })].map((k) => k[2]));
  }
  same('every age after the transactions', [...expected.values()].map((v) => [v]), got);
}

/** The same changes for every engine: one list per round (the warm-up round first). */
function rounds(ctx: Context, d: Dataset, n: number, seed: number, firstAge: number): Change[][] {
  const random = prng(seed);
  const next = { age: firstAge };
  return Array.from({ length: ctx.runs + 1 }, () => changes(peopleCount(d), n, random, next));
}

/** Durable latency, µs: each run the median over its transactions, per engine, plus the raw floor. */
function durable(ctx: Context, l: Loaded, work: readonly Change[][]) {
  const commit = committers(l);
  let growth = 0;
  const latency = (engine: Engine) =>
    repeat(ctx, (round) => {
      const batch = work[round + 1]!;
      const before = sizeOf(l.sediment.file);
      const xs = batch.map((c) => {
        const t0 = nowUs();
        commit[engine](c);
        return nowUs() - t0;
      });
      if (engine === 'Sediment') growth = (sizeOf(l.sediment.file) - before) / batch.length;
      return stat(xs).median;
    });
  const result = { Sediment: latency('Sediment'), 'better-sqlite3': latency('better-sqlite3'), 'lmdb-js': latency('lmdb-js') };
  // The floor: what any single durable commit of that many bytes costs on this disk.
  const file = freshFile(ctx, 'raw.bin');
  const fd = fs.openSync(file, 'w+');
  const chunk = Buffer.alloc(Math.max(1, Math.round(growth)), 7);
  let position = 0;
  const raw = repeat(ctx, (round) => {
    const xs = work[round + 1]!.map(() => {
      const t0 = nowUs();
      fs.writeSync(fd, chunk, 0, chunk.length, position);
      fs.fdatasyncSync(fd);
      position += chunk.length;
      return nowUs() - t0;
    });
    return stat(xs).median;
  });
  fs.closeSync(fd);
  return { ...result, raw, growth };
}

/**
 * Relaxed throughput (tx/s) and bytes written per datom, per engine, over each round's
 * transactions. Both figures are sustained over all timed rounds, epochs included, with single
 * rounds as min–max: a median of rounds would count an epoch or not by where it fell.
 */
function relaxed(ctx: Context, l: Loaded, work: readonly Change[][]) {
  const commit = committers(l);
  const measure = (engine: Engine) => {
    const bytes: number[] = [];
    let transactions = 0;
    let seconds = 0;
    const rates = repeat(ctx, (round) => {
      const batch = work[round + 1]!;
      const written = () => (engine === 'Sediment' ? sizeOf(l.sediment.file) : writtenBytes());
      const before = written();
      const t0 = nowUs();
      for (const c of batch) commit[engine](c);
      if (engine === 'Sediment') l.sediment.conn.sync();
      const us = nowUs() - t0;
      if (round >= 0) {
        bytes.push((written() - before) / batch.length);
        transactions += batch.length;
        seconds += us / 1e6;
      }
      return batch.length / (us / 1e6);
    });
    // The mean of equal runs: every byte written over every transaction; and every transaction over all the time.
    const amortized = bytes.reduce((sum, b) => sum + b, 0) / bytes.length;
    return { rate: { ...rates, median: transactions / seconds }, bytes: { ...stat(bytes), median: amortized } };
  };
  return { Sediment: measure('Sediment'), 'better-sqlite3': measure('better-sqlite3'), 'lmdb-js': measure('lmdb-js') };
}

async function runAll(ctx: Context, people: number, durableN: number, relaxedN: number) {
  const d = peopleDataset({ people });
  const full = loadAll(ctx, d, 'full');
  const durableWork = rounds(ctx, d, durableN, 61, 1_000);
  const f = durable(ctx, full, durableWork);
  checkAges(d, full, durableWork.flat());
  await closeAll(full);
  const loose = loadAll(ctx, d, 'relaxed');
  const relaxedWork = rounds(ctx, d, relaxedN, 62, 100_000);
  const r = relaxed(ctx, loose, relaxedWork);
  checkAges(d, loose, relaxedWork.flat());
  await closeAll(loose);
  return { d, f, r };
}

export const commitsWorkload: Workload = {
  name: 'commits',
  async run(ctx) {
    const n = 10_000;
    ctx.progress(`commits: durable latency, then ${count(n)} relaxed one-datom transactions a run`);
    const { d, f, r } = await runAll(ctx, 10_300, ctx.quick ? 50 : 200, n);
    const base = `on ${count(d.facts.length)} people datoms`;
    const bytes = (s: ReturnType<typeof stat>, unit: string) => figure(s, unit);
    return [
      {
        workload: WORKLOAD,
        metric: `one 1-datom transaction, durable (${count(Math.round(f.growth))} B written a commit), ${base}: µs latency`,
        sediment: figure(f.Sediment, 'µs'),
        peers: { 'better-sqlite3': figure(f['better-sqlite3'], 'µs'), 'lmdb-js': figure(f['lmdb-js'], 'µs'), floor: figure(f.raw, 'µs', 'write + fdatasync of the same bytes') },
        goal: '—',
        met: null,
      },
      {
        workload: WORKLOAD,
        metric: `${count(n)} 1-datom transactions a run, relaxed, ${base}: tx/s sustained over all runs (indexing epochs included; min–max: single runs)`,
        sediment: rateFigure(r.Sediment.rate, 'tx/s'),
        peers: { 'better-sqlite3': rateFigure(r['better-sqlite3'].rate, 'tx/s'), 'lmdb-js': rateFigure(r['lmdb-js'].rate, 'tx/s') },
        goal: '≥ 50k tx/s',
        met: r.Sediment.rate.median >= 50_000,
      },
      {
        workload: WORKLOAD,
        metric: `the same: bytes written per datom, amortized over all runs (indexing epochs included; min–max: single runs)`,
        sediment: bytes(r.Sediment.bytes, 'B'),
        peers: { 'better-sqlite3': bytes(r['better-sqlite3'].bytes, 'B'), 'lmdb-js': bytes(r['lmdb-js'].bytes, 'B') },
        goal: '≤ 300 B/datom',
        met: r.Sediment.bytes.median <= 300,
      },
    ];
  },
  async check(ctx) {
    await runAll(ctx, 300, 3, 100);
  },
};
