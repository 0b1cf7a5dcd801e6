import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeLogHeader, decodeLogRecord, encodeLogRecord, type LogRecord, TREE_COUNT } from '../../../lib/db/encoding/log-record.js';
import { CorruptionError } from '../../../lib/errors.js';
import { encodeLogDatoms, type LogDatom } from '../../../lib/db/encoding/log-datoms.js';
import type { ValueType } from '../../../lib/db/schema/value-type.js';

/** The framing the log record had from the start: msgpackr with the file format's options. */
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' });

const typeOf = (a: number): ValueType => (a % 2 === 0 ? 'string' : 'long');

/** Numbers around every boundary of msgpack's integer forms, and beyond them (doubles). */
const number = fc.oneof(
  fc.integer({ min: -40, max: 300 }),
  fc.constantFrom(0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -0x80000000, -0x80000001),
  fc.maxSafeInteger(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 }),
);

/** Datoms whose blob lands in each bin form (8, 16 and 32-bit lengths). */
const datoms = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 5000, max: 9000 }), fc.constant(0)).chain((n) =>
  fc.tuple(fc.constant(n), fc.integer({ min: 0, max: 4 })).map(([count, text]): LogDatom[] =>
    Array.from({ length: count }, (_, i) => ({ e: 1000 + (i >> 2), a: i % 2 === 0 ? 10 : 11, v: i % 2 === 0 ? 'x'.repeat(text + (i % 7)) : i * 7919, tx: 500, added: true, assertedTx: 500 })),
  ),
);

describe('log record', () => {
  it('frames its fields exactly as msgpackr did, and reads back', () => {
    fc.assert(
      fc.property(number, number, number, datoms, fc.oneof(number, fc.array(fc.option(fc.maxSafeNat(), { nil: undefined }), { minLength: TREE_COUNT, maxLength: TREE_COUNT })), (tx, instant, nextId, ds, index) => {
        const record: LogRecord = { tx, instant, nextId, datoms: ds, index };
        const bytes = Buffer.from(encodeLogRecord(record, typeOf));
        const framed = packr.pack([tx, instant, nextId, encodeLogDatoms(ds, typeOf), typeof index === 'number' ? index : index.map((r) => r ?? 0)]);
        expect(bytes.toString('hex')).toBe(Buffer.from(framed).toString('hex'));
        const decoded = decodeLogRecord(bytes, 0);
        expect([decoded.tx, decoded.instant, decoded.nextId, decoded.datoms.length]).toEqual([tx, instant, nextId, ds.length]);
        const { datoms: _, ...header } = decoded;
        expect(decodeLogHeader(bytes, 0)).toEqual(header);
      }),
      { numRuns: 300, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x10c) },
    );
  });

  it('frames a small record the same after a large one', () => {
    const small: LogRecord = { tx: 70, instant: 1, nextId: 72, datoms: [{ e: 71, a: 11, v: 5, tx: 70, added: true, assertedTx: 70 }], index: 3 };
    const first = Buffer.from(encodeLogRecord(small, typeOf));
    const many = Array.from({ length: 5000 }, (_, i): LogDatom => ({ e: 71 + i, a: 11, v: i, tx: 70, added: true, assertedTx: 70 }));
    encodeLogRecord({ ...small, datoms: many }, typeOf);
    expect(Buffer.from(encodeLogRecord(small, typeOf)).equals(first)).toBe(true);
  });

  it('reads a header without decoding the datoms: the roots of an epoch cost no decoding of its import', () => {
    const roots = Array.from({ length: TREE_COUNT }, (_, i) => 100 + i);
    // Datoms that do not decode (a truncated blob) in an otherwise well-formed record.
    const bytes = packr.pack([70, 1, 72, Buffer.from([0xff, 0xff, 0xff]), roots]);
    expect(decodeLogHeader(bytes, 0)).toEqual({ tx: 70, instant: 1, nextId: 72, index: roots });
    expect(() => decodeLogRecord(bytes, 0)).toThrow(CorruptionError);
    expect(() => decodeLogRecord(bytes, 0)).toThrow(/log record at 0 holds malformed datoms/);
  });
});
