/**
 * One transaction, from operations to the datoms it adds, with Datomic's semantics, against the
 * snapshot it is applied to:
 *
 *   1. resolve references: entity ids (must have been allocated), idents, lookup refs, and values
 *      checked against their attribute's type;
 *   2. upsert: a tempid asserting a unique-identity value that an entity holds becomes that
 *      entity; tempids asserting the same such value in one transaction become one entity;
 *   3. allocate ids for the remaining tempids in entity position, in order of first appearance
 *      (a tempid only ever used as a value is an error);
 *   4. expand `db/retractEntity` (its datoms, references to it, its components) and `db/cas`;
 *   5. drop redundant assertions and retractions of what does not hold, retract the old value of
 *      a cardinality-one attribute, and reject conflicts (two values for one cardinality-one
 *      attribute, asserting and retracting one datom, a unique value held elsewhere);
 *   6. validate schema changes.
 *
 * Nothing is written here: the outcome is the datoms, and the connection commits them.
 */
import { ErrorCode, SedimentError } from '../../errors.js';
import { Keyword } from '../edn.js';
import type { LogDatom } from '../encoding/log-record.js';
import type { Snapshot } from '../read/snapshot.js';
import { schemaAfter } from '../schema/install.js';
import { type Attribute, BuiltIn, type Schema } from '../schema/schema.js';
import { checkValue, describeValue, type Value, valuesEqual } from '../schema/value-type.js';
import type { StoredValue } from '../encoding/key-codec.js';
import { INLINE_VALUE_BYTES, LargeValue, type LargeType, largeValueOf } from '../encoding/large-value.js';
import { type EntityRef, parseTxData, RefValue, siteOf, TX_TEMPID, type Where } from './tx-data.js';
import { datomOf, retraction, Temp, type TxOp } from './tx-op.js';

export interface TxOutcome {
  readonly tx: number;
  readonly instant: number;
  /** The entity-id counter after this transaction. */
  readonly nextId: number;
  /** The transaction's datoms, its `db/txInstant` first. */
  readonly datoms: readonly LogDatom[];
  readonly tempids: Readonly<Record<string, number>>;
  readonly schema: Schema;
  /** Whether a datom retracts a large value, holding its stand-in (every other datom holds its value). */
  readonly retractsLargeValue: boolean;
}

type Resolved = number | Temp;

/** An operation once `concrete` has replaced its tempids (in place). */
type ConcreteOp = TxOp & { e: number; v: Value | undefined };

/**
 * An assertion or retraction the transaction makes; a retraction read from an index may hold a
 * large value's stand-in.
 */
type Pending = TxOp & { e: number; attribute: Attribute; v: StoredValue };

/** A string equal for equal values of one attribute (values of an attribute share a type). */
function valueKey(v: StoredValue): string {
  if (typeof v === 'string') return v.length * 3 > INLINE_VALUE_BYTES ? largeKey('string', v) : `s${v}`;
  if (typeof v === 'number') return `n${v}`;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'bigint') return `b${v}`;
  if (v instanceof Date) return `d${v.getTime()}`;
  if (v instanceof LargeValue) return `L${v.key}`;
  return largeKey('bytes', v);
}

/** A large value is known by its digest both as a value and as a stand-in read from an index. */
function largeKey(type: LargeType, v: string | Uint8Array): string {
  const large = largeValueOf(type, v);
  if (large !== undefined) return `L${large.key}`;
  return typeof v === 'string' ? `s${v}` : `x${Buffer.from(v).toString('latin1')}`;
}

function datomKey(e: number, attribute: Attribute, v: StoredValue): string {
  return `${e} ${attribute.id} ${valueKey(v)}`;
}

/**
 * One attribute's slot while its assertions come in ascending entity order, as an import's do:
 * an entity seen before can then only be the last one, so the slot of that entity is all there is
 * to keep, instead of a map entry per entity (for a million datoms, most of the transactor's
 * time went to those maps' lookups and growth). An assertion out of that order turns every
 * attribute's slots into maps by entity (`slotsByEntity`).
 */
class LastEntitySlot {
  e = -1;
  private slot: number | number[] | undefined = undefined;

  get(e: number): number | number[] | undefined {
    return e === this.e ? this.slot : undefined;
  }

  set(e: number, slot: number | number[]): void {
    this.e = e;
    this.slot = slot;
  }
}

