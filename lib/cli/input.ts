/**
 * What the command line reads: transaction data (JSON or EDN), index components and times given
 * as arguments, and streams of transactions for `import`.
 */
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import { EDNListParser } from 'edn-data/dist/parse.js';
import { ErrorCode, SedimentError } from '../errors.js';
import { EdnSymbol, fromParsedEdn, Keyword, parseEdn } from '../db/edn.js';

export type TxFormat = 'json' | 'edn';

/** The format of a file by its name: `.edn` is EDN; `.json`, `.jsonl`, `.ndjson` are JSON. */
export function formatOfPath(path: string): TxFormat | undefined {
  if (/\.edn$/i.test(path)) return 'edn';
  if (/\.(json|jsonl|ndjson)$/i.test(path)) return 'json';
  return undefined;
}

/** Transaction data from text: JSON or EDN as given, or (neither given) JSON if it parses, else EDN. */
export function parseTxText(text: string, format: TxFormat | undefined): unknown {
  if (text.trim() === '') throw new SedimentError(ErrorCode.invalidTx, 'no transaction data: the input is empty');
  if (format === 'edn') return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    if (format === 'json') throw new SedimentError(ErrorCode.invalidTx, `transaction data is not valid JSON: ${(error as Error).message}`);
    // The transactor reads EDN text itself, naming the datom at fault.
    return text;
  }
}

/**
 * An index component typed on the command line, read as EDN: `:person/name` is a keyword,
 * `42` a number, `"Ann Lee"` a string; a bare word (an EDN symbol) is taken as a string.
 */
export function parseComponent(text: string): unknown {
  const value = parseEdn(text, `component ${JSON.stringify(text)}`, ErrorCode.invalidArgument);
  return value instanceof EdnSymbol ? value.name : value;
}

/** A point in time given as `--as-of` or `--since`: a transaction id, or an ISO 8601 date. */
export function parseT(text: string, option: string): number | Date {
  if (/^\d+$/.test(text)) {
    const t = Number(text);
    if (Number.isSafeInteger(t)) return t;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const date = new Date(text);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new SedimentError(ErrorCode.invalidArgument, `${option} ${JSON.stringify(text)} is neither a transaction id nor an ISO 8601 date (e.g. 2012-01-01)`);
}

/** A transaction id given as `--from`, `--to` or to `.log`: a date there is an error, not a guess. */
export function parseTx(text: string, option: string): number {
  const t = parseT(text, option);
  if (t instanceof Date) throw new SedimentError(ErrorCode.invalidArgument, `${option} takes a transaction id, not a date`);
  return t;
}

/** One transaction of an import: its data, its instant if the source gives one, and where it ended. */
export interface SourceTx {
  readonly line: number;
  readonly txData: unknown;
  readonly txInstant: Date | undefined;
}

/**
 * Transactions from a stream, one at a time, so that memory stays constant however large the
 * file. JSON Lines: one transaction per line, a tx-data array or `{"txInstant": "<iso>",
 * "txData": [...]}`; blank lines are skipped. EDN: a sequence of top-level forms, each a tx-data
 * vector or `{:tx-instant #inst "..." :tx-data [...]}`. A malformed one is an error naming its
 * line, raised when the reader reaches it, after every transaction before it was yielded.
 */
export async function* readTransactions(input: Readable, format: TxFormat): AsyncGenerator<SourceTx> {
  const lines = readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  if (format === 'json') {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      yield jsonTransaction(text, line);
    }
    return;
  }
  const parser = new EDNListParser({ mapAs: 'doubleArray', setAs: 'array', listAs: 'array' });
  for await (const text of lines) {
    line++;
    let forms: unknown[];
    try {
      forms = parser.next(`${text}\n`);
    } catch (error) {
      throw new SedimentError(ErrorCode.invalidTx, `line ${line}: not valid EDN: ${(error as Error).message}`);
    }
    for (const form of forms) yield ednTransaction(form, line);
  }
  if (parser.stack.length > 0 || parser.state.trim() !== '' || parser.mode !== 0) {
    throw new SedimentError(ErrorCode.invalidTx, `line ${line}: the EDN ends inside a form (unbalanced brackets or an unterminated string)`);
  }
}

function jsonTransaction(text: string, line: number): SourceTx {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SedimentError(ErrorCode.invalidTx, `line ${line}: not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(value)) return { line, txData: value, txInstant: undefined };
  if (value !== null && typeof value === 'object' && Array.isArray((value as { txData?: unknown }).txData)) {
    const { txData, txInstant } = value as { txData: unknown[]; txInstant?: unknown };
    return { line, txData, txInstant: instantOf(txInstant, line, 'txInstant') };
  }
  throw new SedimentError(ErrorCode.invalidTx, `line ${line}: expected a tx-data array or {"txInstant": ..., "txData": [...]}`);
}

function ednTransaction(form: unknown, line: number): SourceTx {
  const value = fromParsedEdn(form, `line ${line}`);
  if (Array.isArray(value)) return { line, txData: value, txInstant: undefined };
  if (value !== null && typeof value === 'object' && !(value instanceof Keyword) && Array.isArray((value as Record<string, unknown>)['tx-data'])) {
    const map = value as Record<string, unknown>;
    return { line, txData: map['tx-data'], txInstant: instantOf(map['tx-instant'], line, ':tx-instant') };
  }
  throw new SedimentError(ErrorCode.invalidTx, `line ${line}: expected a tx-data vector or {:tx-instant #inst "..." :tx-data [...]}`);
}

function instantOf(value: unknown, line: number, key: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new SedimentError(ErrorCode.invalidTx, `line ${line}: ${key} ${JSON.stringify(value)} is not an ISO 8601 instant`);
  }
  return date;
}
