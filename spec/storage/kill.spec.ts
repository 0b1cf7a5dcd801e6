/**
 * Real kills: child processes writing in a loop are SIGKILLed at random moments; each reopened
 * file satisfies the same oracle (20 kills in the standard run). After every kill the file opens
 * read-only and as a writer with a head between the last commit the child reported and the one it
 * had started, every commit back to the first intact; the next child continues the same file
 * (every other round from the raw killed state, so the child's own writer recovery runs too), and
 * the file finally holds exactly the bytes of one uninterrupted run. Four kills in relaxed mode
 * check D <= head <= last started, D the last sync() reported. Also: the writer lock holds
 * across processes and dies with its process (no stale lock).
 *
 * SEDIMENT_KILLS and SEDIMENT_KILL_SEED change the number of kills and the seed of the delays.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import type { PageStore } from '../../lib/storage/page-store.js';
import { openStoreFile } from '../../lib/storage/store-file.js';
import { prng, verifyStore } from '../support/store-workload.js';
import { CHILD_SHAPE, killAllWriters, lastSeq, runWriter, spawnWriter, type WriterExit } from '../support/writer-child.js';
import { errorCodeOf } from '../support/error-code.js';

const KILLS = Number(process.env['SEDIMENT_KILLS'] ?? 20);
const RELAXED_KILLS = 4;
const DELAY_SEED = Number(process.env['SEDIMENT_KILL_SEED'] ?? 20_240_611);
const WORKLOAD_SEED = 17;
/** Never reached: the children of the kill rounds only stop when killed. */
const ENDLESS = 1_000_000_000;
/** Kill this long after the child's first line (`opened`), in milliseconds. */
const MIN_DELAY_MS = 20;
const MAX_DELAY_MS = 140;
const CACHE_SIZES = [0, 1 << 20, 64 << 20];
const WARM_AHEAD = 2;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-kill-'));
});

afterEach(async () => {
  await killAllWriters();
});

afterAll(async () => {
  await killAllWriters();
  fs.rmSync(dir, { recursive: true, force: true });
});

function withStore<T>(filePath: string, options: { readOnly?: boolean }, use: (store: PageStore) => T): T {
  const store = openStoreFile(filePath, options);
  try {
    return use(store);
  } finally {
    store.close();
  }
}


/**
 * The oracle after a kill: read-only and writer connections both find a head k with
 * lower <= k <= upper and every commit up to k intact. On `inPlace` the writer recovers the file
 * itself (truncating what the killed commit left); otherwise it recovers a copy and the file is
 * left as the kill left it, for the next child's own recovery. Returns k, or a violation.
 */
function checkAfterKill(
  filePath: string,
  lower: number,
  upper: number,
  inPlace: boolean,
): { head: number } | { violation: string } {
  try {
    const head = withStore(filePath, { readOnly: true }, (reader) => {
      const k = reader.head.seq;
      if (k < lower || k > upper) throw new Error(`read-only head ${k} outside [${lower}, ${upper}]`);
      const verified = verifyStore(reader, WORKLOAD_SEED, CHILD_SHAPE);
      if (verified !== k) throw new Error(`read-only: verifyStore gave ${verified}, head is ${k}`);
      return k;
    });
    const writerPath = inPlace ? filePath : `${filePath}.copy`;
    if (!inPlace) fs.copyFileSync(filePath, writerPath);
    try {
      withStore(writerPath, {}, (writer) => {
        if (writer.head.seq !== head) throw new Error(`writer head ${writer.head.seq}, read-only head ${head}`);
        const verified = verifyStore(writer, WORKLOAD_SEED, CHILD_SHAPE);
        if (verified !== head) throw new Error(`writer: verifyStore gave ${verified}, head is ${head}`);
        if (fs.statSync(writerPath).size !== writer.head.end) {
          throw new Error(`writer open left ${fs.statSync(writerPath).size} bytes, head ends at ${writer.head.end}`);
        }
      });
    } finally {
      if (!inPlace) fs.rmSync(writerPath, { force: true });
    }
    return { head };
  } catch (error) {
    return { violation: `[${lower}, ${upper}]: ${error instanceof Error ? error.message : String(error)}` };
  }
}

