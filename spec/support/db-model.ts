/**
 * A plain in-memory model of Datomic's semantics, to check the database against: the set of all
 * datoms ever (each [e a v tx added]), the commits that made them, and the current state at any t
 * derived by replaying them. Indexes are that state filtered and sorted. Transactions are applied
 * by straightforward scans over the current datoms; nothing here is clever, so that when the
 * database and the model disagree, the model is easy to believe (or to fix).
 *
 * Phases of a transaction, and so which error a transaction with several faults reports:
 *   1. parse the whole tx data (map forms flattened, depth first, in key order);
 *   2. resolve each operation in turn (entity, attribute, value, cas expectation);
 *   3. upsert: tempids asserting one unique-identity value are one entity, which is the value's
 *      holder if any; allocate ids to the rest in order of first appearance in entity position;
 *   4. expand the operations in turn (card-one clashes and cas checks as they come), then reject
 *      asserting and retracting one datom, then unique values held by two entities afterwards.
 */
import { ErrorCode } from '../../lib/errors.js';

export type ValueType = 'string' | 'long' | 'double' | 'bigint' | 'boolean' | 'instant' | 'keyword' | 'uuid' | 'ref' | 'bytes';
export type MValue = string | number | bigint | boolean | Date | Uint8Array;
export type Order = 'eavt' | 'aevt' | 'avet' | 'vaet';
export const ORDERS: readonly Order[] = ['eavt', 'aevt', 'avet', 'vaet'];

export interface MAttr {
  readonly id: number;
  readonly ident: string;
  readonly valueType: ValueType;
  readonly cardinality: 'one' | 'many';
  readonly unique: 'identity' | 'value' | undefined;
  /** In AVET: `db/index` or `db/unique`. */
  readonly indexed: boolean;
  readonly isComponent: boolean;
}

export interface MDatom {
  readonly e: number;
  readonly a: number;
  readonly v: MValue;
  readonly tx: number;
  readonly added: boolean;
}

/** A datom as the database's API shows it: the attribute by ident. */
export interface ApiDatom {
  readonly e: number;
  readonly a: string;
  readonly v: unknown;
  readonly tx: number;
  readonly added: boolean;
}

export interface MCommit {
  readonly tx: number;
  readonly instant: number;
  /** The transaction's datoms, its `db/txInstant` first. */
  readonly datoms: readonly MDatom[];
  /** Ids allocated to the transaction's new entities. */
  readonly newIds: readonly number[];
}

export type TxResult =
  | { readonly ok: true; readonly tx: number; readonly tempids: Record<string, number>; readonly datoms: readonly MDatom[] }
  | { readonly ok: false; readonly code: string; readonly reason: string; readonly alsoAccepted: readonly string[] };

class ModelError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Other codes that are as right: the transaction has several faults at once. */
    readonly alsoAccepted: readonly string[] = [],
  ) {
    super(message);
  }
}

// ----- values ---------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The stored form of `raw` as a value of `type`, or undefined when it is not one. Refs are ids. */
export function coerce(type: ValueType, raw: unknown): MValue | undefined {
  switch (type) {
    case 'string':
      return typeof raw === 'string' ? raw : undefined;
    case 'keyword':
      return typeof raw === 'string' && raw.length > 0 && !raw.startsWith(':') ? raw : undefined;
    case 'long':
      return typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : undefined;
    case 'ref':
      return typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0 ? raw : undefined;
    case 'double':
      // -0 and 0 are one value.
      return typeof raw === 'number' && !Number.isNaN(raw) ? (raw === 0 ? 0 : raw) : undefined;
    case 'bigint':
      return typeof raw === 'bigint' ? raw : typeof raw === 'number' && Number.isSafeInteger(raw) ? BigInt(raw) : undefined;
    case 'boolean':
      return typeof raw === 'boolean' ? raw : undefined;
    case 'instant':
      return raw instanceof Date && !Number.isNaN(raw.getTime()) ? new Date(raw.getTime()) : undefined;
    case 'uuid':
      return typeof raw === 'string' && UUID.test(raw) ? raw.toLowerCase() : undefined;
    case 'bytes':
      return raw instanceof Uint8Array ? new Uint8Array(raw) : undefined;
  }
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const sign = (x: number) => (x < 0 ? -1 : x > 0 ? 1 : 0);

/** The natural order of two values of one type. */
export function compareValues(type: ValueType, x: MValue, y: MValue): number {
  switch (type) {
    case 'string':
    case 'keyword':
      return Buffer.compare(utf8(x as string), utf8(y as string));
    case 'uuid':
      return Buffer.compare(Buffer.from((x as string).replaceAll('-', ''), 'hex'), Buffer.from((y as string).replaceAll('-', ''), 'hex'));
    case 'long':
    case 'double':
    case 'ref':
    case 'bigint':
      return x < y ? -1 : x > y ? 1 : 0;
    case 'boolean':
      return Number(x) - Number(y);
    case 'instant':
      return sign((x as Date).getTime() - (y as Date).getTime());
    case 'bytes':
      return Buffer.compare(x as Uint8Array, y as Uint8Array);
  }
}

/** One printable, unambiguous form per stored value (what the checks compare). */
export function renderValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Date) return `#inst ${v.getTime()}`;
  if (v instanceof Uint8Array) return `#bytes[${Buffer.from(v).toString('hex')}]`;
  return `?${typeof v}:${String(v)}`;
}

