/**
 * Pull (Datomic's pull grammar), as an EDN string or the same structure in JavaScript:
 *
 *   pattern    [spec ...]
 *   spec       '*' | attr | 'ns/_attr' (reverse) | { attr: pattern | depth | '...' } | attr-with-options
 *   options    [attr 'as' name 'limit' n 'default' v] (EDN: [:attr :as "x" :limit 10 :default v]),
 *              or the older (limit :attr n) and (default :attr v)
 *
 * Refs without a nested pattern come back as `{ 'db/id': id }`, components under `*` in full.
 * Cardinality-many attributes return at most 1,000 values unless `limit` says otherwise
 * (`limit nil`: all). Missing attributes are left out unless they have a default; an entity
 * with nothing to show pulls as null.
 */
import { ErrorCode, SedimentError } from '../../errors.js';
import type { Db } from '../db.js';
import { EdnSymbol, Keyword, parseEdn } from '../edn.js';
import type { Attribute } from '../schema/schema.js';
import { describeValue } from '../schema/value-type.js';

export type PullPattern = string | readonly unknown[];

const DEFAULT_LIMIT = 1000;

interface AttributeSpec {
  readonly kind: 'attribute';
  readonly attribute: Attribute;
  readonly reverse: boolean;
  readonly key: string;
  readonly limit: number | undefined;
  readonly default: unknown;
  /** A nested pattern, or recursion: a depth (Infinity for '...'). */
  readonly nested: Spec[] | undefined;
  readonly recursion: number | undefined;
}

type Spec = { readonly kind: 'wildcard' } | { readonly kind: 'id' } | AttributeSpec;

const invalid = (message: string) => new SedimentError(ErrorCode.invalidArgument, `pull: ${message}`);

export function pull(db: Db, pattern: PullPattern, e: unknown): Record<string, unknown> | null {
  const specs = parsePattern(db, pattern);
  const id = db.entityId(e, 'pull');
  return id === undefined ? null : new Puller(db).entity(id, specs, specs, new Set(), 0);
}

export function pullMany(db: Db, pattern: PullPattern, es: readonly unknown[]): (Record<string, unknown> | null)[] {
  const specs = parsePattern(db, pattern);
  const puller = new Puller(db);
  return es.map((e) => {
    const id = db.entityId(e, 'pullMany');
    return id === undefined ? null : puller.entity(id, specs, specs, new Set(), 0);
  });
}

function name(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (x instanceof Keyword || x instanceof EdnSymbol) return x.name;
  return undefined;
}

function parsePattern(db: Db, pattern: PullPattern): Spec[] {
  const raw = typeof pattern === 'string' ? parseEdn(pattern, 'pull pattern', ErrorCode.invalidArgument) : pattern;
  if (!Array.isArray(raw)) throw invalid(`a pattern is a vector of attribute specs, got ${describeValue(raw)}`);
  return raw.flatMap((spec) => parseSpec(db, spec));
}

function parseSpec(db: Db, spec: unknown): Spec[] {
  const n = name(spec);
  if (n === '*') return [{ kind: 'wildcard' }];
  if (n === 'db/id') return [{ kind: 'id' }];
  if (n !== undefined) return [attributeSpec(db, n, {})];
  if (Array.isArray(spec)) {
    const head = spec[0];
    if (head instanceof EdnSymbol || (typeof head === 'string' && (head === 'limit' || head === 'default'))) {
      const fn = name(head);
      const attr = name(spec[1]);
      if (attr === undefined || spec.length !== 3) throw invalid(`(${fn} attr value) expected, got ${describeValue(spec)}`);
      if (fn === 'limit') return [attributeSpec(db, attr, { limit: spec[2] })];
      if (fn === 'default') return [attributeSpec(db, attr, { default: spec[2] })];
      throw invalid(`unknown function ${fn} in pattern`);
    }
    const attr = name(head);
    if (attr === undefined || spec.length % 2 !== 1) throw invalid(`[attr option value ...] expected, got ${describeValue(spec)}`);
    const options: Record<string, unknown> = {};
    for (let i = 1; i < spec.length; i += 2) {
      const option = name(spec[i]);
      if (option !== 'as' && option !== 'limit' && option !== 'default') throw invalid(`unknown attribute option ${describeValue(spec[i])}`);
      options[option] = spec[i + 1];
    }
    return [attributeSpec(db, attr, options)];
  }
  if (typeof spec === 'object' && spec !== null) {
    return Object.entries(spec).map(([key, sub]) => {
      // In JavaScript a map key is a string; an attribute with options cannot be one, so only
      // attribute names (or reverse names) appear here.
      const subName = name(sub);
      if (typeof sub === 'number' || subName === '...') {
        return { ...attributeSpec(db, key, {}), recursion: subName === '...' ? Infinity : (sub as number) };
      }
      return { ...attributeSpec(db, key, {}), nested: parsePattern(db, sub as PullPattern) };
    });
  }
  throw invalid(`${describeValue(spec)} is not an attribute spec`);
}

