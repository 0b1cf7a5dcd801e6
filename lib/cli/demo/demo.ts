/**
 * `sediment demo`: builds a database from the real redis commit history (fixtures/) and asks it
 * questions with real queries, on the latest database and on past ones. `demoReport` returns the
 * answers as data (the tests check them against the JSON itself); `printDemo` shows them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from '../../db/connection.js';
import { Database } from '../../db/database.js';
import type { Db } from '../../db/db.js';
import type { DatabaseStats } from '../../db/inspect.js';
import { formatTable, type Table } from '../output.js';
import { parseRedisCommit, RedisHistoryConverter } from './redis-history.js';

/** The fixture in the project's `fixtures/`, found upwards from this module (in `lib/` or in `dist/lib/`). */
export const DEFAULT_FIXTURE = ((): string => {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(directory, 'fixtures', 'redis-history.jsonl');
    if (fs.existsSync(candidate) || path.dirname(directory) === directory) return candidate;
    directory = path.dirname(directory);
  }
})();

export interface BuildSummary {
  readonly commits: number;
  readonly datoms: number;
  readonly seconds: number;
}

/**
 * Commits the fixture's history into `conn`, one transaction per commit after the schema's.
 * `progress` hears how many commits are done out of how many.
 */
export function buildRedisDatabase(conn: Connection, fixture: string, progress?: (done: number, total: number) => void): BuildSummary {
  const lines = fs.readFileSync(fixture, 'utf8').split('\n').filter((line) => line.trim() !== '');
  const started = process.hrtime.bigint();
  const converter = new RedisHistoryConverter();
  let datoms = 0;
  lines.forEach((line, i) => {
    const commit = parseRedisCommit(line, i + 1);
    if (i === 0) {
      const schema = RedisHistoryConverter.schema(commit);
      conn.transact(schema.txData, { txInstant: schema.txInstant });
    }
    const tx = converter.transaction(commit);
    datoms += conn.transact(tx.txData, { txInstant: tx.txInstant }).txData.length;
    if (progress !== undefined && (i % 200 === 199 || i === lines.length - 1)) progress(i + 1, lines.length);
  });
  conn.sync();
  return { commits: lines.length, datoms, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** Every directory under (or equal to) a top-level one: recursive over `dir/parent`. */
export const WITHIN_RULES = `[[(within ?d ?top) [?d :dir/path _] [(identity ?d) ?top]]
  [(within ?d ?top) [?d :dir/parent ?p] (within ?p ?top)]]`;

/** Lines of text files by top-level directory (files at the top belong to none). */
export const LINES_BY_TOP_DIRECTORY = `[:find ?name (sum ?lines)
  :with ?f
  :in $ %
  :where [?f :file/lines ?lines]
         [?f :file/dir ?d]
         (within ?d ?top)
         [(missing? $ ?top :dir/parent)]
         [?top :dir/path ?name]]`;

/** Every version of one file's line count, with its commit (on a history database). */
export const FILE_HISTORY = `[:find ?tx ?lines ?added ?commit ?time
  :in $ ?path
  :where [?f :file/path ?path]
         [?f :file/lines ?lines ?tx ?added]
         [?tx :commit/id ?commit]
         [?tx :db/txInstant ?time]]`;

/** Files that exist: touched by some commit, and not deleted by the last one that touched them. */
export const EXISTING_FILES = `[:find (count ?f) .
  :where [?f :file/status _]
         (not [?f :file/status :file.status/deleted])]`;

/** The commit that added the most lines. */
export const BIGGEST_COMMIT = `[:find ?tx ?added :where [?tx :commit/added ?added]]`;

export const DEMO_FILE = 'src/server.c';
export const PAST = new Date('2012-01-01T00:00:00Z');

export interface FileVersion {
  readonly tx: number;
  readonly time: Date;
  readonly commit: string;
  readonly lines: number;
}

export interface DemoReport {
  readonly commits: number;
  readonly basisT: number;
  readonly largestToday: readonly (readonly [string, number])[];
  readonly largestPast: readonly (readonly [string, number])[];
  /** Milliseconds of the same query on the latest database and on the past one. */
  readonly latestMs: number;
  readonly pastMs: number;
  readonly fileHistory: readonly FileVersion[];
  readonly filesAtYearEnd: readonly (readonly [number, number])[];
  readonly biggestCommit: { readonly tx: number; readonly commit: string; readonly added: number };
  readonly logAround: readonly { readonly tx: number; readonly instant: Date; readonly commit: string | undefined; readonly datoms: number }[];
}

function timed<T>(run: () => T): [T, number] {
  const started = process.hrtime.bigint();
  const result = run();
  return [result, Number(process.hrtime.bigint() - started) / 1e6];
}

const byLinesDescending = (rows: unknown) =>
  (rows as [string, number][]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));

export function demoReport(conn: Connection): DemoReport {
  const db = conn.db();
  const past = db.asOf(PAST);
  // Warm both once, so that the timings compare reading, not first-time compilation.
  db.q(LINES_BY_TOP_DIRECTORY, WITHIN_RULES);
  past.q(LINES_BY_TOP_DIRECTORY, WITHIN_RULES);
  const [today, latestMs] = timed(() => byLinesDescending(db.q(LINES_BY_TOP_DIRECTORY, WITHIN_RULES)));
  const [then, pastMs] = timed(() => byLinesDescending(past.q(LINES_BY_TOP_DIRECTORY, WITHIN_RULES)));

  const versions = (db.history().q(FILE_HISTORY, DEMO_FILE) as [number, number, boolean, string, Date][])
    .filter((row) => row[2])
    .sort((a, b) => a[0] - b[0])
    .map(([tx, lines, , commit, time]) => ({ tx, lines, commit, time }));

  const firstYear = yearOf(db, 'first');
  const lastYear = yearOf(db, 'last');
  const filesAtYearEnd: [number, number][] = [];
  for (let year = firstYear; year <= lastYear; year++) {
    const end = new Date(Date.UTC(year + 1, 0, 1) - 1);
    filesAtYearEnd.push([year, (db.asOf(end).q(EXISTING_FILES) as number | undefined) ?? 0]);
  }

  const [tx, added] = (db.q(BIGGEST_COMMIT) as [number, number][]).sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]!;
  const commitOf = (t: number) => db.q('[:find ?c . :in $ ?tx :where [?tx :commit/id ?c]]', t) as string | undefined;
  const before = db.q('[:find (max ?t) . :in $ ?x :where [?t :commit/id _] [(< ?t ?x)]]', tx) as number | undefined;
  const after = db.q('[:find (min ?t) . :in $ ?x :where [?t :commit/id _] [(> ?t ?x)]]', tx) as number | undefined;
  const logAround = [...conn.log().txRange(before ?? tx, (after ?? tx) + 1)].map((entry) => ({
    tx: entry.tx,
    instant: entry.txInstant,
    commit: commitOf(entry.tx),
    datoms: entry.data.length,
  }));

  return {
    commits: (db.q('[:find (count ?c) . :where [_ :commit/id ?c]]') as number | undefined) ?? 0,
    basisT: db.basisT,
    largestToday: today,
    largestPast: then,
    latestMs,
    pastMs,
    fileHistory: versions,
    filesAtYearEnd,
    biggestCommit: { tx, commit: commitOf(tx)!, added },
    logAround,
  };
}

