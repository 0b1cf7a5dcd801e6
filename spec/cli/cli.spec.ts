/**
 * The built command line, run as a child process the way users run it: exit status, stdout and
 * stderr of every command and of each error path.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Database } from '../../lib/index.js';

const CLI = path.resolve('dist/lib/cli/main.js');
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-cli-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function sediment(args: readonly string[], input?: string): Outcome {
  const result = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', cwd: directory });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A failed command: status 1, nothing on stdout, one line on stderr naming the code. */
function expectFailure(outcome: Outcome, code: string, pattern: RegExp): void {
  expect(outcome.stdout).toBe('');
  expect(outcome.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(outcome.stderr).toContain(`[${code}]`);
  expect(outcome.stderr).toMatch(pattern);
  expect(outcome.status).toBe(1);
}

const file = (name: string) => path.join(directory, name);

const SCHEMA = `[{:db/ident :person/name :db/valueType :db.type/string :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one :db/index true}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :person/mood :db/valueType :db.type/keyword :db/cardinality :db.cardinality/one}
 {:db/ident :person/id :db/valueType :db.type/uuid :db/cardinality :db.cardinality/one}
 {:db/ident :person/big :db/valueType :db.type/bigint :db/cardinality :db.cardinality/one}
 {:db/ident :person/born :db/valueType :db.type/instant :db/cardinality :db.cardinality/one}
 {:db/ident :person/photo :db/valueType :db.type/bytes :db/cardinality :db.cardinality/one}
 {:db/ident :person/height :db/valueType :db.type/double :db/cardinality :db.cardinality/one}]`;

/** A database with every value type, refs, retractions and history, built through the CLI. */
function buildPeople(name: string): string {
  const db = file(name);
  expect(sediment(['init', db])).toMatchObject({ status: 0, stdout: `initialized ${db}\n` });
  fs.writeFileSync(file('schema.edn'), SCHEMA);
  expect(sediment(['transact', db, file('schema.edn'), '--tx-instant', '2020-01-01T00:00:00Z']).status).toBe(0);
  const people = JSON.stringify([
    { 'db/id': 'ann', 'person/name': 'Ann', 'person/age': 30, 'person/mood': 'mood/happy', 'person/id': '0b6f4a5e-1c1d-4c3b-9f3a-2a5b6c7d8e9f', 'person/born': '1990-05-01T00:00:00Z', 'person/height': 1.7 },
    { 'db/id': 'bob', 'person/name': 'Bob', 'person/age': 41, 'person/friend': ['ann'] },
  ]);
  const added = sediment(['transact', db, '-', '--tx-instant', '2020-02-01T00:00:00Z'], people);
  expect(added.status).toBe(0);
  expect(JSON.parse(added.stdout)).toMatchObject({ tempids: { ann: expect.any(Number), bob: expect.any(Number) }, datoms: 10 });
  const edn = '[[:db/add [:person/name "Ann"] :person/age 31] {:person/name "Cy" :person/big 123456789012345678901234567890N :person/photo #sediment/bytes "AAEC/w=="}]';
  expect(sediment(['transact', db, '-', '--format', 'edn', '--tx-instant', '2021-01-01T00:00:00Z'], edn).status).toBe(0);
  expect(sediment(['transact', db, '--tx-instant', '2022-01-01T00:00:00Z'], '[["db/retractEntity", ["person/name", "Bob"]]]').status).toBe(0);
  return db;
}

describe('sediment command line', () => {
  it('init, transact, datoms, log, stats and verify a database', () => {
    const db = buildPeople('people.db');
    const ann = JSON.parse(sediment(['datoms', db, 'avet', ':person/name', 'Ann', '--format', 'json']).stdout) as { e: number }[];
    expect(ann).toHaveLength(1);
    const annDatoms = JSON.parse(sediment(['datoms', db, 'eavt', String(ann[0]!.e), '--format', 'json']).stdout) as { a: string; v: unknown }[];
    expect(Object.fromEntries(annDatoms.map((d) => [d.a, d.v]))).toEqual({
      'person/name': 'Ann',
      'person/age': 31,
      'person/mood': 'mood/happy',
      'person/id': '0b6f4a5e-1c1d-4c3b-9f3a-2a5b6c7d8e9f',
      'person/born': '1990-05-01T00:00:00.000Z',
      'person/height': 1.7,
    });
    // As of 2020-12-31 Ann was 30 and Bob existed; the history shows both ages.
    const past = JSON.parse(sediment(['datoms', db, 'aevt', ':person/age', '--as-of', '2020-12-31', '--format', 'json']).stdout) as { v: number }[];
    expect(past.map((d) => d.v).sort()).toEqual([30, 41]);
    const history = JSON.parse(sediment(['datoms', db, 'eavt', String(ann[0]!.e), ':person/age', '--history', '--format', 'json']).stdout) as { v: number; added: boolean }[];
    expect(history.map((d) => [d.v, d.added])).toEqual([[30, true], [30, false], [31, true]]);
    // EDN and table output.
    expect(sediment(['datoms', db, 'eavt', String(ann[0]!.e), ':person/mood', '--format', 'edn']).stdout).toMatch(/^\[\{:e \d+, :a :person\/mood, :v :mood\/happy, :tx \d+, :added true\}\]\n$/);
    const table = sediment(['datoms', db, 'avet', ':person/name']).stdout.split('\n');
    expect(table[0]).toMatch(/^e\s+a\s+v\s+tx\s+added$/);
    expect(table.slice(2).filter((l) => l !== '').map((l) => l.split(/\s+/)[2])).toEqual(['Ann', 'Cy']);

    const log = JSON.parse(sediment(['log', db, '--format', 'json']).stdout) as { tx: number; a: string; added: boolean }[];
    expect(new Set(log.map((r) => r.tx)).size).toBe(5);
    expect(log.filter((r) => !r.added).map((r) => r.a).sort()).toEqual(['person/age', 'person/age', 'person/friend', 'person/name']);

    const stats = JSON.parse(sediment(['stats', db, '--format', 'json']).stdout) as { commits: number; datoms: Record<string, number>; trees: { name: string }[] };
    expect(stats.commits).toBe(5);
    expect(stats.datoms.history).toBe(8); // four retractions, each with the assertion it ends
    expect(stats.trees.map((t) => t.name)).toContain('current avet');
    expect(sediment(['stats', db]).stdout).toMatch(/bytes not reachable from the latest root/);
    expect(sediment(['verify', db])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^ok: 5 commits/) });
  });

  it('export gives transactions that rebuild the database byte for byte, history included', () => {
    const db = buildPeople('source.db');
    const exported = sediment(['export', db]);
    expect(exported.status).toBe(0);
    fs.writeFileSync(file('source.edn'), exported.stdout);
    expect(exported.stdout.trimEnd().split('\n')).toHaveLength(4);
    expect(sediment(['init', file('copy.db')]).status).toBe(0);
    const imported = sediment(['import', file('copy.db'), file('source.edn')]);
    expect(imported.stdout).toMatch(/^imported 4 transactions, \d+ datoms in [\d.]+ s \(\d+ datoms\/s\); file \d+ bytes\n$/);
    expect(Buffer.compare(fs.readFileSync(file('copy.db')), fs.readFileSync(db))).toBe(0);

    // As of an earlier commit: the same as a database that stopped there.
    const early = sediment(['export', db, '--as-of', '2020-02-01T00:00:00Z']).stdout;
    expect(early.trimEnd().split('\n')).toHaveLength(2);
  });

  it('import streams JSON Lines and EDN, and stops at a bad line keeping what came before', () => {
    const db = file('import.db');
    sediment(['init', db]);
    const lines = [
      JSON.stringify({ txInstant: '2020-01-01T00:00:00Z', txData: [{ 'db/ident': 'tag/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' }] }),
      '',
      JSON.stringify([{ 'tag/name': 'a' }]),
      JSON.stringify({ txData: [{ 'tag/name': 'b' }] }),
      '{"txData": [{"tag/nam": "c"}]}',
      JSON.stringify([{ 'tag/name': 'd' }]),
    ];
    fs.writeFileSync(file('tags.jsonl'), `${lines.join('\n')}\n`);
    const failed = sediment(['import', db, file('tags.jsonl')]);
    expectFailure(failed, 'SEDIMENT_UNKNOWN_ATTRIBUTE', /line 5: .*tag\/nam.*the 3 transactions before it are committed/);
    const names = (JSON.parse(sediment(['datoms', db, 'aevt', ':tag/name', '--format', 'json']).stdout) as { v: string }[]).map((d) => d.v);
    expect(names).toEqual(['a', 'b']);

    expectFailure(sediment(['import', db, '-'], '[{"tag/name": "e"}]\nnot json\n'), 'SEDIMENT_INVALID_TX', /line 2: not valid JSON/);
    fs.writeFileSync(file('tags.edn'), '[{:tag/name "f"}]\n{:tx-instant #inst "2030-01-01T00:00:00Z"\n :tx-data [{:tag/name "g"}]}\n');
    expect(sediment(['import', db, file('tags.edn')]).stdout).toMatch(/^imported 2 transactions, 4 datoms/);
    fs.writeFileSync(file('open.edn'), '[{:tag/name "h"}]\n[{:tag/name "i"}\n');
    expectFailure(sediment(['import', db, file('open.edn')]), 'SEDIMENT_INVALID_TX', /line 2: the EDN ends inside a form.*the 1 transactions before it/);
  });

  it('names what was wrong: missing file, wrong format, unknown attribute, bad --as-of, locked, corrupt', () => {
    const db = buildPeople('errors.db');
    expectFailure(sediment(['datoms', file('missing.db'), 'eavt']), 'SEDIMENT_NOT_FOUND', /missing\.db does not exist/);
    expectFailure(sediment(['import', db, file('missing.jsonl')]), 'SEDIMENT_NOT_FOUND', /missing\.jsonl does not exist/);
    expectFailure(sediment(['init', db]), 'SEDIMENT_INVALID_ARGUMENT', /already exists/);
    expectFailure(sediment(['transact', db, '--format', 'json'], '[[:db/add "x" :person/name "X"]]'), 'SEDIMENT_INVALID_TX', /not valid JSON/);
    expectFailure(sediment(['transact', db], '[{"person/nickname": "X"}]'), 'SEDIMENT_UNKNOWN_ATTRIBUTE', /person\/nickname/);
    expectFailure(sediment(['transact', db], ''), 'SEDIMENT_INVALID_TX', /no transaction data: the input is empty/);
    fs.writeFileSync(file('not-a-db'), 'hello\n');
    expectFailure(sediment(['datoms', file('not-a-db'), 'eavt']), 'SEDIMENT_NOT_A_DATABASE', /not a Sediment database/);
    expectFailure(sediment(['verify', file('not-a-db')]), 'SEDIMENT_NOT_A_DATABASE', /not a Sediment database/);
    expectFailure(sediment(['datoms', db, 'eavt', '--as-of', 'yesterday']), 'SEDIMENT_INVALID_ARGUMENT', /--as-of "yesterday" is neither/);
    expectFailure(sediment(['datoms', db, 'evat']), 'SEDIMENT_INVALID_ARGUMENT', /unknown index "evat"/);
    expectFailure(sediment(['datoms', db, 'avet', ':person/nickname']), 'SEDIMENT_UNKNOWN_ATTRIBUTE', /person\/nickname/);

    const usage = sediment(['datoms', db, 'eavt', '--format', 'xml']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/argument 'xml' is invalid/);
    expect(sediment(['frobnicate']).status).toBe(2);

    const writer = Database.open(db);
    try {
      expectFailure(sediment(['transact', db], '[{"person/name": "Dee"}]'), 'SEDIMENT_LOCKED', /errors\.db/);
      // Readers do not need the lock.
      expect(sediment(['datoms', db, 'avet', ':person/name', 'Ann']).status).toBe(0);
    } finally {
      writer.close();
    }

    const debug = sediment(['datoms', file('missing.db'), 'eavt', '--debug']);
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/^sediment: .*\n.*SedimentError.*\n\s+at /);

    // One byte flipped inside the first tree page: verify names that page; reads fail cleanly.
    const bytes = fs.readFileSync(db);
    const firstPage = 1536;
    bytes[firstPage + 40] = bytes[firstPage + 40]! ^ 0xff;
    fs.writeFileSync(file('corrupt.db'), bytes);
    expectFailure(sediment(['verify', file('corrupt.db')]), 'SEDIMENT_CORRUPT', new RegExp(`corrupt\\.db is damaged: page ${firstPage} fails its checksum`));
  });

  it('query answers Datalog in every find shape, with inputs, past databases and history', () => {
    const db = buildPeople('query.db');
    const json = (args: string[]) => {
      const outcome = sediment(['query', db, ...args, '--format', 'json']);
      expect(outcome.stderr).toBe('');
      return JSON.parse(outcome.stdout) as unknown;
    };
    expect(json(['[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]'])).toEqual([['Ann', 31]]);
    expect(json(['[:find (count ?e) . :where [?e :person/name]]'])).toBe(2);
    expect((json(['[:find [?n ...] :where [_ :person/name ?n]]']) as string[]).sort()).toEqual(['Ann', 'Cy']);
    expect(json(['[:find ?n :in $ ?min :where [?e :person/age ?a] [(>= ?a ?min)] [?e :person/name ?n]]', '--in', '40', '--as-of', '2020-12-31'])).toEqual([['Bob']]);
    const sorted = (rows: unknown) => (rows as unknown[]).map((r) => JSON.stringify(r)).sort();
    expect(sorted(json(['[:find ?a ?added :where [?e :person/name "Ann"] [?e :person/age ?a ?tx ?added]]', '--history']))).toEqual(sorted([[30, true], [30, false], [31, true]]));
    expect(json(['[:find ?n :keys name :where [_ :person/name ?n]]', '--since', '2020-12-31'])).toEqual([{ name: 'Cy' }]);
    const table = sediment(['query', db, '[:find ?n (count ?e) :where [?e :person/name ?n]]']).stdout.split('\n');
    expect(table[0]).toMatch(/^\?n\s+\(count \?e\)$/);
    expect(sediment(['query', db, '[:find ?n . :where [_ :person/name ?n] [(= ?n "Cy")]]', '--format', 'edn']).stdout).toBe('"Cy"\n');
    expectFailure(sediment(['query', db, '[:find ?n :where [?e :person/nom ?n]]']), 'SEDIMENT_UNKNOWN_ATTRIBUTE', /:person\/nom/);
    expectFailure(sediment(['query', db, '[:find ?n :where [?e :person/name ?n]']), 'SEDIMENT_QUERY_PARSE', /not valid EDN/);
    expectFailure(sediment(['query', db, '[:find ?n :in $ ?x :where [?e :person/name ?n]]', '--in', 'nope']), 'SEDIMENT_INVALID_ARGUMENT', /--in number 1 is not JSON/);
  });

  it('shell runs a script from stdin: queries, dot-commands, multi-line statements, errors that do not stop it', () => {
    const db = buildPeople('shell.db');
    const script = [
      '.transact [{:person/name "Dee" :person/age 7}]',
      '[:find ?n ?a',
      ' :where [?e :person/name ?n]',
      '        [?e :person/age ?a]]',
      '.as-of 2020-12-31',
      '[:find (count ?e) . :where [?e :person/name]]',
      '.latest',
      '.history',
      '[:find ?a ?added :where [?e :person/name "Ann"] [?e :person/age ?a _ ?added]]',
      '.latest',
      '.pull [:person/name {:person/friend [:person/name]}] [:person/name "Ann"]',
      '.schema',
      '.log',
      '.datoms avet :person/name Dee',
      '.stats',
      '.help',
      '.since 2021-06-01',
      '[:find [?n ...] :where [_ :person/name ?n]]',
    ].join('\n');
    const ok = sediment(['shell', db], `${script}\n`);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/\{"tx":\d+,"tempids":\{\},"datoms":3\}/);
    expect(ok.stdout).toMatch(/\?n\s+\?a\n[- ]+\n(Ann\s+31\n|Dee\s+7\n){2}/);
    expect(ok.stdout).toMatch(/reading as of 2020-12-31T00:00:00\.000Z\n\(count \?e\)\n-+\n2\n/);
    expect(ok.stdout).toContain('{"person/name":"Ann"}');
    expect(ok.stdout).toMatch(/person\/photo\s+db\.type\/bytes/);
    expect(ok.stdout).toMatch(/current eavt/);
    expect(ok.stdout).toMatch(/\.as-of \[t\]/);
    expect(ok.stdout).toMatch(/reading since 2021-06-01T00:00:00\.000Z\n\?n\n-+\nDee\n/); // Cy came in 2021-01-01

    const failing = sediment(['shell', db], '[:find ?x :where [?x :no/such]]\n.frobnicate\n.log 2020-01-01\n[:find (count ?e) . :where [?e :person/name]]\n[:find ?x\n');
    expect(failing.status).toBe(1);
    expect(failing.stdout).toMatch(/\(count \?e\)\n-+\n3\n/); // the good statement between the bad ones ran
    expect(failing.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^error: .*:no\/such.*\[SEDIMENT_UNKNOWN_ATTRIBUTE\]$/),
      expect.stringMatching(/^error: unknown command \.frobnicate/),
      expect.stringMatching(/^error: \.log takes a transaction id, not a date/),
      'error: the input ends inside a statement (unbalanced brackets)',
    ]);
  });

  it('demo builds the redis history database once, then reuses it', () => {
    const db = file('redis.sediment');
    const first = sediment(['demo', db]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^Built .*redis\.sediment from .*redis-history\.jsonl: 9083 commits, \d+ datoms/);
    for (const heading of ['Largest top-level directories', 'History of src/server.c', 'Files in the repository at the end of each year', 'The transaction log around']) {
      expect(first.stdout).toContain(heading);
    }
    expect(first.stdout).toMatch(/query time: latest [\d.]+ ms, as of 2012-01-01 [\d.]+ ms/);
    const second = sediment(['demo', db]);
    expect(second.stdout).toMatch(/^Using the existing/);
    expect(sediment(['verify', db]).status).toBe(0);
    expectFailure(sediment(['demo', file('other.db'), '--fixture', file('nope.jsonl')]), 'SEDIMENT_NOT_FOUND', /nope\.jsonl does not exist/);
  });

  it('has help with an example for every command', () => {
    const help = sediment(['--help']);
    expect(help.status).toBe(0);
    const commands = ['init', 'transact', 'query', 'datoms', 'log', 'stats', 'verify', 'export', 'import', 'shell', 'demo'];
    for (const command of commands) {
      expect(help.stdout).toContain(command);
      const own = sediment([command, '--help']);
      expect(own.status).toBe(0);
      expect(own.stdout).toMatch(new RegExp(`Usage: sediment ${command}[\\s\\S]*Example:\\n  \\$ (echo .* \\| )?sediment ${command}`));
    }
  });
});
