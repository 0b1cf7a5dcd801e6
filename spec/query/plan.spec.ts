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

  it('runs a function that throws on some values only on rows the clauses written before it let through', () => {
    const conn = Database.memory();
    conn.transact([
      { 'db/ident': 'item/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
      { 'db/ident': 'item/parent', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
      { 'db/ident': 'list/kind', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
      { 'db/ident': 'list/item', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/many' },
    ]);
    const items = Array.from({ length: 40 }, (_, i) => ({ 'db/id': `i${i}`, 'item/name': `item ${i}`, ...(i % 2 === 0 ? { 'item/parent': 'i1' } : {}) }));
    conn.transact([...items, { 'list/kind': 'short', 'list/item': ['i0', 'i1', 'i2'] }]);
    // [?l ?attr ?i] is cheaper than [?i :item/name ?n] once ?l is bound, so it runs first and binds
    // ?i to the string "short" too; missing? would throw on it, but the first pattern drops it.
    const query = `[:find ?n :where [?i :item/name ?n] [?l :list/kind "short"] [?l ?attr ?i] [(missing? $ ?i :item/parent)]]`;
    expect(conn.db().q(query)).toEqual([['item 1']]);
    const plan = conn.db().explain(query).split('\n');
    const step = (text: string) => plan.findIndex((line) => line.includes(text));
    expect(step('[?l ?attr ?i]')).toBeLessThan(step('[?i :item/name ?n]'));
    expect(step('[?i :item/name ?n]')).toBeLessThan(step('missing?'));
  });

  it('still runs such a function early when it is written before the clauses it could wait for', () => {
    const conn = Database.memory();
    conn.transact([
      { 'db/ident': 'n/value', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one' },
      { 'db/ident': 'n/label', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
    ]);
    conn.transact(Array.from({ length: 20 }, (_, i) => ({ 'n/value': i, 'n/label': `n${i}` })));
    const query = '[:find ?l :where [?e :n/value ?v] [(inc ?v) ?w] [(> ?w 18)] [?e :n/label ?l]]';
    expect(conn.db().q(query)).toEqual([['n18'], ['n19']]);
    const plan = conn.db().explain(query).split('\n');
    const step = (text: string) => plan.findIndex((line) => line.includes(text));
    expect(step('(inc ?v)')).toBeLessThan(step('[?e :n/label ?l]'));
  });

  it('runs such a function on an entity variable as soon as a pattern binds it in entity position', () => {
    const conn = Database.memory();
    conn.transact([
      { 'db/ident': 'dir/path', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
      { 'db/ident': 'dir/parent', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
      { 'db/ident': 'file/dir', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
    ]);
    const dirs = Array.from({ length: 30 }, (_, i) => ({ 'db/id': `d${i}`, 'dir/path': `d${i}`, ...(i >= 3 ? { 'dir/parent': `d${i % 3}` } : {}) }));
    conn.transact([...dirs, ...Array.from({ length: 60 }, (_, i) => ({ 'file/dir': `d${i % 30}` }))]);
    const rules = '[[(within ?d ?top) [?d :dir/path _] [(identity ?d) ?top]] [(within ?d ?top) [?d :dir/parent ?p] (within ?p ?top)]]';
    // The demo's query shape: missing? is written after the rule, yet [?top :dir/path ?name]
    // already holds ?top to entity ids, so it filters before the rule runs from every directory.
    const query = `[:find ?name (count ?f) :in $ % :where [?f :file/dir ?d] (within ?d ?top) [(missing? $ ?top :dir/parent)] [?top :dir/path ?name]]`;
    expect((conn.db().q(query, rules) as [string, number][]).sort()).toEqual([['d0', 20], ['d1', 20], ['d2', 20]]);
    const plan = conn.db().explain(query, rules).split('\n');
    const step = (text: string) => plan.findIndex((line) => line.includes(text));
    expect(step('[?top :dir/path ?name]')).toBeLessThan(step('missing?'));
    expect(step('missing?')).toBeLessThan(step('(within ?d ?top)'));
  });
});
