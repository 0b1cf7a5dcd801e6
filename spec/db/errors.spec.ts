/**
 * Every SedimentError code the database layer raises, triggered through the public API
 * (Database, Connection, Db). Each write-side case checks the code, that the message names the
 * offending datom, attribute or value, and that nothing changed: the connection's Db is the same
 * object with the same datoms, no listener was called, and the database file has the same bytes;
 * `db.with` of the same data fails the same way. Read-side cases check code and message.
 *
 * Not here: SEDIMENT_CORRUPT, SEDIMENT_IO and SEDIMENT_POISONED come from the storage layer and
 * its fault-injection specs (spec/storage). `create` on an existing database opens it, as SQLite
 * does, so there is no "already exists" error.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, Database, type Db, ErrorCode, type IndexName, SedimentError } from '../../lib/index.js';

let dir: string;
let dbPath: string;
let conn: Connection;
let ann: number;
let bob: number;

const SCHEMA = [
  { 'db/ident': 'person/email', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'person/ssn', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/value' },
  { 'db/ident': 'person/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'person/age', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'person/score', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'person/tag', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
  { 'db/ident': 'person/friend', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/many' },
];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-errors-'));
  dbPath = path.join(dir, 'errors.db');
  conn = Database.open(dbPath, { create: true });
  conn.transact(SCHEMA, { txInstant: new Date('2024-01-01T00:00:00Z') });
  const report = conn.transact(
    [
      { 'db/id': 'ann', 'person/email': 'ann@example.com', 'person/ssn': '111', 'person/name': 'Ann', 'person/age': 30, 'person/tag': ['a', 'b'] },
      { 'db/id': 'bob', 'person/email': 'bob@example.com', 'person/name': 'Bob', 'person/friend': ['ann'] },
    ],
    { txInstant: new Date('2024-01-02T00:00:00Z') },
  );
  ann = report.tempids['ann']!;
  bob = report.tempids['bob']!;
});

afterAll(() => {
  conn.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function thrown(fn: () => unknown): SedimentError {
  try {
    fn();
  } catch (error) {
    expect(error, `expected a SedimentError, got ${String(error)}`).toBeInstanceOf(SedimentError);
    return error as SedimentError;
  }
  throw new Error('expected an error, but the call returned');
}

const allDatoms = (db: Db) => JSON.stringify([...db.history().datoms('eavt')]);

/** Runs `act` against `c` (a file database at `file`), expecting `code` and no change at all. */
function expectRejected(c: Connection, file: string, act: () => unknown, code: string, mentions: readonly string[]): SedimentError {
  const before = c.db();
  const datoms = allDatoms(before);
  const bytes = fs.readFileSync(file);
  const heard: unknown[] = [];
  const unlisten = c.listen((report) => heard.push(report));
  let error: SedimentError;
  try {
    error = thrown(act);
  } finally {
    unlisten();
  }
  expect(error.code).toBe(code);
  for (const m of mentions) expect(error.message, `the message should name ${m}`).toContain(m);
  expect(c.db()).toBe(before);
  expect(allDatoms(c.db())).toBe(datoms);
  expect(heard).toEqual([]);
  expect(fs.readFileSync(file).equals(bytes), 'the file changed').toBe(true);
  return error;
}

interface TxCase {
  readonly name: string;
  readonly code: string;
  readonly tx: () => unknown;
  readonly mentions: readonly string[];
  readonly options?: { txInstant?: Date };
}

