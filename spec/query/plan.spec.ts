/**
 * Planning order: the planner may run clauses in any order its estimates favour, but never a
 * clause before the variables it needs are bound.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../../lib/index.js';

describe('query planning', () => {
  it('runs an or whose branch needs a variable only after a clause binds it, whatever the estimates', () => {
    const conn = Database.memory();
    conn.transact([
      { 'db/ident': 'file/dir', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
      { 'db/ident': 'dir/parent', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
      { 'db/ident': 'dir/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
    ]);
    const files = Array.from({ length: 50 }, (_, i) => ({ 'file/dir': i % 2 === 0 ? 'top' : 'sub' }));
    conn.transact([{ 'db/id': 'top', 'dir/name': 'top' }, { 'db/id': 'sub', 'dir/name': 'top/sub', 'dir/parent': 'top' }, ...files]);
    const rules = '[[(under ?d ?t) [?d :dir/parent ?t]] [(under ?d ?t) [?d :dir/parent ?x] (under ?x ?t)]]';
    // Two directories against fifty files: the cheapest clause binds ?top first, yet the or's
    // first branch computes ?top from ?d, which only [?f :file/dir ?d] binds.
    const query = `[:find ?name (count ?f) :in $ % :where [?f :file/dir ?d] (or [(identity ?d) ?top] (under ?d ?top))
                    [?top :dir/name ?name] [(missing? $ ?top :dir/parent)]]`;
    expect(conn.db().q(query, rules)).toEqual([['top', 50]]);
    const plan = conn.db().explain(query, rules).split('\n');
    const step = (text: string) => plan.findIndex((line) => line.includes(text));
    expect(step('[?f :file/dir ?d]')).toBeLessThan(step('(or '));
  });
});
