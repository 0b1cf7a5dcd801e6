/**
 * `db.datoms` answers a read that lies in one leaf at once (`Snapshot.currentRun`, the tree's
 * `prefixRun`) instead of through the merged scan. Both must give the same datoms for every
 * read: random transactions (cardinality one and many, refs, large values, retractions of values
 * and entities, values changed again within an epoch so that entries retire) on a database whose
 * novelty goes to the trees every few datoms (so the trees' branches buffer operations, and reads
 * meet novelty both empty and not), over a base of a few hundred entities (several leaves, runs
 * crossing them), read at the latest basis, as of earlier commits (in and before the epoch),
 * since, and both; with entities that lack the attribute and ids that name nothing.
 * SEDIMENT_SEED replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import type { Datom } from '../../lib/db/datom.js';
import type { Db } from '../../lib/db/db.js';
import type { IndexOrder, KeyComponents } from '../../lib/db/encoding/datom-key.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { DEFAULT_PAGE_SIZE } from '../../lib/storage/options.js';
import { initialFileImage, PageStore } from '../../lib/storage/page-store.js';
import { NAMES, SCHEMA, txData } from '../support/k-workload.js';

const ATTRIBUTES = SCHEMA.map((a) => a['db/ident']);
const ENTITIES = 8;

/** [kind, entity, other entity, value]: entities are indices into the ids made so far. */
const operation = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.nat(ENTITIES - 1), fc.nat(ENTITIES - 1), fc.nat(5));


/** The base: `count` entities with a few datoms each (tags many), in one transaction. */
function baseData(count: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ 'db/id': `b${i}`, 'k/name': NAMES[i % NAMES.length], 'k/n': i, 'k/tags': Array.from({ length: i % 7 }, (_, t) => `t/${t}`) });
  }
  return out;
}

const show = (datoms: Iterable<Datom>) => [...datoms].map((d) => `${d.e} ${d.a} ${JSON.stringify(d.v)} ${d.tx} ${d.added}`);

describe('point reads at once against the merged scan', () => {
  it('give the datoms the scan gives, in every snapshot', () => {
    let reads = 0;
    let atOnce = 0;
    let nonEmpty = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(0, 0, 50, 400),
        fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 4 }),
        (indexThreshold, base, txs, times) => {
          const store = PageStore.open(new MemoryBackend(initialFileImage({ pageSize: DEFAULT_PAGE_SIZE })), {
            readOnly: false,
            durability: 'relaxed',
            cacheBytes: 1 << 20,
          });
          const conn = new Connection(store, { indexThreshold });
          conn.transact(SCHEMA);
          const ids: number[] = [];
          const baseIds: number[] = [];
          if (base > 0) {
            const report = conn.transact(baseData(base));
            for (let i = 0; i < base; i += 37) baseIds.push(report.tempids[`b${i}`]!);
          }
          const txIds: number[] = [];
          for (const ops of txs) {
            try {
              const report = conn.transact(txData(ops, ids));
              txIds.push(report.tx);
              for (let i = 0; i < ENTITIES; i++) ids[i] ??= report.tempids[`t${i}`]!;
            } catch {
              // Conflicting random data is rejected and changes nothing.
            }
          }
          const latest = conn.db();
          const dbs: Db[] = [latest];
          for (const [a, b] of times) {
            if (txIds.length === 0) break;
            const t = txIds[a % txIds.length]!;
            const u = txIds[b % txIds.length]!;
            dbs.push(latest.asOf(t), latest.since(t), latest.asOf(Math.max(t, u)).since(Math.min(t, u)));
          }
          const entities = [...ids.filter((e) => e !== undefined), ...baseIds, 999_999];
          const check = (db: Db, order: IndexOrder, args: unknown[], c: KeyComponents) => {
            const got = show(db.datoms(order, ...args));
            const scanned = show([...db.snapshot.scan(order, c, { since: db.sinceT })].map((d) => db.toDatom(d)));
            expect(got, `${order} ${JSON.stringify(args)} at ${db.basisT} since ${db.sinceT}`).toEqual(scanned);
            reads++;
            if (db.snapshot.currentRun(order, c, db.sinceT, (_snapshot, d) => d.e) !== undefined) atOnce++;
            if (got.length > 0) nonEmpty++;
          };
          for (const db of dbs) {
            for (const e of entities) {
              check(db, 'eavt', [e], { e });
              for (const ident of ATTRIBUTES) {
                const a = db.attribute(ident, 'test').id;
                check(db, 'eavt', [e, ident], { e, a });
                check(db, 'aevt', [ident, e], { a, e });
              }
              check(db, 'vaet', [e], { v: e });
              check(db, 'vaet', [e, 'k/friend'], { v: e, a: db.attribute('k/friend', 'test').id });
            }
            for (const name of NAMES) check(db, 'avet', ['k/name', name], { a: db.attribute('k/name', 'test').id, v: name });
            check(db, 'eavt', [entities[0], 'k/tags', 't/1'], { e: entities[0], a: db.attribute('k/tags', 'test').id, v: 't/1' });
          }
          store.abort();
          conn.close();
        },
      ),
      { numRuns: 60, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x9017) },
    );
    console.log(`point reads: ${reads} reads, ${atOnce} answered at once, ${nonEmpty} non-empty`);
    // Reads of values changed in the epoch (novelty) or since the last flush (buffered operations)
    // are answered at once too, merged; only runs that may continue in the next leaf decline.
    expect(atOnce).toBeGreaterThan(reads / 2);
    expect(reads - atOnce).toBeGreaterThan(0);
  });
});
