/**
 * The `sediment` command line (commander): one command per contract entry, each with an example
 * in its help. Commands print data on stdout (`--format json|edn|table`), errors as one line on
 * stderr; `main.ts` turns errors into exit statuses.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { ErrorCode, SedimentError } from '../errors.js';
import type { Connection } from '../db/connection.js';
import { Database } from '../db/database.js';
import type { Db } from '../db/db.js';
import type { IndexName } from '../db/datom.js';
import { databaseStats, verifyDatabase } from '../db/inspect.js';
import { parseQuery } from '../query/parse.js';
import { DEFAULT_FIXTURE, demoReport, demoText, openDemoDatabase } from './demo/demo.js';
import { exportTransactions } from './export.js';
import { runShell } from './shell.js';
import { importFile } from './import.js';
import { formatOfPath, parseComponent, parseT, parseTx, parseTxText, type TxFormat } from './input.js';
import { resultTable } from './query-table.js';
import { datomsTable, logTable, statsText } from './tables.js';
import { formatTable, type OutputFormat, OUTPUT_FORMATS, outputWidth, toEdn, toJson, type Table } from './output.js';

/** Where commands read and write: the process's streams, or a test's. */
export interface Terminal {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** A command that has already said what went wrong and only needs the process to exit with `status`. */
export class ExitWithStatus extends Error {
  constructor(readonly status: number) {
    super(`exit status ${status}`);
  }
}

const formatOption = (defaultFormat: OutputFormat = 'table') =>
  new Option('--format <format>', 'output format').choices(OUTPUT_FORMATS).default(defaultFormat);

const example = (...lines: string[]) => `\nExample:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

function openExisting(path: string, readOnly: boolean, durability: 'full' | 'relaxed' = 'full'): Connection {
  return Database.open(path, readOnly ? { readOnly: true } : { durability });
}

function withConnection<T>(path: string, readOnly: boolean, run: (conn: Connection) => T): T {
  const conn = openExisting(path, readOnly);
  try {
    return run(conn);
  } finally {
    conn.close();
  }
}

/** The database value a read command asks for: latest, or `--as-of`, `--since`, `--history`. */
function chosenDb(conn: Connection, options: { asOf?: string; since?: string; history?: boolean }): Db {
  let db = conn.db();
  if (options.asOf !== undefined) db = db.asOf(parseT(options.asOf, '--as-of'));
  if (options.since !== undefined) db = db.since(parseT(options.since, '--since'));
  if (options.history === true) db = db.history();
  return db;
}

function print(terminal: Terminal, text: string): void {
  terminal.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function printTable(terminal: Terminal, table: Table, format: OutputFormat): void {
  print(terminal, formatTable(table, format, outputWidth(terminal.stdout)));
}

/** Commander's accumulator for a repeatable option. */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

const INDEXES: readonly IndexName[] = ['eavt', 'aevt', 'avet', 'vaet'];

export function buildProgram(terminal: Terminal): Command {
  const program = new Command('sediment')
    .description('Sediment: an embedded, append-only, immutable datom database')
    .option('--debug', 'print stack traces with errors')
    .configureOutput({ writeOut: (s) => terminal.stdout.write(s), writeErr: (s) => terminal.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  program
    .command('init')
    .description('create an empty database file')
    .argument('<db>', 'path of the database file to create')
    .addHelpText('after', example('sediment init app.db'))
    .action((path: string) => {
      if (fs.existsSync(path)) throw new SedimentError(ErrorCode.invalidArgument, `${path} already exists; init makes a new database`);
      Database.open(path, { create: true }).close();
      print(terminal, `initialized ${path}`);
    });

  program
    .command('transact')
    .description('commit one transaction read from a file or standard input; prints {"tx", "tempids", "datoms"}')
    .argument('<db>', 'database file')
    .argument('[file]', 'transaction data (JSON or EDN); - or none: standard input', '-')
    .addOption(new Option('--format <format>', 'input format (default: by file extension, else JSON if it parses, else EDN)').choices(['edn', 'json']))
    .option('--tx-instant <iso>', 'the transaction instant (ISO 8601), e.g. for imports')
    .addHelpText('after', example('sediment transact app.db schema.edn', `echo '[{"person/name": "Ann"}]' | sediment transact app.db`))
    .action((path: string, file: string, options: { format?: TxFormat; txInstant?: string }) => {
      const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
      const txData = parseTxText(text, options.format ?? (file === '-' ? undefined : formatOfPath(file)));
      let txInstant: Date | undefined;
      if (options.txInstant !== undefined) {
        txInstant = new Date(options.txInstant);
        if (Number.isNaN(txInstant.getTime())) {
          throw new SedimentError(ErrorCode.invalidArgument, `--tx-instant ${JSON.stringify(options.txInstant)} is not an ISO 8601 instant`);
        }
      }
      withConnection(path, false, (conn) => {
        const report = conn.transact(txData, { txInstant });
        print(terminal, toJson({ tx: report.tx, tempids: report.tempids, datoms: report.txData.length }));
      });
    });

  program
    .command('query')
    .description('run a Datalog query (EDN); inputs after $ come from --in, in order')
    .argument('<db>', 'database file')
    .argument('<query>', "the query, e.g. '[:find ?n :where [?e :person/name ?n]]'")
    .option('--in <json>', 'an input as JSON (repeat for each :in binding after $; rules as an EDN string)', collect, [])
    .option('--as-of <t>', 'query the database as of a transaction id or ISO date')
    .option('--since <t>', 'only datoms added after a transaction id or ISO date')
    .option('--history', 'every assertion and retraction (patterns may bind ?tx and ?added)')
    .addOption(formatOption())
    .addHelpText(
      'after',
      example(
        `sediment query app.db '[:find ?n (count ?e) :where [?e :person/name ?n]]'`,
        `sediment query app.db '[:find ?e :in $ ?min :where [?e :person/age ?a] [(>= ?a ?min)]]' --in 30 --as-of 2024-01-01`,
      ),
    )
    .action((path: string, text: string, options: { in: string[]; asOf?: string; since?: string; history?: boolean; format: OutputFormat }) => {
      const inputs = options.in.map((json, i) => {
        try {
          return JSON.parse(json) as unknown;
        } catch (error) {
          throw new SedimentError(ErrorCode.invalidArgument, `--in number ${i + 1} is not JSON: ${(error as Error).message}`);
        }
      });
      const query = parseQuery(text);
      withConnection(path, true, (conn) => {
        const result = chosenDb(conn, options).q(text, ...inputs);
        if (options.format === 'json') return print(terminal, toJson(result));
        if (options.format === 'edn') return print(terminal, toEdn(result));
        printTable(terminal, resultTable(query, result), 'table');
      });
    });

  program
    .command('datoms')
    .description('datoms of an index whose leading components are given (as EDN: :attr, 42, "text")')
    .argument('<db>', 'database file')
    .argument('<index>', `one of ${INDEXES.join(', ')}`)
    .argument('[component...]', 'leading components in the index order')
    .option('--as-of <t>', 'read as of a transaction id or ISO date')
    .option('--since <t>', 'only datoms added after a transaction id or ISO date')
    .option('--history', 'every assertion and retraction')
    .addOption(formatOption())
    .addHelpText('after', example('sediment datoms app.db avet :person/name Ann', 'sediment datoms app.db eavt 65 --as-of 2024-01-01 --format json'))
    .action((path: string, index: string, components: string[], options: { asOf?: string; since?: string; history?: boolean; format: OutputFormat }) => {
      if (!(INDEXES as readonly string[]).includes(index)) {
        throw new SedimentError(ErrorCode.invalidArgument, `unknown index ${JSON.stringify(index)}; use ${INDEXES.join(', ')}`);
      }
      withConnection(path, true, (conn) => {
        const db = chosenDb(conn, options);
        printTable(terminal, datomsTable(db, db.datoms(index as IndexName, ...components.map(parseComponent))), options.format);
      });
    });

  program
    .command('log')
    .description('the transaction log: every datom of every transaction from --from up to (not including) --to')
    .argument('<db>', 'database file')
    .option('--from <t>', 'first transaction id')
    .option('--to <t>', 'transaction id to stop before')
    .addOption(formatOption())
    .addHelpText('after', example('sediment log app.db --from 1000 --to 1010'))
    .action((path: string, options: { from?: string; to?: string; format: OutputFormat }) => {
      const from = options.from === undefined ? undefined : parseTx(options.from, '--from');
      const to = options.to === undefined ? undefined : parseTx(options.to, '--to');
      withConnection(path, true, (conn) => printTable(terminal, logTable(conn.db(), conn.log().txRange(from, to)), options.format));
    });

  program
    .command('stats')
    .description('what the file holds: bytes, pages by kind and by index, datoms per index, tree depth and fill, reclaimable bytes')
    .argument('<db>', 'database file')
    .addOption(formatOption())
    .addHelpText('after', example('sediment stats app.db --format json'))
    .action((path: string, options: { format: OutputFormat }) => {
      const stats = databaseStats(path);
      if (options.format === 'json') return print(terminal, toJson(stats));
      if (options.format === 'edn') return print(terminal, toEdn(stats));
      print(terminal, statsText(stats, outputWidth(terminal.stdout)));
    });

  program
    .command('verify')
    .description('check every page checksum, the commit chain and every index tree; exits non-zero on any problem, naming the page')
    .argument('<db>', 'database file')
    .addHelpText('after', example('sediment verify app.db'))
    .action((path: string) => {
      if (!fs.existsSync(path)) throw new SedimentError(ErrorCode.notFound, `database file ${path} does not exist`);
      const report = verifyDatabase(path);
      if (report.problems.length > 0) {
        const first = report.problems[0]!;
        const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problems)` : '';
        throw new SedimentError(ErrorCode.corrupt, `${path} is damaged: ${first.message}${more}`);
      }
      print(terminal, `ok: ${report.commits} commits, ${report.fileBytes} bytes, every page and tree intact`);
    });

  program
    .command('export')
    .description('the transaction data that rebuilds the database, history included: EDN, one transaction a line, for `import`')
    .argument('<db>', 'database file')
    .option('--as-of <t>', 'only transactions up to a transaction id or ISO date')
    .addHelpText('after', example('sediment export app.db > app.edn && sediment init copy.db && sediment import copy.db app.edn'))
    .action((path: string, options: { asOf?: string }) => {
      withConnection(path, true, (conn) => {
        for (const line of exportTransactions(conn, chosenDb(conn, options))) terminal.stdout.write(`${line}\n`);
      });
    });

  program
    .command('import')
    .description('commit many transactions streamed from JSON Lines (a tx-data array or {"txInstant", "txData"} per line) or EDN forms')
    .argument('<db>', 'database file')
    .argument('<file>', 'transactions; - for standard input')
    .addOption(new Option('--format <format>', 'input format (default: by file extension, .edn is EDN, else JSON Lines)').choices(['edn', 'json']))
    .addHelpText('after', example('sediment import app.db fixtures/redis-history.sediment.jsonl'))
    .action(async (path: string, file: string, options: { format?: TxFormat }) => {
      if (file !== '-' && !fs.existsSync(file)) throw new SedimentError(ErrorCode.notFound, `import file ${file} does not exist`);
      const conn = openExisting(path, false, 'relaxed');
      try {
        const summary = await importFile(conn, file, {
          format: options.format ?? (file === '-' ? 'json' : (formatOfPath(file) ?? 'json')),
          databasePath: path,
          progress: terminal.stderr.isTTY === true,
        });
        print(
          terminal,
          `imported ${summary.transactions} transactions, ${summary.datoms} datoms in ${summary.seconds.toFixed(2)} s ` +
            `(${Math.round(summary.datomsPerSecond)} datoms/s); file ${summary.fileBytes} bytes`,
        );
      } finally {
        conn.close();
      }
    });

  program
    .command('shell')
    .description('an interactive session: EDN queries and dot-commands (.help); reads a script from stdin when it is not a terminal')
    .argument('<db>', 'database file')
    .addHelpText('after', example('sediment shell app.db', `echo '[:find (count ?e) . :where [?e :db/ident]]' | sediment shell app.db`))
    .action(async (path: string) => {
      const interactive = terminal.stdin.isTTY === true && terminal.stdout.isTTY === true;
      const status = await runShell(path, terminal, terminal.stdin, interactive);
      if (status !== 0) throw new ExitWithStatus(status);
    });

  program
    .command('demo')
    .description('build a database from the real redis commit history (fixtures/) and query it, today and in the past')
    .argument('[db]', 'where to build it (kept, to explore with other commands); default: a temporary file')
    .option('--fixture <file>', 'the redis history JSON Lines', DEFAULT_FIXTURE)
    .addHelpText('after', example('sediment demo redis.db && sediment query redis.db \'[:find (count ?f) . :where [?f :file/lines]]\''))
    .action((given: string | undefined, options: { fixture: string }) => {
      if (!fs.existsSync(options.fixture)) throw new SedimentError(ErrorCode.notFound, `fixture ${options.fixture} does not exist`);
      const temporary = given === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-demo-')) : undefined;
      const file = given ?? path.join(temporary!, 'redis.sediment');
      const bar = terminal.stderr.isTTY === true ? new cliProgress.SingleBar({ stream: terminal.stderr, format: 'building [{bar}] {value}/{total} commits', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      let started = false;
      const { conn, built } = openDemoDatabase(file, options.fixture, (done, total) => {
        if (bar === undefined) return;
        if (!started) bar.start(total, 0);
        started = true;
        bar.update(done);
      });
      bar?.stop();
      try {
        if (built !== undefined) {
          print(terminal, `Built ${file} from ${options.fixture}: ${built.commits} commits, ${built.datoms} datoms in ${built.seconds.toFixed(1)} s (${Math.round(built.datoms / built.seconds)} datoms/s).\n`);
        } else {
          print(terminal, `Using the existing ${file}.\n`);
        }
        const report = demoReport(conn);
        conn.close();
        print(terminal, demoText(report, databaseStats(file), outputWidth(terminal.stdout)));
        if (temporary !== undefined) fs.rmSync(temporary, { recursive: true, force: true });
        else print(terminal, `\nExplore it: sediment shell ${file}`);
      } finally {
        conn.close();
      }
    });

  return program;
}