export function renderDatom(d: ApiDatom): string {
  return `[${d.e} ${d.a} ${renderValue(d.v)} ${d.tx} ${d.added}]`;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype;
}

// ----- transaction internals ------------------------------------------------------------------

class Temp {
  constructor(
    readonly name: string,
    readonly generated: boolean,
  ) {}
}

/** A ref value given as a nested map: the nested entity's reference. */
class Nested {
  constructor(readonly ref: RawRef) {}
}

type RawRef = { kind: 'id'; id: number } | { kind: 'temp'; temp: Temp } | { kind: 'lookup'; attr: unknown; value: unknown };

interface RawOp {
  readonly op: 'add' | 'retract' | 'retractEntity' | 'cas';
  readonly e: RawRef;
  readonly a?: unknown;
  readonly v?: unknown;
  readonly hasV: boolean;
  readonly old?: unknown;
}

type Ent = number | Temp;

interface Op {
  readonly op: RawOp['op'];
  readonly e: Ent;
  readonly attr: MAttr | undefined;
  /** undefined: a retraction of every value. */
  readonly v: MValue | Temp | undefined;
  readonly old: MValue | undefined;
}

const fail = (code: string, message: string, alsoAccepted: readonly string[] = []): never => {
  throw new ModelError(code, message, alsoAccepted);
};

// ----- the model ------------------------------------------------------------------------------

export class DbModel {
  readonly commits: MCommit[] = [];
  private readonly attrs = new Map<number, MAttr>();
  private readonly byIdent = new Map<string, MAttr>();
  /** The current datoms of the latest commit, by [e a v]. */
  private current = new Map<string, MDatom>();
  nextId: number;

  /**
   * A model starting from the bootstrap commit (the built-in attributes), given as the database
   * shows it: the bootstrap is fixed data, not behaviour under test.
   */
  constructor(bootstrap: { tx: number; instant: number; datoms: readonly ApiDatom[] }) {
    const identOf = new Map<string, number>();
    for (const d of bootstrap.datoms) if (d.a === 'db/ident') identOf.set(d.v as string, d.e);
    const datoms = bootstrap.datoms.map((d) => ({ e: d.e, a: identOf.get(d.a)!, v: d.v as MValue, tx: d.tx, added: d.added }));
    this.nextId = bootstrap.tx + 1;
    this.commit(bootstrap.tx, bootstrap.instant, datoms, [], (ident) => identOf.get(ident));
  }

  get basisT(): number {
    return this.commits[this.commits.length - 1]!.tx;
  }

  attr(ident: string): MAttr | undefined {
    return this.byIdent.get(ident);
  }

  attrById(id: number): MAttr {
    const a = this.attrs.get(id);
    if (a === undefined) throw new Error(`model: no attribute ${id}`);
    return a;
  }

  userAttrs(): MAttr[] {
    return [...this.attrs.values()].filter((a) => !a.ident.startsWith('db/')).sort((x, y) => x.id - y.id);
  }

  toApi(d: MDatom): ApiDatom {
    return { e: d.e, a: this.attrById(d.a).ident, v: d.v, tx: d.tx, added: d.added };
  }

  // ----- reads of the latest state (what a transaction sees) ----------------------------------

  currentDatoms(): MDatom[] {
    return [...this.current.values()];
  }

  valuesOf(e: number, a: number): MDatom[] {
    return this.currentDatoms().filter((d) => d.e === e && d.a === a);
  }