const txCases: readonly TxCase[] = [
  { name: 'tx data that is not an array', code: ErrorCode.invalidTx, tx: () => ({ 'person/name': 'x' }), mentions: ['array'] },
  { name: 'an unknown operation', code: ErrorCode.invalidTx, tx: () => [['db/frobnicate', ann, 'person/name', 'x']], mentions: ['db/frobnicate'] },
  { name: 'an operation of the wrong arity', code: ErrorCode.invalidTx, tx: () => [['db/add', ann, 'person/name']], mentions: ['db/add', 'person/name'] },
  { name: 'tx data that is not valid EDN', code: ErrorCode.invalidTx, tx: () => '[[:db/add 1 :person/name', mentions: ['not valid EDN'] },
  { name: 'tx data followed by more EDN', code: ErrorCode.invalidTx, tx: () => '[[:db/add "x" :person/name "Xi"]] [[:db/add "y" :person/name "Yu"]]', mentions: ['not one EDN form but 2'] },
  { name: 'asserting db/txInstant', code: ErrorCode.invalidTx, tx: () => [['db/add', ann, 'db/txInstant', new Date()]], mentions: ['db/txInstant'] },
  { name: 'a lookup ref on an attribute that is not unique', code: ErrorCode.invalidTx, tx: () => [['db/add', ['person/name', 'Ann'], 'person/age', 1]], mentions: ['person/name'] },
  { name: 'db/cas on a cardinality-many attribute', code: ErrorCode.invalidTx, tx: () => [['db/cas', ann, 'person/tag', 'a', 'c']], mentions: ['person/tag'] },
  { name: 'an attribute never installed', code: ErrorCode.unknownAttribute, tx: () => [['db/add', ann, 'person/shoe', 'x']], mentions: ['person/shoe'] },
  { name: 'an unknown attribute in a map form', code: ErrorCode.unknownAttribute, tx: () => [{ 'db/id': ann, 'person/hat': 'x' }], mentions: ['person/hat'] },
  { name: 'a value of the wrong type', code: ErrorCode.wrongType, tx: () => [['db/add', ann, 'person/age', 'thirty']], mentions: ['person/age', '"thirty"', 'long'] },
  { name: 'a non-ref for a ref attribute', code: ErrorCode.wrongType, tx: () => [['db/add', ann, 'person/friend', 1.5]], mentions: ['person/friend', '1.5'] },
  { name: 'several values for a cardinality-one attribute in a map', code: ErrorCode.cardinality, tx: () => [{ 'db/id': ann, 'person/name': ['A', 'B'] }], mentions: ['person/name', '"A"', '"B"'] },
  { name: 'a unique identity value held by another entity', code: ErrorCode.uniqueConflict, tx: () => [['db/add', bob, 'person/email', 'ann@example.com']], mentions: ['person/email', '"ann@example.com"'] },
  { name: 'a unique value held by another entity (tempid)', code: ErrorCode.uniqueConflict, tx: () => [{ 'db/id': 'new', 'person/ssn': '111' }], mentions: ['person/ssn', '"111"'] },
  { name: 'a tempid upserting to two entities', code: ErrorCode.uniqueConflict, tx: () => [['db/add', 't', 'person/email', 'ann@example.com'], ['db/add', 't', 'person/email', 'bob@example.com']], mentions: ['tempid t', 'upserts'] },
  { name: 'two values for a cardinality-one attribute', code: ErrorCode.datomConflict, tx: () => [['db/add', ann, 'person/name', 'X'], ['db/add', ann, 'person/name', 'Y']], mentions: ['person/name', '"X"', '"Y"'] },
  { name: 'asserting and retracting one datom', code: ErrorCode.datomConflict, tx: () => [['db/add', ann, 'person/tag', 'a'], ['db/retract', ann, 'person/tag', 'a']], mentions: ['person/tag', '"a"'] },
  { name: 'a tempid used only as a value', code: ErrorCode.tempidUnresolved, tx: () => [['db/add', ann, 'person/friend', 'ghost']], mentions: ['ghost'] },
  { name: 'a tempid only retracted', code: ErrorCode.tempidUnresolved, tx: () => [['db/retract', 'ghost', 'person/name', 'Ann']], mentions: ['ghost'] },
  { name: 'a lookup ref naming nothing', code: ErrorCode.lookupRefNotFound, tx: () => [['db/add', ['person/email', 'nobody@example.com'], 'person/age', 1]], mentions: ['person/email', 'nobody@example.com'] },
  { name: 'a lookup ref value naming nothing', code: ErrorCode.lookupRefNotFound, tx: () => [['db/add', ann, 'person/friend', ['person/email', 'nobody@example.com']]], mentions: ['nobody@example.com'] },
  { name: 'db/retractEntity through a lookup ref naming nothing', code: ErrorCode.lookupRefNotFound, tx: () => [['db/retractEntity', ['person/email', 'nobody@example.com']]], mentions: ['nobody@example.com'] },
  { name: 'an entity id never allocated', code: ErrorCode.entityNotFound, tx: () => [['db/add', 999_999, 'person/name', 'x']], mentions: ['999999'] },
  { name: 'an ident that names nothing (EDN)', code: ErrorCode.entityNotFound, tx: () => '[[:db/add :no/such-ident :person/name "x"]]', mentions: ['no/such-ident'] },
  { name: 'db/cas with the wrong old value', code: ErrorCode.casFailed, tx: () => [['db/cas', ann, 'person/age', 31, 32]], mentions: ['person/age', '31', '30'] },
  { name: 'db/cas expecting no value', code: ErrorCode.casFailed, tx: () => [['db/cas', ann, 'person/name', null, 'Z']], mentions: ['person/name', '"Ann"'] },
  { name: 'altering an installed attribute', code: ErrorCode.schema, tx: () => [{ 'db/id': ['db/ident', 'person/age'], 'db/valueType': 'db.type/string' }], mentions: ['db/valueType', 'person/age'] },
  { name: 'an attribute without cardinality', code: ErrorCode.schema, tx: () => [{ 'db/ident': 'person/shoe', 'db/valueType': 'db.type/long' }], mentions: ['person/shoe', 'db/cardinality'] },
  { name: 'an unknown value type', code: ErrorCode.schema, tx: () => [{ 'db/ident': 'person/shoe', 'db/valueType': 'db.type/shoe', 'db/cardinality': 'db.cardinality/one' }], mentions: ['db.type/shoe'] },
  { name: 'retracting schema', code: ErrorCode.schema, tx: () => [['db/retract', ['db/ident', 'person/age'], 'db/cardinality', 'db.cardinality/one']], mentions: ['db/cardinality'] },
  { name: 'a tx instant before the previous one', code: ErrorCode.txInstant, tx: () => [['db/add', ann, 'person/age', 31]], options: { txInstant: new Date('2023-06-01T00:00:00Z') }, mentions: ['2023-06-01T00:00:00.000Z', '2024-01-02T00:00:00.000Z'] },
  { name: 'an invalid tx instant', code: ErrorCode.invalidArgument, tx: () => [['db/add', ann, 'person/age', 31]], options: { txInstant: new Date(Number.NaN) }, mentions: ['txInstant'] },
];

