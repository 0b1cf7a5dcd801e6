/**
 * What a transaction's datoms do to the schema. An entity that gains `db/valueType` becomes an
 * attribute, which needs `db/ident` and `db/cardinality` in the same transaction; an entity that
 * gains only `db/ident` becomes a plain ident (an enum value). Once installed, an attribute's
 * ident, type, cardinality, uniqueness, indexing and component flag never change (changing them
 * would need existing datoms re-indexed or re-checked); only `db/doc` may change.
 *
 * The transactor calls this to validate and the log replay calls it to rebuild, so both derive the
 * schema from the same datoms the same way.
 */
import { ErrorCode, SedimentError } from '../../errors.js';
import type { RawDatom } from '../encoding/datom-key.js';
import { type Attribute, BuiltIn, type Cardinality, type Schema, type Uniqueness } from './schema.js';
import { VALUE_TYPE_BY_IDENT } from './value-type.js';
import { INLINE_VALUE_BYTES } from '../encoding/large-value.js';

const SCHEMA_ATTRIBUTES: ReadonlySet<number> = new Set([
  BuiltIn.ident,
  BuiltIn.valueType,
  BuiltIn.cardinality,
  BuiltIn.unique,
  BuiltIn.index,
  BuiltIn.isComponent,
  BuiltIn.doc,
]);

const CARDINALITY: ReadonlyMap<string, Cardinality> = new Map([
  ['db.cardinality/one', 'one'],
  ['db.cardinality/many', 'many'],
]);
const UNIQUENESS: ReadonlyMap<string, Uniqueness> = new Map([
  ['db.unique/identity', 'identity'],
  ['db.unique/value', 'value'],
]);

const schemaError = (message: string) => new SedimentError(ErrorCode.schema, message);

/**
 * The datoms of schema attributes, by entity. A loop of its own: every transaction passes here,
 * and see the note on on-stack replacement in transactor.ts.
 */
function schemaDatomsByEntity(datoms: readonly RawDatom[], schema: Schema): Map<number, RawDatom[]> | undefined {
  // Made for the first schema datom: most transactions have none, and a map is ~200 bytes to collect.
  let byEntity: Map<number, RawDatom[]> | undefined;
  let docs = false;
  // Indexed: a for-of here allocated an iterator result a datom (~40 MB a million) until optimized.
  for (let i = 0; i < datoms.length; i++) {
    const d = datoms[i]!;
    if (d.a === BuiltIn.doc) docs = true;
    else if (SCHEMA_ATTRIBUTES.has(d.a)) {
      byEntity ??= new Map();
      let list = byEntity.get(d.e);
      if (list === undefined) byEntity.set(d.e, (list = []));
      list.push(d);
    }
  }
  if (docs) addDocs((byEntity ??= new Map()), datoms, schema);
  return byEntity;
}

/**
 * The `db/doc` datoms that concern the schema: of an entity with other schema datoms here, or of
 * an installed attribute. Any other is plain data, and an import may document every entity: each
 * such doc made a map entry and a list here only to be skipped.
 */
function addDocs(byEntity: Map<number, RawDatom[]>, datoms: readonly RawDatom[], schema: Schema): void {
  for (let i = 0; i < datoms.length; i++) {
    const d = datoms[i]!;
    if (d.a !== BuiltIn.doc) continue;
    let list = byEntity.get(d.e);
    if (list === undefined) {
      if (schema.byEntity(d.e) === undefined) continue;
      byEntity.set(d.e, (list = []));
    }
    list.push(d);
  }
}

