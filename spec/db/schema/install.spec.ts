/**
 * What `db/doc` datoms do to the schema (lib/db/schema/install.ts): they document an attribute
 * defined in the same transaction, in any order, or one installed before, and are plain data on
 * any other entity, which leaves the schema as it was.
 */
import { describe, expect, it } from 'vitest';
import type { RawDatom } from '../../../lib/db/encoding/datom-key.js';
import { schemaAfter } from '../../../lib/db/schema/install.js';
import { BuiltIn, Schema } from '../../../lib/db/schema/schema.js';

const TX = 5000;
const datom = (e: number, a: number, v: RawDatom['v'], added = true): RawDatom => ({ e, a, v, tx: TX, added });
const define = (e: number, ident: string): RawDatom[] => [
  datom(e, BuiltIn.ident, ident),
  datom(e, BuiltIn.valueType, 'db.type/string'),
  datom(e, BuiltIn.cardinality, 'db.cardinality/one'),
];

describe('db/doc and the schema', () => {
  it('documents an attribute defined in the same transaction, before or after its other datoms', () => {
    const schema = schemaAfter(Schema.builtIn(), [datom(100, BuiltIn.doc, 'first'), ...define(100, 'k/a'), ...define(101, 'k/b'), datom(101, BuiltIn.doc, 'last')], TX);
    expect(schema.byEntity(100)?.doc).toBe('first');
    expect(schema.byEntity(101)?.doc).toBe('last');
  });

  it('changes the doc of an installed attribute, and a retraction of it is allowed', () => {
    const installed = schemaAfter(Schema.builtIn(), define(100, 'k/a'), TX);
    expect(installed.byEntity(100)?.doc).toBeUndefined();
    expect(schemaAfter(installed, [datom(100, BuiltIn.doc, 'now documented')], TX + 1).byEntity(100)?.doc).toBe('now documented');
    expect(() => schemaAfter(installed, [datom(100, BuiltIn.doc, 'gone', false)], TX + 1)).not.toThrow();
  });

  it('leaves the schema as it was for docs of plain entities and of idents', () => {
    const installed = schemaAfter(Schema.builtIn(), [...define(100, 'k/a'), datom(102, BuiltIn.ident, 'color/red')], TX);
    const plain = Array.from({ length: 50 }, (_, i) => datom(200 + i, BuiltIn.doc, `entity ${i}`));
    expect(schemaAfter(installed, [...plain, datom(102, BuiltIn.doc, 'an ident')], TX + 1)).toBe(installed);
  });

  it('still rejects an attribute whose doc comes with a missing ident', () => {
    const noIdent = [datom(100, BuiltIn.doc, 'no ident'), datom(100, BuiltIn.valueType, 'db.type/string'), datom(100, BuiltIn.cardinality, 'db.cardinality/one')];
    expect(() => schemaAfter(Schema.builtIn(), noIdent, TX)).toThrow(/has no db\/ident/);
  });
});