  holders(a: MAttr, v: MValue): number[] {
    return this.currentDatoms()
      .filter((d) => d.a === a.id && compareValues(a.valueType, d.v, v) === 0)
      .map((d) => d.e);
  }

  private key(e: number, a: number, v: MValue): string {
    return `${e} ${a} ${renderValue(v)}`;
  }

  // ----- states at any t ----------------------------------------------------------------------

  /** The tx of the last commit at or before t, or undefined before the first. */
  commitAtOrBefore(t: number): number | undefined {
    let found: number | undefined;
    for (const c of this.commits) if (c.tx <= t) found = c.tx;
    return found;
  }

  /** Every datom ever with tx <= t. */
  historyAt(t = Number.MAX_SAFE_INTEGER): MDatom[] {
    return this.commits.filter((c) => c.tx <= t).flatMap((c) => c.datoms);
  }

  /** The assertions holding after the last commit at or before t. */
  currentAt(t = Number.MAX_SAFE_INTEGER): MDatom[] {
    const state = new Map<string, MDatom>();
    for (const d of this.historyAt(t)) {
      const k = this.key(d.e, d.a, d.v);
      if (d.added) state.set(k, d);
      else state.delete(k);
    }
    return [...state.values()];
  }

  /** `datoms` as index `order` holds them: only its attributes, in its order. */
  index(order: Order, datoms: readonly MDatom[]): MDatom[] {
    const member = (d: MDatom) => {
      const a = this.attrById(d.a);
      return order === 'avet' ? a.indexed : order === 'vaet' ? a.valueType === 'ref' : true;
    };
    return datoms.filter(member).sort((x, y) => this.compare(order, x, y));
  }

  compare(order: Order, x: MDatom, y: MDatom): number {
    const byE = () => x.e - y.e;
    const byA = () => x.a - y.a;
    const byV = () => compareValues(this.attrById(x.a).valueType, x.v, y.v);
    const steps = { eavt: [byE, byA, byV], aevt: [byA, byE, byV], avet: [byA, byV, byE], vaet: [byV, byA, byE] }[order];
    for (const step of steps) {
      const c = step();
      if (c !== 0) return c;
    }
    return x.tx - y.tx || Number(x.added) - Number(y.added);
  }

  /** `entity(e).get(a)` over `datoms` (current ones): refs as ids, card-many as arrays. */
  entityGet(datoms: readonly MDatom[], e: number, a: MAttr): unknown {
    const values = this.index('eavt', datoms.filter((d) => d.e === e && d.a === a.id)).map((d) => d.v);
    if (a.cardinality === 'many') return values.length === 0 ? undefined : values;
    return values[0];
  }

  /** `pull('[*]', e)` over `datoms`: refs as { db/id }, components pulled in full. */
  pull(datoms: readonly MDatom[], e: number, path: ReadonlySet<number> = new Set()): Record<string, unknown> | null {
    const own = this.index('eavt', datoms.filter((d) => d.e === e));
    if (own.length === 0) return null;
    const inner = new Set(path).add(e);
    const out: Record<string, unknown> = { 'db/id': e };
    for (const d of own) {
      const a = this.attrById(d.a);
      const shown =
        a.valueType !== 'ref'
          ? d.v
          : a.isComponent && !inner.has(d.v as number)
            ? (this.pull(datoms, d.v as number, inner) ?? { 'db/id': d.v })
            : { 'db/id': d.v };
      if (a.cardinality === 'many') ((out[a.ident] ??= []) as unknown[]).push(shown);
      else out[a.ident] = shown;
    }
    return out;
  }

  // ----- transactions -------------------------------------------------------------------------

  /** Applies `txData` at `instant`; on an error nothing changes. */
  transact(txData: unknown, instant: number): TxResult {
    try {
      return this.apply(txData, instant);
    } catch (error) {
      if (error instanceof ModelError) return { ok: false, code: error.code, reason: error.message, alsoAccepted: error.alsoAccepted };
      throw error;
    }
  }

