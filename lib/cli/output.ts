/**
 * What the command line prints: data as one JSON document, as EDN, or as a table that fits the
 * terminal. Values follow the datoms' JavaScript forms (see the contract); a `Keyword` prints as
 * a keyword in EDN and as its name elsewhere.
 */
import { Datom } from '../db/datom.js';
import { Keyword } from '../db/edn.js';

export type OutputFormat = 'json' | 'edn' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'edn', 'table'];

/** Rows under column names: what every data-printing command produces. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/** JSON: bigints as decimal strings (JSON numbers would lose digits), bytes as base64, instants as ISO. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (v instanceof Keyword) return v.name;
    return v;
  });
}

/** EDN text of a value. Strings that name attributes are keywords only when given as `Keyword`. */
export function toEdn(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? '##Inf' : value < 0 ? '##-Inf' : '##NaN';
  if (typeof value === 'bigint') return `${value}N`;
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Keyword) return `:${value.name}`;
  if (value instanceof Date) return `#inst ${JSON.stringify(value.toISOString())}`;
  if (value instanceof Uint8Array) return `#sediment/bytes ${JSON.stringify(Buffer.from(value).toString('base64'))}`;
  if (value instanceof Datom) {
    return `[${value.e} :${value.a} ${toEdn(value.v)} ${value.tx} ${value.added}]`;
  }
  if (Array.isArray(value)) return `[${value.map(toEdn).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${ednKey(k)} ${toEdn(v)}`);
    return `{${entries.join(', ')}}`;
  }
  return JSON.stringify(String(value));
}

/** A map key: a keyword when it reads as one (`db/id`, `tx`), else a string. */
function ednKey(key: string): string {
  return /^[A-Za-z*+!_?<>=-][\w*+!?<>=./-]*$/.test(key) && !key.endsWith('/') ? `:${key}` : JSON.stringify(key);
}

/** A cell's text in a table: plain, without quotes. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Keyword) return `:${value.name}`;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object') return toEdn(value);
  return String(value);
}

/**
 * The table as text, at most `width` characters a line: when the columns are too wide together,
 * the widest are narrowed first and their cells cut with an ellipsis.
 */
export function renderTable(table: Table, width: number): string {
  const cells = table.rows.map((row) => table.columns.map((_, i) => oneLine(cellText(row[i]))));
  const widths = table.columns.map((name, i) => Math.max(name.length, ...cells.map((row) => row[i]!.length)));
  const separators = 2 * (widths.length - 1);
  const minimum = 4;
  while (widths.reduce((a, b) => a + b, 0) + separators > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= minimum) break;
    widths[widest]! -= 1;
  }
  const line = (texts: readonly string[]) =>
    texts
      .map((text, i) => fit(text, widths[i]!))
      .join('  ')
      .trimEnd();
  const header = line(table.columns);
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [header, rule, ...cells.map(line)].join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function fit(text: string, width: number): string {
  if (text.length <= width) return text.padEnd(width);
  return `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** Prints `table` in `format`: JSON as an array of objects keyed by column, EDN as a vector of maps. */
export function formatTable(table: Table, format: OutputFormat, width: number): string {
  if (format === 'table') return renderTable(table, width);
  const objects = table.rows.map((row) => Object.fromEntries(table.columns.map((c, i) => [c, row[i]])));
  return format === 'json' ? toJson(objects) : toEdn(objects);
}

/** The width a table may take: the terminal's, or unbounded when output goes to a file or pipe. */
export function outputWidth(stream: NodeJS.WriteStream): number {
  return stream.isTTY && stream.columns > 0 ? stream.columns : Number.MAX_SAFE_INTEGER;
}