const describeExit = (e: WriterExit) => `code ${e.code}, signal ${e.signal}, last line ${e.lines.at(-1)}: ${e.stderr}`;

interface Round {
  readonly label: string;
  readonly durability: 'full' | 'relaxed';
  readonly cacheBytes: number;
  /** Whether the test's own writer recovers the file in place, or the next child must. */
  readonly recoverInPlace: boolean;
}

describe('real kills', () => {
  it(`SIGKILLed writers leave files that recover to the oracle, and continuing gives the uninterrupted bytes (${KILLS} kills)`, async () => {
    const started = performance.now();
    const filePath = path.join(dir, 'killed.db');
    const random = prng(DELAY_SEED);
    const rounds: Round[] = [
      ...Array.from({ length: KILLS }, (_, i): Round => ({
        label: `full ${i}`,
        durability: 'full',
        cacheBytes: CACHE_SIZES[i % CACHE_SIZES.length]!,
        recoverInPlace: i % 2 === 0,
      })),
      ...Array.from({ length: RELAXED_KILLS }, (_, i): Round => ({
        label: `relaxed ${i}`,
        durability: 'relaxed',
        cacheBytes: 1 << 20,
        recoverInPlace: i % 2 === 1,
      })),
    ];
    const warm = (round: Round) =>
      spawnWriter({ path: filePath, seed: WORKLOAD_SEED, target: ENDLESS, durability: round.durability, cacheBytes: round.cacheBytes, waitForGo: true });

    const violations: string[] = [];
    const heads: number[] = [];
    const relaxed: string[] = [];
    let insideCommit = 0; // full mode: kills after a commit's bytes were written, before it was reported
    let keptAll = 0; // relaxed mode: kills after which every written commit was still there
    let expectedOpen = 0;
    // Children start up (Node, tsx, modules: about half a second) WARM_AHEAD rounds before their
    // turn, while earlier ones write and the file is checked; each opens the file only on go().
    const warming = rounds.slice(0, WARM_AHEAD).map(warm);

    for (const [index, round] of rounds.entries()) {
      const run = warming.shift()!;
      run.go();
      const first = await run.firstLine;
      const upcoming = rounds[index + WARM_AHEAD];
      if (upcoming !== undefined) warming.push(warm(upcoming));
      if (first !== `opened ${expectedOpen}`) violations.push(`${round.label}: child says '${first}', expected 'opened ${expectedOpen}'`);
      await sleep(MIN_DELAY_MS + random() * (MAX_DELAY_MS - MIN_DELAY_MS));
      run.child.kill('SIGKILL');
      const exit = await run.exit;
      if (exit.signal !== 'SIGKILL') {
        violations.push(`${round.label}: child was not killed but ended by itself (${describeExit(exit)})`);
        break;
      }
      const opened = lastSeq(exit.lines, 'opened') ?? 0;
      let lower: number;
      let lastReported: number;
      if (round.durability === 'full') {
        lower = lastReported = lastSeq(exit.lines, 'committed') ?? opened;
      } else {
        // Only what sync() reported is promised (a writer open flushes what it recovered); the head
        // lies between that and the last commit started. SIGKILL is not a power cut: the kernel
        // keeps every write, so in fact nothing written is lost; keptAll counts that, unasserted.
        lower = lastSeq(exit.lines, 'durable') ?? opened;
        lastReported = lastSeq(exit.lines, 'written') ?? opened;
      }
      const checked = checkAfterKill(filePath, lower, lastReported + 1, round.recoverInPlace);
      if ('violation' in checked) {
        violations.push(`${round.label}: ${checked.violation}`);
        break;
      }
      if (round.durability === 'full') {
        heads.push(checked.head);
        if (checked.head === lastReported + 1) insideCommit += 1;
      } else {
        relaxed.push(`D=${lower} k=${checked.head} W=${lastReported}`);
        if (checked.head >= lastReported) keptAll += 1;
      }
      expectedOpen = checked.head;
    }
    await killAllWriters(); // warmed-up children left over after a violation

    console.log(
      `kills: ${heads.length} SIGKILLs in full mode (delay seed ${DELAY_SEED}), recovered seqs ${heads.join(' ')}; ` +
        `${insideCommit} landed inside a commit (head = last reported + 1); ` +
        `${relaxed.length} in relaxed mode: ${relaxed.join(', ')} (${keptAll} kept every written commit); ` +
        `${violations.length} violations`,
    );
    expect(violations).toEqual([]);
    expect(heads).toHaveLength(KILLS);
    expect(relaxed).toHaveLength(RELAXED_KILLS);
    if (KILLS > 1) expect(new Set(heads).size).toBeGreaterThan(1); // the children got work done between kills

    // Crash-then-continue: finishing the killed file and one uninterrupted run give the same bytes.
    const target = expectedOpen + 25;
    const cleanPath = path.join(dir, 'uninterrupted.db');
    await Promise.all([
      runWriter({ path: filePath, seed: WORKLOAD_SEED, target, durability: 'full', cacheBytes: 1 << 20 }),
      runWriter({ path: cleanPath, seed: WORKLOAD_SEED, target, durability: 'full', cacheBytes: 1 << 20 }),
    ]);
    const killed = fs.readFileSync(filePath);
    const clean = fs.readFileSync(cleanPath);
    expect(killed.length).toBe(clean.length);
    expect(killed.equals(clean)).toBe(true);
    expect(withStore(filePath, { readOnly: true }, (store) => verifyStore(store, WORKLOAD_SEED, CHILD_SHAPE))).toBe(target);
    console.log(
      `kills: continued to ${target}: ${killed.length} bytes, identical to an uninterrupted run ` +
        `(${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  });

  it('a writer in another process holds the lock; readers still see a valid commit; killing it frees the lock', async () => {
    const filePath = path.join(dir, 'locked.db');
    const run = spawnWriter({ path: filePath, seed: WORKLOAD_SEED, target: ENDLESS, durability: 'full', cacheBytes: 0 });
    expect(await run.firstLine).toBe('opened 0');
    await sleep(40); // let it commit a few

    expect(errorCodeOf(() => openStoreFile(filePath))).toBe(ErrorCode.locked);
    expect(errorCodeOf(() => openStoreFile(filePath, { durability: 'relaxed' }))).toBe(ErrorCode.locked);
    const seen = withStore(filePath, { readOnly: true }, (reader) => {
      expect(verifyStore(reader, WORKLOAD_SEED, CHILD_SHAPE)).toBe(reader.head.seq);
      return reader.head.seq;
    });
    expect(run.child.exitCode).toBeNull(); // the writer was running all along

    run.child.kill('SIGKILL');
    const exit = await run.exit;
    expect(exit.signal).toBe('SIGKILL');
    const reported = lastSeq(exit.lines, 'committed') ?? 0;
    expect(seen).toBeLessThanOrEqual(reported + 1); // the reader saw at most the commit being written

    // No stale lock: the kernel dropped the flock with the process.
    const writer = openStoreFile(filePath);
    try {
      expect(writer.head.seq).toBeGreaterThanOrEqual(reported);
      expect(writer.head.seq).toBeLessThanOrEqual(reported + 1);
      expect(verifyStore(writer, WORKLOAD_SEED, CHILD_SHAPE)).toBe(writer.head.seq);

      // And the other way round: a child cannot take the lock this process holds.
      const refused = await spawnWriter({ path: filePath, seed: WORKLOAD_SEED, target: ENDLESS, durability: 'full', cacheBytes: 0 }).exit;
      expect(refused.code).not.toBe(0);
      expect(refused.lines).toEqual([]);
      expect(refused.stderr).toContain(ErrorCode.locked);
    } finally {
      writer.close();
    }
  });
});
