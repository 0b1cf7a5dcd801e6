/**
 * The in-place entry reader's shortcuts (lib/query/pattern-scan.ts), against the values written:
 * texts decoded through the table of recent short texts (thousands of texts differing only in
 * their first or last two bytes, so that such texts share the table's slots; random texts over a
 * small alphabet, with zero bytes, multibyte characters and long ones too), and AVET scans of an
 * attribute-and-value prefix, which read each entry from the entity on, the attribute and value
 * taken from the prefix. (Texts differing in one byte never share a slot: FNV-1a's low bits.)
 * SEDIMENT_SEED replays a run.
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import { encodePrefix } from '../../lib/db/encoding/datom-key.js';
import { prefixEnd } from '../../lib/db/encoding/key-codec.js';
import { scanEntries } from '../../lib/query/pattern-scan.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { initialFileImage, PageStore } from '../../lib/storage/page-store.js';
import { prng } from '../support/store-workload.js';

const SEED = process.env['SEDIMENT_SEED'] === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env['SEDIMENT_SEED']);

function connection(indexThreshold: number): Connection {
  const store = PageStore.open(new MemoryBackend(initialFileImage({ pageSize: 4096 })), { readOnly: false, durability: 'relaxed', cacheBytes: 1 << 20 });
  return new Connection(store, { indexThreshold });
}

const SCHEMA = [
  { 'db/ident': 't/s', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 't/si', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many', 'db/index': true },
];

function randomText(random: () => number): string {
  const kind = random();
  const length = Math.floor(random() * (kind < 0.9 ? 33 : 60));
  let text = '';
  for (let i = 0; i < length; i++) {
    const c = random();
    text += c < 0.47 ? 'a' : c < 0.94 ? 'b' : c < 0.97 ? 'é' : c < 0.99 ? '\u0000' : '😀';
  }
  return text;
}

describe('pattern scans read entries in place', () => {
  it('decodes texts through the recent-text table as they were written', () => {
    const random = prng(SEED);
    // Texts alike but for their first or last two bytes: thousands of them share the table's slots.
    const printable = Array.from({ length: 60 }, (_, i) => String.fromCharCode(40 + i));
    const pairs = printable.flatMap((x) => printable.flatMap((y) => [`name-${x}${y}`, `${x}${y}-name`]));
    const texts = [...new Set([...Array.from({ length: 3_000 }, () => randomText(random)), ...pairs])];
    // Most entities written before an indexing commit (in the trees), the rest after (novelty).
    const conn = connection(8_000);
    conn.transact(SCHEMA);
    const expected = new Map<number, string>();
    for (let batch = 0; batch < 12; batch++) {
      const tx = Array.from({ length: 1_000 }, (_, i) => ({ 'db/id': `e${i}`, 't/s': texts[Math.floor(random() * texts.length)]! }));
      const report = conn.transact(tx);
      tx.forEach((m, i) => expected.set(report.tempids[`e${i}`]!, m['t/s']));
    }
    const db = conn.db();
    for (let round = 0; round < 2; round++) {
      const rows = db.q('[:find ?e ?s :where [?e :t/s ?s]]') as [number, string][];
      expect(rows.length).toBe(expected.size);
      for (const [e, s] of rows) expect(s, `seed ${SEED}, entity ${e}`).toBe(expected.get(e));
    }
  });

  it('reads an AVET prefix scan from the entity on, the attribute and value from the prefix', () => {
    const random = prng(SEED ^ 0x5a5a);
    const values = Array.from({ length: 40 }, () => randomText(random));
    const conn = connection(300);
    conn.transact(SCHEMA);
    const holders = new Map<string, Set<number>>();
    for (let batch = 0; batch < 8; batch++) {
      const tx = Array.from({ length: 100 }, (_, i) => ({ 'db/id': `e${i}`, 't/si': values.filter(() => random() < 0.1) }));
      const report = conn.transact(tx);
      tx.forEach((m, i) => {
        for (const v of m['t/si']) {
          const set = holders.get(v) ?? new Set<number>();
          set.add(report.tempids[`e${i}`]!);
          holders.set(v, set);
        }
      });
    }
    const db = conn.db();
    const attribute = db.snapshot.schema.find('t/si', db.basisT)!;
    const filter = { tx: undefined, added: undefined, since: undefined, value: undefined };
    for (const v of new Set(values)) {
      const lower = encodePrefix('avet', { a: attribute.id, v }, db.snapshot.typeOf);
      const seen: [number, number, unknown][] = [];
      scanEntries(db, 'avet', { lower, upper: prefixEnd(lower) }, 'string', filter, (d) => seen.push([d.e, d.a, d.value()]), true);
      const want = [...(holders.get(v) ?? [])].sort((x, y) => x - y);
      expect(seen.map(([e]) => e), `seed ${SEED}, value ${JSON.stringify(v)}`).toEqual(want);
      for (const [, a, value] of seen) {
        expect(a).toBe(attribute.id);
        expect(value).toBe(v);
      }
    }
  });
});
