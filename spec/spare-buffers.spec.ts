/**
 * Spare buffers (lib/spare-buffers.ts) against a model of lending: a buffer is never lent to two
 * holders at once, whatever is given back (twice, foreign buffers, buffers of any size), every
 * loan holds the bytes asked for, and a spare given back serves the next request that fits.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { dropSpares, giveBack, setSpareMinimum, spareBytes, takeSpare } from '../lib/spare-buffers.js';

const KiB = 1024;

describe('spare buffers', () => {
  afterEach(() => {
    setSpareMinimum(1 << 20);
    dropSpares();
  });

  it('never lends one buffer to two holders, and each loan is as large as asked', () => {
    type Step = { kind: 'take'; bytes: number } | { kind: 'give'; holder: number } | { kind: 'again'; holder: number } | { kind: 'foreign'; bytes: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('take' as const), bytes: fc.integer({ min: 1, max: 64 * KiB }) }),
      fc.record({ kind: fc.constant('give' as const), holder: fc.nat() }),
      fc.record({ kind: fc.constant('again' as const), holder: fc.nat() }),
      fc.record({ kind: fc.constant('foreign' as const), bytes: fc.integer({ min: 1, max: 64 * KiB }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        dropSpares();
        setSpareMinimum(4 * KiB);
        // Each holder marks its buffer's first and last bytes with its own number.
        const held: { buffer: ArrayBuffer; mark: number }[] = [];
        const returned: ArrayBuffer[] = [];
        let next = 1;
        for (const s of steps) {
          if (s.kind === 'take') {
            const buffer = takeSpare(s.bytes);
            expect(buffer.byteLength).toBeGreaterThanOrEqual(s.bytes);
            expect(held.some((h) => h.buffer === buffer), 'lent twice').toBe(false);
            const mark = next++ % 256;
            const bytes = new Uint8Array(buffer);
            bytes[0] = mark;
            bytes[bytes.length - 1] = mark;
            held.push({ buffer, mark });
          } else if (s.kind === 'give' && held.length > 0) {
            const [h] = held.splice(s.holder % held.length, 1);
            giveBack(h!.buffer);
            returned.push(h!.buffer);
          } else if (s.kind === 'again' && returned.length > 0) {
            // Given back a second time before anyone took it again: ignored, or lent twice. (Once
            // lent again, only its new holder may give it back: no module can tell owners apart.)
            const buffer = returned[s.holder % returned.length]!;
            if (!held.some((h) => h.buffer === buffer)) giveBack(buffer);
          } else if (s.kind === 'foreign') {
            giveBack(new ArrayBuffer(s.bytes));
          }
          for (const h of held) {
            const bytes = new Uint8Array(h.buffer);
            expect([bytes[0], bytes[bytes.length - 1]], 'a holder\'s bytes changed').toEqual([h.mark, h.mark]);
          }
        }
      }),
      { numRuns: 300, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x59a4e) },
    );
  });

  it('lends a buffer given back to the next request it fits, not to one four times smaller', () => {
    setSpareMinimum(4 * KiB);
    const first = takeSpare(40 * KiB);
    giveBack(first);
    expect(spareBytes()).toBe(40 * KiB);
    expect(takeSpare(9 * KiB) === first, 'a small request took a large spare').toBe(false);
    expect(takeSpare(30 * KiB) === first, 'the spare serves a request it fits').toBe(true);
    expect(spareBytes()).toBe(0);
    // Given back twice by a stale owner after lent again: still lent once.
    giveBack(first);
    giveBack(first);
    expect(takeSpare(40 * KiB) === first).toBe(true);
    expect(takeSpare(40 * KiB) === first, 'lent twice').toBe(false);
  });

  it('poisons a buffer given back when asked to, so that a late reader reads garbage', () => {
    setSpareMinimum(4 * KiB, true);
    const buffer = takeSpare(8 * KiB);
    const view = new Uint8Array(buffer).fill(7);
    giveBack(buffer);
    expect(view.every((b) => b === 0xdb)).toBe(true);
  });

  it('serves small requests with new memory, never lent or kept', () => {
    const small = takeSpare(100);
    giveBack(small);
    expect(spareBytes()).toBe(0);
    expect(takeSpare(100) === small).toBe(false);
  });

  it('never lends a buffer it did not lend', () => {
    setSpareMinimum(4 * KiB);
    const foreign = new ArrayBuffer(16 * KiB);
    giveBack(foreign);
    expect(spareBytes()).toBe(0);
    expect(takeSpare(16 * KiB) === foreign).toBe(false);
  });
});
