#!/usr/bin/env node
/**
 * The `sediment` executable: runs the command line and turns its outcome into an exit status —
 * 0 on success, 1 when the command failed (a one-line message on stderr naming what was wrong
 * and the error code; the stack too with `--debug`), 2 for a usage error (commander's message).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { SedimentError } from '../errors.js';
import { buildProgram, ExitWithStatus, type Terminal } from './program.js';

export const ExitStatus = { ok: 0, failed: 1, usage: 2 } as const;

export async function run(argv: readonly string[], terminal: Terminal): Promise<number> {
  const program = buildProgram(terminal);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitStatus.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitStatus.ok : ExitStatus.usage;
    if (error instanceof ExitWithStatus) return error.status;
    const debug = argv.includes('--debug');
    const message = error instanceof SedimentError ? `${error.message} [${error.code}]` : error instanceof Error ? error.message : String(error);
    terminal.stderr.write(`sediment: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    if (debug && error instanceof Error && error.stack !== undefined) terminal.stderr.write(`${error.stack}\n`);
    return ExitStatus.failed;
  }
}

// Run when executed (directly or through the npm bin link), not when imported by tests.
const invoked = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) {
  run(process.argv.slice(2), process).then((status) => {
    process.exitCode = status;
  });
}
