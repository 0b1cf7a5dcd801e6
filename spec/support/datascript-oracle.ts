/**
 * DataScript as an oracle for the differential test: a typed view of its JavaScript API (the
 * package ships no declarations), one schema description rendered both as Sediment schema datoms
 * and as DataScript's schema object, symbolic transaction operations rendered in either dialect
 * (DataScript's JS API spells operations and `db/id` as keywords, `':db/add'`, `':db/id'`, and
 * attributes as plain strings), and canonical forms in which entity ids are replaced by labels,
 * since the two systems number entities differently.
 */
import { createRequire } from 'node:module';

export interface DsDatom {
  readonly e: number;
  readonly a: string;
  readonly v: unknown;
  /** Negative for a retraction in a transaction report's tx_data. */
  readonly tx: number;
}

/** An opaque DataScript database value. */
export type DsDb = { readonly __datascriptDb: never };
export type DsConn = { readonly __datascriptConn: never };

export interface DsReport {
  readonly tempids: Readonly<Record<string, number>>;
  readonly tx_data: readonly DsDatom[];
  readonly db_after: DsDb;
}

interface DataScriptApi {
  empty_db(schema: Record<string, Record<string, unknown>>): DsDb;
  conn_from_db(db: DsDb): DsConn;
  db(conn: DsConn): DsDb;
  transact(conn: DsConn, txData: readonly unknown[]): DsReport;
  datoms(db: DsDb, index: ':eavt' | ':aevt' | ':avet', ...components: unknown[]): DsDatom[];
  pull(db: DsDb, pattern: string, e: unknown): Record<string, unknown> | null;
}

export const datascript = createRequire(import.meta.url)('datascript') as DataScriptApi;

// ----- schema ----------------------------------------------------------------------------------

export interface AttributeSpec {
  readonly ident: string;
  readonly type: 'string' | 'long' | 'ref';
  readonly many?: true;
  readonly unique?: 'identity' | 'value';
  readonly index?: true;
  readonly component?: true;
}

/** Sediment installs schema as data: one map form per attribute. */
export function sedimentSchemaTx(attributes: readonly AttributeSpec[]): Record<string, unknown>[] {
  return attributes.map((a) => ({
    'db/ident': a.ident,
    'db/valueType': `db.type/${a.type}`,
    'db/cardinality': a.many ? 'db.cardinality/many' : 'db.cardinality/one',
    ...(a.unique === undefined ? {} : { 'db/unique': `db.unique/${a.unique}` }),
    ...(a.index ? { 'db/index': true } : {}),
    ...(a.component ? { 'db/isComponent': true } : {}),
  }));
}

/** DataScript's schema object: it needs only refs, cardinality many, uniqueness, index, components. */
export function datascriptSchema(attributes: readonly AttributeSpec[]): Record<string, Record<string, unknown>> {
  const schema: Record<string, Record<string, unknown>> = {};
  for (const a of attributes) {
    const s: Record<string, unknown> = {};
    if (a.type === 'ref') s[':db/valueType'] = ':db.type/ref';
    if (a.many) s[':db/cardinality'] = ':db.cardinality/many';
    if (a.unique !== undefined) s[':db/unique'] = `:db.unique/${a.unique}`;
    if (a.index) s[':db/index'] = true;
    if (a.component) s[':db/isComponent'] = true;
    schema[a.ident] = s;
  }
  return schema;
}

// ----- symbolic transaction data ---------------------------------------------------------------

/** An entity reference: a known entity by label, a lookup ref, or a tempid (string or negative number). */
export type ERef =
  | { readonly kind: 'label'; readonly label: string }
  | { readonly kind: 'lookup'; readonly attr: string; readonly value: string }
  | { readonly kind: 'temp'; readonly name: string | number };

/** A nested map (component value) with its own tempid and scalar attributes. */
export interface Nested {
  readonly kind: 'nested';
  readonly name: string;
  readonly attrs: readonly (readonly [string, string])[];
}

export type Scalar = string | number;
export type TxValue = Scalar | ERef | Nested;

export type Op =
  | { readonly op: 'add'; readonly e: ERef; readonly a: string; readonly v: TxValue }
  /** Without `v`: retract every value of the attribute. */
  | { readonly op: 'retract'; readonly e: ERef; readonly a: string; readonly v?: TxValue }
  | { readonly op: 'retractEntity'; readonly e: ERef }
  | { readonly op: 'cas'; readonly e: ERef; readonly a: string; readonly old: Scalar | ERef | null; readonly v: Scalar | ERef }
  /** Map form; a cardinality-many attribute always gets an array. */
  | { readonly op: 'map'; readonly e: ERef; readonly attrs: readonly (readonly [string, TxValue | readonly TxValue[]])[] };

export interface Dialect {
  readonly keyword: (name: string) => string;
  readonly idOf: (label: string) => number;
}

