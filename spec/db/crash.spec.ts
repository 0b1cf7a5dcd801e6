/**
 * Crashes under the database: a workload of transactions (indexing commits, retractions, a large
 * value) is recorded write by write; the file as a crash could leave it — every prefix of the
 * recorded operations, and every prefix with its last write torn in half — must open to exactly
 * the state after some commit k, with k at least the last commit whose flush completed and at most
 * the last one started, and must then accept a new transaction.
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import type { Db } from '../../lib/db/db.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { applyOps, type RecordedOp, RecordingBackend } from '../support/recording-backend.js';
import { emptyImage, openOn } from '../support/stores.js';

const INDEX_THRESHOLD = 20;
const BASE = Date.UTC(2025, 0, 1);

const SCHEMA = [
  { 'db/ident': 'c/key', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'c/count', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'c/text', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
];

function transactions(): unknown[][] {
  const txs: unknown[][] = [SCHEMA];
  for (let i = 0; i < 12; i++) {
    if (i === 5) txs.push([{ 'c/key': 1, 'c/text': 'y'.repeat(3_000) }]);
    else if (i % 4 === 3) txs.push([['db/retractEntity', ['c/key', (i + 1) % 4]]]);
    else txs.push([{ 'c/key': i % 4, 'c/count': i }, { 'c/key': 20 + i, 'c/count': -i }]);
  }
  return txs;
}

const contents = (db: Db) => [...db.history().datoms('eavt')].map((d) => `${d.e} ${d.a} ${String(d.v)} ${d.tx} ${d.added}`).join('\n');

describe('database crash states', () => {
  for (const durability of ['full', 'relaxed'] as const) it(`every prefix of the writes, torn or not, opens to a whole commit within bounds and goes on (${durability})`, () => {
    const txs = transactions();
    const backend = new RecordingBackend(emptyImage());
    const conn = new Connection(openOn(backend, { durability }), { indexThreshold: INDEX_THRESHOLD });
    // The state after each commit (index 0: the bootstrap), and how many ops each commit's end is.
    const states = [contents(conn.db())];
    const opsAtCommit = [backend.ops.length];
    txs.forEach((tx, i) => {
      conn.transact(tx, { txInstant: new Date(BASE + i * 1000) });
      states.push(contents(conn.db()));
      opsAtCommit.push(backend.ops.length);
    });
    conn.close();
    const ops = backend.ops;

    let images = 0;
    let torn = 0;
    const reached = new Set<number>();
    for (let length = 0; length <= ops.length; length++) {
      const variants: RecordedOp[][] = [ops.slice(0, length)];
      const last = ops[length - 1];
      if (last?.type === 'write' && last.bytes.length > 1) {
        variants.push([...ops.slice(0, length - 1), { ...last, bytes: last.bytes.subarray(0, last.bytes.length >> 1) }]);
      }
      for (const prefix of variants) {
        images++;
        const whole = prefix === variants[0];
        if (!whole) torn++;
        // A commit whose ops all reached the image whole (ending in its flush, in full mode) must
        // survive: writes reach the image in order here, so recovery finds it.
        const complete = whole ? prefix.length : prefix.length - 1;
        const durable = opsAtCommit.filter((n) => n <= complete).length - 1;
        const started = opsAtCommit.filter((n) => n < prefix.length).length;
        const image = applyOps(emptyImage(), prefix);
        let reopened: Connection;
        try {
          reopened = new Connection(openOn(new MemoryBackend(image), { durability: 'full' }), { indexThreshold: INDEX_THRESHOLD });
        } catch (error) {
          throw new Error(`image of ${prefix.length} ops (${whole ? 'whole' : 'torn'}) does not open: ${(error as Error).message}`);
        }
        const state = contents(reopened.db());
        const k = states.indexOf(state);
        expect(k, `image of ${prefix.length} ops opens to no commit's state`).toBeGreaterThanOrEqual(0);
        expect(k).toBeGreaterThanOrEqual(Math.max(0, durable));
        expect(k).toBeLessThanOrEqual(Math.min(started, states.length - 1));
        reached.add(k);
        reopened.transact([{ 'db/id': 'n', 'db/doc': 'after the crash' }], { txInstant: new Date(BASE + 60_000) });
        reopened.close();
      }
    }
    // Every commit was some image's state: the crashes fell everywhere, indexing commits included.
    expect(reached.size).toBe(states.length);
    console.log(`db crash states (${durability}): ${images} images (${torn} torn), ${states.length} commits reached, ${ops.length} recorded ops`);
  });
});
