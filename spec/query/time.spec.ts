/**
 * Queries over past and filtered database values — `asOf`, `since`, `history` and their
 * compositions — against the database model of spec/support/db-model.ts: random transactions
 * (new entities, changes of cardinality-one values, additions to and retractions from
 * cardinality-many ones) at small indexing thresholds, so values live in novelty and in the
 * trees; then, for random t and s, data patterns with the history positions `?tx ?added`, a join
 * with a predicate, joins on the entity (runs of t/s-only entities make the merge seek, counted
 * on history streams), and an aggregate must equal what the model computes from its datoms.
 * SEDIMENT_SEED replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import type { Db } from '../../lib/db/db.js';
import type { EntryStream } from '../../lib/db/index/index-reader.js';
import { IndexReader } from '../../lib/db/index/index-reader.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { initialFileImage, PageStore } from '../../lib/storage/page-store.js';
import { DbModel, type MDatom } from '../support/db-model.js';
import { prng } from '../support/store-workload.js';

const SEED = process.env['SEDIMENT_SEED'] === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env['SEDIMENT_SEED']);
const RUNS = 40;
const INSTANT_BASE = Date.UTC(2024, 0, 1);

function connection(indexThreshold: number): Connection {
  const store = PageStore.open(new MemoryBackend(initialFileImage({ pageSize: 4096 })), { readOnly: false, durability: 'relaxed', cacheBytes: 1 << 20 });
  return new Connection(store, { indexThreshold });
}

const canon = (rows: unknown) => (rows as unknown[][]).map((r) => JSON.stringify(r)).sort();

/** Counts the seeks made on history streams (merge joins seeking past gaps of entity ids). */
function countHistorySeeks(): { readonly count: () => number; readonly restore: () => void } {
  const original = IndexReader.prototype.historyStream;
  let seeks = 0;
  IndexReader.prototype.historyStream = function (this: IndexReader, ...args: Parameters<IndexReader['historyStream']>): EntryStream {
    const stream = original.apply(this, args);
    const seek = stream.seek.bind(stream);
    stream.seek = (key, keyEnd) => {
      seeks++;
      return seek(key, keyEnd);
    };
    return stream;
  };
  return { count: () => seeks, restore: () => void (IndexReader.prototype.historyStream = original) };
}