export const datascriptDialect = (idOf: (label: string) => number): Dialect => ({ keyword: (n) => `:${n}`, idOf });
export const sedimentDialect = (idOf: (label: string) => number): Dialect => ({ keyword: (n) => n, idOf });

function renderRef(ref: ERef, d: Dialect): unknown {
  switch (ref.kind) {
    case 'label':
      return d.idOf(ref.label);
    case 'lookup':
      return [ref.attr, ref.value];
    case 'temp':
      return ref.name;
  }
}

function renderValue(v: TxValue | null, d: Dialect): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (v.kind === 'nested') {
    const map: Record<string, unknown> = { [d.keyword('db/id')]: v.name };
    for (const [a, x] of v.attrs) map[a] = x;
    return map;
  }
  return renderRef(v, d);
}

export function renderTx(ops: readonly Op[], d: Dialect): unknown[] {
  return ops.map((op) => {
    switch (op.op) {
      case 'add':
        return [d.keyword('db/add'), renderRef(op.e, d), op.a, renderValue(op.v, d)];
      case 'retract':
        return op.v === undefined
          ? [d.keyword('db/retract'), renderRef(op.e, d), op.a]
          : [d.keyword('db/retract'), renderRef(op.e, d), op.a, renderValue(op.v, d)];
      case 'retractEntity':
        return [d.keyword('db/retractEntity'), renderRef(op.e, d)];
      case 'cas':
        return [d.keyword('db/cas'), renderRef(op.e, d), op.a, renderValue(op.old, d), renderValue(op.v, d)];
      case 'map': {
        const map: Record<string, unknown> = { [d.keyword('db/id')]: renderRef(op.e, d) };
        for (const [a, v] of op.attrs) map[a] = Array.isArray(v) ? v.map((x: TxValue) => renderValue(x, d)) : renderValue(v as TxValue, d);
        return map;
      }
    }
  });
}

/** Readable form of a transaction for failure messages (labels, not ids). */
export function describeTx(ops: readonly Op[]): string {
  return JSON.stringify(renderTx(ops, { keyword: (n) => n, idOf: (label) => `<${label}>` as unknown as number }));
}

// ----- canonical forms -------------------------------------------------------------------------

/** Entity ids of one side and the labels both sides share. */
export class Labels {
  private readonly byId = new Map<number, string>();
  private readonly byLabel = new Map<string, number>();

  label(id: number): string {
    return this.byId.get(id) ?? `?unlabelled ${id}`;
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  id(label: string): number {
    const id = this.byLabel.get(label);
    if (id === undefined) throw new Error(`no entity labelled ${label}`);
    return id;
  }

  set(id: number, label: string): void {
    this.byId.set(id, label);
    this.byLabel.set(label, id);
  }

  get all(): string[] {
    return [...this.byLabel.keys()];
  }

  /**
   * Labels the entities a transaction's tempids resolved to (a new entity is labelled by the
   * tempids that name it) and returns, per tempid, the label it resolved to.
   */
  absorb(tempids: Readonly<Record<string, number>>, txIndex: number): Record<string, string> {
    const names = new Map<number, string[]>();
    for (const [name, id] of Object.entries(tempids)) {
      if (name.startsWith(':db/')) continue; // DataScript's :db/current-tx
      let list = names.get(id);
      if (list === undefined) names.set(id, (list = []));
      list.push(name);
    }
    const out: Record<string, string> = {};
    for (const [id, list] of names) {
      if (!this.has(id)) this.set(id, `tx${txIndex}:${[...list].sort().join('|')}`);
      for (const name of list) out[name] = this.label(id);
    }
    return out;
  }
}

/** A datom with its entity (and ref value) replaced by labels, as one sortable string. */
export function canonicalDatom(e: number, a: string, v: unknown, isRef: boolean, labels: Labels, added?: boolean): string {
  const value = isRef ? `@${labels.label(v as number)}` : JSON.stringify(v);
  return `${added === undefined ? '' : added ? '+ ' : '- '}${labels.label(e)} ${a} ${value}`;
}

/**
 * A pulled map with entity ids replaced by labels, `:db/id` spelt `db/id`, and the values of
 * cardinality-many attributes sorted (the two systems order refs by their own ids).
 */
export function canonicalPull(x: unknown, labels: Labels): unknown {
  if (Array.isArray(x)) {
    return x.map((y) => canonicalPull(y, labels)).sort((p, q) => (JSON.stringify(p) < JSON.stringify(q) ? -1 : 1));
  }
  if (typeof x !== 'object' || x === null) return x;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(x)) {
    const k = key.startsWith(':') ? key.slice(1) : key;
    out[k] = k === 'db/id' ? labels.label(value as number) : canonicalPull(value, labels);
  }
  return Object.fromEntries(Object.entries(out).sort(([p], [q]) => (p < q ? -1 : 1)));
}
