/**
 * What a tree needs to know about its entries: how to encode them as bytes and back, and how
 * encoded entries are ordered. A tree stores encoded entries only, so lookups and scans compare
 * bytes in place and decode just the entries they return. Entries that compare equal replace
 * each other: a schema whose comparator looks only at a key prefix makes the tree a map.
 */
export interface TreeSchema<E> {
  encode(entry: E): Uint8Array;
  /**
   * Optional, and the same bytes as `encode`: writes the entry's encoding into `target` from
   * `offset` and returns where it ends, or -1 if it does not fit (the tree then retries with more
   * room). With it the tree encodes lookup keys and batches into memory it reuses; `encode` costs
   * an allocation per entry, which for small entries is most of the cost of encoding them.
   */
  encodeInto?(entry: E, target: Uint8Array, offset: number): number;
  decode(bytes: Uint8Array, start: number, end: number): E;
  /** Order of the encoded entries a[aStart, aEnd) and b[bStart, bEnd): negative, zero, positive. */
  compare(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number;
  /**
   * True when entries whose first four bytes differ (zero-padded) compare as those bytes do, as
   * for any bytewise order: cached nodes then keep those bytes as numbers, and searches narrow
   * by integer comparison before calling `compare`.
   */
  readonly prefixOrdered?: boolean;
}

/** Bytewise order (memcmp), a shorter prefix first: right for order-preserving encodings. */
export function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const n = aLength < bLength ? aLength : bLength;
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i]! - b[bStart + i]!;
    if (d !== 0) return d;
  }
  return aLength - bLength;
}

/** One change in a batch: insert (or replace) an entry, or remove the entry equal to it. */
export interface TreeOp<E> {
  readonly entry: E;
  readonly remove: boolean;
}

export const OpKind = { insert: 0, remove: 1 } as const;
export type OpKind = (typeof OpKind)[keyof typeof OpKind];
