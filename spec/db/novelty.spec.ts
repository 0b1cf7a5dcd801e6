/**
 * Novelty under churn and concurrency: a value changed many times within an epoch leaves one live
 * entry to read (the rest retired), a lazy scan of a snapshot survives commits that add and retire
 * entries while it runs, a speculative transaction on an older snapshot of the epoch sees that
 * snapshot, not the commits after it, and a retraction leaves a tombstone for what the trees hold
 * and retires what novelty holds, told apart by the asserting tx alone. Maps are filled on demand:
 * commits write no map until a read asks for it, which is then filled from the epoch's deferred
 * datoms, also when a speculative transaction shares them, and also when the
 * read comes between a transaction's planning and its application.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../../lib/index.js';
import { Connection } from '../../lib/db/connection.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { initialFileImage, PageStore } from '../../lib/storage/page-store.js';
import { encodeEntryKey, encodePrefix } from '../../lib/db/encoding/datom-key.js';
import { novelKeyOf } from '../../lib/db/index/novelty.js';
import { partBit, planDatoms } from '../../lib/db/index/novelty-plan.js';
import type { Db } from '../../lib/db/db.js';
import { runTransaction } from '../../lib/db/tx/transactor.js';

const SCHEMA = [
  { 'db/ident': 'n/key', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'n/count', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'n/tags', 'db/valueType': 'db.type/keyword', 'db/cardinality': 'db.cardinality/many' },
];

const plain = (datoms: Iterable<{ e: number; a: string; v: unknown; tx: number; added: boolean }>) =>
  [...datoms].map((d) => `${d.e} ${d.a} ${String(d.v)} ${d.tx} ${d.added}`);

function populated(): Connection {
  const conn = Database.memory();
  conn.transact(SCHEMA);
  conn.transact(Array.from({ length: 50 }, (_, k) => ({ 'n/key': k, 'n/count': 0, 'n/tags': ['a', 'b'] })));
  return conn;
}

const ORDERS = ['eavt', 'aevt', 'avet', 'vaet'] as const;

/** Lines without their values' last words: the connections compared take instants from the clock. */
const strip = (lines: string[]) => lines.map((line) => line.split(' ').slice(0, 3).join(' '));

/** Every index, current and history, as lines (instants left out): reading them fills every map. */
const everything = (db: Db) => strip(ORDERS.flatMap((o) => [...plain(db.datoms(o)), ...plain(db.history().datoms(o))]));

/** Churn in one epoch: counts changed, tags retracted, entities added. */
function churn(conn: Connection, rounds: number, from = 0): void {
  for (let i = from; i < from + rounds; i++) {
    conn.transact([{ 'n/key': i % 50, 'n/count': 100 + i }, ['db/retract', ['n/key', (i * 7) % 50], 'n/tags', i % 2 === 0 ? 'a' : 'b'], { 'n/key': 1000 + i }]);
  }
}

