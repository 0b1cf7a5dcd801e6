// The benchmark suite's correctness checks at tiny sizes: every engine (Sediment, better-sqlite3,
// DataScript, lmdb-js, the floors) must return the same answers on every workload. No timing here.
import * as fs from 'node:fs';
import { afterAll, describe, it } from 'vitest';
import { checkContext } from '../../tools/bench/harness.js';
import { WORKLOADS } from '../../tools/bench/workloads.js';

describe('benchmark suite: the engines agree', () => {
  const ctx = checkContext();
  afterAll(() => fs.rmSync(ctx.directory, { recursive: true, force: true }));
  for (const w of WORKLOADS) it(w.name, () => w.check(ctx));
});
