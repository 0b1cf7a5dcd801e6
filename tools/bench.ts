/**
 * The benchmark suite of issue 7: every workload of tools/bench/, Sediment beside its peers in one
 * process, on the same data and machine. Writes bench/results.json, bench/results.md and
 * bench/results.svg, and prints the table.
 *
 *   npm run bench                          full run (1M-datom imports; about 15 minutes on 2 cores)
 *   npm run bench -- --quick               smaller sizes, 3 runs a figure (under 2 minutes)
 *   npm run bench -- --only queries,as-of  some workloads only (names as below)
 *
 * `--only` runs leave bench/results.* alone (they are the full suite's) and print their table.
 * The npm scripts run it compiled (dist/tools/bench.js, built with the library by
 * tsconfig.tools.json), so that Sediment is timed as the build its users run, not through tsx.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Context, machineLine, makeContext, type Row, type Workload } from './bench/harness.js';
import { markdown, svg } from './bench/report.js';
import { WORKLOADS } from './bench/workloads.js';

function parseArgs(argv: readonly string[]): { quick: boolean; only: readonly Workload[] | undefined } {
  let quick = false;
  let only: Workload[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only') {
      only = (argv[++i] ?? '').split(',').map((name) => WORKLOADS.find((w) => w.name === name) ?? usage(`unknown workload ${name}`));
    } else usage(`unknown option ${a}`);
  }
  return { quick, only };
}

function usage(message: string): never {
  console.error(`${message}; use [--quick] [--only ${WORKLOADS.map((w) => w.name).join(',')}]`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const progress = (m: string) => console.error(`[${((performance.now() - started) / 1e3).toFixed(0)} s] ${m}`);
  const ctx: Context = makeContext(quick, progress);
  const loadAtStart = os.loadavg();
  const rows: Row[] = [];
  try {
    for (const w of only ?? WORKLOADS) rows.push(...(await w.run(ctx)));
  } finally {
    fs.rmSync(ctx.directory, { recursive: true, force: true });
  }
  const machine = machineLine(loadAtStart);
  const table = markdown(rows, machine, ctx.runs, quick);
  console.log(`\n${table}`);
  if (only === undefined) {
    const out = path.join(process.cwd(), 'bench');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'results.json'), `${JSON.stringify({ machine, quick, runs: ctx.runs, date: new Date().toISOString(), rows }, null, 2)}\n`);
    fs.writeFileSync(path.join(out, 'results.md'), table);
    fs.writeFileSync(path.join(out, 'results.svg'), svg(rows, machine));
    progress(`wrote ${out}/results.{json,md,svg}`);
  }
  progress('done');
}

await main();
