/**
 * Branded number types: the compiler keeps a page offset from being passed where a transaction
 * id is expected, at no run-time cost.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A page is named by the file offset of its frame; pages never move, so the id never changes meaning. */
export type PageId = Brand<number, 'PageId'>;
/** The sequence number of a commit: 0 is the empty database, 1 the first commit. */
export type CommitSeq = Brand<number, 'CommitSeq'>;

export const asPageId = (offset: number): PageId => offset as PageId;
export const asCommitSeq = (seq: number): CommitSeq => seq as CommitSeq;
