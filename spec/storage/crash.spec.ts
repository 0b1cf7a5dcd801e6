/**
 * Crash consistency of the commit protocol: thousands of crash images built from recorded
 * workloads (every prefix, subsets of unflushed writes, sector-torn writes with old, zero or
 * garbage contents, file growth without data, commit records torn at every byte) must each
 * recover to exactly one commit within the contract's bounds, with exactly its content, and
 * continue to a byte-identical file. A violation names its seed and crash point and replays.
 */
import { describe, expect, it } from 'vitest';
import { type ExploreOptions, exploreCrashes } from '../support/crash-explorer.js';

const scenarios: ExploreOptions[] = [
  { seed: 1, durability: 'full', commits: 14, reopenAfter: [6] },
  { seed: 2, durability: 'full', commits: 10, abandonAfter: [4] },
  { seed: 3, durability: 'relaxed', commits: 18, syncEvery: 5, reopenAfter: [12], abandonAfter: [7, 14] },
  { seed: 4, durability: 'relaxed', commits: 12, syncEvery: 4 },
  // Pages of up to 9 KB: commits span many 512- and 4096-byte sectors, and tear inside pages.
  { seed: 5, durability: 'full', commits: 12, shape: { maxPages: 5, maxPageBytes: 9000 }, reopenAfter: [5] },
  { seed: 6, durability: 'relaxed', commits: 14, syncEvery: 3, shape: { maxPages: 5, maxPageBytes: 9000 } },
];

describe('crash consistency', () => {
  it('every explored crash state recovers to a commit within bounds with exactly its content', () => {
    let total = 0;
    const families: Record<string, number> = {};
    const violations: string[] = [];
    for (const scenario of scenarios) {
      const result = exploreCrashes(scenario);
      total += result.states;
      for (const [family, n] of Object.entries(result.byFamily)) families[family] = (families[family] ?? 0) + n;
      violations.push(...result.violations);
    }
    const breakdown = Object.entries(families).map(([f, n]) => `${f} ${n}`).join(', ');
    console.log(`crash states explored: ${total} (${breakdown}); violations: ${violations.length}`);
    expect(violations.slice(0, 20)).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(10_000);
  });
});
