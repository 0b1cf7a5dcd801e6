/**
 * Reproducible files: the same workload run in two separate processes (different TZ, cache sizes
 * and durability modes) gives byte-identical files, and so does a run interrupted by a clean
 * close and a reopen in another process. Nothing outside (seed, commit sequence) — no clock, time
 * zone, cache state, sync timing or process boundary — reaches the bytes of the file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATA_START } from '../../lib/storage/format.js';
import { openStoreFile } from '../../lib/storage/store-file.js';
import { verifyStore } from '../support/store-workload.js';
import { CHILD_SHAPE, killAllWriters, runWriter } from '../support/writer-child.js';

const SEED = 29;
const TARGET = 60;
const HALFWAY = 20;

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-repro-'));
});

afterEach(async () => {
  await killAllWriters();
});

afterAll(async () => {
  await killAllWriters();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('reproducible files', () => {
  it('two processes with different TZ, cache sizes and durability modes, and a closed-and-reopened run, write the same bytes', async () => {
    const utcFull = path.join(dir, 'utc-full-nocache.db');
    const chathamRelaxed = path.join(dir, 'chatham-relaxed-64mib.db');
    const interrupted = path.join(dir, 'interrupted.db');
    await Promise.all([
      runWriter({ path: utcFull, seed: SEED, target: TARGET, durability: 'full', cacheBytes: 0, env: { TZ: 'UTC' } }),
      runWriter({
        path: chathamRelaxed,
        seed: SEED,
        target: TARGET,
        durability: 'relaxed',
        cacheBytes: 64 << 20,
        env: { TZ: 'Pacific/Chatham' },
      }),
      runWriter({ path: interrupted, seed: SEED, target: HALFWAY, durability: 'relaxed', cacheBytes: 1 << 20, env: { TZ: 'America/St_Johns' } }),
    ]);
    // The second half in another process, other mode, other zone: it recovers and continues.
    await runWriter({ path: interrupted, seed: SEED, target: TARGET, durability: 'full', cacheBytes: 4096, env: { TZ: 'Asia/Kathmandu' } });

    const reference = fs.readFileSync(utcFull);
    expect(reference.length).toBeGreaterThan(DATA_START + TARGET * 64); // 60 real commits, not an empty file
    const store = openStoreFile(utcFull, { readOnly: true });
    try {
      expect(verifyStore(store, SEED, CHILD_SHAPE)).toBe(TARGET);
      expect(store.head.end).toBe(reference.length);
    } finally {
      store.close();
    }

    const relaxed = fs.readFileSync(chathamRelaxed);
    const resumed = fs.readFileSync(interrupted);
    expect(relaxed.length, 'Chatham/relaxed/64 MiB file size').toBe(reference.length);
    expect(relaxed.equals(reference), 'Chatham/relaxed/64 MiB file bytes').toBe(true);
    expect(resumed.length, 'closed-at-20-and-resumed file size').toBe(reference.length);
    expect(resumed.equals(reference), 'closed-at-20-and-resumed file bytes').toBe(true);
    console.log(`reproducible: 3 files of ${TARGET} commits, ${reference.length} bytes each, byte-identical`);
  });
});
