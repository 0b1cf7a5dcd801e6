/**
 * The benchmark suite of issue 7: every workload of tools/bench/, Sediment beside its peers in
 * the workload's process, on the same data and machine. Writes bench/results.json, bench/results.md and
 * bench/results.svg, and prints the table.
 *
 *   npm run bench                          full run (1M-datom imports; about 15 minutes on 2 cores)
 *   npm run bench -- --quick               smaller sizes, 3 runs a figure (under 2 minutes)
 *   npm run bench -- --only queries,as-of  some workloads only (names as below)
 *   npm run bench -- --in-process          every workload in this one process
 *
 * `--only` runs leave bench/results.* alone (they are the full suite's) and print their table.
 * The npm scripts run it compiled (dist/tools/bench.js, built with the library by
 * tsconfig.tools.json), so that Sediment is timed as the build its users run, not through tsx.
 *
 * Each workload runs in a process of its own (this script again, with `--rows`), as JMH forks a
 * JVM per benchmark: what one workload leaves behind (its heap, and the type feedback V8
 * collected on other data) must not weigh on the next. Run after the import workload in one
 * process, Sediment's point reads took 0.27× better-sqlite3's time instead of 0.21× (1.10 µs
 * instead of 0.83). The import workload goes further: each engine's imports of a data set run in a
 * process of their own (`--task`, see tools/bench/import.ts). `--in-process` runs everything in
 * this one process, as the suite did before.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Context, machineLine, makeContext, runsOf, type Row, type Workload } from './bench/harness.js';
import { type ImportTask, timeEngineImport } from './bench/import.js';
import { markdown, svg } from './bench/report.js';
import { WORKLOADS } from './bench/workloads.js';

/** The environment variable that gives a workload's process the suite's start (ms since the epoch). */
const STARTED = 'SEDIMENT_BENCH_STARTED';

interface Args {
  readonly quick: boolean;
  readonly only: readonly Workload[] | undefined;
  readonly inProcess: boolean;
  /** Set in a workload's own process: where to write its rows (as JSON) for the parent. */
  readonly rowsFile: string | undefined;
  /** Set in a task's process (harness.ts runInChild): the task, whose result goes to `rowsFile`. */
  readonly task: ImportTask | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let inProcess = false;
  let rowsFile: string | undefined;
  let task: ImportTask | undefined;
  let only: Workload[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--in-process') inProcess = true;
    else if (a === '--rows') rowsFile = argv[++i] ?? usage('--rows needs a file');
    else if (a === '--task') task = JSON.parse(argv[++i] ?? usage('--task needs a task')) as ImportTask;
    else if (a === '--only') {
      only = (argv[++i] ?? '').split(',').map((name) => WORKLOADS.find((w) => w.name === name) ?? usage(`unknown workload ${name}`));
    } else usage(`unknown option ${a}`);
  }
  return { quick, only, inProcess, rowsFile, task };
}

/** Runs `workloads` here, one after another. */
async function runHere(ctx: Context, workloads: readonly Workload[]): Promise<Row[]> {
  const rows: Row[] = [];
  try {
    for (const w of workloads) rows.push(...(await w.run(ctx)));
  } finally {
    fs.rmSync(ctx.directory, { recursive: true, force: true });
  }
  return rows;
}

/** Runs each workload in a child process of this script; their progress goes to stderr as it comes. */
function runForked(args: Args, workloads: readonly Workload[], started: number): Row[] {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-bench-rows-'));
  try {
    return workloads.flatMap((w) => {
      const rowsFile = path.join(directory, `${w.name}.json`);
      const child = spawnSync(process.execPath, [process.argv[1]!, '--only', w.name, '--rows', rowsFile, ...(args.quick ? ['--quick'] : [])], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, [STARTED]: String(started) },
      });
      if (child.status !== 0) throw new Error(`workload ${w.name} failed (exit ${child.status ?? child.signal})`);
      return JSON.parse(fs.readFileSync(rowsFile, 'utf8')) as Row[];
    });
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

function usage(message: string): never {
  console.error(`${message}; use [--quick] [--in-process] [--only ${WORKLOADS.map((w) => w.name).join(',')}]`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // A workload's process counts from the suite's start, so that the progress lines run on.
  const started = Number(process.env[STARTED] ?? Date.now());
  const progress = (m: string) => console.error(`[${((Date.now() - started) / 1e3).toFixed(0)} s] ${m}`);
  const workloads = args.only ?? WORKLOADS;
  if (args.task !== undefined && args.rowsFile !== undefined) {
    const ctx = makeContext(args.quick, progress);
    try {
      fs.writeFileSync(args.rowsFile, JSON.stringify(await timeEngineImport(ctx, args.task)));
    } finally {
      fs.rmSync(ctx.directory, { recursive: true, force: true });
    }
    return;
  }
  if (args.rowsFile !== undefined) {
    fs.writeFileSync(args.rowsFile, JSON.stringify(await runHere(makeContext(args.quick, progress, true), workloads)));
    return;
  }
  const loadAtStart = os.loadavg();
  const rows = args.inProcess ? await runHere(makeContext(args.quick, progress), workloads) : runForked(args, workloads, started);
  const runs = runsOf(args.quick);
  const machine = machineLine(loadAtStart);
  const table = markdown(rows, machine, runs, args.quick);
  console.log(`\n${table}`);
  if (args.only === undefined) {
    const out = path.join(process.cwd(), 'bench');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'results.json'), `${JSON.stringify({ machine, quick: args.quick, runs, date: new Date().toISOString(), rows }, null, 2)}\n`);
    fs.writeFileSync(path.join(out, 'results.md'), table);
    fs.writeFileSync(path.join(out, 'results.svg'), svg(rows, machine));
    progress(`wrote ${out}/results.{json,md,svg}`);
  }
  progress('done');
}

await main();