describe('rejected transactions change nothing', () => {
  it.each(txCases)('$name: $code', ({ code, tx, mentions, options }) => {
    expectRejected(conn, dbPath, () => conn.transact(tx(), options), code, mentions);
    // The speculative path validates the same way.
    const speculative = thrown(() => conn.db().with(tx(), options));
    expect(speculative.code).toBe(code);
  });
});

describe('read-side errors', () => {
  const cases: readonly { name: string; code: string; read: (db: Db) => unknown; mentions: readonly string[] }[] = [
    { name: 'an unknown index', code: ErrorCode.invalidArgument, read: (db) => [...db.datoms('evat' as IndexName)], mentions: ['evat'] },
    { name: 'an unknown attribute in datoms', code: ErrorCode.unknownAttribute, read: (db) => [...db.datoms('aevt', 'person/shoe')], mentions: ['person/shoe'] },
    { name: 'an unknown attribute in seekDatoms', code: ErrorCode.unknownAttribute, read: (db) => [...db.seekDatoms('avet', 'person/shoe')], mentions: ['person/shoe'] },
    { name: 'a value of the wrong type in datoms', code: ErrorCode.wrongType, read: (db) => [...db.datoms('avet', 'person/score', 'high')], mentions: ['person/score', '"high"'] },
    { name: 'an entity that is no entity id', code: ErrorCode.invalidArgument, read: (db) => [...db.datoms('eavt', { id: 1 })], mentions: ['{"id":1}'] },
    { name: 'too many components', code: ErrorCode.invalidArgument, read: (db) => [...db.datoms('eavt', ann, 'person/name', 'Ann', 1, 2)], mentions: ['4 components'] },
    { name: 'indexRange on an attribute without db/index', code: ErrorCode.notIndexed, read: (db) => [...db.indexRange('person/age', 1, 50)], mentions: ['person/age'] },
    { name: 'indexRange on an unknown attribute', code: ErrorCode.unknownAttribute, read: (db) => [...db.indexRange('person/shoe')], mentions: ['person/shoe'] },
    { name: 'asOf a string', code: ErrorCode.invalidArgument, read: (db) => db.asOf('yesterday' as unknown as number), mentions: ['"yesterday"'] },
    { name: 'asOf a negative tx', code: ErrorCode.invalidArgument, read: (db) => db.asOf(-5), mentions: ['-5'] },
    { name: 'asOf an invalid Date', code: ErrorCode.invalidArgument, read: (db) => db.asOf(new Date(Number.NaN)), mentions: ['invalid Date'] },
    { name: 'asOf a Date before the first transaction', code: ErrorCode.invalidArgument, read: (db) => db.asOf(new Date('1960-01-01T00:00:00Z')), mentions: ['1960-01-01'] },
    { name: 'since a fractional tx', code: ErrorCode.invalidArgument, read: (db) => db.since(1.5), mentions: ['1.5'] },
    { name: 'a pull pattern that is not a vector', code: ErrorCode.invalidArgument, read: (db) => db.pull('{:person/name 1}', ann), mentions: ['pull'] },
    { name: 'a pull pattern that is not valid EDN', code: ErrorCode.invalidArgument, read: (db) => db.pull('[:person/name', ann), mentions: ['pull pattern is not valid EDN'] },
    { name: 'a pull pattern with a bracket too many', code: ErrorCode.invalidArgument, read: (db) => db.pull('[:person/name]]', ann), mentions: ['pull pattern is not valid EDN', 'closing bracket'] },
    { name: 'a pull pattern with an unknown attribute', code: ErrorCode.unknownAttribute, read: (db) => db.pull(['person/shoe'], ann), mentions: ['person/shoe'] },
    { name: 'a pull pattern with a negative limit', code: ErrorCode.invalidArgument, read: (db) => db.pull('[[:person/tag :limit -1]]', ann), mentions: ['person/tag', 'limit'] },
    { name: 'a pull pattern with an unknown option', code: ErrorCode.invalidArgument, read: (db) => db.pull('[[:person/tag :colour "red"]]', ann), mentions: ['colour'] },
    { name: 'a reverse pull of an attribute that is no ref', code: ErrorCode.invalidArgument, read: (db) => db.pull(['person/_name'], ann), mentions: ['person/_name'] },
    { name: 'a pull spec that is no attribute', code: ErrorCode.invalidArgument, read: (db) => db.pull([42], ann), mentions: ['42'] },
    { name: 'pull of something that is no entity', code: ErrorCode.invalidArgument, read: (db) => db.pull(['person/name'], true), mentions: ['true'] },
    { name: 'pullMany with a lookup ref on a non-unique attribute', code: ErrorCode.invalidArgument, read: (db) => db.pullMany(['person/name'], [['person/name', 'Ann']]), mentions: ['person/name'] },
    { name: 'entity of something that is no entity', code: ErrorCode.invalidArgument, read: (db) => db.entity(Symbol.for('x') as unknown), mentions: ['entity'] },
  ];
  it.each(cases)('$name: $code', ({ code, read, mentions }) => {
    const db = conn.db();
    const datoms = allDatoms(db);
    const error = thrown(() => read(db));
    expect(error.code).toBe(code);
    for (const m of mentions) expect(error.message, `the message should name ${m}`).toContain(m);
    expect(allDatoms(db)).toBe(datoms);
    expect(conn.db()).toBe(db);
  });
});

