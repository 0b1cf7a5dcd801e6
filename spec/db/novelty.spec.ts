/**
 * Novelty under churn and concurrency: a value changed many times within an epoch leaves one live
 * entry to read (the rest retired), a lazy scan of a snapshot survives commits that add and retire
 * entries while it runs, a speculative transaction on an older snapshot of the epoch sees that
 * snapshot, not the commits after it, and a retraction leaves a tombstone for what the trees hold
 * and retires what novelty holds, told apart by the asserting tx alone.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../../lib/index.js';
import { Connection } from '../../lib/db/connection.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { initialFileImage, PageStore } from '../../lib/storage/page-store.js';
import { encodeEntryKey, encodePrefix } from '../../lib/db/encoding/datom-key.js';
import { novelKeyOf } from '../../lib/db/index/novelty.js';

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

describe('novelty', () => {
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
    const { entries } = novelty.current.eavt.inOrder();
    const keys = Array.from({ length: entries.count }, (_, i) => novelKeyOf(entries.bytes.subarray(entries.start(i), entries.end(i))));
    const live = keys.filter((k) => k.startsWith(novelKeyOf(prefix)));
    expect(live).toHaveLength(1); // the populating transaction is in this epoch too: no tombstone
    expect(novelty.retired.eavt.size).toBe(1000); // the first count (0) and 999 replaced ones
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
    const strip = (lines: string[]) => lines.map((line) => line.split(' ').slice(0, 3).join(' ')); // instants differ
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
    const marks = (map: typeof novelty.current.eavt, key: string) => {
      const step = map.entries(key, []).next();
      return step.done !== true && step.value[0] === key ? [{ ...step.value[1] }] : [];
    };
    expect(marks(novelty.current.eavt, treeKey)).toEqual([{ added: 0, removed: retraction }]);
    expect(marks(novelty.retired.eavt, treeKey)).toEqual([]);
    expect(marks(novelty.current.eavt, novelKey)).toEqual([]);
    expect(marks(novelty.retired.eavt, novelKey)).toEqual([{ added: after.tx, removed: retraction }]);
    // And reads agree: both gone now, both there just before.
    expect([...db.datoms('eavt', inTree.e, 'n/count')]).toEqual([]);
    expect([...db.datoms('eavt', inNovelty, 'n/count')]).toEqual([]);
    expect([...db.asOf(retraction - 1).datoms('eavt', inTree.e, 'n/count')].map((d) => d.v)).toEqual([inTree.v]);
    expect([...db.asOf(retraction - 1).datoms('aevt', 'n/count', inNovelty)].map((d) => d.v)).toEqual([7]);
  });
});
