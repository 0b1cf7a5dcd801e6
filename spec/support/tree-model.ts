/**
 * The reference model for tree tests: a map from integer keys to versions, kept as a sorted
 * array, and the schema of the tree under test (entries [key, version], ordered by key only, so
 * an insert of an existing key replaces it). Every entry takes 4 bytes, so a page size of
 * 12 + 4n holds exactly n entries per leaf.
 */
import type { TreeSchema } from '../../lib/tree/tree-schema.js';

export type Entry = readonly [key: number, version: number];

export const ENTRY_BYTES = 4;

export const entrySchema: TreeSchema<Entry> = {
  compare: (a, b) => a[0] - b[0],
  sizeOf: () => ENTRY_BYTES,
  toPlain: (e) => e,
  fromPlain: (plain) => plain as Entry,
};

export type ModelOp = { readonly key: number; readonly version: number; readonly remove: boolean };

export class SortedModel {
  private readonly map = new Map<number, number>();

  apply(ops: readonly ModelOp[]): void {
    for (const op of ops) {
      if (op.remove) this.map.delete(op.key);
      else this.map.set(op.key, op.version);
    }
  }

  entries(): Entry[] {
    return [...this.map.entries()].sort((a, b) => a[0] - b[0]);
  }

  get(key: number): Entry | undefined {
    const version = this.map.get(key);
    return version === undefined ? undefined : [key, version];
  }

  clone(): SortedModel {
    const copy = new SortedModel();
    for (const [k, v] of this.map) copy.map.set(k, v);
    return copy;
  }
}
