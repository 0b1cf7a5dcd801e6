/**
 * Large values (strings, keywords and bytes over HEAP_THRESHOLD_BYTES) live in the value heap,
 * written once per file; keys hold a stand-in (head + digest). They must read back everywhere a
 * value is read, order exactly against shorter values, be found by value (redundancy, unique
 * identity, lookup refs), and not be rewritten when the trees around them are.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import { Database } from '../../lib/index.js';
import { HEAP_THRESHOLD_BYTES } from '../../lib/storage/value-heap.js';
import { NodeFileBackend } from '../../lib/storage/backend/node-file-backend.js';
import { openStoreFile } from '../../lib/storage/store-file.js';
import { verifyFile } from '../../lib/storage/verify.js';

let dir: string;
let count = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-large-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const SCHEMA = [
  { 'db/ident': 'doc/key', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'doc/text', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'doc/blob', 'db/valueType': 'db.type/bytes', 'db/cardinality': 'db.cardinality/many' },
];

function open(indexThreshold: number): { conn: Connection; file: string; reopen: () => Connection } {
  const file = path.join(dir, `large-${count++}.db`);
  const conn = new Connection(openStoreFile(file, { create: true, durability: 'relaxed' }), { indexThreshold });
  return { conn, file, reopen: () => new Connection(openStoreFile(file, { durability: 'relaxed' }), { indexThreshold }) };
}

const big = (seed: string, length: number) => (seed + '·').repeat(Math.ceil(length / (seed.length + 1))).slice(0, length);
const bytes = (length: number, fill: number) => Uint8Array.from({ length }, (_, i) => (i * fill) & 0xff);

describe('large values', () => {
  for (const indexThreshold of [3, 16_384]) {
    it(`read back through every read path, before and after indexing and reopening (indexing every ${indexThreshold})`, () => {
      const { conn, reopen } = open(indexThreshold);
      conn.transact(SCHEMA);
      const text = big('a long text with a zero \u0000 inside', 5_000);
      const blob = bytes(1_000, 7);
      const report = conn.transact([{ 'db/id': 'd', 'doc/key': big('key', 400), 'doc/text': text, 'doc/blob': [blob, bytes(3, 1)] }]);
      const e = report.tempids.d!;
      expect(report.txData.find((d) => d.a === 'doc/text')?.v).toBe(text);
      const first = report.tx;
      conn.transact([{ 'db/id': e, 'doc/text': `${text}, edited` }]);
      for (let i = 0; i < 5; i++) conn.transact([{ 'doc/key': `small ${i}`, 'doc/text': `short ${i}` }]);

      const check = (c: Connection) => {
        const db = c.db();
        expect(db.pull(['doc/text', 'doc/key'], e)).toEqual({ 'doc/text': `${text}, edited`, 'doc/key': big('key', 400) });
        expect(db.entity(e)?.get('doc/blob')).toEqual(expect.arrayContaining([blob, bytes(3, 1)]));
        expect([...db.datoms('eavt', e, 'doc/text')].map((d) => d.v)).toEqual([`${text}, edited`]);
        expect(db.asOf(first).pull(['doc/text'], e)).toEqual({ 'doc/text': text });
        const history = [...db.history().datoms('eavt', e, 'doc/text')].map((d) => [d.v, d.added]);
        expect(history).toEqual(expect.arrayContaining([[text, true], [text, false], [`${text}, edited`, true]]));
        expect(history).toHaveLength(3);
        // Found by value: lookup ref, AVET prefix, entity by unique identity.
        expect(db.entity(['doc/key', big('key', 400)])?.id).toBe(e);
        expect([...db.datoms('avet', 'doc/text', `${text}, edited`)].map((d) => d.e)).toEqual([e]);
        const logged = [...c.log().txRange(first, first + 1)][0]!.data.find((d) => d.a === 'doc/text');
        expect(logged?.v).toBe(text);
      };
      check(conn);
      // Upsert by a large identity value, and a redundant large assertion, change nothing new.
      const upsert = conn.transact([{ 'doc/key': big('key', 400), 'doc/text': `${text}, edited` }]);
      expect(upsert.tempids).toEqual({});
      expect(upsert.txData).toHaveLength(1); // only db/txInstant: the assertion was redundant
      conn.close();
      const again = reopen();
      check(again);
      again.close();
    });
  }

  it('order exactly against shorter values; heads longer than the threshold compare by their head first', () => {
    const conn = Database.memory();
    conn.transact(SCHEMA);
    const head = 'm'.repeat(HEAP_THRESHOLD_BYTES);
    const values = [
      'a',
      head.slice(0, 100),
      head, // exactly the threshold: inline, and the head of the next two
      `${head}b`,
      `${head}a`,
      `${'m'.repeat(HEAP_THRESHOLD_BYTES - 1)}n${'x'.repeat(400)}`, // differs inside the head
      'z',
    ];
    conn.transact(values.map((v, i) => ({ 'doc/key': `k${i}`, 'doc/text': v })));
    const read = [...conn.db().datoms('avet', 'doc/text')].map((d) => d.v as string);
    const expected = [...values].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    // The two values sharing the whole head come in digest order: compare them as a set.
    expect(read.slice(0, 3)).toEqual(expected.slice(0, 3));
    expect(new Set(read.slice(3, 5))).toEqual(new Set([`${head}a`, `${head}b`]));
    expect(read.slice(5)).toEqual(expected.slice(5));
    expect([...conn.db().indexRange('doc/text', head, 'z')].map((d) => d.v)).toHaveLength(4);
  });

  it('are written to the file once, however often asserted or re-indexed', () => {
    const { conn, file } = open(5);
    conn.transact(SCHEMA);
    const value = big('payload', 100_000);
    const before = fs.statSync(file).size;
    for (let i = 0; i < 40; i++) conn.transact([{ 'doc/key': `k${i}`, 'doc/text': value }]);
    conn.sync();
    const grown = fs.statSync(file).size - before;
    const db = conn.db();
    expect(new Set([...db.datoms('aevt', 'doc/text')].map((d) => d.v))).toEqual(new Set([value]));
    conn.close();
    // 40 entities and 16 indexings of trees holding the value: one heap frame. The keys carry the
    // value's 256-byte head, which the indexings rewrite, but never the value itself.
    const backend = NodeFileBackend.open(file, true);
    try {
      const report = verifyFile(backend);
      expect(report.problems).toEqual([]);
      expect(report.frames.heap).toBe(1);
    } finally {
      backend.close();
    }
    expect(grown).toBeGreaterThan(value.length);
    expect(grown).toBeLessThan(4 * value.length);
  });

  it('speculative transactions read their own large values without writing them', () => {
    const { conn, file } = open(16_384);
    conn.transact(SCHEMA);
    const size = fs.statSync(file).size;
    const value = big('speculative', 2_000);
    const { dbAfter, tempids } = conn.db().with([{ 'db/id': 'x', 'doc/key': 'x', 'doc/text': value }]);
    expect(dbAfter.pull(['doc/text'], tempids.x!)).toEqual({ 'doc/text': value });
    expect(fs.statSync(file).size).toBe(size);
    expect(conn.db().entity(['doc/key', 'x'])).toBeUndefined();
    conn.close();
  });

  it("read back in a report's tx data after the connection closed, retracted ones included", () => {
    // A report makes its Datoms when first read, except when a retraction holds a large value,
    // whose bytes only the heap has: read after close, they must still be there.
    const { conn } = open(65_536);
    conn.transact(SCHEMA);
    const text = 'λ'.repeat(HEAP_THRESHOLD_BYTES);
    const asserted = conn.transact([{ 'doc/key': 'a', 'doc/text': text }]);
    const replaced = conn.transact([{ 'doc/key': 'a', 'doc/text': 'short' }]);
    const small = conn.transact([{ 'doc/key': 'b', 'doc/text': 'tiny' }]);
    conn.close();
    const values = (r: typeof replaced) => r.txData.filter((d) => d.a === 'doc/text').map((d) => [d.v, d.added]);
    expect(values(replaced)).toEqual([[text, false], ['short', true]]);
    expect(values(asserted)).toEqual([[text, true]]);
    expect(values(small)).toEqual([['tiny', true]]);
    // The same array every time, and a copy of the report carries it.
    expect(small.txData).toBe(small.txData);
    expect({ ...small }.txData).toEqual(small.txData);
  });

  it("read back in a large transaction's report after close, where tx data is made lazily unless a large value is retracted", () => {
    const { conn } = open(65_536);
    conn.transact(SCHEMA);
    const text = 'λ'.repeat(HEAP_THRESHOLD_BYTES);
    conn.transact([{ 'doc/key': 'a', 'doc/text': text }]);
    // More datoms than a report makes at once: one replaces the large value, the rest are small.
    const others = Array.from({ length: 80 }, (_, i) => ({ 'doc/key': `k${i}`, 'doc/text': `t${i}` }));
    const replaced = conn.transact([{ 'doc/key': 'a', 'doc/text': 'short' }, ...others]);
    const plain = conn.transact(Array.from({ length: 80 }, (_, i) => ({ 'doc/key': `p${i}`, 'doc/text': `u${i}` })));
    conn.close();
    const retracted = replaced.txData.filter((d) => !d.added);
    expect(retracted.map((d) => [d.a, d.v])).toEqual([['doc/text', text]]);
    expect(replaced.txData).toHaveLength(1 + 1 + 1 + 2 * 80);
    expect(plain.txData.filter((d) => d.a === 'doc/text')).toHaveLength(80);
  });
});
