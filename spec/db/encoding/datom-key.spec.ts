/**
 * `writePrefix` (a point read's key, left in the encoder's scratch buffer) must hold exactly the
 * bytes `encodePrefix` copies out, for every order and every run of leading components, with
 * values of every length (text long enough to make the writer grow its buffer), after keys of
 * other lengths were written before it. SEDIMENT_SEED replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePrefix, INDEX_ORDERS, type KeyComponents, writePrefix } from '../../../lib/db/encoding/datom-key.js';

const COMPONENTS = { eavt: ['e', 'a', 'v'], aevt: ['a', 'e', 'v'], avet: ['a', 'v', 'e'], vaet: ['v', 'a', 'e'] } as const;

const id = fc.oneof(fc.nat(300), fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

describe('datom keys', () => {
  it('writes a prefix in place as encodePrefix encodes it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...INDEX_ORDERS),
        fc.nat(4),
        id,
        id,
        fc.oneof(fc.string({ maxLength: 20 }), fc.string({ minLength: 250, maxLength: 600 })),
        id,
        (order, given, e, a, text, tx) => {
          // vaet's value is a ref (an id); the other orders' value is text here.
          const v = order === 'vaet' ? e + 1 : text;
          const all: KeyComponents = { e, a, v, tx };
          // The first `given` components in the order's sequence; 4 adds the tx.
          const c: KeyComponents = given === 4 ? all : Object.fromEntries(COMPONENTS[order].slice(0, given).map((name) => [name, all[name]]));
          const typeOf = () => 'string' as const;
          const expected = encodePrefix(order, c, typeOf);
          const written = writePrefix(order, c, typeOf);
          expect(Buffer.from(written.scratch().subarray(0, written.size))).toEqual(expected);
        },
      ),
      { numRuns: 2000, seed: Number(process.env['SEDIMENT_SEED'] ?? 0xda70) },
    );
  });
});
