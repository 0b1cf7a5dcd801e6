/**
 * The value each cardinality-one attribute of an entity holds after the epoch's newest commit,
 * for the (entity, attribute) pairs the epoch changed: a hash index beside novelty's ordered maps.
 *
 * Every transaction asks, for each cardinality-one assertion, which value it replaces (the
 * transactor's `changes`). Through the ordered maps that is a point read of EAVT's current
 * novelty, which first merges the commits' pending writes into the map's sorted chunks: a few
 * random searches and moves a commit, ~7 µs of a one-datom transaction's ~30. Here it is one hash
 * lookup, and the tree answers for a pair the epoch left alone, so EAVT's current map need not be
 * kept at all until some other read asks for it (novelty.ts: maps filled on demand).
 *
 * It answers only at the basis of the newest commit it took (`tx`): older snapshots of the epoch
 * read the maps. Cardinality never changes once an attribute is installed (install.ts), so a pair
 * seen as cardinality-one when its datom was applied is read as one. A value whose stand-in in an
 * index differs from the asserted form (a large string or bytes, a bigint) is not kept: its pair
 * is `UNKNOWN`, read through the maps, so a retraction built from this index holds the very value
 * a read of the index would have given.
 */
import type { StoredValue } from '../encoding/key-codec.js';
import type { LogDatom } from '../encoding/log-record.js';
import { INLINE_VALUE_BYTES } from '../encoding/large-value.js';
import type { Schema } from '../schema/schema.js';

/** The value a pair holds, asserted at `tx`. */
export interface HeldValue {
  readonly v: StoredValue;
  readonly tx: number;
}

/** The pair holds no value: the epoch retracted it. */
export const NO_VALUE: unique symbol = Symbol('no value');
/** The epoch changed the pair in a way this index does not follow: read the maps. */
export const UNKNOWN: unique symbol = Symbol('unknown');

export type Latest = HeldValue | typeof NO_VALUE | typeof UNKNOWN;

/** Attribute ids below this share a numeric key with their entity: e * ATTRIBUTE_SPAN + a. */
const ATTRIBUTE_SPAN = 4096;
/** Entities below this keep that key within 2^53. */
const ENTITY_LIMIT = Number.MAX_SAFE_INTEGER / ATTRIBUTE_SPAN;

/** Whether `v`, read back from an index entry, is the same JavaScript value as asserted. */
function keptAsIs(v: StoredValue): boolean {
  switch (typeof v) {
    case 'number':
    case 'boolean':
      return true;
    case 'string':
      // Short enough to be inline in every entry (see largeValueOf), so never a stand-in.
      return v.length * 3 <= INLINE_VALUE_BYTES;
    default:
      return v instanceof Date;
  }
}

export class LatestValues {
  /** The newest commit applied: the basis this index answers for. */
  tx = 0;
  private readonly byNumber = new Map<number, Latest>();
  /** Pairs of an entity or attribute beyond the numeric key's range. */
  private readonly byString = new Map<string, Latest>();

  /** What the epoch did to (e, a), a cardinality-one pair; undefined: nothing, the tree holds it. */
  get(e: number, a: number): Latest | undefined {
    return a < ATTRIBUTE_SPAN && e < ENTITY_LIMIT ? this.byNumber.get(e * ATTRIBUTE_SPAN + a) : this.byString.get(`${e} ${a}`);
  }

  /** Takes a commit's datoms (its tx `tx`), as novelty does. */
  apply(datoms: readonly LogDatom[], schema: Schema, tx: number): void {
    for (let i = 0; i < datoms.length; i++) {
      const d = datoms[i]!;
      if (schema.ofDatom(d.a).cardinality !== 'one') continue;
      if (d.added) this.set(d.e, d.a, keptAsIs(d.v) ? { v: d.v, tx: d.tx } : UNKNOWN);
      else this.set(d.e, d.a, this.afterRetraction(this.get(d.e, d.a), d.assertedTx, d.tx));
    }
    this.tx = tx;
  }

  /**
   * A retraction of the value asserted at `assertedTx`, in commit `tx`: a log retraction names a
   * value that holds. With nothing recorded, that is the tree's value, the pair's only one; a
   * value this commit asserted stays (the commit replaced the retracted one with it).
   */
  private afterRetraction(latest: Latest | undefined, assertedTx: number, tx: number): Latest {
    if (latest === undefined) return NO_VALUE;
    if (latest === UNKNOWN || latest === NO_VALUE) return UNKNOWN;
    if (latest.tx === assertedTx) return NO_VALUE;
    return latest.tx === tx ? latest : UNKNOWN;
  }

  private set(e: number, a: number, latest: Latest): void {
    if (a < ATTRIBUTE_SPAN && e < ENTITY_LIMIT) this.byNumber.set(e * ATTRIBUTE_SPAN + a, latest);
    else this.byString.set(`${e} ${a}`, latest);
  }
}
