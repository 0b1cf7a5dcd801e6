/**
 * indexRange against a model: AVET datoms of one attribute with values in [start, end), on the
 * latest database, a past one and the history, for random values and bounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Database } from '../../lib/index.js';

describe('indexRange', () => {
  it('yields the values in [start, end) in value order, as of any commit, with history', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        fc.option(fc.integer({ min: -60, max: 60 }), { nil: undefined }),
        fc.option(fc.integer({ min: -60, max: 60 }), { nil: undefined }),
        (rounds, start, end) => {
          const conn = Database.memory();
          conn.transact([{ 'db/ident': 'n/v', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true }]);
          // Entity k takes value rounds[r][k] in round r: later rounds change (and so retract) earlier values.
          const ids: number[] = [];
          const txs: number[] = [];
          const states: Map<number, number>[] = [];
          const state = new Map<number, number>();
          for (const round of rounds) {
            const report = conn.transact(round.map((v, k) => (ids[k] === undefined ? { 'db/id': `e${k}`, 'n/v': v } : { 'db/id': ids[k], 'n/v': v })));
            round.forEach((v, k) => {
              ids[k] ??= report.tempids[`e${k}`]!;
              state.set(ids[k]!, v);
            });
            txs.push(report.tx);
            states.push(new Map(state));
          }
          const inRange = (v: number) => (start === undefined || v >= start) && (end === undefined || v < end);
          const expected = (s: Map<number, number>) => [...s].filter(([, v]) => inRange(v)).sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([e, v]) => [e, v]);
          const got = (db: ReturnType<typeof conn.db>) => [...db.indexRange('n/v', start, end)].map((d) => [d.e, d.v]);
          expect(got(conn.db())).toEqual(expected(state));
          const middle = Math.floor(txs.length / 2);
          expect(got(conn.db().asOf(txs[middle]!))).toEqual(expected(states[middle]!));
          const history = [...conn.db().history().indexRange('n/v', start, end)];
          expect(history.every((d) => inRange(d.v as number))).toBe(true);
          const values = history.map((d) => d.v as number);
          expect(values).toEqual([...values].sort((a, b) => a - b));
          expect(history.filter((d) => d.added).length).toBe(assertionsInRange(rounds, inRange));
        },
      ),
    );
  });
});

/** Assertions the rounds made with values in range: a value repeating the entity's current one is redundant, not asserted. */
function assertionsInRange(rounds: number[][], inRange: (v: number) => boolean): number {
  let n = 0;
  const current = new Map<number, number>();
  for (const round of rounds) {
    round.forEach((v, k) => {
      if (current.get(k) !== v && inRange(v)) n++;
      current.set(k, v);
    });
  }
  return n;
}
