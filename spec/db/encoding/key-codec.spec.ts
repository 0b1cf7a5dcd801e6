/**
 * The key codec's text encoding: short ASCII text takes a path of its own (written character by
 * character, no UTF-8 encoder, no scan for zeros), and must give exactly the bytes of the general
 * path, the escaped UTF-8 (`escaped`: each zero byte doubled as 0x00 0xff, then the 0x00 0x00
 * terminator), for any text: ASCII up to and past the path's length limit, NUL, the edges of ASCII
 * (0x7f, 0x80) and multi-byte characters anywhere. SEDIMENT_SEED replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyWriter } from '../../../lib/db/encoding/key-codec.js';

const text: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 90 }),
  fc.string({ unit: fc.constantFrom('a', 'Z', '\u0000', '\u0001', '\u007f', '\u0080', 'é', '😀'), maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('a', '~'), minLength: 250, maxLength: 262 }),
);

describe('key codec', () => {
  it('writes text as escaped UTF-8 whichever path it takes', () => {
    const writer = new KeyWriter();
    fc.assert(
      fc.property(text, (s) => {
        const fast = writer.reset().text(s).finish();
        const general = writer.reset().escaped(Buffer.from(s, 'utf8')).finish();
        expect(fast).toEqual(general);
      }),
      { numRuns: 3000, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x7e47) },
    );
  });
});
