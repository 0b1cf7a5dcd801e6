/**
 * Schema is data: an attribute is an entity with `db/ident`, `db/valueType` and `db/cardinality`
 * (and optionally `db/unique`, `db/index`, `db/isComponent`, `db/doc`). The built-in attributes
 * have fixed ids and are asserted by the bootstrap transaction, the first commit of every file.
 *
 * A `Schema` value is immutable: a transaction that installs attributes makes a new one. Each
 * attribute and ident remembers the tx that installed it, so a snapshot of an earlier commit
 * does not see what came later.
 */
import { ErrorCode, SedimentError } from '../../errors.js';
import type { ValueType } from './value-type.js';

export type Cardinality = 'one' | 'many';
export type Uniqueness = 'identity' | 'value';

export interface Attribute {
  readonly id: number;
  readonly ident: string;
  readonly valueType: ValueType;
  readonly cardinality: Cardinality;
  readonly unique: Uniqueness | undefined;
  /** `db/index` or `db/unique`: the attribute's datoms are in AVET. */
  readonly indexed: boolean;
  readonly isComponent: boolean;
  readonly doc: string | undefined;
  /** The tx that installed it. */
  readonly since: number;
}

/** Ids of the built-in attributes. Ids below FIRST_FREE_ID are reserved for built-ins. */
export const BuiltIn = {
  ident: 1,
  valueType: 2,
  cardinality: 3,
  unique: 4,
  index: 5,
  isComponent: 6,
  doc: 7,
  txInstant: 8,
} as const;

/** The bootstrap transaction's entity id; every later id is allocated after it. */
export const BOOTSTRAP_TX = 64;
export const FIRST_FREE_ID = BOOTSTRAP_TX + 1;

const builtIn = (
  id: number,
  ident: string,
  valueType: ValueType,
  extra: Partial<Pick<Attribute, 'unique' | 'indexed' | 'doc'>> = {},
): Attribute => ({
  id,
  ident,
  valueType,
  cardinality: 'one',
  unique: extra.unique,
  indexed: extra.indexed ?? extra.unique !== undefined,
  isComponent: false,
  doc: extra.doc,
  since: BOOTSTRAP_TX,
});

export const BUILT_IN_ATTRIBUTES: readonly Attribute[] = [
  builtIn(BuiltIn.ident, 'db/ident', 'keyword', { unique: 'identity', doc: 'The unique name of an entity.' }),
  builtIn(BuiltIn.valueType, 'db/valueType', 'keyword', { doc: 'The type of an attribute\'s values, a db.type/* keyword.' }),
  builtIn(BuiltIn.cardinality, 'db/cardinality', 'keyword', { doc: 'db.cardinality/one or db.cardinality/many.' }),
  builtIn(BuiltIn.unique, 'db/unique', 'keyword', { doc: 'db.unique/identity (upsert) or db.unique/value.' }),
  builtIn(BuiltIn.index, 'db/index', 'boolean', { doc: 'Keep the attribute in the AVET index.' }),
  builtIn(BuiltIn.isComponent, 'db/isComponent', 'boolean', { doc: 'A ref whose target is part of its entity.' }),
  builtIn(BuiltIn.doc, 'db/doc', 'string', { doc: 'Documentation.' }),
  builtIn(BuiltIn.txInstant, 'db/txInstant', 'instant', { indexed: true, doc: 'The time of a transaction.' }),
];

interface Ident {
  readonly id: number;
  readonly since: number;
}

export class Schema {
  private constructor(
    private readonly byId: ReadonlyMap<number, Attribute>,
    private readonly identToId: ReadonlyMap<string, Ident>,
    private readonly idToIdent: ReadonlyMap<number, string>,
  ) {}

  static builtIn(): Schema {
    const byId = new Map(BUILT_IN_ATTRIBUTES.map((a) => [a.id, a]));
    const identToId = new Map(BUILT_IN_ATTRIBUTES.map((a) => [a.ident, { id: a.id, since: a.since }]));
    const idToIdent = new Map(BUILT_IN_ATTRIBUTES.map((a) => [a.id, a.ident]));
    return new Schema(byId, identToId, idToIdent);
  }

  /** A schema with these attributes and idents added (a transaction's installations). */
  with(attributes: readonly Attribute[], idents: readonly { ident: string; id: number; since: number }[]): Schema {
    if (attributes.length === 0 && idents.length === 0) return this;
    const byId = new Map(this.byId);
    const identToId = new Map(this.identToId);
    const idToIdent = new Map(this.idToIdent);
    for (const i of idents) {
      identToId.set(i.ident, { id: i.id, since: i.since });
      idToIdent.set(i.id, i.ident);
    }
    for (const a of attributes) byId.set(a.id, a);
    return new Schema(byId, identToId, idToIdent);
  }

  /** The attribute named `ident` as of `basis`, or undefined. */
  find(ident: string, basis: number): Attribute | undefined {
    const entry = this.identToId.get(ident);
    if (entry === undefined || entry.since > basis) return undefined;
    const attribute = this.byId.get(entry.id);
    return attribute !== undefined && attribute.since <= basis ? attribute : undefined;
  }

  /** Like `find`, but an unknown ident is a `SEDIMENT_UNKNOWN_ATTRIBUTE` naming `where`. */
  attribute(ident: string, basis: number, where?: string | (() => string)): Attribute {
    const attribute = this.find(ident, basis);
    if (attribute === undefined) {
      const prefix = where === undefined ? '' : `${typeof where === 'string' ? where : where()}: `;
      throw new SedimentError(ErrorCode.unknownAttribute, `${prefix}unknown attribute ${JSON.stringify(ident)}`);
    }
    return attribute;
  }

  /** The attribute with entity id `id` (any basis: ids in stored datoms are always installed). */
  byEntity(id: number): Attribute | undefined {
    return this.byId.get(id);
  }

  /** The attribute of a stored datom: present by construction, so absence is corruption-level. */
  /** The value type of attribute `id` (`ofDatom`'s), as a function made once per schema: encoders take it. */
  readonly typeOfDatom = (id: number): ValueType => this.ofDatom(id).valueType;

  ofDatom(id: number): Attribute {
    const attribute = this.byId.get(id);
    if (attribute === undefined) throw new Error(`no attribute with id ${id}`);
    return attribute;
  }

  /** The entity named by `ident` as of `basis` (attributes and plain idents alike). */
  entityOfIdent(ident: string, basis: number): number | undefined {
    const entry = this.identToId.get(ident);
    return entry !== undefined && entry.since <= basis ? entry.id : undefined;
  }

  identOf(id: number): string | undefined {
    return this.idToIdent.get(id);
  }

  /** Every attribute as of `basis`, in id order. */
  attributes(basis: number): Attribute[] {
    return [...this.byId.values()].filter((a) => a.since <= basis).sort((a, b) => a.id - b.id);
  }
}
