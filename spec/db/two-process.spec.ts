/**
 * A writer in another process (spec/support/db-writer-child.ts) commits a few hundred
 * transactions, each moving 1 unit between two accounts and adding the next sequence number,
 * while this process holds the same file open read-only and refreshes in a loop. Every snapshot
 * it sees must be a whole commit: the balances sum to 200, the sequence numbers are exactly
 * 1..counter/last, basisT never goes back, and a Db obtained earlier never changes afterwards.
 * Run in full and in relaxed durability. After the writer exits, one more refresh must reach its
 * last commit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, Database, type Db } from '../../lib/index.js';

const COMMITS = 300;
const TOTAL = 200;
const CHILD = fileURLToPath(new URL('../support/db-writer-child.ts', import.meta.url));
const REPO_ROOT = path.resolve(path.dirname(CHILD), '..', '..');

let dir: string;
const children = new Set<ChildProcess>();

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-two-process-'));
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Summary {
  readonly basisT: number;
  readonly balances: readonly number[];
  readonly seqs: readonly number[];
  readonly last: number;
}

function summarize(db: Db): Summary {
  const balance = (name: string) => db.pull(['acct/balance'], ['acct/name', name])?.['acct/balance'] as number;
  const counter = db.pull(['counter/seq', 'counter/last'], ['counter/name', 'main']);
  const seqs = ((counter?.['counter/seq'] as number[] | undefined) ?? []).slice().sort((a, b) => a - b);
  return { basisT: db.basisT, balances: [balance('A'), balance('B')], seqs, last: counter?.['counter/last'] as number };
}

/** Why this snapshot is not a whole commit, or undefined. */
function violation(s: Summary): string | undefined {
  if (s.balances[0]! + s.balances[1]! !== TOTAL) return `balances ${s.balances.join(' + ')} do not sum to ${TOTAL}`;
  if (s.seqs.length !== s.last) return `${s.seqs.length} sequence numbers but counter/last is ${s.last}`;
  for (let i = 0; i < s.seqs.length; i++) if (s.seqs[i] !== i + 1) return `sequence numbers not contiguous at ${i + 1}: ${s.seqs[i]}`;
  return undefined;
}

function spawnWriter(file: string, durability: 'full' | 'relaxed'): { ready: Promise<void>; exit: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, durability, String(COMMITS)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (out.includes('ready\n')) onReady?.();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      onReady?.();
      resolve({ code, out, err });
    }),
  );
  return { ready, exit };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a read-only connection while another process writes', () => {
  for (const durability of ['full', 'relaxed'] as const) {
    it(`every refreshed snapshot is a whole commit (${durability})`, async () => {
      const file = path.join(dir, `${durability}.db`);
      const writer = spawnWriter(file, durability);
      await writer.ready;
      let running = true;
      const finished = writer.exit.then((e) => {
        running = false;
        return e;
      });

      const reader: Connection = Database.open(file, { readOnly: true });
      const problems: string[] = [];
      const kept: { db: Db; summary: Summary }[] = [];
      const seen = new Set<number>();
      let previous = -1;
      let refreshes = 0;
      try {
        const look = () => {
          const db = reader.db();
          const s = summarize(db);
          const why = violation(s);
          if (why !== undefined) problems.push(`basisT ${s.basisT}: ${why}`);
          if (s.basisT < previous) problems.push(`basisT went back from ${previous} to ${s.basisT}`);
          previous = s.basisT;
          if (!seen.has(s.basisT)) {
            seen.add(s.basisT);
            if (seen.size % 10 === 1) kept.push({ db, summary: s });
          }
        };
        look();
        while (running && problems.length === 0) {
          reader.refresh();
          refreshes += 1;
          look();
          await tick();
        }
        const exit = await finished;
        expect(exit.code, exit.err).toBe(0);
        expect(exit.out).toContain(`done ${COMMITS}`);
        reader.refresh();
        look();
        const final = summarize(reader.db());
        expect(final.last).toBe(COMMITS);
        expect(reader.refresh()).toBe(false); // nothing newer
        for (const k of kept) expect(summarize(k.db), `a Db kept from basisT ${k.summary.basisT} changed`).toEqual(k.summary);
      } finally {
        reader.close();
      }
      console.log(
        `two-process (${durability}): ${refreshes} refreshes, ${seen.size} distinct commits seen of ${COMMITS + 3}, ` +
          `${kept.length} earlier Db values rechecked, ${problems.length} problems`,
      );
      expect(problems).toEqual([]);
      expect(seen.size).toBeGreaterThan(1);
    });
  }
});
