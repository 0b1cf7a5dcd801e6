/**
 * `sediment export`: the transaction data that rebuilds a database, history included, as EDN
 * forms `{:tx-instant #inst "..." :tx-data [...]}`, one per transaction and line, which
 * `sediment import` reads. Replayed into a new database (`sediment init`), they give the same
 * entity ids and the same file bytes: an entity a transaction made is a tempid named after its
 * id, and the datoms keep the log's order, in which new entities first appear in id order (the
 * order the counter allocated them in; every id allocated has a datom, since a tempid that is
 * only retracted or used as a value is an error).
 */
import type { Connection } from '../db/connection.js';
import type { Db } from '../db/db.js';
import { Keyword } from '../db/edn.js';
import { BOOTSTRAP_TX } from '../db/schema/schema.js';
import { toEdn } from './output.js';

export function* exportTransactions(conn: Connection, asOf: Db): Generator<string> {
  const db = conn.db();
  const entries = conn.log().txRange(BOOTSTRAP_TX + 1, asOf.basisT + 1)[Symbol.iterator]();
  let entry = entries.next();
  while (entry.done !== true) {
    const next = entries.next();
    // The id counter after this transaction: the next transaction's id, or the snapshot's counter.
    const nextId = next.done === true ? asOf.snapshot.basis.nextId : next.value.tx;
    const { tx, txInstant, data } = entry.value;
    const isNew = (e: number) => e > tx && e < nextId;
    const ref = (e: number): unknown => (e === tx ? 'datomic.tx' : isNew(e) ? `e${e}` : e);
    // Kept in the log's order: the transactor wrote it, and reads it back in the same order.
    const ops: unknown[][] = [];
    for (const d of data) {
      if (d.e === tx && d.a === 'db/txInstant') continue;
      const attribute = db.attribute(d.a, 'export');
      const v = attribute.valueType === 'ref' ? ref(d.v as number) : attribute.valueType === 'keyword' ? new Keyword(d.v as string) : d.v;
      ops.push([new Keyword(d.added ? 'db/add' : 'db/retract'), ref(d.e), new Keyword(d.a), v]);
    }
    yield toEdn({ 'tx-instant': txInstant, 'tx-data': ops });
    entry = next;
  }
}

