import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLogDatoms, encodeLogDatoms, type LogDatom } from '../../../lib/db/encoding/log-datoms.js';
import { LargeValue, largeStandIn } from '../../../lib/db/encoding/large-value.js';
import type { Value, ValueType } from '../../../lib/db/schema/value-type.js';

/** One attribute per value type: attribute ids 1..10 in this order. */
const TYPES: readonly ValueType[] = ['boolean', 'long', 'double', 'bigint', 'instant', 'string', 'keyword', 'uuid', 'ref', 'bytes'];
const typeOf = (a: number): ValueType => TYPES[a - 1]!;

const valueOf: Record<ValueType, fc.Arbitrary<Value>> = {
  boolean: fc.boolean(),
  long: fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -200, max: 200 })),
  double: fc.double(),
  bigint: fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  instant: fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => new Date(ms)),
  string: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ minLength: 80, maxLength: 400 }), fc.constant('a\u0000b')),
  keyword: fc.oneof(fc.constant('person/name'), fc.string({ minLength: 1, maxLength: 300 })),
  uuid: fc.uuid(),
  ref: fc.maxSafeNat(),
  bytes: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 250, maxLength: 300 })),
};

const datom = fc
  .record({ a: fc.integer({ min: 1, max: TYPES.length }), sameEntity: fc.boolean(), e: fc.maxSafeNat(), added: fc.boolean(), assertedTx: fc.maxSafeNat(), heapPage: fc.maxSafeNat() })
  .chain((d) => valueOf[typeOf(d.a)].map((v) => ({ ...d, v })));

/** What decoding yields for a datom: a large value as its stand-in, the heap page only on a large assertion. */
function expected(d: LogDatom): LogDatom {
  const large = d.v instanceof LargeValue ? d.v : largeStandIn(typeOf(d.a), d.v as Value);
  return { ...d, v: large ?? d.v, assertedTx: d.added ? d.tx : d.assertedTx, heapPage: d.added && large !== undefined ? d.heapPage : undefined };
}

describe('log datoms', () => {
  it('decode what was encoded, every value type, large values as stand-ins', () => {
    fc.assert(
      fc.property(fc.array(datom, { maxLength: 30 }), fc.maxSafeNat(), (drawn, tx) => {
        let e = 1;
        const datoms: LogDatom[] = drawn.map((d) => {
          if (!d.sameEntity) e = d.e;
          return { e, a: d.a, v: d.v, tx, added: d.added, assertedTx: d.assertedTx, heapPage: d.heapPage };
        });
        const decoded = decodeLogDatoms(encodeLogDatoms(datoms, typeOf), tx);
        expect(decoded).toEqual(datoms.map(expected));
      }),
    );
  });

  it('write an entity id once for a run of its datoms', () => {
    const run = (e: number): LogDatom[] => [1, 2, 6].map((a) => ({ e, a, v: a === 6 ? 'x' : a === 1, tx: 70, added: true, assertedTx: 70 }));
    const same = encodeLogDatoms([...run(123_456), ...run(123_456)], typeOf);
    const alternating = encodeLogDatoms([...run(123_456), ...run(123_457)], typeOf);
    // The second run costs 3 bytes less when it names the same entity: its varint (3 bytes) is omitted.
    expect(alternating.length - same.length).toBe(3);
  });

  it('reject a blob cut inside a datom or with an unknown type tag', () => {
    const blob = encodeLogDatoms([{ e: 5, a: 6, v: 'hello', tx: 9, added: false, assertedTx: 8 }], typeOf);
    for (let cut = 1; cut < blob.length; cut++) expect(() => decodeLogDatoms(blob.subarray(0, cut), 9)).toThrow(RangeError);
    const badTag = Buffer.from(blob);
    badTag[0] = (badTag[0]! & 0xf0) | 0x0f;
    expect(() => decodeLogDatoms(badTag, 9)).toThrow(/unknown value type tag 15/);
    const orphan = Buffer.from(blob);
    orphan[0] = orphan[0]! | 0x20;
    expect(() => decodeLogDatoms(orphan, 9)).toThrow(/previous entity/);
  });
});