/** Where one attribute's assertions are in `assertions`, by entity. */
type Slots = Map<number, number | number[]> | LastEntitySlot;

/** Values of one (entity, attribute) slot compared one by one; a slot with more gets a map by value. */
const SLOT_SCAN_LIMIT = 8;

export function runTransaction(snapshot: Snapshot, txData: unknown, instant: number): TxOutcome {
  return new Transaction(snapshot, instant).run(txData);
}

/**
 * An empty map standing in for one not made yet, never written: writers swap in their own first
 * (`writable`). A small transaction uses few of its maps, and each made is ~200 bytes for the
 * scavenger; a one-datom transaction made ten.
 */
const NONE: Map<never, never> = new (class extends Map<never, never> {
  override set(): never {
    throw new Error('internal: a write to the stand-in for a map not made yet');
  }
})();

function writable<K, V>(map: Map<K, V>): Map<K, V> {
  return map === (NONE as unknown) ? new Map<K, V>() : map;
}

function none<K, V>(): Map<K, V> {
  return NONE as unknown as Map<K, V>;
}

class Transaction {
  private readonly tx: number;
  private nextId: number;
  private readonly basis: number;
  private tempids = none<string, number>();
  private temps = none<string, Temp>();
  /** Tempid to a tempid it shares a unique identity value with (one entity): links towards `root`. */
  private aliases = none<string, string>();
  /** See TxOutcome: set by `retract`, where a value read from an index may be a stand-in. */
  private retractsLargeValue = false;

  constructor(
    private readonly snapshot: Snapshot,
    private readonly instant: number,
  ) {
    this.tx = snapshot.basis.nextId;
    this.nextId = this.tx + 1;
    this.basis = snapshot.basis.tx;
  }

  run(txData: unknown): TxOutcome {
    const ops = parseTxData(txData, this.snapshot.schema, this.basis);
    this.resolveAll(ops);
    this.upsert(ops);
    this.allocate(ops);
    const datoms = this.expand(this.concreteOps(ops));
    const schema = schemaAfter(this.snapshot.schema, datoms, this.tx);
    const txDatom: LogDatom = { e: this.tx, a: BuiltIn.txInstant, v: new Date(this.instant), tx: this.tx, added: true, assertedTx: this.tx };
    datoms.unshift(txDatom);
    return { tx: this.tx, instant: this.instant, nextId: this.nextId, datoms, tempids: this.reportedTempids(), schema, retractsLargeValue: this.retractsLargeValue };
  }

  /** Tempids as given (not the ones made up for maps without `db/id`) and their entity ids. */
  private reportedTempids(): Record<string, number> {
    const tempids: Record<string, number> = {};
    for (const [name, id] of this.tempids) if (!name.startsWith('__map')) tempids[name] = id;
    return tempids;
  }

  // ----- 1. references ------------------------------------------------------------------------

  private resolveAll(ops: readonly TxOp[]): void {
    for (let i = 0; i < ops.length; i++) this.resolve(ops[i]!);
  }

  /** Resolves the operation in place; an assertion is then its log datom but for tempids. */
  private resolve(op: TxOp): void {
    op.e = this.entity(op.ref!, op.where);
    if (op.op === 'retractEntity') return;
    const attribute = this.snapshot.schema.attribute(op.attr, this.basis, () => String(siteOf(op.where)));
    if (attribute.id === BuiltIn.txInstant) {
      throw new SedimentError(ErrorCode.invalidTx, `${siteOf(op.where)}: db/txInstant is set by the transaction (use the txInstant option)`);
    }
    const raw: unknown = op.v;
    op.v = raw === undefined && op.op === 'retract' ? undefined : this.value(attribute, raw, op.where);
    op.old = op.op === 'cas' && op.old !== undefined && op.old !== null ? this.concreteValue(attribute, op.old, op.where) : undefined;
    op.attribute = attribute;
    op.a = attribute.id;
    op.tx = this.tx;
    op.assertedTx = this.tx;
  }