  private apply(txData: unknown, instant: number): TxResult {
    const tx = this.nextId;
    let nextId = tx + 1;
    const raw = this.parse(txData);
    const ops = raw.map((op) => this.resolve(op));

    // Upsert: tempids asserting one identity value are one entity; the value's holder, if any.
    const parent = new Map<string, string>();
    const find = (name: string): string => {
      const p = parent.get(name);
      if (p === undefined || p === name) return name;
      const root = find(p);
      parent.set(name, root);
      return root;
    };
    const identityOps = ops.filter((op) => op.op === 'add' && op.attr?.unique === 'identity' && op.e instanceof Temp && !(op.v instanceof Temp));
    const firstTemp = new Map<string, string>();
    for (const op of identityOps) {
      const k = `${op.attr!.id} ${renderValue(op.v)}`;
      const first = firstTemp.get(k);
      const name = (op.e as Temp).name;
      if (first === undefined) firstTemp.set(k, name);
      else parent.set(find(name), find(first));
    }
    const ids = new Map<string, number>(); // by class root
    for (const op of identityOps) {
      const root = find((op.e as Temp).name);
      for (const holder of this.holders(op.attr!, op.v as MValue)) {
        const earlier = ids.get(root);
        if (earlier !== undefined && earlier !== holder) {
          // One tempid (or tempids sharing a value) names two entities. A transactor that takes
          // the first holder it finds meets the fault only while expanding the operations, as a
          // unique value asserted for two entities or two values of a cardinality-one attribute;
          // any fault of that phase that comes first is as right an answer.
          fail(ErrorCode.uniqueConflict, `tempid ${root} upserts to both ${earlier} and ${holder}`, [
            ErrorCode.datomConflict,
            ErrorCode.casFailed,
            ErrorCode.invalidTx,
          ]);
        }
        ids.set(root, holder);
      }
    }
    const newIds: number[] = [];
    for (const op of ops) {
      if ((op.op === 'add' || op.op === 'cas') && op.e instanceof Temp && !ids.has(find(op.e.name))) {
        ids.set(find(op.e.name), nextId);
        newIds.push(nextId++);
      }
    }
    const idOf = (t: Temp): number => ids.get(find(t.name)) ?? fail(ErrorCode.tempidUnresolved, `tempid ${t.name} names no entity`);
    const concrete = ops.map((op) => ({
      ...op,
      e: op.e instanceof Temp ? idOf(op.e) : op.e,
      v: op.v instanceof Temp ? idOf(op.v) : op.v,
    }));

    // Expansion, against the state before the transaction.
    const assertions = new Map<string, { e: number; attr: MAttr; v: MValue }>();
    const retractions = new Map<string, MDatom>();
    const slots = new Map<string, MValue>();
    const assert = (e: number, attr: MAttr, v: MValue) => {
      if (attr.cardinality === 'one') {
        const slot = `${e} ${attr.id}`;
        const other = slots.get(slot);
        if (other !== undefined && compareValues(attr.valueType, other, v) !== 0) {
          fail(ErrorCode.datomConflict, `two values of ${attr.ident} for ${e}`);
        }
        slots.set(slot, v);
      }
      assertions.set(this.key(e, attr.id, v), { e, attr, v });
    };
    const retract = (d: MDatom) => retractions.set(this.key(d.e, d.a, d.v), d);
    const retracted = new Set<number>();
    const retractEntity = (e: number) => {
      if (retracted.has(e)) return;
      retracted.add(e);
      for (const d of this.currentDatoms()) {
        if (d.e === e) {
          retract(d);
          if (this.attrById(d.a).isComponent) retractEntity(d.v as number);
        }
        if (d.v === e && this.attrById(d.a).valueType === 'ref') retract(d);
      }
    };
    for (const op of concrete) {
      switch (op.op) {
        case 'add':
          assert(op.e, op.attr!, op.v!);
          break;
        case 'retract':
          for (const d of this.valuesOf(op.e, op.attr!.id)) {
            if (op.v === undefined || compareValues(op.attr!.valueType, d.v, op.v) === 0) retract(d);
          }
          break;
        case 'retractEntity':
          retractEntity(op.e);
          break;
        case 'cas': {
          const attr = op.attr!;
          if (attr.cardinality !== 'one') fail(ErrorCode.invalidTx, `cas on cardinality-many ${attr.ident}`);
          const found = this.valuesOf(op.e, attr.id)[0]?.v;
          const matches = op.old === undefined ? found === undefined : found !== undefined && compareValues(attr.valueType, found, op.old) === 0;
          if (!matches) fail(ErrorCode.casFailed, `cas on ${attr.ident} of ${op.e} found ${renderValue(found)}`);
          assert(op.e, attr, op.v!);
          break;
        }
      }
    }
    for (const k of assertions.keys()) if (retractions.has(k)) fail(ErrorCode.datomConflict, `asserts and retracts ${k}`);

    const added: { e: number; attr: MAttr; v: MValue }[] = [];
    for (const [k, a] of assertions) {
      if (this.current.has(k)) continue; // redundant
      if (a.attr.cardinality === 'one') for (const old of this.valuesOf(a.e, a.attr.id)) retract(old);
      added.push(a);
    }
    // A unique value may be held by one entity after the transaction.
    for (const a of added) {
      if (a.attr.unique === undefined) continue;
      const others = new Set<number>();
      for (const e of this.holders(a.attr, a.v)) if (!retractions.has(this.key(e, a.attr.id, a.v))) others.add(e);
      for (const b of added) if (b.attr.id === a.attr.id && compareValues(a.attr.valueType, a.v, b.v) === 0) others.add(b.e);
      others.delete(a.e);
      if (others.size > 0) fail(ErrorCode.uniqueConflict, `${a.attr.ident} ${renderValue(a.v)} held by ${[...others].join(', ')} and ${a.e}`);
    }

    const txDatom: MDatom = { e: tx, a: this.byIdent.get('db/txInstant')!.id, v: new Date(instant), tx, added: true };
    const datoms: MDatom[] = [
      txDatom,
      ...[...retractions.values()].map((d) => ({ e: d.e, a: d.a, v: d.v, tx, added: false })),
      ...added.map((a) => ({ e: a.e, a: a.attr.id, v: a.v, tx, added: true })),
    ];
    const tempids: Record<string, number> = {};
    for (const op of ops) {
      for (const x of [op.e, op.v]) if (x instanceof Temp && !x.generated) tempids[x.name] = idOf(x);
    }
    this.nextId = nextId;
    this.commit(tx, instant, datoms, newIds, (ident) => this.byIdent.get(ident)?.id);
    return { ok: true, tx, tempids, datoms };
  }