/** The year of the first or last commit, by transaction instant. */
function yearOf(db: Db, which: 'first' | 'last'): number {
  const instant = db.q(`[:find (${which === 'first' ? 'min' : 'max'} ?i) . :where [?tx :commit/id _] [?tx :db/txInstant ?i]]`) as Date;
  return instant.getUTCFullYear();
}

const short = (commit: string | undefined) => (commit === undefined ? '' : commit.slice(0, 10));
const day = (d: Date) => d.toISOString().slice(0, 10);

/** The report as text, tables at most `width` wide. */
export function demoText(report: DemoReport, stats: DatabaseStats | undefined, width: number): string {
  const table = (t: Table) => formatTable(t, 'table', width);
  const top = 8;
  const out: string[] = [];
  out.push(`The redis commit history as a Sediment database: ${report.commits} commits, latest tx ${report.basisT}.`);
  out.push('');
  out.push(`Largest top-level directories by lines of text, today and as of ${day(PAST)} (the same query on two roots):`);
  const pastLines = new Map(report.largestPast);
  out.push(
    table({
      columns: ['directory', 'lines today', `lines on ${day(PAST)}`],
      rows: report.largestToday.slice(0, top).map(([name, lines]) => [name, lines, pastLines.get(name) ?? '—']),
    }),
  );
  out.push(`  query time: latest ${report.latestMs.toFixed(1)} ms, as of ${day(PAST)} ${report.pastMs.toFixed(1)} ms`);
  out.push('');
  const h = report.fileHistory;
  const largest = h.reduce((a, b) => (b.lines > a.lines ? b : a), h[0]!);
  out.push(`History of ${DEMO_FILE}: ${h.length} versions of its line count, from the history database.`);
  const versionRow = (v: FileVersion, what: string) => [what, day(v.time), short(v.commit), v.tx, v.lines];
  out.push(
    table({
      columns: ['', 'date', 'commit', 'tx', 'lines'],
      rows: [versionRow(h[0]!, 'first'), versionRow(h[1]!, 'second'), versionRow(largest, 'largest'), versionRow(h[h.length - 1]!, 'latest')],
    }),
  );
  out.push('');
  out.push('Files in the repository at the end of each year (one asOf database per year):');
  out.push(table({ columns: ['year', 'files'], rows: report.filesAtYearEnd.map(([y, n]) => [y, n]) }));
  out.push('');
  out.push(`The transaction log around the commit that added the most lines (${short(report.biggestCommit.commit)}, +${report.biggestCommit.added}):`);
  out.push(table({ columns: ['tx', 'instant', 'commit', 'datoms'], rows: report.logAround.map((e) => [e.tx, e.instant, short(e.commit), e.datoms]) }));
  if (stats !== undefined) {
    out.push('');
    out.push(
      `File: ${stats.fileBytes} bytes, ${stats.commits} commits; ${stats.datoms.eavt} current datoms, ${stats.datoms.history} in history; ` +
        `${stats.frames.node.count} tree pages; ${stats.unreachableBytes} bytes reclaimable by compaction.`,
    );
  }
  return out.join('\n');
}

/** Opens the demo database at `file`, building it first if it does not exist. */
export function openDemoDatabase(file: string, fixture: string, progress?: (done: number, total: number) => void): { conn: Connection; built: BuildSummary | undefined } {
  if (fs.existsSync(file)) return { conn: Database.open(file), built: undefined };
  const conn = Database.open(file, { create: true, durability: 'relaxed' });
  try {
    return { conn, built: buildRedisDatabase(conn, fixture, progress) };
  } catch (error) {
    conn.close();
    throw error;
  }
}

