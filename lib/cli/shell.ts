/**
 * `sediment shell`: an interactive session on one database, at home for users of the sqlite3
 * shell and of the Datomic/DataScript REPLs. A statement is an EDN query, or a dot-command
 * (`.help` lists them); it may span lines until its brackets balance. On a terminal it prompts
 * and keeps history across sessions; otherwise it reads a script from stdin, prints each result,
 * reports each error on stderr and goes on, and exits non-zero if any statement failed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import { ErrorCode, SedimentError } from '../errors.js';
import type { Connection } from '../db/connection.js';
import { Database } from '../db/database.js';
import type { Db } from '../db/db.js';
import type { IndexName } from '../db/datom.js';
import { parseEdn } from '../db/edn.js';
import { databaseStats } from '../db/inspect.js';
import { parseQuery } from '../query/parse.js';
import { parseComponent, parseT, parseTx, parseTxText } from './input.js';
import { formatTable, outputWidth, toJson } from './output.js';
import { resultTable } from './query-table.js';
import { datomsTable, logTable, statsText } from './tables.js';

export interface ShellTerminal {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** What the session reads from: the database as of a point, since a point, with history or not. */
interface View {
  asOf: number | Date | undefined;
  since: number | Date | undefined;
  history: boolean;
}

interface Session {
  readonly path: string;
  readonly conn: Connection;
  readonly view: View;
  readonly out: (text: string) => void;
  readonly width: number;
}

interface DotCommand {
  readonly usage: string;
  readonly help: string;
  readonly run: (session: Session, argument: string) => void;
}

const DOT_COMMANDS: Record<string, DotCommand> = {
  help: { usage: '.help', help: 'this list', run: (s) => s.out(helpText()) },
  transact: {
    usage: '.transact <tx data>',
    help: 'commit transaction data (EDN or JSON); prints the tx, tempids and datom count',
    run: (s, argument) => {
      if (s.conn.readOnly) throw new SedimentError(ErrorCode.readOnly, 'this shell is read-only: another process holds the writer lock');
      const report = s.conn.transact(parseTxText(requireArgument(argument, '.transact'), undefined));
      s.out(toJson({ tx: report.tx, tempids: report.tempids, datoms: report.txData.length }));
    },
  },
  'as-of': {
    usage: '.as-of [t]',
    help: 'read as of a transaction id or ISO date; without one, the latest again',
    run: (s, argument) => {
      s.view.asOf = argument === '' ? undefined : parseT(argument, '.as-of');
      s.out(describeView(s.view));
    },
  },
  since: {
    usage: '.since [t]',
    help: 'only datoms added after a transaction id or ISO date; without one, all',
    run: (s, argument) => {
      s.view.since = argument === '' ? undefined : parseT(argument, '.since');
      s.out(describeView(s.view));
    },
  },
  history: {
    usage: '.history',
    help: 'toggle the history database (every assertion and retraction; patterns may bind ?tx ?added)',
    run: (s) => {
      s.view.history = !s.view.history;
      s.out(describeView(s.view));
    },
  },
  latest: {
    usage: '.latest',
    help: 'back to the latest database: no as-of, since or history',
    run: (s) => {
      s.view.asOf = undefined;
      s.view.since = undefined;
      s.view.history = false;
      s.out(describeView(s.view));
    },
  },
  pull: {
    usage: '.pull <pattern> <entity>',
    help: 'pull an entity (id, lookup ref or ident), e.g. .pull [*] [:file/path "src/ae.c"]',
    run: (s, argument) => {
      const parts = parseEdn(`[${requireArgument(argument, '.pull')}]`, '.pull', ErrorCode.invalidArgument) as unknown[];
      if (parts.length !== 2) throw new SedimentError(ErrorCode.invalidArgument, '.pull takes a pattern and an entity, e.g. .pull [*] 65');
      s.out(toJson(currentDb(s).pull(parts[0] as never, parts[1])));
    },
  },
  datoms: {
    usage: '.datoms <index> [component...]',
    help: 'datoms of eavt, aevt, avet or vaet with the leading components given (EDN)',
    run: (s, argument) => {
      const [index, ...components] = requireArgument(argument, '.datoms').split(/\s+/);
      const db = currentDb(s);
      s.out(formatTable(datomsTable(db, db.datoms(index as IndexName, ...components.map(parseComponent))), 'table', s.width));
    },
  },
  schema: {
    usage: '.schema',
    help: 'the installed attributes',
    run: (s) => {
      const attributes = currentDb(s).q('[:find [(pull ?a [*]) ...] :where [?a :db/valueType]]') as Record<string, unknown>[];
      const column = (a: Record<string, unknown>, key: string) => (a[key] === undefined ? '' : String(a[key]));
      const rows = attributes
        .map((a) => [column(a, 'db/ident'), column(a, 'db/valueType'), column(a, 'db/cardinality'), column(a, 'db/unique'), column(a, 'db/index'), column(a, 'db/isComponent'), column(a, 'db/doc')])
        .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
      s.out(formatTable({ columns: ['ident', 'type', 'cardinality', 'unique', 'index', 'component', 'doc'], rows }, 'table', s.width));
    },
  },
  log: {
    usage: '.log [from] [to]',
    help: 'the transaction log from one transaction id up to (not including) another; without them, the last five transactions',
    run: (s, argument) => {
      const [from, to] = argument === '' ? [] : argument.split(/\s+/).map((t) => parseTx(t, '.log'));
      let entries = [...s.conn.log().txRange(from, to)];
      if (from === undefined) entries = entries.slice(-5);
      s.out(formatTable(logTable(s.conn.db(), entries), 'table', s.width));
    },
  },
  stats: {
    usage: '.stats',
    help: 'file bytes, pages by kind and by tree, datoms per index, reclaimable bytes',
    run: (s) => {
      s.out(statsText(databaseStats(s.path), s.width));
    },
  },
  quit: { usage: '.quit', help: 'leave (also .exit, or end of input)', run: () => undefined },
};

