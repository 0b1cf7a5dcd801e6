/**
 * An indexing commit's sorted key lists (`planBatches`) against their meaning: every datom's
 * entries encoded one by one (`encodeEntry`) and sorted bytewise. AEVT's adds are not encoded but
 * rearranged from EAVT's (`byAttribute`), and a list already in order is not copied: both must
 * give exactly these lists, for ids of every width and values of every kind of key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Database } from '../../lib/db/database.js';
import { encodeEntry, type IndexOrder } from '../../lib/db/encoding/datom-key.js';
import type { LogDatom } from '../../lib/db/encoding/log-record.js';
import { byAttribute, estimatedListSizes, type ListKind, planBatches, sortedByEntity } from '../../lib/db/index/indexing.js';
import { ordersOf } from '../../lib/db/index/novelty-plan.js';
import type { Schema } from '../../lib/db/schema/schema.js';
import { EntryList } from '../../lib/tree/entry-list.js';
import { SCHEMA } from '../support/k-workload.js';

function schemaOf(): Schema {
  const conn = Database.memory();
  conn.transact(SCHEMA);
  return conn.db().snapshot.schema;
}

function hex(list: EntryList): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.count; i++) out.push(Buffer.from(list.bytes.subarray(list.start(i), list.end(i))).toString('hex'));
  return out;
}

const sortedHex = (keys: Buffer[]) => keys.sort(Buffer.compare).map((k) => k.toString('hex'));

/** Ids of one, two, three and more bytes, so that e and a components differ in length. */
const id = fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 65_000, max: 70_000 }), fc.integer({ min: 2 ** 24 - 5, max: 2 ** 24 + 5 }), fc.maxSafeNat().map((n) => n + 1));

