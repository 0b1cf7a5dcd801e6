/**
 * Turns the real redis commit history (fixtures/redis-history.jsonl) into Sediment transactions,
 * as JSON Lines that `sediment import` reads: the schema first, then one transaction per commit
 * (see lib/cli/demo/redis-history.ts for the entities and attributes).
 *
 *   npm run fixture:redis -- [out.jsonl]      (standard output when no path is given)
 *   sediment init redis.db && sediment import redis.db out.jsonl
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRedisCommit, RedisHistoryConverter } from '../lib/cli/demo/redis-history.js';

const source = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'redis-history.jsonl');
const target = process.argv[2];
const lines = fs.readFileSync(source, 'utf8').split('\n').filter((line) => line.trim() !== '');
const out: string[] = [];
const converter = new RedisHistoryConverter();
lines.forEach((line, i) => {
  const commit = parseRedisCommit(line, i + 1);
  if (i === 0) out.push(JSON.stringify(RedisHistoryConverter.schema(commit)));
  out.push(JSON.stringify(converter.transaction(commit)));
});
const text = `${out.join('\n')}\n`;
if (target === undefined) process.stdout.write(text);
else {
  fs.writeFileSync(target, text);
  console.error(`${out.length} transactions written to ${target}`);
}