describe('connection errors', () => {
  it('SEDIMENT_READ_ONLY: transact on a read-only connection changes nothing', () => {
    const reader = Database.open(dbPath, { readOnly: true });
    try {
      expect(reader.readOnly).toBe(true);
      expectRejected(reader, dbPath, () => reader.transact([['db/add', ann, 'person/age', 99]]), ErrorCode.readOnly, ['read-only']);
      expect(reader.db().basisT).toBe(conn.db().basisT);
    } finally {
      reader.close();
    }
  });

  it('SEDIMENT_CLOSED: every call on a closed connection, and close is idempotent', () => {
    const file = path.join(dir, 'closed.db');
    const c = Database.open(file, { create: true });
    c.transact(SCHEMA);
    const db = c.db();
    c.close();
    const bytes = fs.readFileSync(file);
    const calls: [string, () => unknown][] = [
      ['db', () => c.db()],
      ['transact', () => c.transact([{ 'person/name': 'x' }])],
      ['listen', () => c.listen(() => undefined)],
      ['sync', () => c.sync()],
      ['refresh', () => c.refresh()],
      ['log', () => c.log()],
    ];
    for (const [name, call] of calls) {
      const error = thrown(call);
      expect(error.code, name).toBe(ErrorCode.closed);
      expect(error.message, name).toContain('closed');
    }
    c.close();
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    // A Db obtained before closing stays what it was (the pages it read are cached or reread).
    expect(db.basisT).toBeGreaterThan(0);
  });

  it('SEDIMENT_NOT_FOUND: opening a missing file without create makes no file', () => {
    const missing = path.join(dir, 'missing.db');
    for (const options of [undefined, {}, { readOnly: true }]) {
      const error = thrown(() => Database.open(missing, options));
      expect(error.code).toBe(ErrorCode.notFound);
      expect(error.message).toContain(missing);
      expect(fs.existsSync(missing)).toBe(false);
    }
  });

  it('SEDIMENT_LOCKED: a second writer is refused; the first keeps working and the file is untouched', () => {
    const bytes = fs.readFileSync(dbPath);
    const before = conn.db();
    for (const options of [undefined, { durability: 'relaxed' as const }, { create: true }]) {
      const error = thrown(() => Database.open(dbPath, options));
      expect(error.code).toBe(ErrorCode.locked);
      expect(error.message).toContain(dbPath);
    }
    expect(fs.readFileSync(dbPath).equals(bytes)).toBe(true);
    expect(conn.db()).toBe(before);
    // The refused opener must not have taken or dropped the first writer's lock.
    const report = conn.db().with([['db/add', ann, 'person/age', 31]]);
    expect(report.dbAfter.pull(['person/age'], ann)).toEqual({ 'person/age': 31 });
  });

  it('SEDIMENT_INVALID_ARGUMENT: malformed open options name the option', () => {
    const file = path.join(dir, 'options.db');
    const cases: [unknown, string][] = [
      [{ cacheBytes: -1 }, 'cacheBytes'],
      [{ durability: 'sometimes' }, 'durability'],
      [{ create: true, readOnly: true }, 'readOnly'],
      [{ colour: 'red' }, 'colour'],
    ];
    for (const [options, mention] of cases) {
      const error = thrown(() => Database.open(file, options as Parameters<typeof Database.open>[1]));
      expect(error.code).toBe(ErrorCode.invalidArgument);
      expect(error.message).toContain(mention);
      expect(fs.existsSync(file)).toBe(false);
    }
  });

  it('SEDIMENT_NOT_A_DATABASE: a file that is not a database is refused and left as it was', () => {
    const file = path.join(dir, 'not-a-db.txt');
    const content = Buffer.from('hello, this is not a database\n'.repeat(200));
    fs.writeFileSync(file, content);
    for (const options of [undefined, { readOnly: true }]) {
      const error = thrown(() => Database.open(file, options));
      expect(error.code).toBe(ErrorCode.notADatabase);
    }
    expect(fs.readFileSync(file).equals(content)).toBe(true);
  });
});
