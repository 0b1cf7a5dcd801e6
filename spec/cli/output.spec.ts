import { describe, expect, it } from 'vitest';
import { Keyword } from '../../lib/db/edn.js';
import { renderTable, toEdn, toJson } from '../../lib/cli/output.js';

describe('command-line output', () => {
  it('narrows the widest columns of a table to the terminal width, cutting their cells', () => {
    const table = { columns: ['path', 'lines'], rows: [['deps/jemalloc/include/jemalloc/internal/arena_structs.h', 1234], ['src', 7]] };
    const wide = renderTable(table, 200).split('\n');
    expect(wide[2]).toBe('deps/jemalloc/include/jemalloc/internal/arena_structs.h  1234');
    const narrow = renderTable(table, 30).split('\n');
    expect(narrow.every((line) => line.length <= 30)).toBe(true);
    expect(narrow[2]).toBe('deps/jemalloc/include/…  1234');
    expect(narrow[3]).toBe('src                      7');
  });

  it('writes values as JSON and EDN', () => {
    const value = { n: 1n, at: new Date(0), k: new Keyword('a/b'), bytes: Uint8Array.of(0, 255), s: 'x"y' };
    expect(toJson(value)).toBe('{"n":"1","at":"1970-01-01T00:00:00.000Z","k":"a/b","bytes":"AP8=","s":"x\\"y"}');
    expect(toEdn(value)).toBe('{:n 1N, :at #inst "1970-01-01T00:00:00.000Z", :k :a/b, :bytes #sediment/bytes "AP8=", :s "x\\"y"}');
    expect(toEdn([1.5, Number.NaN, null, true])).toBe('[1.5 ##NaN nil true]');
  });
});
