/**
 * I/O faults under the database: a workload of transactions (indexing commits, retractions, a
 * large value in the heap) runs with the N-th read, write or flush of the file failing, for every
 * N until a run completes without the fault firing. Every run must show that:
 *  - the failure surfaces as SEDIMENT_IO (or, once a write or flush failed, SEDIMENT_POISONED, before
 *    anything is validated), from a transaction or from close(), and the connection's database
 *    value is the one it had before the failing transaction;
 *  - a read fault does not poison: later transactions go on;
 *  - the file, reopened, holds exactly the successful transactions, or those and the one that
 *    failed while being written (a commit may land although its write reported an error), and
 *    a new transaction commits on it.
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import type { Db } from '../../lib/db/db.js';
import { ErrorCode, SedimentError } from '../../lib/errors.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import type { Durability } from '../../lib/storage/page-store.js';
import { type Fault, type FaultOp, RecordingBackend } from '../support/recording-backend.js';
import { emptyImage, openOn } from '../support/stores.js';

const INDEX_THRESHOLD = 25;
const BASE = Date.UTC(2025, 0, 1);

const SCHEMA = [
  { 'db/ident': 'f/key', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'f/count', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'f/text', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'f/tags', 'db/valueType': 'db.type/keyword', 'db/cardinality': 'db.cardinality/many' },
];

/** The workload: creations, updates that retract, a large value, retractions of whole entities. */
function transactions(): unknown[][] {
  const txs: unknown[][] = [SCHEMA];
  for (let i = 0; i < 14; i++) {
    const k = i % 5;
    if (i % 4 === 3) txs.push([['db/retractEntity', ['f/key', (k + 1) % 5]]]);
    else if (i === 6) txs.push([{ 'f/key': k, 'f/text': 'x'.repeat(2_000) + i }]);
    else txs.push([{ 'f/key': k, 'f/count': i, 'f/tags': [`t${i % 3}`] }, { 'f/key': 10 + i, 'f/count': -i }]);
  }
  return txs;
}

const TXS = transactions();
const instant = (i: number) => new Date(BASE + i * 1000);

/** Everything a database value holds, as comparable text. */
function contents(db: Db): string[] {
  return [...db.history().datoms('eavt')].map((d) => `${d.e} ${d.a} ${String(d.v)} ${d.tx} ${d.added}`);
}

function memoryConnection(): Connection {
  return new Connection(openOn(new MemoryBackend(emptyImage()), { durability: 'relaxed' }), { indexThreshold: INDEX_THRESHOLD });
}

interface Outcome {
  readonly faulted: boolean;
  readonly committed: number;
}

function run(fault: Fault, durability: Durability, cacheBytes: number, tailBytes: number): Outcome {
  const backend = new RecordingBackend(emptyImage(), fault);
  let conn: Connection;
  try {
    conn = new Connection(openOn(backend, { durability, cacheBytes, tailBytes }), { indexThreshold: INDEX_THRESHOLD });
  } catch (error) {
    // Creating the database (its bootstrap commit) failed: no connection, and nothing to check
    // but that the error is the I/O one.
    expect((error as SedimentError).code).toBe(ErrorCode.io);
    return { faulted: true, committed: -1 };
  }
  const reference = memoryConnection();
  let poisoned = false;
  let pending: unknown[] | undefined; // a transaction that failed while being written
  let pendingIndex = 0;
  let committed = 0;
  for (let i = 0; i < TXS.length; i++) {
    const before = conn.db();
    try {
      conn.transact(TXS[i]!, { txInstant: instant(i) });
      expect(poisoned).toBe(false);
      reference.transact(TXS[i]!, { txInstant: instant(i) });
      committed++;
    } catch (error) {
      expect(error).toBeInstanceOf(SedimentError);
      const code = (error as SedimentError).code;
      expect(conn.db()).toBe(before);
      if (code !== ErrorCode.io && code !== ErrorCode.poisoned) {
        // A transaction that is invalid here (an earlier one failed on a read): invalid for the
        // reference too.
        expect(() => reference.transact(TXS[i]!, { txInstant: instant(i) })).toThrow(SedimentError);
        continue;
      }
      if (code === ErrorCode.poisoned) expect(poisoned).toBe(true);
      if (code === ErrorCode.io && fault.op !== 'read') {
        poisoned = true;
        pending = TXS[i];
        pendingIndex = i;
      }
    }
  }
  // In memory, too, the connection holds exactly what it committed (the read fault may fire in
  // this very read: it raises SEDIMENT_IO once, and the read is repeated).
  if (!poisoned) {
    let current: string[];
    try {
      current = contents(conn.db());
    } catch (error) {
      expect((error as SedimentError).code).toBe(ErrorCode.io);
      current = contents(conn.db());
    }
    expect(current).toEqual(contents(reference.db()));
  }
  try {
    conn.close();
  } catch (error) {
    // Closing syncs (relaxed mode), which may meet the fault; the file is released all the same.
    expect((error as SedimentError).code).toBe(ErrorCode.io);
  }

  // Reopen what the file holds; it must be the reference, or the reference plus the failed commit.
  const reopened = new Connection(openOn(new MemoryBackend(backend.image()), { durability }), { indexThreshold: INDEX_THRESHOLD });
  const found = contents(reopened.db());
  const expected = contents(reference.db());
  if (pending === undefined || found.length === expected.length) {
    expect(found).toEqual(expected);
  } else {
    expect(found).toEqual(contents(reference.db().with(pending, { txInstant: instant(pendingIndex) }).dbAfter));
  }
  // And it goes on (a transaction that needs no schema, as the schema's own may have failed).
  const after = reopened.transact([{ 'db/id': 'note', 'db/doc': 'after reopening' }], { txInstant: instant(TXS.length) });
  expect(reopened.db().entity(after.tempids.note!)?.get('db/doc')).toBe('after reopening');
  reopened.close();
  return { faulted: backend.faulted, committed };
}

describe('database under I/O faults', () => {
  // Reads run without a page cache or a writer's tail, so that every tree page read reaches the file.
  const cases: { op: FaultOp; code: 'EIO' | 'ENOSPC'; durability: Durability; cacheBytes: number; tailBytes: number }[] = [
    { op: 'write', code: 'ENOSPC', durability: 'full', cacheBytes: 1 << 20, tailBytes: 64 << 10 },
    { op: 'write', code: 'EIO', durability: 'relaxed', cacheBytes: 1 << 20, tailBytes: 64 << 10 },
    { op: 'flush', code: 'EIO', durability: 'full', cacheBytes: 1 << 20, tailBytes: 64 << 10 },
    { op: 'read', code: 'EIO', durability: 'full', cacheBytes: 0, tailBytes: 0 },
  ];
  for (const { op, code, durability, cacheBytes, tailBytes } of cases) {
    it(`fails the N-th ${op} (${code}, ${durability}) for every N: error surfaces, value unchanged, the file reopens to the committed transactions`, () => {
      let runs = 0;
      let partial = 0;
      for (let nth = 1; ; nth++) {
        const outcome = run({ op, nth, code }, durability, cacheBytes, tailBytes);
        runs++;
        if (!outcome.faulted) break;
        if (outcome.committed >= 0 && outcome.committed < TXS.length) partial++;
        expect(nth).toBeLessThan(2_000);
      }
      expect(partial).toBeGreaterThan(0);
      console.log(`db faults: ${op} ${code} ${durability}: ${runs} runs, ${partial} with transactions cut short`);
    });
  }
});
