/**
 * A writer process for spec/db/two-process.spec.ts: it creates a database file, installs a small
 * schema and two accounts, then commits `count` transactions, each moving 1 unit between the two
 * accounts (so the sum stays 200) and adding the next sequence number to a counter entity (so a
 * whole commit shows seq numbers 1..n with `counter/last` = n). In relaxed mode it syncs every
 * 10 commits and at the end. Lines on stdout: `ready` after the setup commit, `done <n>` at the end.
 *
 * Usage: node --import tsx spec/support/db-writer-child.ts <path> <full|relaxed> <count>
 */
import * as fs from 'node:fs';
import { Database } from '../../lib/index.js';

const TOTAL = 200;

const [filePath, durability, countText] = process.argv.slice(2);
if (filePath === undefined || (durability !== 'full' && durability !== 'relaxed')) {
  throw new Error('usage: db-writer-child.ts <path> <full|relaxed> <count>');
}
const count = Number(countText);
const say = (line: string) => fs.writeSync(1, `${line}\n`);

const conn = Database.open(filePath, { create: true, durability });
conn.transact([
  { 'db/ident': 'acct/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'acct/balance', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'counter/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'counter/seq', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/many' },
  { 'db/ident': 'counter/last', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one' },
]);
conn.transact([
  { 'acct/name': 'A', 'acct/balance': TOTAL / 2 },
  { 'acct/name': 'B', 'acct/balance': TOTAL / 2 },
  { 'counter/name': 'main', 'counter/last': 0 },
]);
if (durability === 'relaxed') conn.sync();
say('ready');

let seed = 12345;
for (let n = 1; n <= count; n++) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  const [from, to] = seed % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
  const db = conn.db();
  const balance = (name: string) => db.pull(['acct/balance'], ['acct/name', name])!['acct/balance'] as number;
  const a = balance(from);
  const b = balance(to);
  conn.transact([
    ['db/cas', ['acct/name', from], 'acct/balance', a, a - 1],
    ['db/cas', ['acct/name', to], 'acct/balance', b, b + 1],
    ['db/add', ['counter/name', 'main'], 'counter/seq', n],
    ['db/cas', ['counter/name', 'main'], 'counter/last', n - 1, n],
  ]);
  if (durability === 'relaxed' && n % 10 === 0) conn.sync();
}
conn.sync();
conn.close();
say(`done ${count}`);
