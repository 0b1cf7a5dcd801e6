/**
 * Imports large enough for their lists, merged batches and log records to be spare buffers at the
 * library's own size (lib/spare-buffers.ts), one after the other in one process while the first
 * database stays open, with every buffer poisoned as it is given back: each database must hold
 * exactly its own datoms in all four indexes, before and after reopening, and then take a
 * transaction that writes novelty into trees the spares passed through.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../lib/index.js';
import type { Connection } from '../../lib/db/connection.js';
import { DEFAULT_SPARE_MIN_BYTES, setSpareMinimum, spareBytes } from '../../lib/spare-buffers.js';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-spares-'));
  setSpareMinimum(DEFAULT_SPARE_MIN_BYTES, true);
});

afterAll(() => {
  setSpareMinimum(DEFAULT_SPARE_MIN_BYTES);
  fs.rmSync(dir, { recursive: true, force: true });
});

const SCHEMA = [
  { 'db/ident': 'p/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'p/age', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'p/friend', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/many' },
];

const PEOPLE = 40_000;

/** Four datoms a person (name, age, two friends), values depending on `seed`. */
function people(seed: number): unknown[][] {
  const tx: unknown[][] = [];
  for (let i = 0; i < PEOPLE; i++) {
    tx.push(['db/add', `p${i}`, 'p/name', `person ${seed}-${(i * 7919) % PEOPLE}`]);
    tx.push(['db/add', `p${i}`, 'p/age', (i * seed) % 97]);
    tx.push(['db/add', `p${i}`, 'p/friend', `p${(i + seed) % PEOPLE}`]);
    tx.push(['db/add', `p${i}`, 'p/friend', `p${(i * 31 + 1) % PEOPLE}`]);
  }
  return tx;
}

/** The expected datoms of an import as "e attribute value" lines, sorted, refs by entity id. */
function expected(tx: unknown[][], ids: Record<string, number>): string[] {
  const lines = tx.map(([, e, a, v]) => `${ids[e as string]} ${a as string} ${a === 'p/friend' ? ids[v as string] : String(v)}`);
  return [...new Set(lines)].sort();
}

/** Every current datom of the three attributes as the same lines, through each index order. */
function held(conn: Connection): Record<'eavt' | 'aevt' | 'avet' | 'vaet', string[]> {
  const db = conn.db();
  const line = (d: { e: number; a: string; v: unknown }) => `${d.e} ${d.a} ${String(d.v)}`;
  const ours = (d: { a: string }) => d.a.startsWith('p/');
  return {
    eavt: [...db.datoms('eavt')].filter(ours).map(line).sort(),
    aevt: ['p/name', 'p/age', 'p/friend'].flatMap((a) => [...db.datoms('aevt', a)].map(line)).sort(),
    avet: [...db.datoms('avet', 'p/age')].map(line).sort(),
    vaet: [...db.datoms('vaet')].filter(ours).map(line).sort(),
  };
}

function expectHolds(conn: Connection, lines: string[], label: string): void {
  const got = held(conn);
  // Compared by count and by identity of the joined text: a failing toEqual on 160,000 lines
  // would print them all.
  expect(got.eavt.length, `${label}: eavt`).toBe(lines.length);
  expect(got.eavt.join('\n') === lines.join('\n'), `${label}: eavt holds exactly the import`).toBe(true);
  expect(got.aevt.join('\n') === lines.join('\n'), `${label}: aevt holds exactly the import`).toBe(true);
  const ages = lines.filter((l) => l.includes(' p/age '));
  expect(got.avet.join('\n') === ages.join('\n'), `${label}: avet holds every age`).toBe(true);
  const friends = lines.filter((l) => l.includes(' p/friend '));
  expect(got.vaet.join('\n') === friends.join('\n'), `${label}: vaet holds every friend`).toBe(true);
}

describe('spare buffers across imports', () => {
  it('two imports in one process each hold exactly their datoms, open together and reopened', () => {
    const fileA = path.join(dir, 'a.db');
    const fileB = path.join(dir, 'b.db');
    const txA = people(3);
    const txB = people(5);
    let a = Database.open(fileA, { create: true, durability: 'relaxed' });
    a.transact(SCHEMA);
    const linesA = expected(txA, a.transact(txA).tempids);
    // The import's large buffers came back for the next: the test is about their reuse.
    expect(spareBytes()).toBeGreaterThan(DEFAULT_SPARE_MIN_BYTES);
    const b = Database.open(fileB, { create: true, durability: 'relaxed' });
    b.transact(SCHEMA);
    const linesB = expected(txB, b.transact(txB).tempids);
    expect(linesA.length).toBeGreaterThan(3 * PEOPLE);
    expectHolds(a, linesA, 'a, beside b');
    expectHolds(b, linesB, 'b');
    a.close();
    a = Database.open(fileA, { durability: 'relaxed' });
    expectHolds(a, linesA, 'a, reopened');
    // A second large transaction on each: novelty's entries and these merged into trees the
    // spares passed through.
    const more = (conn: Connection, seed: number) => {
      const tx = people(seed).map(([op, e, attr, v]) => [op, `n${String(e)}`, attr, attr === 'p/friend' ? `n${String(v)}` : v]);
      return expected(tx, conn.transact(tx).tempids);
    };
    const moreA = more(a, 7);
    const moreB = more(b, 11);
    expectHolds(a, [...linesA, ...moreA].sort(), 'a, after a second import');
    expectHolds(b, [...linesB, ...moreB].sort(), 'b, after a second import');
    a.close();
    b.close();
  });
});