describe('queries over time against the database model', () => {
  it('asOf, since, history and compositions', () => {
    let checked = 0;
    let historyRows = 0;
    const seeks = countHistorySeeks();
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const r = prng(seed);
        const int = (n: number) => Math.floor(r() * n);
        const conn = connection(1 + int(30));
        const boot = conn.db();
        const model = new DbModel({ tx: boot.basisT, instant: 0, datoms: [...boot.history().datoms('eavt')] });
        let instant = INSTANT_BASE;
        const both = (data: unknown[]) => {
          instant += 1000;
          const expected = model.transact(data, instant);
          const report = conn.transact(data, { txInstant: new Date(instant) });
          expect(expected.ok && report.tx === expected.tx).toBe(true);
        };
        both([
          { 'db/ident': 't/n', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
          { 'db/ident': 't/s', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
          { 'db/ident': 't/f', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
        ]);
        const entities: number[] = [];
        // Entities with only t/s values, made in runs: gaps of more than 12 ids between those with
        // t/n, which a join on the entity seeks past (in history, in novelty with tombstones).
        const fillers: number[] = [];
        const txs = 5 + int(20);
        for (let i = 0; i < txs; i++) {
          if (r() < 0.25) {
            both(Array.from({ length: 13 + int(12) }, (_, k) => ({ 'db/id': `f${k}`, 't/s': ['a', 'b', 'c'].slice(int(3)) })));
            fillers.push(...model.commits[model.commits.length - 1]!.newIds);
          }
          const data: unknown[] = [];
          if (entities.length === 0 || r() < 0.3) {
            data.push({ 'db/id': 'new', 't/n': int(10), 't/s': ['a', 'b'].slice(0, 1 + int(2)) });
          }
          for (let k = 0; k < 1 + int(3) && entities.length > 0; k++) {
            const e = entities[int(entities.length)]!;
            const roll = r();
            if (roll < 0.4) data.push(['db/add', e, 't/n', int(10)]);
            else if (roll < 0.6) data.push(['db/add', e, 't/s', 'abc'[int(3)]!]);
            else if (roll < 0.8) data.push(['db/add', e, 't/f', entities[int(entities.length)]!]);
            else {
              const owner = fillers.length > 0 && r() < 0.5 ? fillers[int(fillers.length)]! : e;
              const held = model.currentDatoms().filter((d) => d.e === owner && d.a === model.attr('t/s')!.id);
              if (held.length > 0) data.push(['db/retract', owner, 't/s', held[int(held.length)]!.v]);
            }
          }
          // One operation per datom: the model and Sediment both reject conflicting pairs.
          const seen = new Set<string>();
          const unique = data.filter((op) => {
            const key = Array.isArray(op) ? `${op[1]} ${op[2]}${op[2] === 't/s' ? ` ${op[3]}` : ''}` : 'new';
            if (seen.has(key)) return false;
            seen.add(key);
            return true;
          });
          if (unique.length === 0) continue;
          both(unique);
          const last = model.commits[model.commits.length - 1]!;
          if (last.newIds.length > 0) entities.push(...last.newIds);
        }
        const db = conn.db();
        // From the schema's commit on (before it the attributes are unknown: a query error).
        const txList = model.commits.slice(1).map((c) => c.tx);
        const attr = (ident: string) => model.attr(ident)!.id;
        const of = (datoms: readonly MDatom[], ident: string) => datoms.filter((d) => d.a === attr(ident));
        for (let k = 0; k < 6; k++) {
          const t = txList[int(txList.length)]!;
          const s = txList[int(txList.length)]!;
          const views: [string, Db, MDatom[], MDatom[]][] = [
            ['asOf', db.asOf(t), model.currentAt(t), model.historyAt(t)],
            ['since.asOf', db.since(s).asOf(t), model.currentAt(t).filter((d) => d.tx > s), model.historyAt(t).filter((d) => d.tx > s)],
          ];
          for (const [label, view, current, history] of views) {
            const where = `${label} t=${t} s=${s}`;
            for (const ident of ['t/n', 't/s', 't/f']) {
              expect(canon(view.q(`[:find ?e ?v ?tx :where [?e :${ident} ?v ?tx]]`)), `${where} ${ident}`).toEqual(canon(of(current, ident).map((d) => [d.e, d.v, d.tx])));
              const rows = view.history().q(`[:find ?e ?v ?tx ?added :where [?e :${ident} ?v ?tx ?added]]`) as unknown[][];
              historyRows += rows.length;
              expect(canon(rows), `${where} history ${ident}`).toEqual(canon(of(history, ident).map((d) => [d.e, d.v, d.tx, d.added])));
            }
            // A join through the ref with a predicate, and an aggregate per entity.
            const n = new Map(of(current, 't/n').map((d) => [d.e, d.v as number]));
            const joined = of(current, 't/f').filter((d) => n.has(d.e) && n.has(d.v as number) && n.get(d.v as number)! < n.get(d.e)!).map((d) => [d.e, d.v]);
            expect(canon(view.q('[:find ?e ?f :where [?e :t/f ?f] [?e :t/n ?n] [?f :t/n ?m] [(< ?m ?n)]]')), `${where} join`).toEqual(canon(joined));
            // Comparisons on the indexed long, pushed into the scan (an AVET range), in the present and in history.
            const lo = int(10);
            const hi = int(10);
            const [loOp, hiOp] = [int(2) === 0 ? '>' : '>=', int(2) === 0 ? '<' : '<='];
            const inRange = of(current, 't/n')
              .filter((d) => (loOp === '>' ? (d.v as number) > lo : (d.v as number) >= lo) && (hiOp === '<' ? (d.v as number) < hi : (d.v as number) <= hi))
              .map((d) => [d.e, d.v]);
            expect(canon(view.q(`[:find ?e ?v :where [?e :t/n ?v] [(${loOp} ?v ${lo})] [(${hiOp} ?v ${hi})]]`)), `${where} range`).toEqual(canon(inRange));
            const above = of(history, 't/n').filter((d) => (d.v as number) > lo).map((d) => [d.e, d.v, d.tx, d.added]);
            expect(canon(view.history().q('[:find ?e ?v ?tx ?added :in $ ?lo :where [?e :t/n ?v ?tx ?added] [(< ?lo ?v)]]', lo)), `${where} history range`).toEqual(canon(above));
            // A join on the entity in history (merged current and history entries, seeking by entity).
            const histS = of(history, 't/s');
            const histJoin = of(history, 't/n').flatMap((d) => histS.filter((x) => x.e === d.e).map((x) => JSON.stringify([d.e, d.v, x.v])));
            expect(canon(view.history().q('[:find ?e ?v ?w :where [?e :t/n ?v] [?e :t/s ?w]]')), `${where} history join`).toEqual([...new Set(histJoin)].sort());
            // The same join in the present: current entries of tree and novelty merged, tombstones skipped.
            const curS = of(current, 't/s');
            const curJoin = of(current, 't/n').flatMap((d) => curS.filter((x) => x.e === d.e).map((x) => JSON.stringify([d.e, d.v, x.v])));
            expect(canon(view.q('[:find ?e ?v ?w :where [?e :t/n ?v] [?e :t/s ?w]]')), `${where} join`).toEqual([...new Set(curJoin)].sort());
            const counts = new Map<number, number>();
            for (const d of of(current, 't/s')) counts.set(d.e, (counts.get(d.e) ?? 0) + 1);
            expect(canon(view.q('[:find ?e (count ?s) :where [?e :t/s ?s]]')), `${where} count`).toEqual(canon([...counts]));
            // Retractions in history: each names a value that an earlier assertion added.
            const retracted = of(history, 't/n').filter((d) => !d.added).map((d) => [d.e, d.v]);
            expect(canon(view.history().q('[:find ?e ?v :where [?e :t/n ?v _ false]]')), `${where} retracted`).toEqual(canon([...new Set(retracted.map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x) as unknown[])));
            checked++;
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    seeks.restore();
    console.log(`query-time: seed ${SEED}, ${RUNS} histories, ${checked} past and filtered views queried (${historyRows} history rows, ${seeks.count()} history-stream seeks) and equal to the model`);
    // A guard that the joins above do seek on history streams (about 190-360 seeks across seeds;
    // seed 11 makes 190, which failed the earlier bound of 200).
    expect(seeks.count()).toBeGreaterThan(RUNS * 2);
    expect(checked).toBe(RUNS * 12);
    expect(historyRows).toBeGreaterThan(0);
  });
});
