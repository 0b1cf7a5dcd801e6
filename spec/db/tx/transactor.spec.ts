/**
 * The transactor keeps one slot per (entity, attribute) to find repeats and conflicts. While an
 * attribute's assertions come in entity order it keeps only the last entity's slot, and switches
 * to slots by entity when one comes out of order: repeats and conflicts must be found either way.
 */
import { describe, expect, it } from 'vitest';
import { Database } from '../../../lib/db/database.js';
import { SCHEMA } from '../../support/k-workload.js';

function fresh() {
  const conn = Database.memory();
  conn.transact(SCHEMA);
  return conn;
}

const added = (tx: unknown[]) => fresh().transact(tx).txData.length - 1;

describe('repeats and conflicts in one transaction', () => {
  it('finds them in entity order and out of it', () => {
    // Cardinality one: a second value for an entity seen earlier, after another entity.
    expect(() => fresh().transact([['db/add', 'a', 'k/name', 'x'], ['db/add', 'b', 'k/name', 'y'], ['db/add', 'a', 'k/name', 'z']])).toThrow(
      expect.objectContaining({ code: 'SEDIMENT_DATOM_CONFLICT' }),
    );
    expect(added([['db/add', 'a', 'k/name', 'x'], ['db/add', 'b', 'k/name', 'y'], ['db/add', 'a', 'k/name', 'x']])).toBe(2);
    expect(added([['db/add', 'a', 'k/name', 'x'], ['db/add', 'a', 'k/n', 1], ['db/add', 'a', 'k/name', 'x']])).toBe(2);
    // Cardinality many: repeats collapse, whatever came between them.
    expect(added([['db/add', 'a', 'k/tags', 't/1'], ['db/add', 'b', 'k/tags', 't/1'], ['db/add', 'a', 'k/tags', 't/1'], ['db/add', 'a', 'k/tags', 't/2']])).toBe(3);
    // Another attribute's order breaks first: every attribute's slots so far must survive the switch.
    expect(() =>
      fresh().transact([['db/add', 'a', 'k/name', 'x'], ['db/add', 'b', 'k/n', 1], ['db/add', 'a', 'k/n', 2], ['db/add', 'a', 'k/name', 'y']]),
    ).toThrow(expect.objectContaining({ code: 'SEDIMENT_DATOM_CONFLICT' }));
  });

  it('collapses repeats in a slot of many values out of entity order', () => {
    const tags = (e: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => ['db/add', e, 'k/tags', `t/${from + i}`]);
    // Twelve values (past the slot's scan limit), another entity, then the same twelve again.
    expect(added([...tags('a', 0, 12), ...tags('b', 0, 3), ...tags('a', 0, 12), ...tags('a', 12, 14)])).toBe(17);
  });
});
