/**
 * The epoch's latest cardinality-one values (latest-values.ts) against novelty's ordered maps:
 * random assertions, retractions (of a value, of an attribute, of an entity), cas, upserts and
 * speculative transactions over values of every type (large strings and bytes, bigints and -0
 * among them), with epochs every few commits and reopenings, and after each step every
 * entity's cardinality-one values read through the index (`Snapshot.values`) must equal a scan of
 * EAVT through the maps. And a one-datom transaction fills no map.
 *
 * A failure prints fast-check's seed: SEDIMENT_SEED=<seed> replays it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import type { Db } from '../../lib/db/db.js';
import type { StoredValue } from '../../lib/db/encoding/key-codec.js';
import { LargeValue } from '../../lib/db/encoding/large-value.js';
import { SedimentError } from '../../lib/errors.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { emptyImage, openOn } from '../support/stores.js';

const ONE = {
  'l/long': ['db.type/long', [0, 1, 2, -5, 2 ** 40]],
  'l/big': ['db.type/bigint', [1n, 2n, 2n ** 70n]],
  'l/str': ['db.type/string', ['', 'a', 'b', 'x'.repeat(300), 'y'.repeat(300)]],
  'l/bytes': ['db.type/bytes', [new Uint8Array([1]), new Uint8Array(300).fill(7)]],
  'l/inst': ['db.type/instant', [new Date(0), new Date(1_000_000)]],
  'l/bool': ['db.type/boolean', [true, false]],
  'l/dbl': ['db.type/double', [0.5, -0, 0, 1e300]],
  'l/kw': ['db.type/keyword', ['k/a', 'k/b']],
} as const satisfies Record<string, readonly [string, readonly unknown[]]>;
type OneAttr = keyof typeof ONE;
const ONE_ATTRS = Object.keys(ONE) as OneAttr[];

const SCHEMA = [
  ...ONE_ATTRS.map((ident) => ({ 'db/ident': ident, 'db/valueType': ONE[ident][0], 'db/cardinality': 'db.cardinality/one' })),
  { 'db/ident': 'l/key', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/unique': 'db.unique/identity' },
  { 'db/ident': 'l/ref', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'l/many', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/many' },
];
const KEYS = 6;

type Step =
  | { kind: 'assert'; key: number; attr: OneAttr; value: number }
  | { kind: 'retractValue'; key: number; attr: OneAttr; value: number }
  | { kind: 'retractAttribute'; key: number; attr: OneAttr }
  | { kind: 'retractEntity'; key: number }
  | { kind: 'cas'; key: number; attr: OneAttr; old: number; value: number }
  | { kind: 'ref'; key: number; to: number }
  | { kind: 'many'; key: number; value: number }
  | { kind: 'with'; key: number; attr: OneAttr; value: number }
  | { kind: 'reopen' };

const key = fc.integer({ min: 0, max: KEYS - 1 });
const attr = fc.constantFrom(...ONE_ATTRS);
const pick = fc.nat(9);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('assert' as const), key, attr, value: pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('retractValue' as const), key, attr, value: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retractAttribute' as const), key, attr }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retractEntity' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cas' as const), key, attr, old: pick, value: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ref' as const), key, to: key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('many' as const), key, value: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('with' as const), key, attr, value: pick }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

const valueOf = (a: OneAttr, i: number): unknown => {
  const values = ONE[a][1];
  return values[i % values.length];
};

function txData(s: Exclude<Step, { kind: 'reopen' | 'with' }>): unknown[] {
  const entity = ['l/key', s.key];
  switch (s.kind) {
    case 'assert':
      return [{ 'l/key': s.key, [s.attr]: valueOf(s.attr, s.value) }];
    case 'retractValue':
      return [['db/retract', entity, s.attr, valueOf(s.attr, s.value)]];
    case 'retractAttribute':
      return [['db/retract', entity, s.attr]];
    case 'retractEntity':
      return [['db/retractEntity', entity]];
    case 'cas':
      return [['db/cas', entity, s.attr, valueOf(s.attr, s.old), valueOf(s.attr, s.value)]];
    case 'ref':
      return [{ 'l/key': s.key, 'l/ref': { 'l/key': s.to } }];
    case 'many':
      return [{ 'l/key': s.key, 'l/many': s.value }];
  }
}

/** A value as text that tells apart what the index must keep apart (-0 from 0, 1 from 1n). */
function show(v: StoredValue): string {
  if (typeof v === 'number') return Object.is(v, -0) ? 'n-0' : `n${v}`;
  if (typeof v === 'bigint') return `b${v}`;
  if (v instanceof Date) return `d${v.getTime()}`;
  if (v instanceof LargeValue) return `L${v.key}`;
  if (v instanceof Uint8Array) return `x${Buffer.from(v).toString('hex')}`;
  return `${typeof v}:${String(v)}`;
}

