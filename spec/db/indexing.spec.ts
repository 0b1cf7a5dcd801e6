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
import { byAttribute, ordersOf, planBatches } from '../../lib/db/index/indexing.js';
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
      fc.property(fc.array(datom, { maxLength: 120 }), fc.boolean(), (drawn, inOrder) => {
        const tx = 1000;
        const datoms: LogDatom[] = drawn.map((d) => ({ ...d, tx, assertedTx: d.added ? tx : d.assertedTx }));
        // Sorted input takes the path where a list in order is kept as it is.
        if (inOrder) datoms.sort((x, y) => Buffer.compare(encodeEntry('eavt', x, schema.ofDatom(x.a).valueType, false), encodeEntry('eavt', y, schema.ofDatom(y.a).valueType, false)));
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

  it('byAttribute of no entries is an empty list', () => {
    expect(byAttribute(EntryList.empty).count).toBe(0);
  });
});
