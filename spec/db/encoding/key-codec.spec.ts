/**
 * The key codec's integers: ids and longs below 2^32 take a path of their own (shifts, no
 * division), those up to 2^53 another (instants: a high and a low word), and both must give the
 * bytes of the format for any value, across every byte-length edge:
 * a length byte (`uint`) or a tag (`int`: 0x80 + length, 0x7f - length for negatives, whose bytes
 * are those of -n - 1 inverted), then the value's minimal big-endian bytes.
 *
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

/** The format's bytes of `n` (|n| in minimal big-endian bytes), computed with bigints. */
function expectedInteger(n: number, signed: boolean): number[] {
  const negative = n < 0;
  let m = BigInt(negative ? -n - 1 : n);
  const digits: number[] = [];
  for (; m > 0n; m >>= 8n) digits.unshift(Number(m & 0xffn));
  if (!signed) return [digits.length, ...digits];
  return negative ? [0x7f - digits.length, ...digits.map((d) => 255 - d)] : [0x80 + digits.length, ...digits];
}

const edges = [0, 1, 2 ** 8, 2 ** 16, 2 ** 24, 2 ** 32, 2 ** 40, 2 ** 48].flatMap((x) => [x - 1, x, x + 1]).filter((x) => x >= 0);
const natural = fc.oneof(fc.constantFrom(...edges, Number.MAX_SAFE_INTEGER), fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

describe('key codec', () => {
  it('writes unsigned and signed integers in their minimal bytes on either path', () => {
    const writer = new KeyWriter();
    fc.assert(
      fc.property(natural, fc.boolean(), (n, negate) => {
        expect([...writer.reset().uint(n).finish()], `uint ${n}`).toEqual(expectedInteger(n, false));
        const signed = negate ? -n : n;
        expect([...writer.reset().int(signed).finish()], `int ${signed}`).toEqual(expectedInteger(signed, true));
      }),
      { numRuns: 3000, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x1e7) },
    );
  });

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