/**
 * Every entity's cardinality-one values through `Snapshot.values` and through a scan of the maps;
 * returns how many the index answered from a value it holds.
 */
function expectValuesAgree(db: Db, label: string): number {
  const snapshot = db.snapshot;
  const latest = snapshot.state.novelty.latestValuesAt(snapshot.basis.tx);
  let held = 0;
  const attributes = [...ONE_ATTRS, 'l/key', 'l/ref', 'db/txInstant'].map((ident) => snapshot.schema.attribute(ident, snapshot.basis.tx, () => label).id);
  const entities = [...db.datoms('aevt', 'l/key')].map((d) => d.e);
  entities.push(db.basisT); // the transaction entity: its db/txInstant
  for (const e of entities) {
    for (const a of attributes) {
      const latestValue = latest?.get(e, a);
      if (latestValue !== undefined && typeof latestValue === 'object') held++;
      const indexed = snapshot.values(e, a).map((d) => `${d.tx} ${show(d.v)}`);
      const scanned = [...snapshot.scan('eavt', { e, a })].map((d) => `${d.tx} ${show(d.v)}`);
      expect(indexed, `${label}: values of [${e} ${a}]`).toEqual(scanned);
    }
  }
  return held;
}

describe('latest cardinality-one values', () => {
  it('read as the maps do, across epochs, reopenings and speculative transactions', () => {
    let stepsRun = 0;
    let heldAnswers = 0;
    let withIndex = 0;
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.array(step, { minLength: 10, maxLength: 40 }), (indexThreshold, steps) => {
        let backend = new MemoryBackend(emptyImage());
        const open = () => new Connection(openOn(backend, { durability: 'relaxed' }), { indexThreshold });
        let conn = open();
        try {
          conn.transact(SCHEMA);
          conn.transact(Array.from({ length: KEYS }, (_, k) => ({ 'l/key': k })));
          for (const s of steps) {
            stepsRun++;
            if (s.kind === 'reopen') {
              conn.close();
              backend = new MemoryBackend(backend.snapshot());
              conn = open();
            } else if (s.kind === 'with') {
              const speculative = conn.db().with([{ 'l/key': s.key, [s.attr]: valueOf(s.attr, s.value) }]).dbAfter;
              expect(speculative.snapshot.state.novelty.latestValuesAt(speculative.basisT), 'a speculative novelty keeps no index').toBeUndefined();
              expectValuesAgree(speculative, 'speculative');
            } else {
              try {
                conn.transact(txData(s));
              } catch (error) {
                // A cas whose expectation fails, an entity retracted along with its l/key.
                if (!(error instanceof SedimentError)) throw error;
              }
            }
            const db = conn.db();
            if (db.snapshot.state.novelty.latestValuesAt(db.basisT) !== undefined) withIndex++;
            heldAnswers += expectValuesAgree(db, `after ${s.kind}`);
          }
        } finally {
          conn.close();
        }
      }),
      { numRuns: 60, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x1a7e) },
    );
    console.log(`latest values: ${stepsRun} steps, ${withIndex} with the index answering, ${heldAnswers} answers from a value it holds`);
    // The index answered at the newest commit after every step, and from held values often.
    expect(withIndex).toBe(stepsRun);
    expect(heldAnswers).toBeGreaterThan(stepsRun);
  });

  it('leaves every map unfilled while transactions only replace cardinality-one values', () => {
    const backend = new MemoryBackend(emptyImage());
    const setUp = new Connection(openOn(backend, { durability: 'relaxed' }));
    setUp.transact(SCHEMA);
    setUp.transact(Array.from({ length: KEYS }, (_, k) => ({ 'l/key': k, 'l/long': 0 })));
    const ids = [...setUp.db().datoms('aevt', 'l/key')].map((d) => d.e);
    setUp.close();
    // Reopened, the epoch's commits so far are replayed, and no read has asked for a map.
    const conn = new Connection(openOn(backend, { durability: 'relaxed' }));
    const epochStart = conn.db().snapshot.state.novelty.epochTx;
    for (let i = 1; i <= 30; i++) conn.transact([['db/add', ids[i % KEYS]!, 'l/long', i]]);
    const db = conn.db();
    expect(db.snapshot.state.novelty.epochTx, 'no indexing commit in between').toBe(epochStart);
    expect(db.snapshot.state.novelty.filledParts).toBe(0);
    expect(ids.map((e) => db.entity(e)?.get('l/long'))).toEqual([30, 25, 26, 27, 28, 29]);
    // The history the maps never held: each entity's old values, retracted in turn.
    const history = [...db.history().datoms('eavt', ids[1]!, 'l/long')].map((d) => `${String(d.v)} ${d.added}`);
    expect(history).toEqual(['0 true', '0 false', '1 true', '1 false', '7 true', '7 false', '13 true', '13 false', '19 true', '19 false', '25 true']);
  });
});