  private entity(ref: EntityRef, where: Where): Resolved {
    switch (ref.kind) {
      case 'id':
        if (ref.id >= this.snapshot.basis.nextId) {
          throw new SedimentError(ErrorCode.entityNotFound, `${siteOf(where)}: entity ${ref.id} does not exist (ids so far end at ${this.snapshot.basis.nextId - 1})`);
        }
        return ref.id;
      case 'tempid':
        return ref.name === TX_TEMPID ? this.tx : this.temp(ref.name);
      case 'ident': {
        const id = this.snapshot.schema.entityOfIdent(ref.ident, this.basis);
        if (id === undefined) throw new SedimentError(ErrorCode.entityNotFound, `${siteOf(where)}: no entity has the ident :${ref.ident}`);
        return id;
      }
      case 'lookup': {
        const attribute = this.snapshot.schema.attribute(ref.attribute, this.basis, () => String(siteOf(where)));
        if (attribute.unique === undefined) {
          throw new SedimentError(ErrorCode.invalidTx, `${siteOf(where)}: lookup ref attribute ${attribute.ident} is not db/unique`);
        }
        const value = this.concreteValue(attribute, ref.value, where);
        const holder = this.snapshot.holders(attribute, value)[0];
        if (holder === undefined) {
          throw new SedimentError(ErrorCode.lookupRefNotFound, `${siteOf(where)}: lookup ref [${attribute.ident} ${describeValue(value)}] names no entity`);
        }
        return holder;
      }
    }
  }

  private value(attribute: Attribute, raw: unknown, where: Where): Value | Temp {
    if (attribute.valueType !== 'ref') {
      const plain = raw instanceof Keyword && attribute.valueType === 'keyword' ? raw.name : raw;
      return checkValue(attribute.valueType, plain, () => `${siteOf(where)}: ${attribute.ident}`);
    }
    if (raw instanceof RefValue) return this.entity(raw.ref, where);
    if (raw instanceof Keyword) return this.entity({ kind: 'ident', ident: raw.name }, where);
    if (typeof raw === 'number' || typeof raw === 'string' || Array.isArray(raw)) {
      if (typeof raw === 'number' && !Number.isSafeInteger(raw)) {
        throw new SedimentError(ErrorCode.wrongType, `${siteOf(where)}: ${attribute.ident}: ${describeValue(raw)} is not a ref`);
      }
      if (Array.isArray(raw) && !(raw.length === 2 && (typeof raw[0] === 'string' || raw[0] instanceof Keyword))) {
        throw new SedimentError(ErrorCode.wrongType, `${siteOf(where)}: ${attribute.ident}: ${describeValue(raw)} is not a ref`);
      }
      // A tempid string (an import's every ref) as `entity` takes it, with no reference made for it.
      if (typeof raw === 'string') return raw === TX_TEMPID ? this.tx : this.temp(raw);
      const ref: EntityRef =
        typeof raw === 'number'
          ? raw < 0
            ? { kind: 'tempid', name: String(raw), generated: false }
            : { kind: 'id', id: raw }
          : { kind: 'lookup', attribute: raw[0] instanceof Keyword ? raw[0].name : (raw[0] as string), value: raw[1] };
      if (ref.kind === 'id' && ref.id === 0) throw new SedimentError(ErrorCode.wrongType, `${siteOf(where)}: ${attribute.ident}: 0 is not an entity id`);
      return this.entity(ref, where);
    }
    throw new SedimentError(ErrorCode.wrongType, `${siteOf(where)}: ${attribute.ident}: ${describeValue(raw)} is not a ref`);
  }

  /** A value that must not be a tempid (lookup-ref values, `db/cas` expectations). */
  private concreteValue(attribute: Attribute, raw: unknown, where: Where): Value {
    const v = this.value(attribute, raw, where);
    if (v instanceof Temp) throw new SedimentError(ErrorCode.tempidUnresolved, `${siteOf(where)}: tempid ${v.name} cannot be used here`);
    return v;
  }

  // ----- 2. upsert ----------------------------------------------------------------------------

  private deref<T>(x: T | Temp): T | Temp | number {
    if (!(x instanceof Temp)) return x;
    // A name given an id shares it with its root (upsert gives every tempid of one entity the same).
    if (x.id !== 0) return x.id;
    const name = this.root(x.name);
    return this.tempids.get(name) ?? (name === x.name ? x : this.temp(name));
  }

  /**
   * One Temp per tempid name: an import names each new entity in every datom of it, and every
   * object made here lives until the transaction ends (the garbage collector copies it).
   */
  private temp(name: string): Temp {
    let temp = this.temps.get(name);
    if (temp === undefined) {
      (this.temps = writable(this.temps)).set(name, (temp = new Temp(name)));
      temp.id = this.tempids.get(name) ?? 0;
    }
    return temp;
  }

