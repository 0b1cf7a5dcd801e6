/**
 * The writer's copy of the file's tail against the file itself: whatever it says it holds must be
 * the file's bytes, the newest commit must be there whenever it fits a segment, and it never
 * keeps more than its segments.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentBytes } from '../../lib/storage/recent-bytes.js';

const SEGMENT = 64;
const SEGMENTS = 3;

/** Appends: `gap` bytes the tail never sees (a spilled part of a commit), then `length` it does. */
const appendArb = fc.record({ gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })), length: fc.integer({ min: 1, max: SEGMENT + 10 }) });

describe('recent bytes', () => {
  it('holds only the file’s own bytes, always the newest append that fits a segment, and no more than its segments', () => {
    fc.assert(
      fc.property(fc.array(appendArb, { minLength: 1, maxLength: 40 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 20 })), { maxLength: 60 }), (appends, probes) => {
        const tail = new RecentBytes(SEGMENT, SEGMENTS);
        const file: number[] = [];
        let last = { offset: 0, length: 0 };
        for (const { gap, length } of appends) {
          for (let i = 0; i < gap; i++) file.push((file.length * 7) & 0xff);
          const offset = file.length;
          const bytes = Uint8Array.from({ length }, (_, i) => ((offset + i) * 31 + 5) & 0xff);
          file.push(...bytes);
          tail.append(bytes, offset);
          last = { offset, length };
        }
        const held = (offset: number, length: number): number[] | undefined => {
          const i = tail.segmentHolding(offset, length);
          if (i < 0) return undefined;
          const at = offset - tail.start(i);
          return [...tail.segment(i).subarray(at, at + length)];
        };
        if (last.length <= SEGMENT) expect(held(last.offset, last.length)).toEqual(file.slice(last.offset, last.offset + last.length));
        let heldBytes = 0;
        for (let offset = 0; offset < file.length; offset++) if (held(offset, 1) !== undefined) heldBytes++;
        expect(heldBytes).toBeLessThanOrEqual(SEGMENT * SEGMENTS);
        for (const [start, length] of probes) {
          const offset = start % (file.length + 5);
          const bytes = held(offset, length);
          if (bytes !== undefined) expect(bytes).toEqual(file.slice(offset, offset + length));
        }
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('keeps nothing without segments', () => {
    const tail = new RecentBytes(SEGMENT, 0);
    tail.append(Uint8Array.of(1, 2, 3), 100);
    expect(tail.segmentHolding(100, 1)).toBe(-1);
  });
});
