/**
 * A writer process for the kill and reproducibility specs: it opens (creating if missing) a real
 * database file, continues the deterministic workload from whatever head recovery found up to
 * `targetSeq`, and reports its progress on stdout one line at a time, each line written with a
 * synchronous write before the next step starts, so a parent that kills it knows a lower bound on
 * what was promised:
 *
 *   opened <seq>     the file was opened (recovery done, writer lock held); head is <seq>
 *   committed <seq>  full mode: commit <seq> returned, so it is durable
 *   written <seq>    relaxed mode: commit <seq> returned (visible, not yet durable)
 *   durable <seq>    relaxed mode: sync() returned after commit <seq>
 *   done <seq>       close() returned; head is <seq>
 *
 * With a sixth argument `wait` the child starts up (Node, tsx, the modules) and then waits for a
 * line on stdin before opening the file, so a parent can warm the next child up while the current
 * one runs: startup costs far more than the interval between kills.
 *
 * The parent's side (spawnWriter, runWriter, killAllWriters) lives here too, next to the protocol.
 *
 * Usage: node --import tsx spec/support/writer-child.ts <path> <seed> <targetSeq> <full|relaxed> <cacheBytes> [wait]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openStoreFile } from '../../lib/storage/store-file.js';
import { type WorkloadShape, writeCommit } from './store-workload.js';

/** Larger pages than the default shape, so that a commit takes long enough to be killed inside. */
export const CHILD_SHAPE: WorkloadShape = { maxPages: 6, maxPageBytes: 20_000 };
/** Relaxed mode: sync() after every this many commits. */
export const CHILD_SYNC_EVERY = 5;

/** Writes a whole line to stdout before returning (retrying should the pipe be non-blocking and full). */
function say(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += fs.writeSync(1, bytes, done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const [filePath, seedText, targetText, durability, cacheText, waitFlag] = argv;
  if (filePath === undefined || durability === undefined || (durability !== 'full' && durability !== 'relaxed')) {
    throw new Error('usage: writer-child.ts <path> <seed> <targetSeq> <full|relaxed> <cacheBytes> [wait]');
  }
  const seed = Number(seedText);
  const target = Number(targetText);
  const cacheBytes = Number(cacheText);
  if (![seed, target, cacheBytes].every(Number.isSafeInteger)) throw new Error('seed, targetSeq and cacheBytes must be integers');
  if (waitFlag === 'wait') {
    await new Promise<void>((resolve, reject) => {
      process.stdin.once('data', () => resolve());
      process.stdin.once('end', () => reject(new Error('writer child: stdin closed before the go line')));
    });
    process.stdin.destroy();
  }

  // From here on everything is synchronous: a SIGKILL can land anywhere inside it.

  const store = openStoreFile(filePath, { create: true, durability, cacheBytes });
  say(`opened ${store.head.seq}`);
  for (let seq = store.head.seq + 1; seq <= target; seq++) {
    writeCommit(store, seed, seq, CHILD_SHAPE);
    if (durability === 'full') {
      say(`committed ${seq}`);
    } else {
      say(`written ${seq}`);
      if (seq % CHILD_SYNC_EVERY === 0) {
        store.sync();
        say(`durable ${seq}`);
      }
    }
  }
  const head = store.head.seq;
  store.close();
  say(`done ${head}`);
}

// ----- the parent's side ---------------------------------------------------------------------

const SCRIPT = fileURLToPath(import.meta.url);
const REPO_ROOT = path.resolve(path.dirname(SCRIPT), '..', '..');

export interface WriterArgs {
  readonly path: string;
  readonly seed: number;
  readonly target: number;
  readonly durability: 'full' | 'relaxed';
  readonly cacheBytes: number;
  /** Extra environment variables (TZ, ...), on top of this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Start up, but open the file only when go() is called. */
  readonly waitForGo?: boolean;
}

export interface WriterExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Every complete line the child printed, in order. */
  readonly lines: readonly string[];
  readonly stderr: string;
}

export interface WriterRun {
  readonly child: ChildProcess;
  /** Complete lines printed so far. */
  readonly lines: readonly string[];
  /** The first line (`opened <seq>`); rejects if the child exits without printing one. */
  readonly firstLine: Promise<string>;
  /** With waitForGo: lets the child open the file and start writing. */
  go(): void;
  /** Settles once the child has exited and its output is fully read. */
  readonly exit: Promise<WriterExit>;
}

const liveWriters = new Set<ChildProcess>();

/** Starts a writer child. Every child is tracked until it exits; see killAllWriters(). */
export function spawnWriter(args: WriterArgs): WriterRun {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      SCRIPT,
      ...[args.path, args.seed, args.target, args.durability, args.cacheBytes].map(String),
      ...(args.waitForGo === true ? ['wait'] : []),
    ],
    { cwd: REPO_ROOT, env: { ...process.env, ...args.env }, stdio: [args.waitForGo === true ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
  );
  liveWriters.add(child);
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let onFirst: ((line: string) => void) | undefined;
  const firstLine = new Promise<string>((resolve) => (onFirst = resolve));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      onFirst?.(line);
      onFirst = undefined;
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<WriterExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      liveWriters.delete(child);
      resolve({ code, signal, lines, stderr });
    });
  });
  const firstOrExit = Promise.race([
    firstLine,
    exit.then((e) => {
      throw new Error(`writer child exited (code ${e.code}, signal ${e.signal}) before printing a line:\n${e.stderr}`);
    }),
  ]);
  firstOrExit.catch(() => undefined); // callers that never ask for it must not see an unhandled rejection
  const go = () => {
    child.stdin?.on('error', () => undefined); // the child may already be gone
    child.stdin?.end('go\n');
  };
  return { child, lines, firstLine: firstOrExit, go, exit };
}

/** Runs a writer child to completion and checks that it finished cleanly at `args.target`. */
export async function runWriter(args: WriterArgs): Promise<WriterExit> {
  const result = await spawnWriter(args).exit;
  const last = result.lines[result.lines.length - 1];
  if (result.code !== 0 || last !== `done ${args.target}`) {
    throw new Error(`writer child failed (code ${result.code}, signal ${result.signal}, last line ${last}):\n${result.stderr}`);
  }
  return result;
}

/** SIGKILLs every writer child still running and waits until each is gone. */
export async function killAllWriters(): Promise<void> {
  const waits = [...liveWriters].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(waits);
  liveWriters.clear();
}

/** The sequence number on the last line starting with `word` (`committed`, `durable`, ...). */
export function lastSeq(lines: readonly string[], word: string): number | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const [w, n] = (lines[i] ?? '').split(' ');
    if (w === word && n !== undefined) return Number(n);
  }
  return undefined;
}

// Only when run as a script: the specs import the constants above.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
