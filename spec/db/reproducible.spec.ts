/**
 * Reproducible database files: the same transactions with the same instants give byte-identical
 * files, whatever the durability mode, cache size or time zone, and whether the writer closed and
 * reopened the file between commits — including in the middle of an indexing epoch, where the
 * reopened connection rebuilds its novelty from the log and must index exactly as an
 * uninterrupted one would. With `SOURCE_DATE_EPOCH` and no explicit instants, the same holds.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import { Database } from '../../lib/index.js';
import { DEFAULT_SPARE_MIN_BYTES, setSpareMinimum } from '../../lib/spare-buffers.js';
import { openStoreFile } from '../../lib/storage/store-file.js';
import { prng } from '../support/store-workload.js';

const COMMITS = 120;
const BASE_INSTANT = Date.UTC(2024, 0, 1);

interface Run {
  readonly durability: 'full' | 'relaxed';
  readonly cacheBytes: number;
  /** Close and reopen after every this many commits (0: never). */
  readonly reopenEvery: number;
  readonly indexThreshold: number;
  readonly timeZone: string;
  readonly explicitInstants: boolean;
  /**
   * Lists from this size on pass from user to user (lib/spare-buffers.ts): lowered, a spare still
   * holding an earlier list's bytes serves most lists, pending buffers and records, so bytes a
   * writer failed to overwrite would show here. Default: the library's own.
   */
  readonly spareMinimum?: number;
}

let dir: string;
let fileCount = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-db-repro-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const SCHEMA = [
  { 'db/ident': 'item/key', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'item/count', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'item/weight', 'db/valueType': 'db.type/double', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'item/big', 'db/valueType': 'db.type/bigint', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'item/tags', 'db/valueType': 'db.type/keyword', 'db/cardinality': 'db.cardinality/many' },
  { 'db/ident': 'item/parent', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'item/blob', 'db/valueType': 'db.type/bytes', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'item/seen', 'db/valueType': 'db.type/instant', 'db/cardinality': 'db.cardinality/one' },
];

/** The i-th transaction of the workload: creations, updates, retractions, in a fixed mix. */
function transaction(i: number, random: () => number): unknown[] {
  const key = (k: number) => `key-${k}`;
  const pick = (n: number) => Math.floor(random() * n);
  const ops: unknown[] = [];
  const k = pick(40);
  switch (i % 5) {
    case 0:
    case 1:
      ops.push({
        'item/key': key(k),
        'item/count': pick(1000) - 500,
        'item/weight': random() * 10,
        'item/big': BigInt(pick(1_000_000)) ** 3n,
        'item/tags': ['a', 'b', 'c', 'd'].filter(() => random() < 0.5),
        'item/blob': Uint8Array.from({ length: pick(5) }, () => pick(256)),
        'item/seen': new Date(BASE_INSTANT - pick(1e9)),
      });
      break;
    case 2:
      ops.push({ 'db/id': 'child', 'item/key': key(40 + pick(40)), 'item/parent': ['item/key', key(0)] });
      ops.push({ 'db/id': 'datomic.tx', 'item/count': i });
      break;
    case 3:
      ops.push(['db/retract', ['item/key', key(0)], 'item/tags']);
      ops.push({ 'item/key': key(0), 'item/count': i });
      break;
    case 4:
      if (i % 3 === 0) ops.push(['db/retractEntity', ['item/key', key(40 + pick(40))]]);
      else ops.push({ 'item/key': key(k), 'item/weight': i / 7 });
      break;
  }
  return ops;
}