const QUIT = new Set(['quit', 'exit']);

function helpText(): string {
  const lines = ['Statements end when their brackets balance. A statement is an EDN query, e.g.', '  [:find ?e ?n :where [?e :person/name ?n]]', 'or a command:'];
  for (const command of Object.values(DOT_COMMANDS)) lines.push(`  ${command.usage.padEnd(32)} ${command.help}`);
  return lines.join('\n');
}

function requireArgument(argument: string, command: string): string {
  if (argument === '') throw new SedimentError(ErrorCode.invalidArgument, `${command} needs an argument: ${DOT_COMMANDS[command.slice(1)]!.usage}`);
  return argument;
}

function describeView(view: View): string {
  const parts: string[] = [];
  if (view.asOf !== undefined) parts.push(`as of ${view.asOf instanceof Date ? view.asOf.toISOString() : `tx ${view.asOf}`}`);
  if (view.since !== undefined) parts.push(`since ${view.since instanceof Date ? view.since.toISOString() : `tx ${view.since}`}`);
  if (view.history) parts.push('history');
  return parts.length === 0 ? 'reading the latest database' : `reading ${parts.join(', ')}`;
}

function currentDb(s: Session): Db {
  let db = s.conn.db();
  if (s.view.asOf !== undefined) db = db.asOf(s.view.asOf);
  if (s.view.since !== undefined) db = db.since(s.view.since);
  if (s.view.history) db = db.history();
  return db;
}