describe('planBatches', () => {
  const schema = schemaOf();
  const attributes = ['k/name', 'k/n', 'k/tags', 'k/friend', 'k/text', 'db/doc'].map((ident) => schema.attribute(ident, Number.MAX_SAFE_INTEGER, () => ident));
  const value = (type: string) =>
    type === 'long' ? fc.oneof(fc.integer({ min: -300, max: 300 }), fc.maxSafeInteger()) : type === 'ref' ? id : fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', 'a\u0000b', 'é', 'z'.repeat(300)));
  const datom = fc.integer({ min: 0, max: attributes.length - 1 }).chain((k) =>
    fc.record({ e: id, v: value(attributes[k]!.valueType), added: fc.boolean(), assertedTx: fc.integer({ min: 64, max: 999 }) }).map((d) => ({ ...d, a: attributes[k]!.id })),
  );

  it('writes every index order sorted, as each datom encoded alone and sorted would be', () => {
    fc.assert(
      fc.property(fc.array(datom, { maxLength: 160 }), fc.constantFrom('shuffled', 'by entity', 'sorted'), fc.boolean(), (drawn, arrangement, many) => {
        const tx = 1000;
        // Few entities and attributes, so that runs of one (e, a) with several values are common.
        const datoms: LogDatom[] = drawn.map((d) => ({ ...d, e: many ? d.e % 2 : d.e, a: many ? attributes[d.e % 2 === 0 ? 2 : 3]!.id : d.a, tx, assertedTx: d.added ? tx : d.assertedTx }));
        if (many) for (const d of datoms) (d as { v: unknown }).v = d.a === attributes[2]!.id ? `t${String(d.v).length}` : Math.abs(Number(d.assertedTx)) + 1;
        // In entity and attribute order (an import's), values not: sorted in place, run by run;
        // fully sorted: kept as it is.
        if (arrangement === 'by entity') datoms.sort((x, y) => x.e - y.e || x.a - y.a);
        if (arrangement === 'sorted') datoms.sort((x, y) => Buffer.compare(encodeEntry('eavt', x, schema.ofDatom(x.a).valueType, false), encodeEntry('eavt', y, schema.ofDatom(y.a).valueType, false)));
        const batches = planBatches(datoms, schema);
        for (const order of ['eavt', 'aevt', 'avet', 'vaet'] as IndexOrder[]) {
          const adds: Buffer[] = [];
          const removes: Buffer[] = [];
          const history: Buffer[] = [];
          for (const d of datoms) {
            const attribute = schema.ofDatom(d.a);
            if (!ordersOf(attribute).includes(order)) continue;
            const type = attribute.valueType;
            if (d.added) {
              adds.push(encodeEntry(order, d, type, false));
              continue;
            }
            const assertion = { ...d, tx: d.assertedTx, added: true };
            removes.push(encodeEntry(order, assertion, type, false));
            history.push(encodeEntry(order, assertion, type, true), encodeEntry(order, d, type, true));
          }
          expect(hex(batches[order].adds), `${order} adds`).toEqual(sortedHex(adds));
          expect(hex(batches[order].removes), `${order} removes`).toEqual(sortedHex(removes));
          expect(hex(batches[order].history), `${order} history`).toEqual(sortedHex(history));
        }
      }),
      { numRuns: 300, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x1dc5) },
    );
  });

  it('sorts keys in entity and attribute order in place, long and short runs of one attribute alike', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 2 }), fc.string({ maxLength: 6 })), { minLength: 30, maxLength: 90 }), (drawn) => {
        const tags = schema.attribute('k/tags', Number.MAX_SAFE_INTEGER);
        const name = schema.attribute('k/name', Number.MAX_SAFE_INTEGER);
        // Entities 1..3 in order, each with a name, then its tags in the order drawn.
        const datoms: LogDatom[] = [];
        for (let e = 1; e <= 3; e++) {
          datoms.push({ e, a: name.id, v: 'n', tx: 1000, added: true, assertedTx: 1000 });
          for (const [owner, v] of drawn) if (owner === e) datoms.push({ e, a: tags.id, v, tx: 1000, added: true, assertedTx: 1000 });
        }
        const keys = datoms.map((d) => encodeEntry('eavt', d, schema.ofDatom(d.a).valueType, false));
        const list = EntryList.of(keys);
        expect(sortedByEntity(list)).toBe(true);
        expect(hex(list)).toEqual(sortedHex(keys));
        // Entity 3's last datom before entity 1's first: not in that order.
        expect(sortedByEntity(EntryList.of([keys[keys.length - 1]!, keys[0]!]))).toBe(false);
      }),
      { numRuns: 200, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x5e7) },
    );
  });

  it('estimates each list from a sample spread over the datoms, with room to spare but not twice', () => {
    // An import's shape, strictly periodic (each entity its three attributes, every fifth datom a
    // retraction), with entity ids growing from one byte to five: the first datoms' keys are the
    // shortest, and a stride dividing the period would sample one attribute only.
    const [name, n, friend] = [attributes[0]!, attributes[1]!, attributes[3]!];
    const datoms: LogDatom[] = [];
    for (let i = 0; i < 30_720; i++) {
      const e = 1 + Math.floor((i / 3) ** 2.6);
      const a = [name, n, friend][i % 3]!;
      const v = a === name ? `name ${i % 97}` : a === n ? i * 7 : 1 + Math.floor(i ** 2.2);
      datoms.push({ e, a: a.id, v, tx: 5_000_000, added: i % 5 !== 4, assertedTx: i % 5 !== 4 ? 5_000_000 : 4_000 });
    }
    const estimates = estimatedListSizes(datoms, schema);
    for (const order of ['eavt', 'aevt', 'avet', 'vaet'] as IndexOrder[]) {
      const actual: Record<ListKind, { bytes: number; count: number }> = { adds: { bytes: 0, count: 0 }, removes: { bytes: 0, count: 0 }, history: { bytes: 0, count: 0 } };
      const add = (kind: ListKind, key: Buffer) => {
        actual[kind].bytes += key.length;
        actual[kind].count += 1;
      };
      for (const d of datoms) {
        const attribute = schema.ofDatom(d.a);
        if (!ordersOf(attribute).includes(order)) continue;
        if (d.added) {
          if (order !== 'aevt') add('adds', encodeEntry(order, d, attribute.valueType, false));
          continue;
        }
        const assertion = { ...d, tx: d.assertedTx, added: true };
        add('removes', encodeEntry(order, assertion, attribute.valueType, false));
        add('history', encodeEntry(order, assertion, attribute.valueType, true));
        add('history', encodeEntry(order, d, attribute.valueType, true));
      }
      for (const kind of ['adds', 'removes', 'history'] as ListKind[]) {
        const [estimate, real] = [estimates[order][kind], actual[kind]];
        if (real.count === 0) {
          expect(estimate, `${order} ${kind}`).toEqual({ bytes: 0, count: 0 });
          continue;
        }
        for (const unit of ['bytes', 'count'] as const) {
          expect(estimate[unit], `${order} ${kind} ${unit}`).toBeGreaterThanOrEqual(real[unit]);
          expect(estimate[unit], `${order} ${kind} ${unit}`).toBeLessThanOrEqual(1.25 * real[unit]);
        }
      }
    }
  });

  it('byAttribute of no entries is an empty list', () => {
    expect(byAttribute(EntryList.empty).count).toBe(0);
  });
});