function write(run: Run): string {
  const file = path.join(dir, `run-${fileCount++}.db`);
  const previousZone = process.env.TZ;
  process.env.TZ = run.timeZone;
  const previousMinimum = setSpareMinimum(run.spareMinimum ?? DEFAULT_SPARE_MIN_BYTES, run.spareMinimum !== undefined);
  const open = (create: boolean) =>
    new Connection(openStoreFile(file, { create, durability: run.durability, cacheBytes: run.cacheBytes }), {
      indexThreshold: run.indexThreshold,
    });
  try {
    let conn = open(true);
    const random = prng(7);
    const options = (i: number) => (run.explicitInstants ? { txInstant: new Date(BASE_INSTANT + i * 1000) } : {});
    conn.transact(SCHEMA, options(0));
    for (let i = 1; i <= COMMITS; i++) {
      const data = transaction(i, random);
      try {
        conn.transact(data, options(i));
      } catch {
        // A retractEntity of a missing lookup ref fails the same way in every run.
      }
      if (run.reopenEvery > 0 && i % run.reopenEvery === 0) {
        conn.close();
        conn = open(false);
      }
    }
    conn.close();
  } finally {
    if (previousZone === undefined) delete process.env.TZ;
    else process.env.TZ = previousZone;
    setSpareMinimum(previousMinimum);
  }
  return file;
}

function sameBytes(a: string, b: string): boolean {
  return fs.readFileSync(a).equals(fs.readFileSync(b));
}

describe('reproducible database files', () => {
  for (const indexThreshold of [40, 16_384]) {
    it(`same transactions, same bytes: modes, caches, zones, reopening, spares (indexing every ${indexThreshold} datoms)`, () => {
      const reference = write({ durability: 'full', cacheBytes: 64 << 20, reopenEvery: 0, indexThreshold, timeZone: 'UTC', explicitInstants: true });
      const others = [
        write({ durability: 'relaxed', cacheBytes: 0, reopenEvery: 0, indexThreshold, timeZone: 'Pacific/Chatham', explicitInstants: true, spareMinimum: 64 }),
        write({ durability: 'relaxed', cacheBytes: 1 << 20, reopenEvery: 7, indexThreshold, timeZone: 'America/St_Johns', explicitInstants: true }),
        write({ durability: 'full', cacheBytes: 4096, reopenEvery: 1, indexThreshold, timeZone: 'Asia/Kathmandu', explicitInstants: true, spareMinimum: 64 }),
      ];
      const size = fs.statSync(reference).size;
      expect(size).toBeGreaterThan(10_000); // a real workload, not an empty file
      for (const other of others) {
        expect(fs.statSync(other).size).toBe(size);
        expect(sameBytes(other, reference)).toBe(true);
      }
      // Not vacuous: a different instant gives a different file.
      const conn = Database.open(reference, { readOnly: true });
      const datoms = [...conn.db().datoms('eavt')].length;
      const commits = [...conn.log().txRange()].length;
      conn.close();
      expect(commits).toBeGreaterThan(COMMITS / 2);
      console.log(`reproducible (index every ${indexThreshold}): 4 files of ${commits} commits, ${datoms} current datoms, ${size} bytes each, byte-identical`);
    });
  }

  it('a different instant changes the bytes', () => {
    const a = write({ durability: 'relaxed', cacheBytes: 1 << 20, reopenEvery: 0, indexThreshold: 40, timeZone: 'UTC', explicitInstants: true });
    const previous = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      const b = write({ durability: 'relaxed', cacheBytes: 1 << 20, reopenEvery: 0, indexThreshold: 40, timeZone: 'UTC', explicitInstants: false });
      expect(sameBytes(a, b)).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = previous;
    }
  });

  it('SOURCE_DATE_EPOCH stands in for the clock', () => {
    const previous = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      const a = write({ durability: 'full', cacheBytes: 64 << 20, reopenEvery: 0, indexThreshold: 40, timeZone: 'UTC', explicitInstants: false });
      const b = write({ durability: 'relaxed', cacheBytes: 0, reopenEvery: 5, indexThreshold: 40, timeZone: 'Europe/Berlin', explicitInstants: false });
      expect(sameBytes(a, b)).toBe(true);
      const conn = Database.open(a, { readOnly: true });
      const instants = [...conn.log().txRange()].map((t) => t.txInstant.getTime());
      conn.close();
      expect(new Set(instants.slice(1))).toEqual(new Set([1_700_000_000_000]));
    } finally {
      if (previous === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = previous;
    }
  });
});
