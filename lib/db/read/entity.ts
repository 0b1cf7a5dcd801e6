/**
 * A lazy entity (Datomic's `d/entity`, DataScript's `entity`): attributes are read when asked
 * for and kept; refs come back as entities; `ns/_attr` reads the entities that refer to this one
 * through `ns/attr`.
 */
import type { Db } from '../db.js';
import type { Value } from '../schema/value-type.js';

export class Entity {
  private readonly cache = new Map<string, unknown>();

  /** @internal */
  constructor(
    private readonly db: Db,
    readonly id: number,
  ) {}

  /** The value(s) of `attribute`: one value, an array for cardinality many, undefined when absent. */
  get(attribute: string): unknown {
    if (attribute === 'db/id') return this.id;
    if (this.cache.has(attribute)) return this.cache.get(attribute);
    const value = this.read(attribute);
    this.cache.set(attribute, value);
    return value;
  }

  /** The idents of the attributes this entity has. */
  keys(): string[] {
    const idents = new Set<string>();
    for (const d of this.db.scanCurrent('eavt', { e: this.id })) idents.add(this.db.toDatom(d).a);
    return [...idents];
  }

  /** All attributes at once; refs as `{ 'db/id': id }`. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { 'db/id': this.id };
    for (const key of this.keys()) {
      const value = this.get(key);
      out[key] = Array.isArray(value) ? value.map(plain) : plain(value);
    }
    return out;
  }

  private read(ident: string): unknown {
    const slash = ident.lastIndexOf('/');
    if (ident[slash + 1] === '_') {
      const attribute = this.db.attribute(`${ident.slice(0, slash + 1)}${ident.slice(slash + 2)}`, 'entity');
      const sources: Entity[] = [];
      for (const d of this.db.scanCurrent('vaet', { v: this.id, a: attribute.id })) sources.push(new Entity(this.db, d.e));
      if (sources.length === 0) return undefined;
      return attribute.isComponent ? sources[0] : sources;
    }
    const attribute = this.db.attribute(ident, 'entity');
    const values: unknown[] = [];
    for (const d of this.db.scanCurrent('eavt', { e: this.id, a: attribute.id })) {
      values.push(attribute.valueType === 'ref' ? new Entity(this.db, d.v as number) : this.db.snapshot.resolve(d.v));
    }
    if (attribute.cardinality === 'many') return values.length === 0 ? undefined : values;
    return values[0];
  }
}

function plain(value: unknown): unknown {
  return value instanceof Entity ? { 'db/id': value.id } : (value as Value);
}