/** The schema after `datoms` (one transaction's, at `tx`) are applied to `schema`. */
export function schemaAfter(schema: Schema, datoms: readonly RawDatom[], tx: number): Schema {
  const byEntity = schemaDatomsByEntity(datoms, schema);
  if (byEntity === undefined || byEntity.size === 0) return schema;

  const attributes: Attribute[] = [];
  const idents: { ident: string; id: number; since: number }[] = [];
  for (const [e, list] of byEntity) {
    const existing = schema.byEntity(e);
    const existingIdent = schema.identOf(e);
    const asserted = new Map<number, unknown>();
    for (const d of list) {
      const name = schema.identOf(d.a) ?? String(d.a);
      if (!d.added) {
        if (d.a === BuiltIn.doc) continue;
        throw schemaError(`cannot retract ${name} of entity ${e} (${existingIdent ?? 'no ident'}): schema is not removable`);
      }
      asserted.set(d.a, d.v);
    }
    if (existing !== undefined || existingIdent !== undefined) {
      for (const a of asserted.keys()) {
        if (a === BuiltIn.doc) continue;
        const name = schema.identOf(a)!;
        throw schemaError(`cannot alter ${name} of ${existingIdent ?? `entity ${e}`}: an installed attribute or ident does not change`);
      }
      if (existing !== undefined && asserted.has(BuiltIn.doc)) attributes.push({ ...existing, doc: docOf(asserted) });
      continue;
    }
    const identValue = asserted.get(BuiltIn.ident);
    if (identValue !== undefined && typeof identValue !== 'string') {
      throw schemaError(`entity ${e}: a db/ident longer than ${INLINE_VALUE_BYTES} bytes is not supported`);
    }
    const ident = identValue;
    const definesAttribute = [BuiltIn.valueType, BuiltIn.cardinality, BuiltIn.unique, BuiltIn.index, BuiltIn.isComponent].some((a) =>
      asserted.has(a),
    );
    if (ident === undefined) {
      if (definesAttribute) throw schemaError(`attribute entity ${e} has no db/ident`);
      continue; // only db/doc on a non-schema entity: plain data
    }
    idents.push({ ident, id: e, since: tx });
    if (!definesAttribute) continue;
    attributes.push(defineAttribute(e, ident, asserted, tx));
  }
  return schema.with(attributes, idents);
}

function defineAttribute(e: number, ident: string, asserted: ReadonlyMap<number, unknown>, tx: number): Attribute {
  if (ident.length === 0 || /\s/.test(ident) || ident.startsWith(':')) {
    throw schemaError(`attribute ident ${JSON.stringify(ident)} is not a keyword name (no colon, no spaces)`);
  }
  if (ident.slice(ident.lastIndexOf('/') + 1).startsWith('_')) {
    throw schemaError(`attribute ident ${JSON.stringify(ident)} may not start its name with _ (that names a reverse reference)`);
  }
  const typeName = asserted.get(BuiltIn.valueType) as string | undefined;
  if (typeName === undefined) throw schemaError(`attribute ${ident} needs db/valueType`);
  const valueType = VALUE_TYPE_BY_IDENT.get(typeName);
  if (valueType === undefined) {
    throw schemaError(`attribute ${ident}: unknown db/valueType ${typeName}; use one of ${[...VALUE_TYPE_BY_IDENT.keys()].join(', ')}`);
  }
  const cardinalityName = asserted.get(BuiltIn.cardinality) as string | undefined;
  if (cardinalityName === undefined) throw schemaError(`attribute ${ident} needs db/cardinality`);
  const cardinality = CARDINALITY.get(cardinalityName);
  if (cardinality === undefined) throw schemaError(`attribute ${ident}: unknown db/cardinality ${cardinalityName}`);
  const uniqueName = asserted.get(BuiltIn.unique) as string | undefined;
  const unique = uniqueName === undefined ? undefined : UNIQUENESS.get(uniqueName);
  if (uniqueName !== undefined && unique === undefined) throw schemaError(`attribute ${ident}: unknown db/unique ${uniqueName}`);
  const isComponent = asserted.get(BuiltIn.isComponent) === true;
  if (isComponent && valueType !== 'ref') throw schemaError(`attribute ${ident}: db/isComponent needs db.type/ref`);
  return {
    id: e,
    ident,
    valueType,
    cardinality,
    unique,
    indexed: unique !== undefined || asserted.get(BuiltIn.index) === true,
    isComponent,
    doc: docOf(asserted),
    since: tx,
  };
}

/** The attribute's doc string; one long enough for the heap is left to the datoms (rare, informational). */
function docOf(asserted: ReadonlyMap<number, unknown>): string | undefined {
  const doc = asserted.get(BuiltIn.doc);
  return typeof doc === 'string' ? doc : undefined;
}
