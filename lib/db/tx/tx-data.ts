/**
 * Transaction data in, operations out: the map and list forms of JavaScript (DataScript-style) or
 * EDN (Datomic-style) become a flat list of operations on entity references. Nested maps become
 * entities of their own; a map without `db/id` gets a generated tempid. Nothing is resolved here
 * beyond what the shape says; the transactor resolves references against a snapshot.
 */
import { ErrorCode, SedimentError } from '../../errors.js';
import { Keyword, parseEdn } from '../edn.js';
import type { Schema } from '../schema/schema.js';
import { describeValue } from '../schema/value-type.js';
import { type TxOp, txOp } from './tx-op.js';

export type EntityRef =
  | { readonly kind: 'id'; readonly id: number }
  | { readonly kind: 'tempid'; readonly name: string; readonly generated: boolean }
  | { readonly kind: 'lookup'; readonly attribute: string; readonly value: unknown }
  | { readonly kind: 'ident'; readonly ident: string };

/**
 * Where an operation came from, for error messages: rendered only when a message needs it, so a
 * large import does not pay for describing every form it accepts.
 */
export class Site {
  private text: string | undefined;

  constructor(
    private readonly parent: Site | string,
    private readonly form: unknown,
    private readonly key?: string,
  ) {}

  toString(): string {
    if (this.text === undefined) {
      const parent = String(this.parent);
      if (this.key !== undefined) this.text = `${parent} ${this.key}`;
      else if (Array.isArray(this.form)) this.text = `${parent}[${this.form.map(render).join(' ')}]`;
      else this.text = `${parent} ${describeValue(this.form)}`;
    }
    return this.text;
  }
}

/**
 * Where an operation came from: a Site, or a list form itself, whose Site is made only when a
 * message needs it (a Site per datom of an import lived until the transaction ended).
 */
export type Where = Site | readonly unknown[];

export function siteOf(where: Where): Site {
  return where instanceof Site ? where : new Site('', where);
}

/** The tempid that names the transaction entity itself. */
export const TX_TEMPID = 'datomic.tx';

const invalid = (message: string) => new SedimentError(ErrorCode.invalidTx, message);

/** Reads tx data (an array, or an EDN string holding a vector) into operations. */
export function parseTxData(txData: unknown, schema: Schema, basis: number): TxOp[] {
  const data = typeof txData === 'string' ? parseEdn(txData, 'transaction data') : txData;
  if (!Array.isArray(data)) {
    throw invalid(`transaction data must be an array (or an EDN vector) of map and list forms, got ${describeValue(data)}`);
  }
  const parser = new TxParser(schema, basis, data.length);
  data.forEach((item, i) => parser.item(item, i));
  return parser.finish();
}

class TxParser {
  /**
   * The operations, the first `count` of them: sized for one an item up front, as a million
   * pushes grew it through ~24 MB of copies, which only a full collection frees.
   */
  private readonly ops: TxOp[];
  private count = 0;
  private generated = 0;
  /** One reference per tempid name: an import names each new entity in every datom of it. */
  private tempRefs: Map<string, EntityRef> | undefined;

  constructor(
    private readonly schema: Schema,
    private readonly basis: number,
    items: number,
  ) {
    this.ops = new Array<TxOp>(items);
  }

  finish(): TxOp[] {
    this.ops.length = this.count;
    return this.ops;
  }

  private push(op: TxOp): void {
    this.ops[this.count++] = op;
  }

  item(item: unknown, index: number): void {
    if (Array.isArray(item)) this.list(item, index);
    else if (isPlainMap(item)) this.map(item, `map form ${index}`);
    else throw invalid(`transaction item ${index} must be a map or a list form, got ${describeValue(item)}`);
  }

  private list(form: unknown[], index: number): void {
    const head = form[0] instanceof Keyword ? form[0].name : form[0];
    const where: Where = form;
    switch (head) {
      case 'db/add':
        checkArity(form, index, where, head, ARITY_4);
        this.push(txOp('add', this.entityRef(form[1], where), attributeName(form[2], where), form[3], undefined, where));
        return;
      case 'db/retract':
        checkArity(form, index, where, head, ARITY_3_OR_4);
        this.push(txOp('retract', this.entityRef(form[1], where), attributeName(form[2], where), form[3], undefined, where));
        return;
      case 'db/retractEntity':
        checkArity(form, index, where, head, ARITY_2);
        this.push(txOp('retractEntity', this.entityRef(form[1], where), '', undefined, undefined, where));
        return;
      case 'db/cas':
        checkArity(form, index, where, head, ARITY_5);
        this.push(txOp('cas', this.entityRef(form[1], where), attributeName(form[2], where), form[4], form[3], where));
        return;
      default:
        throw invalid(`${siteOf(where)} (item ${index}): unknown operation ${render(form[0])}; use db/add, db/retract, db/retractEntity or db/cas`);
    }
  }

