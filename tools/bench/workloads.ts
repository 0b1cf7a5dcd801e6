/** The suite's workloads in issue 7's order; `npm run bench` runs them, spec/bench checks them. */
import { asOfWorkload } from './as-of.js';
import { commitsWorkload } from './commits.js';
import type { Workload } from './harness.js';
import { historyReadsWorkload } from './history-reads.js';
import { importWorkload } from './import.js';
import { pointReadsWorkload } from './point-reads.js';
import { queriesWorkload } from './queries.js';
import { rangeScanWorkload } from './range-scan.js';

export const WORKLOADS: readonly Workload[] = [importWorkload, pointReadsWorkload, historyReadsWorkload, rangeScanWorkload, queriesWorkload, asOfWorkload, commitsWorkload];
