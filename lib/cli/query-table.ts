/**
 * Query results as a table: one column per find element (`?name`, `(count ?e)`, `(pull ?e …)`,
 * or the `:keys` names), one row per result, whatever the find spec's shape.
 */
import type { FindElement, Query } from '../query/ast.js';
import type { Table } from './output.js';

/** A column's name; a new kind of find element without one here does not compile. */
function columnName(element: FindElement): string {
  switch (element.kind) {
    case 'var':
      return element.name;
    case 'aggregate':
      return element.text;
    case 'pull':
      return `(pull ${element.var})`;
  }
}

export function resultTable(query: Query, result: unknown): Table {
  const find = query.find;
  switch (find.kind) {
    case 'scalar':
      return { columns: [columnName(find.element)], rows: result === undefined || result === null ? [] : [[result]] };
    case 'collection':
      return { columns: [columnName(find.element)], rows: (result as unknown[]).map((v) => [v]) };
    case 'tuple':
    case 'relation': {
      const columns = query.keys ?? find.elements.map(columnName);
      const tuples = find.kind === 'tuple' ? (result === undefined || result === null ? [] : [result]) : (result as unknown[]);
      const rows = tuples.map((t) => (Array.isArray(t) ? t : columns.map((c) => (t as Record<string, unknown>)[c])));
      return { columns, rows };
    }
  }
}
