/**
 * `sediment import`: transactions streamed from a file into a database, each committed in turn
 * (relaxed durability, one flush at the end), with a progress bar on a terminal and a summary.
 * A bad transaction stops the import; the ones before it stay committed and the error says how
 * many there were.
 */
import * as fs from 'node:fs';
import cliProgress from 'cli-progress';
import { SedimentError } from '../errors.js';
import type { Connection } from '../db/connection.js';
import { readTransactions, type TxFormat } from './input.js';

export interface ImportSummary {
  readonly transactions: number;
  readonly datoms: number;
  readonly seconds: number;
  readonly datomsPerSecond: number;
  readonly fileBytes: number;
}

export interface ImportOptions {
  readonly format: TxFormat;
  /** Where the database lives, for the file size in the summary (undefined: in memory). */
  readonly databasePath?: string | undefined;
  /** Show a progress bar (on stderr). */
  readonly progress: boolean;
}

/** Imports from `file` ('-': standard input). */
export async function importFile(conn: Connection, file: string, options: ImportOptions): Promise<ImportSummary> {
  const input = file === '-' ? process.stdin : fs.createReadStream(file);
  const totalBytes = file === '-' ? undefined : fs.statSync(file).size;
  let readBytes = 0;
  input.on('data', (chunk: Buffer | string) => {
    readBytes += chunk.length;
  });
  const bar =
    options.progress && totalBytes !== undefined
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: 'importing [{bar}] {percentage}% | {transactions} transactions | {datoms} datoms', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(totalBytes!, 0, { transactions: 0, datoms: 0 });
  const started = process.hrtime.bigint();
  let transactions = 0;
  let datoms = 0;
  try {
    for await (const tx of readTransactions(input, options.format)) {
      try {
        datoms += conn.transact(tx.txData, { txInstant: tx.txInstant }).txData.length;
      } catch (error) {
        if (error instanceof SedimentError) throw new SedimentError(error.code, `line ${tx.line}: ${error.message}`);
        throw error;
      }
      transactions++;
      if (bar !== undefined && transactions % 256 === 0) bar.update(readBytes, { transactions, datoms });
    }
  } catch (error) {
    if (!(error instanceof SedimentError)) throw error;
    // What was committed before the bad transaction stays, durably.
    conn.sync();
    throw new SedimentError(error.code, `${error.message} (the ${transactions} transactions before it are committed)`);
  } finally {
    bar?.update(readBytes, { transactions, datoms });
    bar?.stop();
    if (file !== '-') (input as fs.ReadStream).destroy();
  }
  conn.sync();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    transactions,
    datoms,
    seconds,
    datomsPerSecond: seconds > 0 ? datoms / seconds : 0,
    fileBytes: options.databasePath === undefined ? 0 : fs.statSync(options.databasePath).size,
  };
}
