/**
 * What a tree needs to know about its entries: their order, their encoded size, and how to
 * turn them into msgpack-able values and back. A tree is an ordered set of entries; an entry
 * equal (by `compare`) to one already present replaces it, so a schema whose `compare` looks
 * only at a key makes the tree a map.
 */
export interface TreeSchema<E> {
  compare(a: E, b: E): number;
  /** Bytes the entry takes in an encoded node: sizes nodes, so it must be deterministic. */
  sizeOf(entry: E): number;
  toPlain(entry: E): unknown;
  fromPlain(plain: unknown): E;
}

/** One change in a batch: insert (or replace) an entry, or remove the entry equal to it. */
export interface TreeOp<E> {
  readonly entry: E;
  readonly remove: boolean;
}

export const OpKind = { insert: 0, remove: 1 } as const;
export type OpKind = (typeof OpKind)[keyof typeof OpKind];
