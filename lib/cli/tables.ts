/**
 * The tables both the commands and the shell print: datoms, the log and stats, so that the two
 * show the same things the same way.
 */
import type { Datom, LogEntry } from '../db/datom.js';
import type { Db } from '../db/db.js';
import { Keyword } from '../db/edn.js';
import type { DatabaseStats } from '../db/inspect.js';
import { formatTable, type Table } from './output.js';

/** A datom's attribute, and a keyword-typed value, as keywords (`:db.type/string`). */
function datomCells(db: Db, d: Datom): [number, Keyword, unknown, number, boolean] {
  const keyword = db.attribute(d.a, 'output').valueType === 'keyword';
  return [d.e, new Keyword(d.a), keyword ? new Keyword(d.v as string) : d.v, d.tx, d.added];
}

export function datomsTable(db: Db, datoms: Iterable<Datom>): Table {
  return { columns: ['e', 'a', 'v', 'tx', 'added'], rows: [...datoms].map((d) => datomCells(db, d)) };
}

export function logTable(db: Db, entries: Iterable<LogEntry>): Table {
  const rows: unknown[][] = [];
  for (const entry of entries) {
    for (const d of entry.data) {
      const [e, a, v, , added] = datomCells(db, d);
      rows.push([entry.tx, entry.txInstant, e, a, v, added]);
    }
  }
  return { columns: ['tx', 'instant', 'e', 'a', 'v', 'added'], rows };
}

/** Stats as two tables: the file and its datoms, then the ten trees. */
export function statsText(stats: DatabaseStats, width: number): string {
  const summary: Table = {
    columns: ['measure', 'value'],
    rows: [
      ['file bytes', stats.fileBytes],
      ['commits', stats.commits],
      ['latest tx', stats.basisT],
      ['node pages', `${stats.frames.node.count} (${stats.frames.node.bytes} bytes)`],
      ['value heap', `${stats.frames.heap.count} pages (${stats.heapBytes} bytes)`],
      ['commit records', `${stats.frames.commit.count} (${stats.frames.commit.bytes} bytes)`],
      ...(['eavt', 'aevt', 'avet', 'vaet'] as const).map((o) => [`datoms in ${o}`, stats.datoms[o]]),
      ['history datoms', stats.datoms.history],
      ['datoms since the last indexing', stats.noveltyDatoms],
      ['bytes not reachable from the latest root', stats.unreachableBytes],
    ],
  };
  const trees: Table = {
    columns: ['tree', 'pages', 'bytes', 'depth', 'entries', 'buffered', 'fill'],
    rows: stats.trees.map((t) => [t.name, t.pages, t.bytes, t.depth, t.entries, t.buffered, `${Math.round(t.fill * 100)}%`]),
  };
  return `${formatTable(summary, 'table', width)}\n\n${formatTable(trees, 'table', width)}`;
}
