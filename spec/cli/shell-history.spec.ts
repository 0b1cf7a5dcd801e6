/**
 * The interactive shell's history across sessions: a statement entered in one session is saved,
 * and the next session recalls it with the up arrow. Driven through streams in terminal mode.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runShell } from '../../lib/cli/shell.js';
import { Database } from '../../lib/index.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-shell-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

async function session(db: string, keys: string): Promise<string> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const terminal = { stdout: output as unknown as NodeJS.WriteStream, stderr: output as unknown as NodeJS.WriteStream };
  const done = runShell(db, terminal, input, true);
  input.end(keys);
  expect(await done).toBe(0);
  return text;
}

describe('interactive shell', () => {
  it('keeps history across sessions: the up arrow recalls the last session\'s statement', async () => {
    const db = path.join(directory, 'history.db');
    const conn = Database.open(db, { create: true });
    conn.transact([{ 'db/ident': 'tag/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' }]);
    conn.transact([{ 'tag/name': 'recalled' }]);
    conn.close();
    process.env.SEDIMENT_HISTORY = path.join(directory, 'history');
    try {
      const first = await session(db, '[:find ?n :where\r [_ :tag/name ?n]]\r');
      expect(first).toContain('sediment> ');
      expect(first).toContain('   ...> ');
      expect(fs.readFileSync(process.env.SEDIMENT_HISTORY, 'utf8')).toBe('[:find ?n :where  [_ :tag/name ?n]]\n');
      // Up arrow, then Enter: the statement comes back from the file and runs again.
      const second = await session(db, '\x1b[A\r');
      expect(second).toMatch(/\?n\s*\r?\n-+\s*\r?\nrecalled/);
    } finally {
      delete process.env.SEDIMENT_HISTORY;
    }
  });
});