  private commit(tx: number, instant: number, datoms: MDatom[], newIds: number[], idOf: (ident: string) => number | undefined): void {
    for (const d of datoms) {
      const k = this.key(d.e, d.a, d.v);
      if (d.added) this.current.set(k, d);
      else this.current.delete(k);
    }
    this.commits.push({ tx, instant, datoms, newIds });
    this.install(datoms, idOf);
  }

  /** Entities that gained `db/valueType` become attributes. */
  private install(datoms: readonly MDatom[], idOf: (ident: string) => number | undefined): void {
    for (const d of datoms) {
      if (!d.added || d.a !== idOf('db/valueType')) continue;
      const of = (ident: string) => datoms.find((x) => x.e === d.e && x.added && x.a === idOf(ident))?.v;
      const ident = of('db/ident') as string;
      const unique = of('db/unique') as string | undefined;
      const attr: MAttr = {
        id: d.e,
        ident,
        valueType: (d.v as string).slice('db.type/'.length) as ValueType,
        cardinality: (of('db/cardinality') as string).slice('db.cardinality/'.length) as 'one' | 'many',
        unique: unique === undefined ? undefined : (unique.slice('db.unique/'.length) as 'identity' | 'value'),
        indexed: unique !== undefined || of('db/index') === true,
        isComponent: of('db/isComponent') === true,
      };
      this.attrs.set(attr.id, attr);
      this.byIdent.set(ident, attr);
    }
  }

  // ----- parsing and resolution ---------------------------------------------------------------