  /** Gives tempid `name` the entity id `id`: in `tempids`, and in its Temp if one is made (see Temp.id). */
  private give(name: string, id: number): void {
    (this.tempids = writable(this.tempids)).set(name, id);
    const temp = this.temps.get(name);
    if (temp !== undefined) temp.id = id;
  }

  /** The tempid that stands for every tempid sharing an identity value with `name`. */
  private root(name: string): string {
    if (this.aliases.size === 0) return name; // no upsert joined tempids: a lookup saved a datom
    for (let parent = this.aliases.get(name); parent !== undefined; parent = this.aliases.get(name)) name = parent;
    return name;
  }

  private upsert(ops: readonly TxOp[]): void {
    const identity = ops.filter((op) => op.op === 'add' && op.attribute?.unique === 'identity' && op.e instanceof Temp);
    if (identity.length === 0) return;
    const conflict = (op: TxOp, name: string, a: number, b: number) =>
      new SedimentError(ErrorCode.uniqueConflict, `${siteOf(op.where)}: tempid ${name} upserts to both entity ${a} and entity ${b}`);
    // Tempids asserting one identity value are one entity, and a value some entity holds makes
    // the tempid that entity. Resolving one tempid can make another's identity value concrete
    // (a ref to it): repeat until nothing changes.
    for (let changed = true; changed; ) {
      changed = false;
      const owners = new Map<string, string>();
      for (const op of identity) {
        const v = this.deref(op.v);
        if (v instanceof Temp || v === undefined) continue;
        const name = this.root((op.e as Temp).name);
        const key = `${op.attribute!.id} ${valueKey(v)}`;
        const owner = owners.get(key);
        if (owner === undefined) owners.set(key, name);
        else if (this.root(owner) !== name) {
          const other = this.root(owner);
          const [a, b] = [this.tempids.get(name), this.tempids.get(other)];
          if (a !== undefined && b !== undefined && a !== b) throw conflict(op, name, a, b);
          (this.aliases = writable(this.aliases)).set(name, other);
          if (b === undefined && a !== undefined) this.give(other, a);
          changed = true;
        }
      }
      for (const op of identity) {
        const v = this.deref(op.v);
        if (v instanceof Temp || v === undefined) continue;
        const holder = this.snapshot.holders(op.attribute!, v)[0];
        if (holder === undefined) continue;
        const name = this.root((op.e as Temp).name);
        const earlier = this.tempids.get(name);
        if (earlier !== undefined && earlier !== holder) throw conflict(op, name, earlier, holder);
        if (earlier === undefined) {
          this.give(name, holder);
          changed = true;
        }
      }
    }
  }

  // ----- 3. allocation ------------------------------------------------------------------------

  // Two loops, two methods: see the note on on-stack replacement at `expand` (measured: one
  // deopt per small transaction after an import, when these were one method).
  private allocate(ops: readonly TxOp[]): void {
    this.allocateTempids(ops);
    this.allocateAliases();
  }

