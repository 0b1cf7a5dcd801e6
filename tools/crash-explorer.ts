/**
 * The long crash-consistency run: explores random workloads (seeds, durability modes, sizes,
 * sync and reopen points) until a budget of crash states is spent, and prints every violation
 * with the seed that replays it.
 *
 *   npm run crash:long                       # 200,000 states from random seeds
 *   npx tsx tools/crash-explorer.ts --states 50000 --seed 12345   # replay / continue from a seed
 */
import { Command } from 'commander';
import { type ExploreOptions, exploreCrashes } from '../spec/support/crash-explorer.js';
import { prng } from '../spec/support/store-workload.js';

const program = new Command()
  .option('--states <n>', 'crash states to explore', '200000')
  .option('--seed <n>', 'first seed (consecutive seeds follow)', String(Date.now() % 1_000_000))
  .parse();
const { states: budgetText, seed: seedText } = program.opts<{ states: string; seed: string }>();
const budget = Number(budgetText);
let seed = Number(seedText);

function scenarioFor(seed: number): ExploreOptions {
  const random = prng(seed);
  const durability = random() < 0.5 ? 'full' : 'relaxed';
  const commits = 4 + Math.floor(random() * 24);
  const pick = () => 1 + Math.floor(random() * commits);
  return {
    seed,
    durability,
    commits,
    shape: { maxPages: 1 + Math.floor(random() * 6), maxPageBytes: random() < 0.5 ? 700 : 12_000 },
    ...(durability === 'relaxed' ? { syncEvery: 1 + Math.floor(random() * 6) } : {}),
    reopenAfter: random() < 0.5 ? [pick()] : [],
    abandonAfter: random() < 0.5 ? [pick()] : [],
  };
}

let explored = 0;
let violations = 0;
const started = Date.now();
while (explored < budget) {
  const scenario = scenarioFor(seed);
  const result = exploreCrashes(scenario);
  explored += result.states;
  violations += result.violations.length;
  for (const v of result.violations.slice(0, 5)) console.log(`VIOLATION ${v}`);
  process.stderr.write(`\rseed ${seed}: ${explored} states, ${violations} violations`);
  seed += 1;
}
console.log(`\ncrash states explored: ${explored}; violations: ${violations}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = violations === 0 ? 0 : 1;