function attributeSpec(db: Db, ident: string, options: Record<string, unknown>): AttributeSpec {
  const slash = ident.lastIndexOf('/');
  const reverse = ident[slash + 1] === '_';
  const attribute = db.attribute(reverse ? `${ident.slice(0, slash + 1)}${ident.slice(slash + 2)}` : ident, 'pull');
  if (reverse && attribute.valueType !== 'ref') throw invalid(`${ident} reverses ${attribute.ident}, which is not a ref`);
  const limit = options.limit;
  if (limit !== undefined && limit !== null && !(typeof limit === 'number' && Number.isSafeInteger(limit) && limit >= 0)) {
    throw invalid(`limit of ${ident} must be a non-negative integer or nil`);
  }
  const as = options.as;
  return {
    kind: 'attribute',
    attribute,
    reverse,
    key: as === undefined ? ident : (name(as) ?? String(as)),
    limit: limit === null ? undefined : ((limit as number | undefined) ?? DEFAULT_LIMIT),
    default: options.default,
    nested: undefined,
    recursion: undefined,
  };
}

class Puller {
  constructor(private readonly db: Db) {}

  entity(e: number, specs: readonly Spec[], root: readonly Spec[], seen: Set<number>, depth: number): Record<string, unknown> | null {
    const out: Record<string, unknown> = {};
    let found = false;
    const path = new Set(seen).add(e);
    for (const spec of specs) {
      if (spec.kind === 'id') {
        out['db/id'] = e;
        continue;
      }
      if (spec.kind === 'wildcard') {
        out['db/id'] = e;
        const byAttribute = new Map<number, unknown[]>();
        for (const d of this.db.scanCurrent('eavt', { e })) {
          let list = byAttribute.get(d.a);
          if (list === undefined) byAttribute.set(d.a, (list = []));
          list.push(this.db.snapshot.resolve(d.v));
        }
        for (const [a, values] of byAttribute) {
          const attribute = this.db.snapshot.schema.ofDatom(a);
          if (attribute.ident in out) continue;
          found = true;
          const shown = values.map((v) =>
            attribute.valueType !== 'ref'
              ? v
              : attribute.isComponent && !path.has(v as number)
                ? (this.entity(v as number, [{ kind: 'wildcard' }], root, path, depth + 1) ?? { 'db/id': v })
                : { 'db/id': v },
          );
          out[attribute.ident] = attribute.cardinality === 'many' ? shown : shown[0];
        }
        continue;
      }
      const value = this.attribute(e, spec, root, path, depth);
      if (value !== undefined) {
        found = true;
        out[spec.key] = value;
      } else if (spec.default !== undefined) {
        out[spec.key] = spec.default;
      }
    }
    const shown = found || specs.some((s) => s.kind === 'id') || Object.keys(out).some((k) => k !== 'db/id');
    return shown ? out : null;
  }

  private attribute(e: number, spec: AttributeSpec, root: readonly Spec[], path: Set<number>, depth: number): unknown {
    const a = spec.attribute;
    const values: unknown[] = [];
    const limit = spec.limit ?? Infinity;
    const datoms = spec.reverse ? this.db.scanCurrent('vaet', { v: e, a: a.id }) : this.db.scanCurrent('eavt', { e, a: a.id });
    for (const d of datoms) {
      if (values.length >= limit) break;
      values.push(spec.reverse ? d.e : this.db.snapshot.resolve(d.v));
    }
    if (values.length === 0) return undefined;
    const shown = a.valueType === 'ref' ? values.map((id) => this.ref(id as number, spec, root, path, depth)) : values;
    const single = spec.reverse ? a.isComponent : a.cardinality === 'one';
    return single ? shown[0] : shown;
  }

  private ref(id: number, spec: AttributeSpec, root: readonly Spec[], path: Set<number>, depth: number): unknown {
    if (spec.recursion !== undefined) {
      if (path.has(id) || depth + 1 > spec.recursion) return { 'db/id': id };
      return this.entity(id, root, root, path, depth + 1) ?? { 'db/id': id };
    }
    if (spec.nested !== undefined) return this.entity(id, spec.nested, spec.nested, path, 0) ?? { 'db/id': id };
    if (spec.attribute.isComponent && !spec.reverse && !path.has(id)) {
      return this.entity(id, [{ kind: 'wildcard' }], root, path, depth + 1) ?? { 'db/id': id };
    }
    return { 'db/id': id };
  }
}
