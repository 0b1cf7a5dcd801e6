/**
 * A read-only connection refreshing after each commit of a writer on the same file: it catches up
 * by replaying only the new commits into its epoch's novelty, or loads afresh when a new epoch
 * began. Either way it must equal the writer, while the values it handed out earlier stay as they
 * were.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import type { Db } from '../../lib/db/db.js';
import { openStoreFile } from '../../lib/storage/store-file.js';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-refresh-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const contents = (db: Db) => [...db.history().datoms('eavt')].map((d) => `${d.e} ${d.a} ${String(d.v)} ${d.tx} ${d.added}`);

describe('read-only refresh', () => {
  it('follows a writer commit by commit, across indexing epochs, schema changes and large values', () => {
    const file = path.join(dir, 'refresh.db');
    const writer = new Connection(openStoreFile(file, { create: true, durability: 'relaxed' }), { indexThreshold: 12 });
    const reader = new Connection(openStoreFile(file, { readOnly: true }), { indexThreshold: 12 });
    const kept: { db: Db; seen: string[] }[] = [];
    for (let i = 0; i < 40; i++) {
      const tx: unknown[] =
        i % 10 === 0
          ? [{ 'db/ident': `r/attr${i}`, 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/index': true }]
          : [{ [`r/attr${i - (i % 10)}`]: i % 7 === 0 ? 'z'.repeat(1_000) + i : `v${i}` }, ...(i % 3 === 0 ? [['db/retractEntity', i - 2]] : [])];
      let committed = true;
      try {
        writer.transact(tx);
      } catch {
        committed = false; // retractEntity of an id never allocated: no commit, nothing to follow
      }
      expect(reader.refresh()).toBe(committed);
      expect(reader.db().basisT).toBe(writer.db().basisT);
      expect(contents(reader.db())).toEqual(contents(writer.db()));
      if (i % 5 === 0) kept.push({ db: reader.db(), seen: contents(reader.db()) });
    }
    expect(reader.refresh()).toBe(false);
    for (const { db, seen } of kept) expect(contents(db)).toEqual(seen);
    writer.close();
    reader.close();
  });
});