/** Runs one complete statement. Returns false when it asks to quit. */
function execute(s: Session, statement: string): boolean {
  const text = statement.trim();
  if (text === '') return true;
  if (text.startsWith('.')) {
    const space = text.search(/\s/);
    const name = (space < 0 ? text : text.slice(0, space)).slice(1);
    const argument = space < 0 ? '' : text.slice(space).trim();
    if (QUIT.has(name)) return false;
    const command = DOT_COMMANDS[name];
    if (command === undefined) throw new SedimentError(ErrorCode.invalidArgument, `unknown command .${name}; .help lists them`);
    command.run(s, argument);
    return true;
  }
  const query = parseQuery(text);
  s.out(formatTable(resultTable(query, currentDb(s).q(text)), 'table', s.width));
  return true;
}

/**
 * Whether `text` is a whole statement: every bracket outside strings, comments and character
 * literals closed (an excess closing bracket counts as whole, for the parser to report).
 */
export function isComplete(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (i >= text.length) return false;
    } else if (c === ';') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '\\') {
      i++;
    } else if (c === '[' || c === '(' || c === '{') {
      depth++;
    } else if (c === ']' || c === ')' || c === '}') {
      depth--;
    }
  }
  return depth <= 0;
}

function openForShell(file: string): Connection {
  if (!fs.existsSync(file)) throw new SedimentError(ErrorCode.notFound, `database file ${file} does not exist`);
  try {
    return Database.open(file);
  } catch (error) {
    if (error instanceof SedimentError && error.code === ErrorCode.locked) return Database.open(file, { readOnly: true });
    throw error;
  }
}

export function historyFile(): string {
  return process.env.SEDIMENT_HISTORY ?? path.join(os.homedir(), '.sediment_history');
}

/** Runs a session on `file`, reading statements from `input`. Resolves to the exit status. */
export async function runShell(file: string, terminal: ShellTerminal, input: Readable, interactive: boolean): Promise<number> {
  const conn = openForShell(file);
  const session: Session = {
    path: file,
    conn,
    view: { asOf: undefined, since: undefined, history: false },
    out: (text) => terminal.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    width: outputWidth(terminal.stdout),
  };
  let failures = 0;
  const history = interactive ? loadHistory() : [];
  const lines = readline.createInterface({
    input,
    output: interactive ? terminal.stdout : undefined,
    terminal: interactive,
    history,
    historySize: 1000,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const prompt = (continuing: boolean) => {
    if (!interactive) return;
    const view = describeView(session.view);
    lines.setPrompt(continuing ? '   ...> ' : view === 'reading the latest database' ? 'sediment> ' : `sediment (${view.slice(8)})> `);
    lines.prompt();
  };
  if (interactive) {
    session.out(`Sediment shell on ${file}${conn.readOnly ? ' (read-only: another process writes)' : ''}. .help lists the commands.`);
  }
  let pending = '';
  prompt(false);
  try {
    for await (const line of lines) {
      pending = pending === '' ? line : `${pending}\n${line}`;
      if (!isComplete(pending)) {
        prompt(true);
        continue;
      }
      const statement = pending;
      pending = '';
      if (interactive && statement.trim() !== '') saveHistory(statement);
      try {
        if (!execute(session, statement)) break;
      } catch (error) {
        failures++;
        const message = error instanceof SedimentError ? `${error.message} [${error.code}]` : error instanceof Error ? error.message : String(error);
        terminal.stderr.write(`error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
      }
      prompt(false);
    }
    if (pending.trim() !== '') {
      failures++;
      terminal.stderr.write('error: the input ends inside a statement (unbalanced brackets)\n');
    }
  } finally {
    lines.close();
    conn.close();
  }
  return failures === 0 ? 0 : 1;
}

function loadHistory(): string[] {
  try {
    return fs.readFileSync(historyFile(), 'utf8').split('\n').filter((l) => l !== '').reverse().slice(0, 1000);
  } catch {
    return [];
  }
}

function saveHistory(statement: string): void {
  try {
    fs.appendFileSync(historyFile(), `${statement.replace(/\n/g, ' ')}\n`);
  } catch {
    // History is a convenience: a read-only home directory must not stop the shell.
  }
}
