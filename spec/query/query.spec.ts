/**
 * The query language end to end on a small database: every find spec, input form, clause kind,
 * function, aggregate and rule form, in both syntaxes, on the latest value and on history.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Database, type Db } from '../../lib/index.js';

const sortRows = (rows: unknown) => (rows as unknown[][]).map((r) => JSON.stringify(r)).sort();

let db: Db;
let ids: Record<string, number>;
let firstTx: number;

beforeAll(() => {
  const conn = Database.memory();
  conn.transact([
    { 'db/ident': 'person/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
    { 'db/ident': 'person/age', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
    { 'db/ident': 'person/sex', 'db/valueType': 'db.type/keyword', 'db/cardinality': 'db.cardinality/one' },
    { 'db/ident': 'person/alias', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
    { 'db/ident': 'person/follows', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/many' },
    { 'db/ident': 'person/salary', 'db/valueType': 'db.type/double', 'db/cardinality': 'db.cardinality/one' },
  ]);
  const report = conn.transact([
    { 'db/id': 'ann', 'person/name': 'Ann', 'person/age': 30, 'person/sex': 'female', 'person/alias': ['A', 'Annie'], 'person/follows': ['bob'], 'person/salary': 100.5 },
    { 'db/id': 'bob', 'person/name': 'Bob', 'person/age': 40, 'person/sex': 'male', 'person/follows': ['cy'] },
    { 'db/id': 'cy', 'person/name': 'Cy', 'person/age': 30, 'person/sex': 'male', 'person/follows': ['ann'], 'person/salary': 50 },
    { 'db/id': 'dee', 'person/name': 'Dee', 'person/age': 20 },
  ]);
  firstTx = report.tx;
  ids = report.tempids as Record<string, number>;
  conn.transact([{ 'db/id': ids.dee!, 'person/age': 21 }]);
  db = conn.db();
});

describe('find specs and inputs', () => {
  it('relation, scalar, collection and tuple', () => {
    expect(sortRows(db.q('[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]'))).toEqual(sortRows([['Ann', 30], ['Bob', 40], ['Cy', 30], ['Dee', 21]]));
    expect(db.q('[:find ?a . :where [?e :person/name "Bob"] [?e :person/age ?a]]')).toBe(40);
    expect(db.q('[:find ?a . :where [?e :person/name "Nobody"] [?e :person/age ?a]]')).toBeNull();
    expect((db.q('[:find [?a ...] :where [_ :person/age ?a]]') as number[]).sort()).toEqual([21, 30, 40]);
    expect(db.q('[:find [?n ?a] :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 35)]]')).toEqual(['Bob', 40]);
    expect(db.q('[:find [?n ?a] :where [?e :person/name ?n] [?e :person/age ?a] [(> ?a 99)]]')).toBeNull();
  });

  it(':keys, :strs, :syms and :with', () => {
    expect(db.q('[:find ?n ?a :keys name age :where [?e :person/name ?n] [?e :person/age ?a] [(= ?n "Ann")]]')).toEqual([{ name: 'Ann', age: 30 }]);
    expect(db.q('[:find ?n :strs name :where [?e :person/name "Cy"] [?e :person/name ?n]]')).toEqual([{ name: 'Cy' }]);
    expect(db.q('[:find ?n :syms n :where [?e :person/name "Cy"] [?e :person/name ?n]]')).toEqual([{ n: 'Cy' }]);
    expect(db.q('[:find (sum ?a) . :where [_ :person/age ?a]]')).toBe(91);
    expect(db.q('[:find (sum ?a) . :with ?e :where [?e :person/age ?a]]')).toBe(121);
    expect(db.q('[:find ?a :with ?e :where [?e :person/age ?a]]')).toHaveLength(3);
  });

  it('every :in form, several sources and collections as sources', () => {
    const names = (r: unknown) => (r as unknown[][]).map((x) => x[0]).sort();
    expect(names(db.q('[:find ?n :in $ ?a :where [?e :person/age ?a] [?e :person/name ?n]]', 30))).toEqual(['Ann', 'Cy']);
    expect(names(db.q('[:find ?n :in $ [?a ...] :where [?e :person/age ?a] [?e :person/name ?n]]', [21, 40]))).toEqual(['Bob', 'Dee']);
    expect(names(db.q('[:find ?n :in $ [?n ?a] :where [?e :person/age ?a] [?e :person/name ?n]]', ['Bob', 40]))).toEqual(['Bob']);
    expect(names(db.q('[:find ?n :in $ [[?n ?a]] :where [?e :person/age ?a] [?e :person/name ?n]]', [['Bob', 40], ['Ann', 31], ['Cy', 30]]))).toEqual(['Bob', 'Cy']);
    expect(names(db.q('[:find ?n :in $ $old :where [$old ?e :person/age 20] [?e :person/name ?n]]', db.asOf(firstTx)))).toEqual(['Dee']);
    expect(sortRows(db.q('[:find ?n ?c :in $ $colors :where [?e :person/name ?n] [$colors ?n ?c]]', [['Ann', 'red'], ['Bob', 'blue'], ['Zed', 'green']]))).toEqual(sortRows([['Ann', 'red'], ['Bob', 'blue']]));
    expect(db.q('[:find ?x :in $ _ ?x]', 1, 2)).toEqual([[2]]);
  });

  it('the array form', () => {
    const r = db.q([':find', '?n', ':in', '$', '?min', ':where', ['?e', 'person/age', '?a'], [['>=', '?a', '?min']], ['?e', 'person/name', '?n'], ['not', ['?e', 'person/sex', ':male']]], 25);
    expect(r).toEqual([['Ann']]);
    expect(db.q({ find: ['?n'], where: [['?e', 'person/name', '?n'], ['?e', 'person/age', 40]] })).toEqual([['Bob']]);
  });

  it('pull in :find, with a literal pattern or one given as input', () => {
    expect(db.q('[:find (pull ?e [:person/name {:person/follows [:person/name]}]) . :where [?e :person/name "Ann"]]')).toEqual({ 'person/name': 'Ann', 'person/follows': [{ 'person/name': 'Bob' }] });
    expect(db.q('[:find ?a (pull ?e pattern) :in $ pattern :where [?e :person/age ?a] [(> ?a 35)]]', ['person/name'])).toEqual([[40, { 'person/name': 'Bob' }]]);
  });
});

describe('clauses', () => {
  it('patterns with constants, lookup refs and idents in entity position, refs by lookup ref', () => {
    expect(db.q('[:find ?a . :where [[:person/name "Cy"] :person/age ?a]]')).toBe(30);
    expect(db.q('[:find ?n . :where [?e :person/follows [:person/name "Cy"]] [?e :person/name ?n]]')).toBe('Bob');
    expect(db.q('[:find ?t . :where [:person/age :db/valueType ?t]]')).toBe('db.type/long');
    expect(db.q('[:find ?e . :where [?e :person/name "Nobody"]]')).toBeNull();
    expect(db.q('[:find ?n . :where [[:person/name "Nobody"] :person/name ?n]]')).toBeNull();
    expect((db.q('[:find [?a ...] :where [?e :person/name "Ann"] [?e ?a]]') as string[]).sort()).toEqual(['person/age', 'person/alias', 'person/follows', 'person/name', 'person/salary', 'person/sex']);
    expect(db.q('[:find ?x . :where [?x :person/follows ?x]]')).toBeNull();
  });

  it('predicates and function expressions with every binding form', () => {
    expect(db.q('[:find [?n ...] :where [?e :person/name ?n] [(starts-with? ?n "A")]]')).toEqual(['Ann']);
    expect(sortRows(db.q('[:find ?n ?s :where [?e :person/name ?n] [?e :person/age ?a] [(* ?a 2) ?d] [(str ?n "-" ?d) ?s] [(< ?a 25)]]'))).toEqual(sortRows([['Dee', 'Dee-42']]));
    expect(db.q('[:find ?x ?y :where [(ground [1 2]) [?x ?y]]]')).toEqual([[1, 2]]);
    expect(sortRows(db.q('[:find ?x :where [(ground [1 2 3]) [?x ...]]]'))).toEqual(sortRows([[1], [2], [3]]));
    expect(sortRows(db.q('[:find ?x ?y :where [(ground [[1 :a] [2 :b]]) [[?x ?y]]]]'))).toEqual(sortRows([[1, 'a'], [2, 'b']]));
    expect(db.q('[:find ?t . :where [?e :person/name "Bob"] [?e :person/age ?a] [(tuple ?e ?a) ?t]]')).toEqual([ids.bob, 40]);
    expect(db.q('[:find ?a . :where [(ground [7 8]) ?t] [(untuple ?t) [_ ?a]]]')).toBe(8);
    expect(db.q('[:find ?n . :where [?e :person/name ?n] [(get-else $ ?e :person/sex :none) ?s] [(= ?s :none)]]')).toBe('Dee');
    expect(db.q('[:find ?n . :where [?e :person/name ?n] [(missing? $ ?e :person/follows)]]')).toBe('Dee');
    expect(db.q('[:find ?s . :where [?e :person/name "Ann"] [(get-some $ ?e :person/salary :person/age) [_ ?s]]]')).toBe(100.5);
    expect(db.q('[:find ?s . :where [?e :person/name "Dee"] [(get-some $ ?e :person/sex :person/age) ?s]]')).toEqual(['person/age', 21]);
    // A function result unifies with a variable bound already.
    expect(db.q('[:find [?n ...] :where [?e :person/name ?n] [?e :person/age ?a] [(+ 10 20) ?a]]')).toHaveLength(2);
    // Functions passed as inputs.
    expect(db.q('[:find [?n ...] :in $ ?long? :where [?e :person/name ?n] [(?long? ?n)]]', (n: string) => n.length > 2)).toEqual(['Ann', 'Bob', 'Dee']);
    expect(db.q('[:find ?x . :where [(re-find #"b+" "abbbc") ?x]]'.replace('#"b+"', '"b+"'))).toBe('bbb');
  });

  it('not, not-join, or, or-join and and', () => {
    const names = (q: string) => (db.q(q) as string[]).slice().sort();
    expect(names('[:find [?n ...] :where [?e :person/name ?n] (not [?e :person/sex :male])]')).toEqual(['Ann', 'Dee']);
    expect(names('[:find [?n ...] :where [?e :person/name ?n] (not-join [?e] [?e :person/follows ?f] [?f :person/sex :male])]')).toEqual(['Cy', 'Dee']);
    expect(names('[:find [?n ...] :where [?e :person/name ?n] (or [?e :person/age 40] [?e :person/sex :female])]')).toEqual(['Ann', 'Bob']);
    expect(names('[:find [?n ...] :where [?e :person/name ?n] (or-join [?e] [?e :person/alias _] (and [?e :person/age ?a] [(< ?a 25)]))]')).toEqual(['Ann', 'Dee']);
    expect(names('[:find [?n ...] :where (or-join [[?e] ?n] [?e :person/name ?n]) [?e :person/age 30]]')).toEqual(['Ann', 'Cy']);
    expect(names('[:find [?n ...] :where [?e :person/name ?n] (not (or [?e :person/age 30] [?e :person/age 40]))]')).toEqual(['Dee']);
    // An or-join whose branch reads a variable another, unconnected clause binds waits for it.
    expect(names('[:find [?n ...] :where [?e :person/name ?n] (or-join [?e ?a] (and [?e :person/age ?z] [(< ?z ?a)]) [?e :person/age ?a]) [?x :person/name "Dee"] [?x :person/age ?a]]')).toEqual(['Dee']);
  });

  it('rules: recursive, bound and unbound calls, required variables, cycles, sources', () => {
    const rules = '[[(follows ?x ?y) [?x :person/follows ?y]] [(follows ?x ?y) [?x :person/follows ?t] (follows ?t ?y)]]';
    // Ann → Bob → Cy → Ann: a cycle, so everyone reaches everyone (themselves included).
    expect(db.q('[:find ?x ?y :in $ % :where (follows ?x ?y)]', rules)).toHaveLength(9);
    expect((db.q('[:find [?n ...] :in $ % :where [?a :person/name "Bob"] (follows ?a ?b) [?b :person/name ?n]]', rules) as string[]).sort()).toEqual(['Ann', 'Bob', 'Cy']);
    expect(db.q('[:find [?y ...] :in $ % :where (follows [:person/name "Dee"] ?y)]', rules)).toEqual([]);
    const required = '[[(older [?a] ?b) [?a :person/age ?x] [?b :person/age ?y] [(> ?x ?y)]]]';
    expect((db.q('[:find [?n ...] :in $ % :where [?a :person/name "Ann"] (older ?a ?b) [?b :person/name ?n]]', required) as string[])).toEqual(['Dee']);
    const nonRecursive = [[['adult', '?p'], ['?p', 'person/age', '?a'], [['>=', '?a', 30]]]];
    expect((db.q('[:find [?n ...] :in $ % :where (adult ?p) [?p :person/name ?n]]', nonRecursive) as string[]).sort()).toEqual(['Ann', 'Bob', 'Cy']);
    // Mutual recursion: even and odd distances along follows.
    const parity = '[[(even ?x ?y) [?x :person/follows ?t] (odd ?t ?y)] [(odd ?x ?y) [?x :person/follows ?y]] [(odd ?x ?y) [?x :person/follows ?t] (even ?t ?y)]]';
    expect(db.q('[:find ?x ?y :in $ % :where (even ?x ?y)]', parity)).toHaveLength(9);
    expect(db.q('[:find [?y ...] :in $ % :where [?x :person/name "Dee"] (odd ?x ?y)]', parity)).toEqual([]);
    expect(db.q('[:find (count ?y) . :in $ $old % :where [?x :person/name "Ann"] ($old follows ?x ?y)]', db.asOf(firstTx), rules)).toBe(3);
  });

  it('history positions ?tx ?added on history and as-of databases', () => {
    const h = db.history();
    expect(sortRows(h.q('[:find ?a ?added :where [?e :person/name "Dee"] [?e :person/age ?a ?tx ?added]]'))).toEqual(sortRows([[20, true], [20, false], [21, true]]));
    expect(db.asOf(firstTx).q('[:find ?a . :where [?e :person/name "Dee"] [?e :person/age ?a]]')).toBe(20);
    expect(db.since(firstTx).q('[:find ?a ?tx :where [?e :person/age ?a ?tx]]')).toEqual([[21, db.basisT]]);
    expect(h.q('[:find ?a . :in $ ?t :where [?e :person/age ?a ?t false]]', db.basisT)).toBe(20);
  });
});

describe('aggregates', () => {
  it('every built-in aggregate', () => {
    const r = db.q('[:find (count ?a) (count-distinct ?a) (sum ?a) (avg ?a) (median ?a) (variance ?a) (stddev ?a) (min ?a) (max ?a) (distinct ?a) (min 2 ?a) (max 2 ?a) :with ?e :where [?e :person/age ?a]]') as unknown[][];
    expect(r).toHaveLength(1);
    const [count, countDistinct, sum, avg, median, variance, stddev, min, max, distinct, min2, max2] = r[0]!;
    expect([count, countDistinct, sum, avg, median, min, max]).toEqual([4, 3, 121, 30.25, 30, 21, 40]);
    expect(variance).toBeCloseTo(45.1875, 10);
    expect(stddev).toBeCloseTo(Math.sqrt(45.1875), 10);
    expect((distinct as number[]).sort()).toEqual([21, 30, 40]);
    expect(min2).toEqual([21, 30]);
    expect(max2).toEqual([40, 30]);
  });

  it('groups by the other find variables; custom aggregates as inputs', () => {
    expect(sortRows(db.q('[:find ?s (count ?e) :where [?e :person/sex ?s]]'))).toEqual(sortRows([['female', 1], ['male', 2]]));
    expect(db.q('[:find (aggregate ?f ?a) . :in $ ?f :with ?e :where [?e :person/age ?a]]', (xs: number[]) => xs.length * 100)).toBe(400);
    expect(db.q('[:find (?f ?a) . :in $ ?f :where [?e :person/age ?a]]', (xs: number[]) => Math.max(...xs))).toBe(40);
    expect(db.q('[:find (median ?a) . :where [_ :person/age ?a] [(< ?a 35)]]')).toBe(25.5);
    expect(db.q('[:find (count ?e) . :where [?e :person/age 99]]')).toBeNull();
  });
});

describe('plans', () => {
  it('explain shows order, index and prefix, pushed-down filters and joins', () => {
    const plan = db.explain('[:find ?n :in $ ?min :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a ?min)] [?e :person/sex :male]]', 30);
    expect(plan.split('\n')).toEqual([
      'inputs bind: ?min',
      '1. [?e :person/sex :male]  AEVT [:person/sex] est. 3',
      '2. [?e :person/name ?n]  EAVT [?e :person/name] est. 2; joins ?e: seek per binding or scan + hash join, by row count',
      '3. [?e :person/age ?a]  EAVT [?e :person/age] est. 2; values >= 30, compared in the scan; joins ?e: seek per binding or scan + hash join, by row count',
      '4. [(>= ?a ?min)]  filter',
      'find: ?n',
    ]);
    expect(db.explain('[:find ?e :where [?e :person/age 30]]')).toContain('AVET [:person/age 30]');
    // Comparisons on an indexed attribute scanned on its own: the AVET range between the bounds.
    expect(db.explain('[:find ?e :where [?e :person/age ?a] [(> ?a 30)] [(<= 50 ?a)]]')).toContain('AVET [:person/age] est. 4; values >= 50, compared in the scan');
    expect(db.explain('[:find ?e :where [?e :person/salary ?s] [(< ?s 10.5)] [(> ?s 2)]]')).toContain('AEVT [:person/salary] est. 2; values > 2 and < 10.5, compared in the scan');
    // Not numbers, or not fixed for the whole scan: nothing pushed.
    expect(db.explain('[:find ?e :where [?e :person/name ?n] [(> ?n "b")]]')).not.toContain('values');
    expect(db.explain('[:find ?x :in $ % :where (r ?x)]', '[[(r ?x) [?x :person/age 30]]]')).toContain('semi-naive');
  });

  it('plans are cached per query text and database value, and give the same results', () => {
    const q = '[:find ?n :where [?e :person/age 30] [?e :person/name ?n]]';
    const first = sortRows(db.q(q));
    expect(sortRows(db.q(q))).toEqual(first);
    expect(sortRows(db.asOf(firstTx).q(q))).toEqual(first);
  });
});
