/**
 * The reference model for tree tests: a map from integer keys to versions, kept as a sorted
 * array, and the schema of the tree under test. Entries [key, version] encode as 8 bytes: the key
 * as an order-preserving 4-byte big-endian number (sign bit flipped), then the version; the order
 * looks at the key only, so inserting an existing key replaces its entry. Keys are multiplied by
 * 0x2f3b before encoding (order-preserving for keys below 170,000), so that three of the key
 * bytes vary and searches that narrow by a 4-byte prefix are exercised.
 */
import { compareBytes, type TreeSchema } from '../../lib/tree/tree-schema.js';

export type Entry = readonly [key: number, version: number];

/** An encoded entry in a page: 8 bytes and a 1-byte length. */
export const ENTRY_PAGE_BYTES = 9;
/** A leaf page besides its entries: kind and count. */
export const LEAF_OVERHEAD_BYTES = 2;
/** A buffered operation in a branch page: the entry and its kind byte. */
export const OP_PAGE_BYTES = ENTRY_PAGE_BYTES + 1;

const SPREAD = 0x2f3b;
const keyBits = (key: number): number => ((key * SPREAD) ^ 0x80000000) >>> 0;

export const encodeKey = (key: number): Uint8Array => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, keyBits(key));
  return bytes;
};

/** `entrySchema.encode` in place, for schemas that give the tree `encodeInto`. */
export function encodeEntryInto([key, version]: Entry, target: Uint8Array, offset: number): number {
  if (offset + 8 > target.length) return -1;
  const view = new DataView(target.buffer, target.byteOffset + offset, 8);
  view.setUint32(0, keyBits(key));
  view.setUint32(4, version);
  return offset + 8;
}

export const entrySchema: TreeSchema<Entry> = {
  encode: ([key, version]) => {
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, keyBits(key));
    view.setUint32(4, version);
    return bytes;
  },
  decode: (bytes, start) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, 8);
    return [((view.getUint32(0) ^ 0x80000000) | 0) / SPREAD, view.getUint32(4)];
  },
  compare: (a, aStart, _aEnd, b, bStart, _bEnd) => compareBytes(a, aStart, aStart + 4, b, bStart, bStart + 4),
  prefixOrdered: true,
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
