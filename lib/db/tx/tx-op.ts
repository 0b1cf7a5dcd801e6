/**
 * One operation of a transaction, from parsing to the log: the parser makes it, the transactor
 * resolves it in place, and an assertion that changes something is emitted as itself, the
 * transaction's `LogDatom`. Every object made per datom lives until the transaction ends, so the
 * garbage collector copies and promotes each one; this was six (parsed operation, entity
 * reference, resolved operation, pending assertion, log datom, and the site) and is now one for
 * a list form, two for a map form (this and the site).
 */
import type { LogDatom } from '../encoding/log-record.js';
import type { Attribute } from '../schema/schema.js';
import type { StoredValue } from '../encoding/key-codec.js';
import type { EntityRef, Where } from './tx-data.js';

export type OpKind = 'add' | 'retract' | 'retractEntity' | 'cas';

/** A tempid the transactor has not yet given an entity id; one per name. */
export class Temp {
  /**
   * The entity id given to this name, once given (0 before): the transactor's `tempids` entry for
   * it, kept here too so that the operations naming it find it without a lookup by name.
   */
  id = 0;

  constructor(readonly name: string) {}
}

/** All fields are present from the start, in one order, so every operation has one shape. */
export interface TxOp {
  readonly op: OpKind;
  /** The entity as parsed; undefined for a retraction the transactor makes itself. */
  readonly ref: EntityRef | undefined;
  /** The attribute's name as given ('' for `db/retractEntity`). */
  readonly attr: string;
  readonly where: Where;
  /** The entity: 0 until resolved, then an id, or a tempid until ids are allocated. */
  e: number | Temp;
  /** The attribute's id once resolved (`a` of the log datom). */
  a: number;
  attribute: Attribute | undefined;
  /** The value as given, until resolved: then a value of the attribute's type, or a tempid. */
  v: StoredValue | Temp | undefined;
  /** `db/cas`: the expected value as given, until resolved. */
  old: unknown;
  // The log datom's remaining fields: an assertion's are set when it is resolved.
  tx: number;
  added: boolean;
  assertedTx: number;
}

/**
 * An object literal rather than a class instance, on purpose: V8 tracks where literals are made
 * and, once most of a site's objects survive, allocates them in the old space from then on, so
 * the scavenger never copies them (a class instance is copied twice on its way there; measured
 * at 1M datoms: ~140 MB more promoted when this was a class).
 */
export function txOp(op: OpKind, ref: EntityRef | undefined, attr: string, v: unknown, old: unknown, where: Where): TxOp {
  // The value as given is unchecked until the transactor resolves it.
  return { op, ref, attr, where, e: 0, a: 0, attribute: undefined, v: v as StoredValue | undefined, old, tx: 0, added: true, assertedTx: 0 };
}

/** A retraction of a datom that holds, which the transactor finds (not one given). */
export function retraction(e: number, attribute: Attribute, v: StoredValue, tx: number, assertedTx: number, where: Where): TxOp {
  return { op: 'retract', ref: undefined, attr: '', where, e, a: attribute.id, attribute, v, old: undefined, tx, added: false, assertedTx };
}

/** The operation as the datom it is, once its entity and value are concrete. */
export function datomOf(op: TxOp): LogDatom {
  return op as unknown as LogDatom;
}