describe('novelty', () => {
  it('fills a map on its first read from the deferred datoms, as if commits had written it', () => {
    const lazy = populated();
    const eager = populated();
    everything(eager.db()); // every map filled: commits write them all from here on
    churn(lazy, 60);
    churn(eager, 60);
    const novelty = lazy.db().snapshot.state.novelty;
    // Upserts by the unique n/key read AVET's current map, retractions of n/tags EAVT's; nothing
    // read AEVT or any history.
    expect(novelty.isFilled('eavt', 'current')).toBe(true);
    expect(novelty.isFilled('avet', 'current')).toBe(true);
    expect(novelty.isFilled('aevt', 'current')).toBe(false);
    expect(novelty.isFilled('eavt', 'history')).toBe(false);
    expect(eager.db().snapshot.state.novelty.filledParts).toBe(0xff);
    // The first read of AEVT's current map is a prefix read: filling the map must leave the
    // prefix, encoded in the shared key writer, as it was.
    expect(plain(lazy.db().datoms('aevt', 'n/count'))).toEqual(plain(eager.db().datoms('aevt', 'n/count')));
    expect(novelty.isFilled('aevt', 'current')).toBe(true);
    const middle = lazy.db().basisT - 30;
    expect(strip(plain(lazy.db().asOf(middle).history().datoms('aevt')))).toEqual(strip(plain(eager.db().asOf(middle).history().datoms('aevt'))));
    // A history read reads the current entries too; EAVT's history stays deferred.
    expect(novelty.isFilled('aevt', 'history')).toBe(true);
    expect(novelty.isFilled('eavt', 'history')).toBe(false);
    expect(everything(lazy.db())).toEqual(everything(eager.db()));
    expect(everything(lazy.db().asOf(middle))).toEqual(everything(eager.db().asOf(middle)));
  });

  it('a speculative transaction and later commits share the deferred datoms, each seeing its own', () => {
    const conn = populated();
    churn(conn, 20);
    const speculative = conn.db().with([{ 'n/key': 3, 'n/count': 42 }, ['db/retract', ['n/key', 4], 'n/tags', 'a']]).dbAfter;
    churn(conn, 20, 20);
    const again = conn.db().with([{ 'n/key': 5, 'n/count': 43 }]).dbAfter;
    // The same, each on a connection whose maps were all filled from the start.
    const replay = populated();
    everything(replay.db());
    churn(replay, 20);
    const speculativeRef = replay.db().with([{ 'n/key': 3, 'n/count': 42 }, ['db/retract', ['n/key', 4], 'n/tags', 'a']]).dbAfter;
    churn(replay, 20, 20);
    const againRef = replay.db().with([{ 'n/key': 5, 'n/count': 43 }]).dbAfter;
    expect(everything(speculative)).toEqual(everything(speculativeRef));
    expect(everything(again)).toEqual(everything(againRef));
    expect(everything(conn.db())).toEqual(everything(replay.db()));
  });

  it("a map filled between a transaction's planning and its application still takes the transaction", () => {
    const conn = populated();
    churn(conn, 5);
    const snapshot = conn.db().snapshot;
    const novelty = snapshot.state.novelty;
    const outcome = runTransaction(snapshot, [{ 'n/key': 1, 'n/count': 77 }], snapshot.basis.instant + 1);
    const plan = planDatoms(outcome.datoms, outcome.schema, novelty.filledParts);
    expect(plan.parts & partBit('aevt', 'current')).toBe(0);
    novelty.current('aevt'); // a read fills AEVT's current map now
    novelty.apply(plan, outcome.datoms, outcome.schema);
    const count = outcome.schema.find('n/count', outcome.tx)!.id;
    const e = outcome.datoms.find((d) => d.a === count)!.e;
    const keyOf = (v: number, tx: number) => encodeEntryKey('aevt', { e, a: count, v, tx, added: true }, 'long', false);
    const has = (key: string) => {
      const step = novelty.current('aevt').entries(key, []).next();
      return step.done !== true && step.value[0] === key;
    };
    expect(has(keyOf(77, outcome.tx))).toBe(true);
  });

  it('a value changed a thousand times in one epoch leaves one live entry per index to read', () => {
    const conn = populated();
    for (let i = 1; i <= 1000; i++) conn.transact([{ 'n/key': 7, 'n/count': i }]);
    const db = conn.db();
    expect([...db.datoms('eavt', ['n/key', 7], 'n/count')].map((d) => d.v)).toEqual([1000]);
    const novelty = db.snapshot.state.novelty;
    // Live: the 1,000 transactions' db/txInstant datoms, this entity's one current count, and a
    // tombstone for the count in the tree; the 999 replaced counts are retired.
    const e = db.entity(['n/key', 7])!.id;
    const count = db.snapshot.schema.find('n/count', db.basisT)!.id;
    const prefix = encodePrefix('eavt', { e, a: count }, db.snapshot.typeOf);
    const { entries } = novelty.current('eavt').inOrder();
    const keys = Array.from({ length: entries.count }, (_, i) => novelKeyOf(entries.bytes.subarray(entries.start(i), entries.end(i))));
    const live = keys.filter((k) => k.startsWith(novelKeyOf(prefix)));
    expect(live).toHaveLength(1); // the populating transaction is in this epoch too: no tombstone
    expect(novelty.retired('eavt').size).toBe(1000); // the first count (0) and 999 replaced ones
    // The past still reads: every value through asOf, and all of them through history.
    const firstChange = db.basisT - 999 * 1; // one tx id per transaction, no new entities
    expect([...db.asOf(firstChange).datoms('eavt', e, 'n/count')].map((d) => d.v)).toEqual([1]);
    expect([...db.history().datoms('eavt', e, 'n/count')].filter((d) => d.added)).toHaveLength(1001);
  });

  it('a lazy scan of a snapshot is unchanged by commits made while it runs', () => {
    const conn = populated();
    for (let i = 0; i < 30; i++) conn.transact([{ 'n/key': i, 'n/count': i + 1 }]);
    const db = conn.db();
    const expected = plain(db.datoms('eavt'));
    const expectedAvet = plain(db.datoms('avet', 'n/count'));
    const iterator = db.datoms('eavt')[Symbol.iterator]();
    const avetIterator = db.datoms('avet', 'n/count')[Symbol.iterator]();
    const seen: string[] = [];
    const seenAvet: string[] = [];
    let round = 0;
    for (let step = iterator.next(); step.done !== true; step = iterator.next()) {
      seen.push(plain([step.value])[0]!);
      const a = avetIterator.next();
      if (a.done !== true) seenAvet.push(plain([a.value])[0]!);
      // Change values asserted in this epoch (retiring them), retract tags, add entities.
      if (seen.length % 7 === 0) {
        const k = round++ % 50;
        conn.transact([{ 'n/key': k, 'n/count': 1000 + round }, ['db/retract', ['n/key', k], 'n/tags', 'a'], { 'n/key': 100 + round }]);
      }
    }
    for (let a = avetIterator.next(); a.done !== true; a = avetIterator.next()) seenAvet.push(plain([a.value])[0]!);
    expect(round).toBeGreaterThan(10);
    expect(seen).toEqual(expected);
    expect(seenAvet).toEqual(expectedAvet);
  });

  it('a speculative transaction on an older snapshot of the epoch builds on that snapshot', () => {
    const conn = populated();
    for (let i = 0; i < 20; i++) conn.transact([{ 'n/key': i, 'n/count': i + 1 }]);
    const older = conn.db();
    for (let i = 0; i < 20; i++) conn.transact([{ 'n/key': i, 'n/count': 500 + i }, ['db/retract', ['n/key', i], 'n/tags', 'b']]);

    const speculative = older.with([{ 'n/key': 3, 'n/count': 42 }]).dbAfter;
    // The same transaction on a connection that never saw the later commits.
    const replay = populated();
    for (let i = 0; i < 20; i++) replay.transact([{ 'n/key': i, 'n/count': i + 1 }]);
    const reference = replay.db().with([{ 'n/key': 3, 'n/count': 42 }]).dbAfter;
    expect(strip(plain(speculative.datoms('eavt')))).toEqual(strip(plain(reference.datoms('eavt'))));
    expect(plain(speculative.history().datoms('aevt', 'n/count'))).toEqual(plain(reference.history().datoms('aevt', 'n/count')));
    expect(speculative.basisT).toBe(reference.basisT);
  });

  it('a retraction tombstones an entry the trees hold and retires one novelty holds, at the epoch boundary too', () => {
    // Indexing every 40 datoms: the commit that reaches it writes its own datoms into the trees.
    const store = PageStore.open(new MemoryBackend(initialFileImage({ pageSize: 4096 })), { readOnly: false, durability: 'relaxed', cacheBytes: 1 << 20 });
    const conn = new Connection(store, { indexThreshold: 40 });
    conn.transact(SCHEMA);
    let indexing = conn.db();
    while (indexing.snapshot.state.novelty.txs.length !== 1 || indexing.snapshot.state.novelty.datomCount !== 0) {
      const before = conn.db().snapshot.state.epochOffset;
      conn.transact([{ 'n/key': 1000 + conn.db().basisT, 'n/count': 1 }]);
      if (conn.db().snapshot.state.epochOffset !== before) indexing = conn.db();
    }
    // The indexing commit asserted this count: its entry is in the tree, its tx is the epoch's first.
    const inTree = [...indexing.datoms('aevt', 'n/count')].find((d) => d.tx === indexing.basisT)!;
    expect(inTree).toBeDefined();
    const after = conn.transact([{ 'db/id': 'x', 'n/key': 5000, 'n/count': 7 }]);
    const inNovelty = after.tempids['x']!;
    const retraction = conn.transact([
      ['db/retract', inTree.e, 'n/count', inTree.v],
      ['db/retract', inNovelty, 'n/count', 7],
    ]).tx;
    const db = conn.db();
    const novelty = db.snapshot.state.novelty;
    const count = db.snapshot.schema.find('n/count', db.basisT)!.id;
    const keyOf = (e: number, v: number, tx: number) => encodeEntryKey('eavt', { e, a: count, v, tx, added: true }, 'long', false);
    const treeKey = keyOf(inTree.e, inTree.v as number, inTree.tx);
    const novelKey = keyOf(inNovelty, 7, after.tx);
    const marks = (map: ReturnType<typeof novelty.current>, key: string) => {
      const step = map.entries(key, []).next();
      return step.done !== true && step.value[0] === key ? [{ ...step.value[1] }] : [];
    };
    expect(marks(novelty.current('eavt'), treeKey)).toEqual([{ added: 0, removed: retraction }]);
    expect(marks(novelty.retired('eavt'), treeKey)).toEqual([]);
    expect(marks(novelty.current('eavt'), novelKey)).toEqual([]);
    expect(marks(novelty.retired('eavt'), novelKey)).toEqual([{ added: after.tx, removed: retraction }]);
    // And reads agree: both gone now, both there just before.
    expect([...db.datoms('eavt', inTree.e, 'n/count')]).toEqual([]);
    expect([...db.datoms('eavt', inNovelty, 'n/count')]).toEqual([]);
    expect([...db.asOf(retraction - 1).datoms('eavt', inTree.e, 'n/count')].map((d) => d.v)).toEqual([inTree.v]);
    expect([...db.asOf(retraction - 1).datoms('aevt', 'n/count', inNovelty)].map((d) => d.v)).toEqual([7]);
  });
});