  private allocateTempids(ops: readonly TxOp[]): void {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.op !== 'add' && op.op !== 'cas') continue;
      const e = this.deref(op.e);
      // `deref` gives a Temp only for a name without an id (its root's Temp when joined by upsert).
      if (e instanceof Temp) {
        (this.tempids = writable(this.tempids)).set(e.name, this.nextId);
        e.id = this.nextId++;
      }
    }
  }

  private allocateAliases(): void {
    for (const alias of this.aliases.keys()) {
      const id = this.tempids.get(this.root(alias));
      if (id !== undefined) this.give(alias, id);
    }
  }

  private concreteOps(ops: TxOp[]): ConcreteOp[] {
    for (let i = 0; i < ops.length; i++) this.concrete(ops[i]!);
    return ops as ConcreteOp[];
  }

  private concrete(op: TxOp): void {
    const e = this.deref(op.e);
    const v = this.deref(op.v);
    if (e instanceof Temp) {
      throw new SedimentError(ErrorCode.tempidUnresolved, `${siteOf(op.where)}: tempid ${e.name} names no entity (it is only retracted or used as a value)`);
    }
    if (v instanceof Temp) {
      throw new SedimentError(ErrorCode.tempidUnresolved, `${siteOf(op.where)}: tempid ${v.name} is used only as a value, so no entity is made for it`);
    }
    op.e = e;
    op.v = v;
  }

  // ----- 4 and 5. expansion and conflicts ------------------------------------------------------

  /**
   * Distinct assertions in order of first appearance (a repeat replaces its entry in place): the
   * first `assertionCount` entries while the operations are expanded, sized for all of them up
   * front (a million pushes grew it through ~24 MB of copies, which only a full collection frees).
   */
  private assertions: Pending[] = [];
  private assertionCount = 0;
  /**
   * Where each (entity, attribute) slot's assertions are in `assertions`, by attribute, then
   * entity: a number for a cardinality-one slot (its only value), a list for a cardinality-many
   * one. Keyed by numbers rather than a string per datom, which an import paid for in building,
   * hashing and collecting them (measured: most of the transactor's own time); while assertions
   * come in entity order, only the last entity's slot (`LastEntitySlot`).
   */
  private readonly slots = new Map<number, Slots>();
  /** Assertions of cardinality-many slots with many values, by `datomKey`. */
  private manyAsserted = none<string, number>();
  private readonly retractions = new Map<string, Pending>();
  /** Entities `db/retractEntity` has retracted, as keys (a map for `none`). */
  private retractedEntities = none<number, true>();

  // Each loop below is a method of its own, on purpose: a large transaction makes V8 compile a hot
  // loop while it runs (on-stack replacement) and cache that code, and when code after the loop in
  // the same function has never run, every later call deoptimizes there (measured: one deopt per
  // small transaction after a bulk import). Loops over the operations are indexed rather than
  // for-of: in these loops, which run once per transaction, the array iterator allocated a result
  // object per element (measured with the sampling heap profiler: ~40 bytes a datom per loop).
  private expand(ops: readonly ConcreteOp[]): LogDatom[] {
    // Each operation asserts at most one datom.
    this.assertions = new Array<Pending>(ops.length);
    this.expandOps(ops);
    this.assertions.length = this.assertionCount;
    this.rejectAssertedAndRetracted();
    const added = this.effectiveAssertions();
    this.checkUniques(added);
    return this.emit(added);
  }

  private expandOps(ops: readonly ConcreteOp[]): void {
    for (let i = 0; i < ops.length; i++) this.expandOp(ops[i]!);
  }

  private expandOp(op: ConcreteOp): void {
    switch (op.op) {
      case 'add':
        this.assert(op as Pending);
        return;
      case 'retract': {
        const attribute = op.attribute!;
        const current = op.v === undefined ? this.snapshot.values(op.e, attribute.id) : [this.snapshot.find(op.e, attribute, op.v)];
        for (const d of current) if (d !== undefined) this.retract(op.e, attribute, d.v, d.tx, op.where);
        return;
      }
      case 'retractEntity':
        this.retractEntity(op.e, op.where);
        return;
      case 'cas': {
        const attribute = op.attribute!;
        if (attribute.cardinality !== 'one') {
          throw new SedimentError(ErrorCode.invalidTx, `${siteOf(op.where)}: db/cas needs a cardinality-one attribute, ${attribute.ident} is many`);
        }
        const stored = this.snapshot.values(op.e, attribute.id)[0]?.v;
        const found = stored === undefined ? undefined : this.snapshot.resolve(stored);
        const old = op.old as Value | undefined;
        const matches = old === undefined ? found === undefined : found !== undefined && valuesEqual(found, old);
        if (!matches) {
          throw new SedimentError(
            ErrorCode.casFailed,
            `${siteOf(op.where)}: db/cas expected ${old === undefined ? 'no value' : describeValue(old)} for ${attribute.ident} of entity ${op.e}, found ${found === undefined ? 'no value' : describeValue(found)}`,
          );
        }
        this.assert(op as Pending);
        return;
      }
    }
  }

  private retract(e: number, attribute: Attribute, v: StoredValue, assertedTx: number, where: Where): void {
    if (v instanceof LargeValue) this.retractsLargeValue = true;
    const key = datomKey(e, attribute, v);
    if (!this.retractions.has(key)) this.retractions.set(key, retraction(e, attribute, v, this.tx, assertedTx, where) as Pending);
  }

  /** An assertion (a resolved, concrete `add` or `db/cas`): it becomes its own log datom. */
  private assert(pending: Pending): void {
    const attribute = pending.attribute;
    let slots = this.slots.get(attribute.id);
    if (slots === undefined) this.slots.set(attribute.id, (slots = this.entityOrder ? new LastEntitySlot() : new Map()));
    if (slots instanceof LastEntitySlot && pending.e < slots.e) slots = this.slotsByEntity(attribute.id);
    const at = attribute.cardinality === 'one' ? this.assertOne(slots, pending) : this.assertMany(slots, pending);
    // The same datom again keeps its place; its site is the latest, as error messages name it.
    if (at === undefined) this.assertions[this.assertionCount++] = pending;
    else this.assertions[at] = pending;
  }

  /** Whether every attribute's slots are a `LastEntitySlot` (see there). */
  private entityOrder = true;

  /**
   * Every attribute's slots by entity from now on, rebuilt from the assertions so far, when one
   * comes before the last entity its attribute saw; returns those of `attribute`.
   */
  private slotsByEntity(attribute: number): Slots {
    this.entityOrder = false;
    for (const id of this.slots.keys()) this.slots.set(id, new Map());
    const assertions = this.assertions;
    for (let i = 0; i < this.assertionCount; i++) {
      const a = assertions[i]!;
      const slots = this.slots.get(a.attribute.id) as Map<number, number | number[]>;
      const slot = slots.get(a.e);
      if (a.attribute.cardinality === 'one' || slot === undefined) slots.set(a.e, i);
      else if (typeof slot === 'number') slots.set(a.e, [slot, i]);
      else slot.push(i);
    }
    return this.slots.get(attribute)!;
  }

  /** Where an equal assertion of the slot is, if any; a different value is a conflict. */
  private assertOne(slots: Slots, a: Pending): number | undefined {
    const at = slots.get(a.e) as number | undefined;
    if (at === undefined) {
      slots.set(a.e, this.assertionCount);
      return undefined;
    }
    // Entries here are assertions from the transaction data: values, never stand-ins.
    const other = this.assertions[at]!.v as Value;
    if (!valuesEqual(other, a.v as Value)) {
      throw new SedimentError(
        ErrorCode.datomConflict,
        `${siteOf(a.where)}: entity ${a.e} gets two values of cardinality-one ${a.attribute.ident} in one transaction: ${describeValue(other)} and ${describeValue(a.v)}`,
      );
    }
    return at;
  }

  /**
   * Where an equal assertion of the slot is, if any; else records where this one goes. A slot of
   * one value holds its position alone: an array for each (an import's) was ~18 MB a million datoms.
   */
  private assertMany(slots: Slots, a: Pending): number | undefined {
    const next = this.assertionCount;
    const slot = slots.get(a.e);
    if (slot === undefined) {
      slots.set(a.e, next);
      return undefined;
    }
    if (typeof slot === 'number') {
      if (valuesEqual(this.assertions[slot]!.v as Value, a.v as Value)) return slot;
      slots.set(a.e, [slot, next]);
      return undefined;
    }
    const list = slot;
    if (list.length <= SLOT_SCAN_LIMIT) {
      for (let i = 0; i < list.length; i++) if (valuesEqual(this.assertions[list[i]!]!.v as Value, a.v as Value)) return list[i];
      list.push(next);
      if (list.length > SLOT_SCAN_LIMIT) {
        for (const at of list) {
          const b = at === next ? a : this.assertions[at]!;
          (this.manyAsserted = writable(this.manyAsserted)).set(datomKey(b.e, b.attribute, b.v), at);
        }
      }
      return undefined;
    }
    const key = datomKey(a.e, a.attribute, a.v);
    const at = this.manyAsserted.get(key);
    if (at === undefined) {
      (this.manyAsserted = writable(this.manyAsserted)).set(key, next);
      list.push(next);
    }
    return at;
  }

  private retractEntity(e: number, where: Where): void {
    if (this.retractedEntities.has(e)) return;
    (this.retractedEntities = writable(this.retractedEntities)).set(e, true);
    for (const d of this.snapshot.entityDatoms(e)) {
      const attribute = this.snapshot.schema.ofDatom(d.a);
      this.retract(e, attribute, d.v, d.tx, where);
      if (attribute.isComponent) this.retractEntity(d.v as number, where);
    }
    for (const d of this.snapshot.referencesTo(e)) {
      this.retract(d.e, this.snapshot.schema.ofDatom(d.a), d.v, d.tx, where);
    }
  }

  private rejectAssertedAndRetracted(): void {
    if (this.retractions.size === 0) return;
    for (let i = 0; i < this.assertions.length; i++) {
      const a = this.assertions[i]!;
      if (this.retractions.has(datomKey(a.e, a.attribute, a.v))) {
        throw new SedimentError(
          ErrorCode.datomConflict,
          `${siteOf(a.where)}: the transaction both asserts and retracts [${a.e} ${a.attribute.ident} ${describeValue(a.v)}]`,
        );
      }
    }
  }

  /**
   * The assertions that change something, retracting the values cardinality-one ones replace: the
   * list itself when every one does (an import's), rather than a copy of all of them.
   */
  private effectiveAssertions(): Pending[] {
    const assertions = this.assertions;
    const redundant = this.firstRedundant(assertions);
    return redundant === assertions.length ? assertions : this.effectiveAfter(assertions, redundant);
  }

  /** Where the first redundant assertion is (the length if none), settling each one before it. */
  private firstRedundant(assertions: readonly Pending[]): number {
    for (let i = 0; i < assertions.length; i++) if (!this.changes(assertions[i]!)) return i;
    return assertions.length;
  }

  /** The assertions before `redundant` and those after it that change something. */
  private effectiveAfter(assertions: readonly Pending[], redundant: number): Pending[] {
    const added = assertions.slice(0, redundant);
    for (let i = redundant + 1; i < assertions.length; i++) if (this.changes(assertions[i]!)) added.push(assertions[i]!);
    return added;
  }

  /** Whether the assertion changes something; a cardinality-one one retracts the value it replaces. */
  private changes(a: Pending): boolean {
    // Entities made by this transaction (ids from its tx on) have no datoms yet to compare with.
    if (a.e >= this.tx) return true;
    if (a.attribute.cardinality === 'one') {
      // One read serves both questions: is it redundant, and which old value does it replace?
      const current = this.snapshot.values(a.e, a.attribute.id)[0];
      if (current !== undefined && valueKey(current.v) === valueKey(a.v)) return false;
      if (current !== undefined) this.retract(a.e, a.attribute, current.v, current.tx, a.where);
      return true;
    }
    return this.snapshot.find(a.e, a.attribute, a.v) === undefined;
  }

  /**
   * After every cardinality-one retraction is known: a value given up anywhere in the transaction
   * may be taken by another entity, whatever the order of the operations.
   */
  private checkUniques(added: readonly Pending[]): void {
    let uniqueInTx = none<string, Pending>();
    for (let i = 0; i < added.length; i++) {
      const a = added[i]!;
      if (a.attribute.unique !== undefined) this.checkUnique(a, this.retractions, (uniqueInTx = writable(uniqueInTx)));
    }
  }

  /** The datoms: retractions, then assertions; with no retraction, `added` itself (it is ours). */
  private emit(added: Pending[]): LogDatom[] {
    if (this.retractions.size === 0) return added as unknown as LogDatom[];
    const out: LogDatom[] = [];
    this.emitRetractions(out);
    this.emitAssertions(out, added);
    return out;
  }

  private emitRetractions(out: LogDatom[]): void {
    for (const r of this.retractions.values()) out.push(datomOf(r));
  }

  private emitAssertions(out: LogDatom[], added: readonly Pending[]): void {
    for (let i = 0; i < added.length; i++) out.push(datomOf(added[i]!));
  }

  private checkUnique(a: Pending, retractions: ReadonlyMap<string, Pending>, uniqueInTx: Map<string, Pending>): void {
    const conflict = (holder: number) =>
      new SedimentError(
        ErrorCode.uniqueConflict,
        `${siteOf(a.where)}: ${describeValue(a.v)} for unique ${a.attribute.ident} is already held by entity ${holder} (asserted for entity ${a.e})`,
      );
    for (const holder of this.snapshot.holders(a.attribute, a.v)) {
      if (holder !== a.e && !retractions.has(datomKey(holder, a.attribute, a.v))) throw conflict(holder);
    }
    const key = `${a.attribute.id} ${valueKey(a.v)}`;
    const other = uniqueInTx.get(key);
    if (other !== undefined && other.e !== a.e) throw conflict(other.e);
    uniqueInTx.set(key, a);
  }
}
