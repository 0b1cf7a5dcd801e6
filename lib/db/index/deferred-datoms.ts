/**
 * The epoch's datoms that some of novelty's maps have not taken yet (novelty.ts: maps no read has
 * asked for are filled only when one does, or written to the trees straight from here). Kept in
 * columns, one slot a datom, rather than as the transactor's objects: those hold the transaction
 * data they were parsed from, and an object a datom is what every scavenge copies.
 *
 * Append-only and shared: a clone of novelty (`Db.with`) shares the columns with the original up
 * to its count, and whichever of them appends second copies the columns first (`appendable`).
 */
import type { StoredValue } from '../encoding/key-codec.js';
import type { LogDatom } from '../encoding/log-record.js';
import type { Schema } from '../schema/schema.js';

/** One datom of the columns, as planning reads it; `DeferredDatoms.read` fills it in place. */
export interface DeferredDatom {
  e: number;
  a: number;
  v: StoredValue;
  tx: number;
  added: boolean;
  assertedTx: number;
}

export class DeferredDatoms {
  /** Datoms held; a holder with fewer shares the columns up to its own count. */
  count = 0;
  private e = new Float64Array(0);
  private tx = new Float64Array(0);
  private assertedTx = new Float64Array(0);
  private a = new Uint32Array(0);
  private added = new Uint8Array(0);
  private v: StoredValue[] = [];
  /** The schema each run of datoms was planned with: from datom `schemaFrom[i]` on, `schemas[i]`. */
  private schemas: Schema[] = [];
  private schemaFrom: number[] = [];

  /** The columns of `this` up to `count`, for a holder that shares them but has fewer. */
  copy(count: number): DeferredDatoms {
    const copy = new DeferredDatoms();
    copy.count = count;
    copy.e = this.e.slice(0, count);
    copy.tx = this.tx.slice(0, count);
    copy.assertedTx = this.assertedTx.slice(0, count);
    copy.a = this.a.slice(0, count);
    copy.added = this.added.slice(0, count);
    copy.v = this.v.slice(0, count);
    let runs = 0;
    while (runs < this.schemaFrom.length && this.schemaFrom[runs]! < count) runs++;
    copy.schemas = this.schemas.slice(0, runs);
    copy.schemaFrom = this.schemaFrom.slice(0, runs);
    return copy;
  }

  /** Appends one transaction's datoms, whose attributes `schema` knows. */
  append(datoms: readonly LogDatom[], schema: Schema): void {
    const n = this.count;
    this.reserve(n + datoms.length);
    if (this.schemas[this.schemas.length - 1] !== schema) {
      this.schemas.push(schema);
      this.schemaFrom.push(n);
    }
    for (let i = 0; i < datoms.length; i++) {
      const d = datoms[i]!;
      this.e[n + i] = d.e;
      this.a[n + i] = d.a;
      this.tx[n + i] = d.tx;
      this.assertedTx[n + i] = d.assertedTx;
      this.added[n + i] = d.added ? 1 : 0;
      this.v[n + i] = d.v;
    }
    this.count = n + datoms.length;
  }

  /** Datom i into `out`. */
  read(i: number, out: DeferredDatom): void {
    out.e = this.e[i]!;
    out.a = this.a[i]!;
    out.v = this.v[i]!;
    out.tx = this.tx[i]!;
    out.added = this.added[i] === 1;
    out.assertedTx = this.assertedTx[i]!;
  }

  /** The runs of datoms [from, to) that share a schema, in order, each as [schema, from, to]. */
  *runs(count: number): Generator<readonly [Schema, number, number]> {
    for (let r = 0; r < this.schemas.length && this.schemaFrom[r]! < count; r++) {
      const to = r + 1 < this.schemaFrom.length ? Math.min(this.schemaFrom[r + 1]!, count) : count;
      yield [this.schemas[r]!, this.schemaFrom[r]!, to];
    }
  }

  private reserve(count: number): void {
    if (count <= this.e.length) return;
    const n = Math.max(count, this.e.length * 2, 64);
    this.e = grown(this.e, new Float64Array(n));
    this.tx = grown(this.tx, new Float64Array(n));
    this.assertedTx = grown(this.assertedTx, new Float64Array(n));
    this.a = grown(this.a, new Uint32Array(n));
    this.added = grown(this.added, new Uint8Array(n));
  }
}

/** `larger` with `old` copied to its start: a column grown. */
export function grown<T extends Float64Array | Uint32Array | Uint8Array>(old: T, larger: T): T {
  larger.set(old);
  return larger;
}

/** A scratch datom for `DeferredDatoms.read`. */
export function deferredDatom(): DeferredDatom {
  return { e: 0, a: 0, v: 0, tx: 0, added: true, assertedTx: 0 };
}