  private parse(txData: unknown): RawOp[] {
    if (!Array.isArray(txData)) fail(ErrorCode.invalidTx, 'tx data is not an array');
    const ops: RawOp[] = [];
    let generated = 0;
    const ref = (x: unknown): RawRef => {
      if (typeof x === 'number' && Number.isSafeInteger(x) && x !== 0) return x > 0 ? { kind: 'id', id: x } : { kind: 'temp', temp: new Temp(String(x), false) };
      if (typeof x === 'string' && x.length > 0) return { kind: 'temp', temp: new Temp(x, false) };
      if (Array.isArray(x) && x.length === 2 && typeof x[0] === 'string') return { kind: 'lookup', attr: x[0], value: x[1] };
      return fail(ErrorCode.invalidTx, `not an entity reference: ${String(x)}`);
    };
    const isLookupRef = (x: unknown) => Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && this.attr(x[0])?.unique !== undefined;
    const mapForm = (m: Record<string, unknown>): RawRef => {
      const e = 'db/id' in m ? ref(m['db/id']) : { kind: 'temp' as const, temp: new Temp(`generated ${generated++}`, true) };
      for (const [k, value] of Object.entries(m)) {
        if (k === 'db/id') continue;
        const attr = this.attr(k);
        if (attr?.cardinality === 'one' && Array.isArray(value) && !isLookupRef(value)) fail(ErrorCode.cardinality, `${k} is cardinality one`);
        const single = attr?.valueType === 'ref' && isLookupRef(value);
        const values = attr?.cardinality === 'many' && !single && Array.isArray(value) ? value : [value];
        for (const v of values) {
          ops.push({ op: 'add', e, a: k, v: attr?.valueType === 'ref' && isPlainObject(v) ? new Nested(mapForm(v)) : v, hasV: true });
        }
      }
      return e;
    };
    for (const item of txData as unknown[]) {
      if (isPlainObject(item)) {
        mapForm(item);
        continue;
      }
      if (!Array.isArray(item)) return fail(ErrorCode.invalidTx, 'not a map or list form');
      const [head, e, a, v, w] = item as unknown[];
      const arity = (...n: number[]) => n.includes(item.length) || fail(ErrorCode.invalidTx, `${String(head)} arity`);
      if (head === 'db/add' && arity(4)) ops.push({ op: 'add', e: ref(e), a, v, hasV: true });
      else if (head === 'db/retract' && arity(3, 4)) ops.push({ op: 'retract', e: ref(e), a, v, hasV: item.length === 4 });
      else if (head === 'db/retractEntity' && arity(2)) ops.push({ op: 'retractEntity', e: ref(e), hasV: false });
      else if (head === 'db/cas' && arity(5)) ops.push({ op: 'cas', e: ref(e), a, old: v, v: w, hasV: true });
      else fail(ErrorCode.invalidTx, `unknown operation ${String(head)}`);
    }
    return ops;
  }

  private resolve(op: RawOp): Op {
    const e = this.entity(op.e);
    if (op.op === 'retractEntity') return { op: op.op, e, attr: undefined, v: undefined, old: undefined };
    const attr = this.attr(op.a as string) ?? fail(ErrorCode.unknownAttribute, `unknown attribute ${String(op.a)}`);
    const v = op.hasV ? this.value(attr, op.v) : undefined;
    let old: MValue | undefined;
    if (op.op === 'cas' && op.old !== undefined && op.old !== null) {
      const o = this.value(attr, op.old);
      if (o instanceof Temp) fail(ErrorCode.tempidUnresolved, 'tempid as a cas expectation');
      old = o as MValue;
    }
    return { op: op.op, e, attr, v, old };
  }

  private entity(r: RawRef): Ent {
    switch (r.kind) {
      case 'id':
        return r.id < this.nextId ? r.id : fail(ErrorCode.entityNotFound, `entity ${r.id} was never allocated`);
      case 'temp':
        return r.temp;
      case 'lookup': {
        const attr = this.attr(r.attr as string) ?? fail(ErrorCode.unknownAttribute, `unknown attribute ${String(r.attr)}`);
        if (attr.unique === undefined) fail(ErrorCode.invalidTx, `lookup ref on non-unique ${attr.ident}`);
        const v = this.value(attr, r.value);
        if (v instanceof Temp) return fail(ErrorCode.tempidUnresolved, 'tempid in a lookup ref');
        return this.holders(attr, v)[0] ?? fail(ErrorCode.lookupRefNotFound, `[${attr.ident} ${renderValue(v)}] names nothing`);
      }
    }
  }

  private value(attr: MAttr, raw: unknown): MValue | Temp {
    if (attr.valueType !== 'ref') {
      return coerce(attr.valueType, raw) ?? fail(ErrorCode.wrongType, `${renderValue(raw)} is not a ${attr.valueType}`);
    }
    if (raw instanceof Nested) return this.entity(raw.ref);
    if (typeof raw === 'string' || (typeof raw === 'number' && Number.isSafeInteger(raw) && raw !== 0) || (Array.isArray(raw) && raw.length === 2 && typeof raw[0] === 'string')) {
      const r: RawRef = Array.isArray(raw)
        ? { kind: 'lookup', attr: raw[0], value: raw[1] }
        : typeof raw === 'number' && raw > 0
          ? { kind: 'id', id: raw }
          : { kind: 'temp', temp: new Temp(String(raw), false) };
      return this.entity(r);
    }
    return fail(ErrorCode.wrongType, `${renderValue(raw)} is not a ref`);
  }
}
