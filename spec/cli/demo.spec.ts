/**
 * The demo on the full redis history: the database is built as `sediment demo` builds it, and
 * every answer the demo shows is checked against one computed independently from the JSON, with
 * plain TypeScript and none of Sediment's code.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../lib/db/connection.js';
import { DEFAULT_FIXTURE, DEMO_FILE, type DemoReport, demoReport, openDemoDatabase, PAST } from '../../lib/cli/demo/demo.js';

interface Commit {
  commit: string;
  time: string;
  changes: [string, number | null, number | null, 'A' | 'M' | 'D'][];
}

const commits: Commit[] = fs
  .readFileSync(path.resolve('fixtures/redis-history.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line) as Commit);

/** The repository after each commit, by instant clamped never to decrease, as the demo's transactions have it. */
function* replay(): Generator<{ commit: Commit; instant: number; lines: Map<string, number>; exists: Set<string> }> {
  const lines = new Map<string, number>();
  const exists = new Set<string>();
  let instant = -Infinity;
  for (const commit of commits) {
    instant = Math.max(instant, Date.parse(commit.time));
    for (const [file, plus, minus, status] of commit.changes) {
      if (status === 'D') {
        exists.delete(file);
        lines.delete(file);
      } else {
        exists.add(file);
        if (plus === null || minus === null) lines.delete(file);
        else lines.set(file, (status === 'A' ? 0 : (lines.get(file) ?? 0)) + plus - minus);
      }
    }
    yield { commit, instant, lines, exists };
  }
}

function linesByTopDirectory(lines: Map<string, number>): [string, number][] {
  const sums = new Map<string, number>();
  for (const [file, n] of lines) {
    const slash = file.indexOf('/');
    if (slash > 0) sums.set(file.slice(0, slash), (sums.get(file.slice(0, slash)) ?? 0) + n);
  }
  return [...sums].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

let directory: string;
let conn: Connection;
let report: DemoReport;

beforeAll(() => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-demo-'));
  const opened = openDemoDatabase(path.join(directory, 'redis.sediment'), DEFAULT_FIXTURE);
  conn = opened.conn;
  report = demoReport(conn);
  console.log(
    `demo: ${opened.built!.commits} commits, ${opened.built!.datoms} datoms built in ${opened.built!.seconds.toFixed(1)} s; ` +
      `top-directory query ${report.latestMs.toFixed(1)} ms latest, ${report.pastMs.toFixed(1)} ms as of ${PAST.toISOString().slice(0, 10)}`,
  );
}, 120_000);

afterAll(() => {
  conn?.close();
  fs.rmSync(directory, { recursive: true, force: true });
});

describe('the demo on the redis history', () => {
  it('has every commit', () => {
    expect(report.commits).toBe(commits.length);
    expect(commits.length).toBe(9083);
  });

  it('sums lines by top-level directory today and as of 2012', () => {
    let past: Map<string, number> | undefined;
    let today: Map<string, number> | undefined;
    for (const state of replay()) {
      if (state.instant <= PAST.getTime()) past = new Map(state.lines);
      today = state.lines;
    }
    expect(report.largestToday).toEqual(linesByTopDirectory(today!));
    expect(report.largestPast).toEqual(linesByTopDirectory(past!));
    expect(report.largestToday[0]![0]).toBe('src');
  });

  it("follows one file's line count through its history", () => {
    const versions: { commit: string; lines: number }[] = [];
    let current: number | undefined;
    for (const state of replay()) {
      const now = state.lines.get(DEMO_FILE);
      // A commit that leaves the count as it was asserts nothing new (a redundant assertion).
      if (now !== undefined && now !== current) versions.push({ commit: state.commit.commit, lines: now });
      current = now;
    }
    expect(report.fileHistory.map((v) => ({ commit: v.commit, lines: v.lines }))).toEqual(versions);
    expect(versions.length).toBeGreaterThan(100);
  });

  it('counts the files that exist at the end of each year', () => {
    const counts = new Map<number, number>();
    for (const state of replay()) counts.set(new Date(state.instant).getUTCFullYear(), state.exists.size);
    const expected: [number, number][] = [];
    let last = 0;
    for (let year = 2009; year <= 2024; year++) {
      last = counts.get(year) ?? last;
      expected.push([year, last]);
    }
    expect(report.filesAtYearEnd).toEqual(expected);
  });

  it('finds the commit that added the most lines and the log around it', () => {
    const added = commits.map((c) => c.changes.reduce((sum, [, plus]) => sum + (plus ?? 0), 0));
    const most = Math.max(...added);
    const index = added.indexOf(most);
    expect(report.biggestCommit).toMatchObject({ commit: commits[index]!.commit, added: most });
    expect(report.logAround.map((e) => e.commit)).toEqual([commits[index - 1]!.commit, commits[index]!.commit, commits[index + 1]!.commit]);
    // Each transaction's datoms: its instant, the commit's four attributes, and the files' datoms.
    expect(report.logAround[0]!.datoms).toBeGreaterThanOrEqual(5);
  });
});
