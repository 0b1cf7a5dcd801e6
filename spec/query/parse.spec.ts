/**
 * The query parser: both syntaxes give the same AST, and every malformed query is a
 * SEDIMENT_QUERY_PARSE QueryError naming the offending form and where it stands.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, QueryError } from '../../lib/errors.js';
import { parseQuery, parseRules } from '../../lib/query/parse.js';

function parseError(query: unknown): QueryError {
  try {
    parseQuery(query);
  } catch (error) {
    expect(error).toBeInstanceOf(QueryError);
    return error as QueryError;
  }
  throw new Error('no error');
}

describe('query parser', () => {
  it('reads EDN and the array form to the same AST', () => {
    const edn = parseQuery('[:find ?n (count ?e) :in $ ?min [?x ...] :where [?e :person/name ?n] [?e :person/age ?a] [(>= ?a ?min)] (not [?e :person/sex :male]) (or [?e :a/b 1] (and [?e :a/c ?x] [(str ?x) ?s]))]');
    const js = parseQuery([
      ':find', '?n', ['count', '?e'], ':in', '$', '?min', ['?x', '...'], ':where',
      ['?e', 'person/name', '?n'], ['?e', ':person/age', '?a'], [['>=', '?a', '?min']],
      ['not', ['?e', 'person/sex', ':male']], ['or', ['?e', 'a/b', 1], ['and', ['?e', 'a/c', '?x'], [['str', '?x'], '?s']]],
    ]);
    // Equal but for the clause text kept for messages, which shows each syntax as written.
    const withoutText = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'text' ? undefined : v)));
    expect(withoutText(js)).toEqual(withoutText(edn));
    expect(edn.where.map((c) => c.kind)).toEqual(['pattern', 'pattern', 'predicate', 'not', 'or']);
    expect(edn.find.kind).toBe('relation');
    expect(edn.in.map((b) => b.kind)).toEqual(['source', 'scalar', 'collection']);
  });

  it('reads every find spec, :keys, :with and binding form', () => {
    expect(parseQuery('[:find ?a . :where [?a :x/y]]').find.kind).toBe('scalar');
    expect(parseQuery('[:find [?a ...] :where [?a :x/y]]').find.kind).toBe('collection');
    expect(parseQuery('[:find [?a ?b] :where [?a :x/y ?b]]').find.kind).toBe('tuple');
    const q = parseQuery('[:find ?a (pull ?a [*]) (min 2 ?b) (aggregate ?f ?b) :keys a p m f :with ?c :in $ ?f [[?x _]] [?t ?u] :where [?a :x/y ?b ?c]]');
    expect(q.keys).toEqual(['a', 'p', 'm', 'f']);
    expect(q.with).toEqual(['?c']);
    expect(q.in.map((b) => b.kind)).toEqual(['source', 'scalar', 'relation', 'tuple']);
    expect(q.find.kind === 'relation' && q.find.elements.map((e) => e.kind)).toEqual(['var', 'pull', 'aggregate', 'aggregate']);
    const map = parseQuery('{:find [?a] :where [[?a :x/y]]}');
    expect(map.where).toHaveLength(1);
  });

  it('reads rules with required variables', () => {
    const rules = parseRules('[[(follows [?x] ?y) [?x :f ?y]] [(follows [?x] ?y) [?x :f ?t] (follows ?t ?y)]]');
    const branches = rules.get('follows')!;
    expect(branches).toHaveLength(2);
    expect(branches[0]!.required).toBe(1);
    expect(branches[1]!.clauses.map((c) => c.kind)).toEqual(['pattern', 'rule']);
  });

  const malformed: [string, unknown, string][] = [
    ['not EDN', '[:find ?a :where [?a', 'query'],
    ['no :find', '[:where [?a :x/y]]', ':find'],
    ['unknown section', '[:find ?a :from [?a :x/y]]', ':from'],
    ['section given twice', '[:find ?a :where [?a :x/y] :where [?a :x/z]]', ':where'],
    ['not a query', '42', 'query'],
    ['bad find element', '[:find 42 :where [?a :x/y]]', ':find element 1'],
    ['aggregate without a variable', '[:find (count) :where [?a :x/y]]', ':find element 1'],
    ['keys of the wrong width', '[:find ?a ?b :keys a :where [?a :x/y ?b]]', ':keys'],
    ['keys on a scalar find', '[:find ?a . :keys a :where [?a :x/y]]', ':keys'],
    ['two key kinds', '[:find ?a :keys a :strs a :where [?a :x/y]]', ':strs'],
    ['with of a constant', '[:find ?a :with 1 :where [?a :x/y]]', ':with element 1'],
    ['bad :in binding', '[:find ?a :in $ 5 :where [?a :x/y]]', ':in element 2'],
    ['a clause that is not a list', '[:find ?a :where ?a]', ':where clause 1'],
    ['a pattern too long', '[:find ?a :where [?a :x/y 1 2 true 6]]', ':where clause 1'],
    ['a symbol constant', '[:find ?a :where [?a :x/y foo]]', ':where clause 1'],
    ['and outside or', '[:find ?a :where (and [?a :x/y])]', ':where clause 1'],
    ['not-join without vars', '[:find ?a :where [?a :x/y] (not-join [] [?a :x/z])]', ':where clause 2'],
    ['or without branches', '[:find ?a :where [?a :x/y] (or)]', ':where clause 2'],
    ['nested clause', '[:find ?a :where [?a :x/y] (or [?a :x/z 1] (and))]', ':where clause 2, or branch 2'],
    ['pull without a variable', '[:find (pull [*]) :where [?a :x/y]]', ':find element 1'],
  ];
  for (const [what, query, position] of malformed) {
    it(`rejects ${what} with SEDIMENT_QUERY_PARSE naming ${position}`, () => {
      const error = parseError(query);
      expect(error.code).toBe(ErrorCode.queryParse);
      expect(error.message).toContain(position === 'query' && typeof query === 'string' && query.startsWith('[:find ?a :where [?a') ? 'not valid EDN' : position);
    });
  }

  it('names the clause in the message', () => {
    const error = parseError('[:find ?a :where [?a :x/y] [?a :x/y foo]]');
    expect(error.position).toBe(':where clause 2');
    expect(error.clause).toBe('[?a :x/y foo]');
    expect(error.message).toBe('query: foo is not a variable, _ or a constant (:where clause 2: [?a :x/y foo])');
  });

  it('rejects malformed rules', () => {
    const codeOf = (rules: unknown) => {
      try {
        parseRules(rules);
        return 'no error';
      } catch (error) {
        return `${(error as QueryError).code} ${(error as QueryError).message}`;
      }
    };
    expect(codeOf('[[(r ?a) [?a :x/y]] [(r ?a ?b) [?a :x/y ?b]]]')).toContain('every branch of rule r takes the same number');
    expect(codeOf('[[(r ?a ?a) [?a :x/y]]]')).toContain('repeats a variable');
    expect(codeOf('[(r ?a)]')).toContain('a rule branch is');
    expect(codeOf('{:a 1}')).toContain('rules are a vector');
    expect(codeOf('[[(r 1) [?a :x/y]]]')).toContain('a rule head lists variables');
    for (const r of ['[[(r ?a ?a) [?a :x/y]]]', '[(r ?a)]', '{:a 1}']) expect(codeOf(r)).toMatch(/^SEDIMENT_QUERY_PARSE/);
  });
});
