/**
 * Opening a database path: creation, the errors a user meets first (each with its stable code and
 * a message naming what was wrong), and the writer lock within one process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, SedimentError } from '../../lib/errors.js';
import { openStoreFile } from '../../lib/storage/store-file.js';
import { errorCodeOf } from '../support/error-code.js';
import { verifyStore, writeCommit } from '../support/store-workload.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-open-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof SedimentError) return error.message;
  }
  return 'no SedimentError';
};

describe('opening a database file', () => {
  it('refuses a missing file without create, and creates nothing', () => {
    const file = path.join(dir, 'missing.db');
    expect(errorCodeOf(() => openStoreFile(file))).toBe(ErrorCode.notFound);
    expect(messageOf(() => openStoreFile(file))).toContain(file);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('creates a file with create, leaves no temporary file, and opens an existing one with create too', () => {
    const file = path.join(dir, 'new.db');
    const store = openStoreFile(file, { create: true });
    writeCommit(store, 3, 1);
    store.close();
    expect(fs.readdirSync(dir)).toEqual(['new.db']);
    const again = openStoreFile(file, { create: true });
    expect(verifyStore(again, 3)).toBe(1);
    again.close();
  });

  it('names the offending option of invalid options', () => {
    const file = path.join(dir, 'x.db');
    const cases: Array<[unknown, string]> = [
      [{ durability: 'fast' }, "'durability'"],
      [{ cacheBytes: -1 }, "'cacheBytes'"],
      [{ cacheBytes: 1.5 }, "'cacheBytes'"],
      [{ create: 'yes' }, "'create'"],
      [{ pageSize: 4096 }, 'pageSize'],
      [{ create: true, readOnly: true }, 'create and readOnly'],
    ];
    for (const [options, named] of cases) {
      expect(errorCodeOf(() => openStoreFile(file, options))).toBe(ErrorCode.invalidArgument);
      expect(messageOf(() => openStoreFile(file, options))).toContain(named);
    }
    expect(fs.existsSync(file)).toBe(false);
  });

  it('refuses files that are not databases: other content, or empty', () => {
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'just some text, long enough to hold a header and more besides');
    expect(errorCodeOf(() => openStoreFile(text))).toBe(ErrorCode.notADatabase);
    expect(errorCodeOf(() => openStoreFile(text, { readOnly: true }))).toBe(ErrorCode.notADatabase);
    const empty = path.join(dir, 'empty.db');
    fs.writeFileSync(empty, '');
    expect(errorCodeOf(() => openStoreFile(empty))).toBe(ErrorCode.notADatabase);
    expect(fs.readFileSync(text, 'utf8')).toBe('just some text, long enough to hold a header and more besides');
  });

  it('lets one writer in at a time, in the same process too, and any number of readers', () => {
    const file = path.join(dir, 'locked.db');
    const writer = openStoreFile(file, { create: true });
    writeCommit(writer, 5, 1);
    expect(errorCodeOf(() => openStoreFile(file))).toBe(ErrorCode.locked);
    const readers = [openStoreFile(file, { readOnly: true }), openStoreFile(file, { readOnly: true })];
    for (const reader of readers) expect(verifyStore(reader, 5)).toBe(1);
    writer.close();
    const next = openStoreFile(file);
    expect(verifyStore(next, 5)).toBe(1);
    next.close();
    for (const reader of readers) reader.close();
  });
});
