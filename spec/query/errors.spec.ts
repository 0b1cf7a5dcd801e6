/**
 * Every query error code: a QueryError (a SedimentError) with the stable code, a message that
 * names the clause and where it stands.
 */
import { describe, expect, it } from 'vitest';
import { Database, ErrorCode, QueryError } from '../../lib/index.js';

const conn = Database.memory();
conn.transact([
  { 'db/ident': 'p/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'p/age', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'p/tags', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
]);
conn.transact([{ 'p/name': 'Ann', 'p/age': 30, 'p/tags': ['a'] }]);
const db = conn.db();

function errorOf(query: unknown, ...inputs: unknown[]): QueryError {
  try {
    db.q(query, ...inputs);
  } catch (error) {
    expect(error).toBeInstanceOf(QueryError);
    return error as QueryError;
  }
  throw new Error('no error');
}

const cases: { code: string; what: string; query: unknown; inputs?: unknown[]; message: string }[] = [
  { code: ErrorCode.queryParse, what: 'malformed query', query: '[:find ?e :where [?e :p/name foo]]', message: 'foo is not a variable, _ or a constant (:where clause 1: [?e :p/name foo])' },
  { code: ErrorCode.queryParse, what: 'not EDN', query: '[:find ?e :where [?e', message: 'query is not valid EDN' },
  { code: ErrorCode.queryParse, what: 'more than one form', query: '[:find ?e :where [?e :p/age]] [?e :p/name]', message: 'query is not one EDN form but 2' },
  { code: ErrorCode.queryParse, what: 'rule called with the wrong arity', query: '[:find ?e :in $ % :where (r ?e ?f)]', inputs: ['[[(r ?x) [?x :p/age]]]'], message: 'rule r takes 1 arguments, called with 2 (:where clause 1: (r ?e ?f))' },
  { code: ErrorCode.queryUnbound, what: 'unbound predicate variable', query: '[:find ?e :where [?e :p/age ?a] [(> ?a ?b)]]', message: '?b is not bound by any clause before this expression can run (:where clause 2: [(> ?a ?b)])' },
  { code: ErrorCode.queryUnbound, what: 'unbound function argument', query: '[:find ?e ?s :where [?e :p/age] [(str ?x) ?s]]', message: '?x is not bound' },
  { code: ErrorCode.queryUnbound, what: 'unbound find variable', query: '[:find ?e ?zzz :where [?e :p/age]]', message: '?zzz is not bound by :in or :where (:find element 2: ?zzz)' },
  { code: ErrorCode.queryUnbound, what: 'unbound :with variable', query: '[:find ?e :with ?w :where [?e :p/age]]', message: '(:with element 1: ?w)' },
  { code: ErrorCode.queryInsufficientBinding, what: 'not sharing nothing', query: '[:find ?e :where [?e :p/age] (not [?x :p/name "Bob"])]', message: 'none of the variables of not (?x) is bound outside it (:where clause 2: (not [?x :p/name "Bob"]))' },
  { code: ErrorCode.queryInsufficientBinding, what: 'not-join variable never bound', query: '[:find ?e :where [?e :p/age] (not-join [?e ?y] [?e :p/name ?y])]', message: 'join variables ?y of not-join are not bound' },
  { code: ErrorCode.queryInsufficientBinding, what: 'or branches over different variables', query: '[:find ?e :where [?e :p/age] (or [?e :p/name "A"] [?x :p/name "B"])]', message: 'every branch of or must use the same variables' },
  { code: ErrorCode.queryInsufficientBinding, what: 'or-join required variable never bound', query: '[:find ?e :where (or-join [[?x] ?e] [?e :p/age ?x])]', message: 'required variables ?x of or-join are not bound' },
  { code: ErrorCode.queryInsufficientBinding, what: 'or-join branch not binding a join variable', query: '[:find ?e ?n :where [?e :p/age] (or-join [?e ?n] [?e :p/name ?n] [?e :p/age 3])]', message: 'a branch of or-join does not bind ?n' },
  { code: ErrorCode.queryInsufficientBinding, what: 'rule required argument unbound', query: '[:find ?x :in $ % :where (r ?x ?y)]', inputs: ['[[(r [?a] ?b) [?a :p/age ?b]]]'], message: 'required arguments ?x of rule r are not bound (:where clause 1: (r ?x ?y))' },
  { code: ErrorCode.queryInsufficientBinding, what: 'rule head not bound by its body', query: '[:find ?x ?y :in $ % :where (r ?x ?y)]', inputs: ['[[(r ?a ?b) [?a :p/age]]]'], message: 'the head variables ?b of rule r are not bound by its body (rule r branch 1)' },
  { code: ErrorCode.queryUnknownFunction, what: 'unknown function', query: '[:find ?e :where [?e :p/age ?a] [(frobnicate ?a)]]', message: 'unknown function frobnicate' },
  { code: ErrorCode.queryUnknownFunction, what: 'unknown aggregate', query: '[:find (frob ?a) :where [?e :p/age ?a]]', message: 'unknown aggregate frob' },
  { code: ErrorCode.queryUnknownFunction, what: 'input that is not a function', query: '[:find ?e :in $ ?f :where [?e :p/age ?a] [(?f ?a)]]', inputs: [42], message: '?f is not bound to a function' },
  { code: ErrorCode.queryUnknownRule, what: 'rule without rules', query: '[:find ?e :where (r ?e)]', message: 'no rule named r (the query has no % input) (:where clause 1: (r ?e))' },
  { code: ErrorCode.queryUnknownRule, what: 'unknown rule name', query: '[:find ?e :in $ % :where (s ?e)]', inputs: ['[[(r ?x) [?x :p/age]]]'], message: 'no rule named s' },
  { code: ErrorCode.queryInput, what: 'too few inputs', query: '[:find ?e :in $ ?a :where [?e :p/age ?a]]', message: ':in takes 1 input after $ (the database queried), 0 given' },
  { code: ErrorCode.queryInput, what: 'a source that is neither a Db nor tuples', query: '[:find ?e :in $ $x :where [$x ?e :p/age]]', inputs: [5], message: 'source $x must be a Db or an array of tuples (:in element 2)' },
  { code: ErrorCode.queryInput, what: 'a collection that is not an array', query: '[:find ?e :in $ [?a ...] :where [?e :p/age ?a]]', inputs: [30], message: 'expected a collection' },
  { code: ErrorCode.queryInput, what: 'a short tuple', query: '[:find ?e :in $ [?a ?b] :where [?e :p/age ?a]]', inputs: [[30]], message: 'expected a tuple of 2, got 1 values' },
  { code: ErrorCode.queryInput, what: 'an unknown source in a clause', query: '[:find ?e :where [$nope ?e :p/age]]', message: 'source $nope is not given in :in' },
  { code: ErrorCode.queryFunction, what: 'arithmetic on a string', query: '[:find ?x :where [?e :p/name ?n] [(+ ?n 1) ?x]]', message: '+ failed: + takes numbers, got "Ann" (:where clause 2: [(+ ?n 1) ?x])' },
  { code: ErrorCode.queryFunction, what: 'a tuple binding of a scalar', query: '[:find ?x :where [(ground 1) [?x ?y]]]', message: 'a tuple binding needs a tuple' },
  { code: ErrorCode.queryFunction, what: 'a failing aggregate', query: '[:find (sum ?n) :where [?e :p/name ?n]]', message: 'aggregate failed: sum takes numbers' },
  { code: ErrorCode.queryFunction, what: 'get-else on a cardinality-many attribute', query: '[:find ?t :where [?e :p/age] [(get-else $ ?e :p/tags "x") ?t]]', message: 'get-else takes a cardinality-one attribute' },
  { code: ErrorCode.unknownAttribute, what: 'unknown attribute in a pattern', query: '[:find ?e :where [?e :p/age] [?e :p/nope ?x]]', message: 'unknown attribute :p/nope (:where clause 2: [?e :p/nope ?x])' },
  { code: ErrorCode.unknownAttribute, what: 'unknown attribute in missing?', query: '[:find ?e :where [?e :p/age] [(missing? $ ?e :p/nope)]]', message: 'unknown attribute "p/nope" (:where clause 2: [(missing? $ ?e :p/nope)])' },
];

describe('query errors', () => {
  for (const c of cases) {
    it(`${c.code}: ${c.what}`, () => {
      const error = errorOf(c.query, ...(c.inputs ?? []));
      expect(error.code).toBe(c.code);
      expect(error.message).toContain(c.message);
      expect(error.message.startsWith('query: ')).toBe(true);
    });
  }

  it('covers every query code', () => {
    const codes = Object.values(ErrorCode).filter((c) => c.startsWith('SEDIMENT_QUERY_'));
    expect(codes.filter((c) => !cases.some((x) => x.code === c))).toEqual([]);
  });
});
