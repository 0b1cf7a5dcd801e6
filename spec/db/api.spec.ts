/**
 * The read and write API beyond what the model test covers: EDN transaction data (keywords as
 * idents, #inst, lookup refs, tempids) against the same data in JavaScript; listeners in commit
 * order; the pull grammar's options (limit, default, as, recursion, nested reverse) and pullMany;
 * reverse refs on entities; seekDatoms and indexRange; repeated assertions of one cardinality-many
 * slot in one transaction, past the transactor's linear scan of a slot's values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Database } from '../../lib/index.js';
import type { TxReport } from '../../lib/index.js';

const SCHEMA = [
  { 'db/ident': 'p/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'p/age', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'p/friend', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/many' },
  { 'db/ident': 'p/tag', 'db/valueType': 'db.type/keyword', 'db/cardinality': 'db.cardinality/many' },
  { 'db/ident': 'p/born', 'db/valueType': 'db.type/instant', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'p/color', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'color/red' },
];

const fact = (d: { e: number; a: string; v: unknown; added: boolean }) =>
  `${d.e} ${d.a} ${d.v instanceof Date ? d.v.toISOString() : String(d.v)} ${d.added}`;

function withSchema() {
  const conn = Database.memory();
  conn.transact(SCHEMA, { txInstant: new Date(Date.UTC(2024, 0, 1)) });
  return conn;
}

describe('list forms', () => {
  // An operation keeps its list form as its site and makes the message's text only on an error;
  // the parser keeps one reference per tempid name.
  it('name one entity per tempid in every datom of it, and an error names its form', () => {
    const conn = withSchema();
    const names = ['t1', 't2', 't10', 't11'];
    const { tempids } = conn.transact(names.flatMap((t, i) => [['db/add', t, 'p/name', `N${i}`], ['db/add', t, 'p/age', i], ['db/add', t, 'p/tag', 'k']]));
    const ids = names.map((t) => tempids[t]!);
    expect(new Set(ids).size).toBe(names.length);
    ids.forEach((id, i) => expect(conn.db().pull(['p/name', 'p/age'], id)).toMatchObject({ 'p/name': `N${i}`, 'p/age': i }));
    expect(() => conn.transact([['db/add', 't1', 'p/age', 'old']])).toThrow(/^\["db\/add" "t1" "p\/age" "old"\]: p\/age: "old" is not a long$/);
  });
});

describe('EDN transaction data', () => {
  it('means what the same data in JavaScript means', () => {
    const edn = withSchema();
    const js = withSchema();
    const instant = { txInstant: new Date(Date.UTC(2024, 0, 2)) };
    const a = edn.transact(
      `[{:db/id "ann" :p/name "Ann" :p/age 30 :p/tag [:x :y] :p/born #inst "1990-05-01T00:00:00Z" :p/color :color/red}
        {:db/id -2 :p/name "Bob" :p/friend "ann"}
        [:db/add "ann" :p/friend -2]]`,
      instant,
    );
    const red = js.db().entity(['db/ident', 'color/red'])!.id;
    const b = js.transact(
      [
        { 'db/id': 'ann', 'p/name': 'Ann', 'p/age': 30, 'p/tag': ['x', 'y'], 'p/born': new Date('1990-05-01T00:00:00Z'), 'p/color': red },
        { 'db/id': -2, 'p/name': 'Bob', 'p/friend': 'ann' },
        ['db/add', 'ann', 'p/friend', -2],
      ],
      instant,
    );
    expect(a.tempids).toEqual(b.tempids);
    expect(a.tempids).toEqual({ ann: expect.any(Number), '-2': expect.any(Number) });
    expect(a.txData.map(fact)).toEqual(b.txData.map(fact));
    // Lookup refs and retraction in EDN, on both.
    const c = edn.transact('[[:db/retract [:p/name "Ann"] :p/tag :x] [:db/cas [:p/name "Bob"] :p/age nil 41]]', instant);
    const d = js.transact([['db/retract', ['p/name', 'Ann'], 'p/tag', 'x'], ['db/cas', ['p/name', 'Bob'], 'p/age', null, 41]], instant);
    expect(c.txData.map(fact)).toEqual(d.txData.map(fact));
    expect([...edn.db().datoms('eavt')].map(fact)).toEqual([...js.db().datoms('eavt')].map(fact));
  });
});

describe('listeners', () => {
  it('receive every report in commit order, after the commit, until unsubscribed', () => {
    const conn = withSchema();
    const seen: TxReport[] = [];
    const current: boolean[] = [];
    const stop = conn.listen((report) => {
      seen.push(report);
      current.push(conn.db() === report.dbAfter);
    });
    const first = conn.transact([{ 'p/name': 'A' }]);
    const second = conn.transact([{ 'p/name': 'B' }]);
    expect(() => conn.transact([{ 'p/name': 7 }])).toThrow(); // rejected: not reported
    stop();
    conn.transact([{ 'p/name': 'C' }]);
    expect(seen).toEqual([first, second]);
    expect(current).toEqual([true, true]);
    expect(seen[1]!.dbBefore).toBe(first.dbAfter);
  });
});

describe('pull', () => {
  function people() {
    const conn = withSchema();
    const { tempids } = conn.transact([
      { 'db/id': 'a', 'p/name': 'A', 'p/age': 1, 'p/tag': ['t1', 't2', 't3'], 'p/friend': ['b'] },
      { 'db/id': 'b', 'p/name': 'B', 'p/friend': ['c'] },
      { 'db/id': 'c', 'p/name': 'C', 'p/friend': ['a'] },
    ]);
    return { db: conn.db(), a: tempids.a!, b: tempids.b!, c: tempids.c! };
  }

  it('limit, default and as, in both syntaxes', () => {
    const { db, a, b } = people();
    const js = db.pull([['p/tag', 'limit', 2], ['p/age', 'default', 0, 'as', 'age'], ['p/born', 'default', 'never']], b);
    expect(js).toEqual({ age: 0, 'p/born': 'never' });
    expect(db.pull('[(limit :p/tag 2) [:p/age :as "years"]]', a)).toEqual({ 'p/tag': ['t1', 't2'], years: 1 });
    expect(db.pull('[(default :p/age 99)]', b)).toEqual({ 'p/age': 99 });
    expect((db.pull([['p/tag', 'limit', null]], a) as { 'p/tag': unknown[] })['p/tag']).toHaveLength(3);
  });

  it('recursion to a depth and without one, stopping at cycles; nested reverse refs; pullMany', () => {
    const { db, a, b, c } = people();
    expect(db.pull(['p/name', { 'p/friend': 1 }], a)).toEqual({
      'p/name': 'A',
      'p/friend': [{ 'p/name': 'B', 'p/friend': [{ 'db/id': c }] }],
    });
    // Unbounded: follows the cycle a → b → c → a once around, then names a by id.
    expect(db.pull('[:p/name {:p/friend ...}]', a)).toEqual({
      'p/name': 'A',
      'p/friend': [{ 'p/name': 'B', 'p/friend': [{ 'p/name': 'C', 'p/friend': [{ 'db/id': a }] }] }],
    });
    expect(db.pull(['p/name', { 'p/_friend': ['p/name'] }], a)).toEqual({ 'p/name': 'A', 'p/_friend': [{ 'p/name': 'C' }] });
    expect(db.pullMany(['p/name'], [a, ['p/name', 'nobody'], c])).toEqual([{ 'p/name': 'A' }, null, { 'p/name': 'C' }]);
    expect(db.pull(['p/name'], b + 1000)).toBeNull();
  });
});

describe('entity, seekDatoms, indexRange', () => {
  it('entities read refs as entities and reverse refs as arrays', () => {
    const conn = withSchema();
    const { tempids } = conn.transact([{ 'db/id': 'a', 'p/name': 'A', 'p/friend': ['b'] }, { 'db/id': 'b', 'p/name': 'B' }]);
    const b = conn.db().entity(tempids.b!)!;
    const friends = b.get('p/_friend') as { get(a: string): unknown }[];
    expect(friends.map((f) => f.get('p/name'))).toEqual(['A']);
    const a = conn.db().entity(['p/name', 'A'])!;
    expect((a.get('p/friend') as { id: number }[]).map((f) => f.id)).toEqual([tempids.b]);
    expect(a.get('p/age')).toBeUndefined();
    expect(a.toJSON()).toEqual({ 'db/id': tempids.a, 'p/name': 'A', 'p/friend': [{ 'db/id': tempids.b }] });
  });

  it('seekDatoms runs from a position to the end of the index; indexRange bounds values', () => {
    const conn = withSchema();
    conn.transact([10, 20, 30, 40].map((age) => ({ 'p/name': `n${age}`, 'p/age': age })));
    const db = conn.db();
    const ages = (datoms: Iterable<{ a: string; v: unknown }>) => [...datoms].filter((d) => d.a === 'p/age').map((d) => d.v);
    expect(ages(db.seekDatoms('avet', 'p/age', 25))).toEqual([30, 40]);
    expect(ages(db.indexRange('p/age', 20, 40))).toEqual([20, 30]);
    expect(ages(db.indexRange('p/age', undefined, 30))).toEqual([10, 20]);
    expect(ages(db.indexRange('p/age', 30))).toEqual([30, 40]);
    // seekDatoms does not stop at the attribute: the index goes on past it (p/age follows p/name).
    const after = [...db.seekDatoms('avet', 'p/name', 'n30')].map((d) => `${d.a} ${String(d.v)}`);
    expect(after).toEqual(['p/name n30', 'p/name n40', 'p/age 10', 'p/age 20', 'p/age 30', 'p/age 40']);
  });
});

describe('repeated assertions in one transaction', () => {
  it('of a cardinality-many slot count once, however many values the slot gets, and conflict with a retraction of a held value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 60 }),
        fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
        (tags, retracted) => {
          const conn = withSchema();
          const e = conn.transact([{ 'db/id': 'x', 'p/name': 'x', 'p/tag': ['t0'] }]).tempids['x']!;
          const data: unknown[] = tags.map((t) => ['db/add', e, 'p/tag', `t${t}`]);
          if (retracted !== undefined) data.push(['db/retract', e, 'p/tag', `t${retracted}`]);
          const distinct = [...new Set(tags.map((t) => `t${t}`))];
          // Only t0 holds: retracting another value is dropped, retracting t0 while asserting it a conflict.
          if (retracted === 0 && distinct.includes('t0')) {
            expect(() => conn.transact(data)).toThrow(/both asserts and retracts/);
            return;
          }
          const report = conn.transact(data);
          const added = distinct.filter((t) => t !== 't0');
          const removed = retracted === 0 ? ['t0'] : [];
          expect(report.txData.filter((d) => d.a === 'p/tag' && d.added).map((d) => d.v)).toEqual(added);
          expect(report.txData.filter((d) => d.a === 'p/tag' && !d.added).map((d) => d.v)).toEqual(removed);
          const now = [...conn.db().datoms('eavt', e, 'p/tag')].map((d) => d.v).sort();
          expect(now).toEqual([...new Set(['t0', ...added])].filter((t) => !removed.includes(t)).sort());
        },
      ),
      { numRuns: 200, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x5ed5) },
    );
  });
});