  /** A map form; returns the reference to the entity it describes. */
  private map(form: Record<string, unknown>, context: Site | string): EntityRef {
    const where = new Site(context, form);
    const e = 'db/id' in form ? this.entityRef(form['db/id'], where) : this.generatedTempid();
    for (const [key, value] of Object.entries(form)) {
      if (key === 'db/id') continue;
      const reverse = reverseAttribute(key);
      if (reverse !== undefined) {
        for (const source of many(value)) {
          const sourceRef = isPlainMap(source) ? this.map(source, new Site(where, undefined, key)) : this.entityRef(source, where);
          this.push(txOp('add', sourceRef, reverse, refValue(e), undefined, new Site(where, undefined, key)));
        }
        continue;
      }
      const attribute = this.schema.find(key, this.basis);
      const singleLookupRef = attribute?.valueType === 'ref' && Array.isArray(value) && isLookupRef(value, this.schema, this.basis);
      const values = attribute?.cardinality === 'many' && !singleLookupRef ? many(value) : [value];
      if (attribute?.cardinality === 'one' && Array.isArray(value) && !isLookupRef(value, this.schema, this.basis)) {
        throw new SedimentError(
          ErrorCode.cardinality,
          `${where}: attribute ${key} has cardinality one but was given ${value.length} values ${describeValue(value)}`,
        );
      }
      const site = new Site(where, undefined, key);
      for (const v of values) {
        const resolved = attribute?.valueType === 'ref' && isPlainMap(v) ? refValue(this.map(v, site)) : v;
        this.push(txOp('add', e, key, resolved, undefined, site));
      }
    }
    return e;
  }

  private entityRef(value: unknown, where: Where): EntityRef {
    if (typeof value !== 'string' || value.length === 0) return entityRef(value, where);
    this.tempRefs ??= new Map();
    let ref = this.tempRefs.get(value);
    if (ref === undefined) this.tempRefs.set(value, (ref = entityRef(value, where)));
    return ref;
  }

  private generatedTempid(): EntityRef {
    return { kind: 'tempid', name: `__map${this.generated++}`, generated: true };
  }
}

// Allowed lengths of list forms, the operation included (constants: a list form is checked per datom).
const ARITY_2: readonly number[] = [2];
const ARITY_3_OR_4: readonly number[] = [3, 4];
const ARITY_4: readonly number[] = [4];
const ARITY_5: readonly number[] = [5];

function checkArity(form: readonly unknown[], index: number, where: Where, head: string, allowed: readonly number[]): void {
  if (allowed.includes(form.length)) return;
  throw invalid(`${siteOf(where)} (item ${index}): ${head} takes ${allowed.map((k) => k - 1).join(' or ')} arguments`);
}

/** A value that already is an entity reference (from a nested or reverse map). */
export class RefValue {
  constructor(readonly ref: EntityRef) {}
}

const refValue = (ref: EntityRef) => new RefValue(ref);

export function entityRef(value: unknown, where: Where): EntityRef {
  if (value instanceof RefValue) return value.ref;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value === 0) throw invalid(`${siteOf(where)}: ${describeValue(value)} is not an entity id or tempid`);
    return value < 0 ? { kind: 'tempid', name: String(value), generated: false } : { kind: 'id', id: value };
  }
  if (typeof value === 'string') {
    if (value.length === 0) throw invalid(`${siteOf(where)}: an empty string is not a tempid`);
    return { kind: 'tempid', name: value, generated: false };
  }
  if (value instanceof Keyword) return { kind: 'ident', ident: value.name };
  if (Array.isArray(value) && value.length === 2 && (typeof value[0] === 'string' || value[0] instanceof Keyword)) {
    return { kind: 'lookup', attribute: value[0] instanceof Keyword ? value[0].name : value[0], value: value[1] };
  }
  throw invalid(`${siteOf(where)}: ${describeValue(value)} is not an entity id, tempid, lookup ref or ident`);
}

function attributeName(value: unknown, where: Where): string {
  if (typeof value === 'string' && value.length > 0) return value;
  if (value instanceof Keyword) return value.name;
  throw invalid(`${siteOf(where)}: ${describeValue(value)} is not an attribute`);
}

/** `ns/_name` names the reverse of `ns/name`. */
function reverseAttribute(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  return key[slash + 1] === '_' ? `${key.slice(0, slash + 1)}${key.slice(slash + 2)}` : undefined;
}

function isLookupRef(value: unknown[], schema: Schema, basis: number): boolean {
  const head = value[0] instanceof Keyword ? value[0].name : value[0];
  return value.length === 2 && typeof head === 'string' && schema.find(head, basis)?.unique !== undefined;
}

function many(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

export function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function render(value: unknown): string {
  if (value instanceof Keyword) return value.toString();
  if (value instanceof RefValue) return '<nested entity>';
  return describeValue(value);
}
