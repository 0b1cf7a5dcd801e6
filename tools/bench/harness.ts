/**
 * The benchmark suite's shared harness: how a figure is measured (one warm-up, then the median of
 * at least five runs with min and max), the rows a workload reports, the machine line, and the
 * scratch directory. Every workload in tools/bench/ uses these, so all figures mean the same thing.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function stat(xs: readonly number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

/** How a workload is run: the suite's settings plus its scratch directory. */
export interface Context {
  /** `--quick`: fewer runs and smaller sizes, for use while developing. */
  readonly quick: boolean;
  /** Timed runs per figure, after one warm-up run (the issue asks for at least five). */
  readonly runs: number;
  readonly directory: string;
  readonly progress: (message: string) => void;
  /**
   * Whether a workload may run parts of itself in child processes (runInChild): the suite's
   * default; `--in-process` and the checks of `npm test` run everything in one process.
   */
  readonly forks: boolean;
}

/** Timed runs per figure: see `Context.runs`. */
export const runsOf = (quick: boolean): number => (quick ? 3 : 5);

export function makeContext(quick: boolean, progress: (message: string) => void = () => {}, forks = false): Context {
  return { quick, runs: runsOf(quick), directory: fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-bench-')), progress, forks };
}

/**
 * Runs `task` in a child process of the suite's script (tools/bench.ts `--task`, which hands it to
 * runTask there) and returns what the task returned. The script is the one running, so this works
 * from the suite's processes only (ctx.forks).
 */
export function runInChild(ctx: Context, task: object): unknown {
  const rowsFile = path.join(ctx.directory, `task-${fileCounter++}.json`);
  // Throws if the child fails; its progress goes to stderr as it comes.
  execFileSync(process.execPath, [process.argv[1]!, '--task', JSON.stringify(task), '--rows', rowsFile, ...(ctx.quick ? ['--quick'] : [])], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const result = JSON.parse(fs.readFileSync(rowsFile, 'utf8')) as unknown;
  fs.rmSync(rowsFile, { force: true });
  return result;
}

/** A context for the correctness checks in `npm test`: no timing, nothing printed. */
export const checkContext = (): Context => makeContext(true);

/** One warm-up call, then `runs` timed calls; `run` returns its own measure (so it can exclude setup). */
export function repeat(ctx: Context, run: (round: number) => number): Stat {
  run(-1);
  const xs: number[] = [];
  for (let r = 0; r < ctx.runs; r++) xs.push(run(r));
  return stat(xs);
}

/** For calls far shorter than a timer tick: each run is the mean over as many calls as fit in `minMs`. */
export function perCall(ctx: Context, call: () => unknown, minMs = 100): Stat {
  return repeat(ctx, () => {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      call();
      n++;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    return elapsed / n;
  });
}

export const nowUs = () => Number(process.hrtime.bigint()) / 1e3;

export const sizeOf = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/** Bytes this process passed to write system calls so far (for engines that rewrite in place). */
export function writtenBytes(): number {
  const match = /^wchar:\s*(\d+)/m.exec(fs.readFileSync('/proc/self/io', 'utf8'));
  if (match === null) throw new Error('no wchar in /proc/self/io');
  return Number(match[1]);
}

let fileCounter = 0;
export const freshFile = (ctx: Context, label: string) => path.join(ctx.directory, `${label}-${fileCounter++}`);

export function removeDb(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '.lock']) fs.rmSync(file + suffix, { force: true });
}

// ----- what a workload reports --------------------------------------------------------------------

export const PEERS = ['better-sqlite3', 'DataScript', 'lmdb-js', 'floor'] as const;
export type Peer = (typeof PEERS)[number];

/** One engine's figure for a row. `cost` is what the ratios compare: lower is better (µs, bytes). */
export interface Figure {
  readonly text: string;
  readonly cost: number;
  /** Which floor (for the `floor` column) or which variant of the peer ran, when it needs saying. */
  readonly label?: string;
}

export interface Row {
  /** Workload number and name as in issue 7, e.g. "1. bulk import". */
  readonly workload: string;
  /** What this row measures, e.g. "100k people datoms, µs/datom". */
  readonly metric: string;
  readonly sediment: Figure;
  readonly peers: Partial<Record<Peer, Figure>>;
  /** The goal from the earlier issues, or '—' where none was set. */
  readonly goal: string;
  /** null where no goal applies. */
  readonly met: boolean | null;
}

export interface Workload {
  readonly name: string;
  /** Measures and returns the rows; throws when the engines disagree. */
  run(ctx: Context): Promise<Row[]>;
  /** The same correctness checks at a tiny size, without timing (run by `npm test`). */
  check(ctx: Context): Promise<void>;
}

export const num = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
export const count = (x: number) => x.toLocaleString('en-US');
export const show = (s: Stat, unit: string) => `${num(s.median)} ${unit} (${num(s.min)}–${num(s.max)})`;

/** A figure whose cost is the median. */
export const figure = (s: Stat, unit: string, label?: string): Figure => ({ text: show(s, unit), cost: s.median, ...(label === undefined ? {} : { label }) });
/** A figure for a rate (higher is better): its cost is the inverse, so ratios read the same way. */
export const rateFigure = (s: Stat, unit: string): Figure => ({ text: show(s, unit), cost: 1 / s.median });

export function fail(message: string): never {
  throw new Error(`correctness check failed: ${message}`);
}

/** Every engine's answer must equal the expected one (compared as JSON). */
export function same(what: string, expected: unknown, got: Record<string, unknown>): void {
  for (const [engine, value] of Object.entries(got)) {
    if (JSON.stringify(value) !== JSON.stringify(expected)) fail(`${what}: expected ${JSON.stringify(expected).slice(0, 300)}, ${engine} gave ${JSON.stringify(value).slice(0, 300)}`);
  }
}

// ----- the machine --------------------------------------------------------------------------------

/** The file system under the scratch directory: where every engine's files live. */
function diskOf(directory: string): string {
  try {
    const lines = execFileSync('df', ['--output=fstype,source', directory], { encoding: 'utf8' }).trim().split('\n');
    return lines[lines.length - 1]!.trim().replace(/\s+/g, ' ');
  } catch {
    return 'unknown file system';
  }
}

export function machineLine(loadAtStart: readonly number[]): string {
  const cpus = os.cpus();
  const load = (xs: readonly number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  return (
    `${cpus[0]?.model ?? 'cpu'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}; ` +
    `tmp ${os.tmpdir()} on ${diskOf(os.tmpdir())}; load average (1/5/15 min) at start ${load(loadAtStart)}, at end ${load(os.loadavg())}`
  );
}
