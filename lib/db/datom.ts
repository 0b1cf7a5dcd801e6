/**
 * The public shapes of the database API: datoms with attribute idents, transaction reports, and
 * the index names.
 */
import type { Value } from './schema/value-type.js';
import type { Db } from './db.js';

/** A datom as the API returns it: `a` is the attribute's ident. One class, so one V8 shape. */
export class Datom {
  constructor(
    readonly e: number,
    readonly a: string,
    readonly v: Value,
    readonly tx: number,
    readonly added: boolean,
  ) {}

  toJSON(): { e: number; a: string; v: unknown; tx: number; added: boolean } {
    const v = this.v;
    const json = typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
    return { e: this.e, a: this.a, v: json, tx: this.tx, added: this.added };
  }
}

export interface TxReport {
  readonly tx: number;
  /** Tempids given in the transaction data and the entity ids they resolved to. */
  readonly tempids: Readonly<Record<string, number>>;
  /** Every datom the transaction added, its `db/txInstant` first. */
  readonly txData: readonly Datom[];
  readonly dbBefore: Db;
  readonly dbAfter: Db;
}

export interface TxOptions {
  /** The transaction's instant (imports); later than or equal to the previous one's. */
  readonly txInstant?: Date | undefined;
}

export type IndexName = 'eavt' | 'aevt' | 'avet' | 'vaet';

export interface LogEntry {
  readonly tx: number;
  readonly txInstant: Date;
  readonly data: readonly Datom[];
}
