/**
 * Large buffers of the write path, handed from one user to the next instead of each allocating
 * its own: an import's key lists, the merged lists of its tree batches and its log record are
 * each 10–25 MB a million datoms and each dead before the next is needed, but every fresh
 * ArrayBuffer outlives a few scavenges, reaches the old generation and counts as external
 * memory, which only a full collection frees: V8 starts one for every 64 MiB of it, and each
 * marks the application's whole heap (hundreds of MB in a process holding its data set).
 *
 * A buffer is lent by `takeSpare` and comes back by `giveBack` once its user is sure nothing
 * views it any more. Given back, it is held through a WeakRef: the next large request reuses it,
 * or a full collection frees it, so nothing is kept beyond what V8 would keep anyway. (Within one
 * synchronous job a WeakRef's target stays alive until the job ends, as the language specifies;
 * so the spares are capped, and a buffer beyond the cap is let go unreferenced.)
 */

/** Requests smaller than this take memory of their own (slabs, batch chunks, a new buffer). */
export const DEFAULT_SPARE_MIN_BYTES = 1 << 20;
let spareMinBytes = DEFAULT_SPARE_MIN_BYTES;

/** Whether a request of `bytes` is served by a spare. */
export const spareSized = (bytes: number): boolean => bytes >= spareMinBytes;

/** Whether a buffer given back is filled with POISON first. */
let poisoning = false;
const POISON = 0xdb;

/**
 * Lowers (or restores) the size from which requests are served by spares: tests lower it so that
 * small databases pass their lists from user to user as an import's do, and have each buffer
 * given back poisoned, so that a reader still holding one reads garbage at once rather than only
 * after it is lent again (and any spare lent to any request it holds). Returns the old size.
 */
export function setSpareMinimum(bytes: number, poison = false): number {
  const old = spareMinBytes;
  spareMinBytes = bytes;
  poisoning = poison;
  return old;
}

/** Bytes of spares held at most. */
const SPARE_LIMIT_BYTES = 96 << 20;

/** Spares held at most: each request looks at every one. */
const SPARE_LIMIT_COUNT = 64;

/** A spare serves a request of at least this share of its size, so that a small one does not take a large one. */
const FIT_RATIO = 4;

const spares: WeakRef<ArrayBuffer>[] = [];
/** The byte length of each entry of `spares`, read without dereferencing it. */
const spareSizes: number[] = [];
/** Buffers lent out: only these may be given back, so a slab or a list's own memory never is. */
const lent = new WeakSet<ArrayBufferLike>();

/**
 * A buffer of at least `bytes`: for a request `spareSized`, a spare given back earlier if one
 * fits, else a new buffer (lent, so that it may be given back).
 */
export function takeSpare(bytes: number): ArrayBuffer {
  if (!spareSized(bytes)) return new ArrayBuffer(bytes);
  let best: ArrayBuffer | undefined;
  let bestIndex = -1;
  for (let i = spares.length - 1; i >= 0; i--) {
    const size = spareSizes[i]!;
    // Poisoning (tests) lends any spare that fits, so that a buffer still in use is lent again soon.
    if (size < bytes || (size > bytes * FIT_RATIO && !poisoning) || (best !== undefined && size >= best.byteLength)) continue;
    const buffer = spares[i]!.deref();
    if (buffer === undefined) {
      spares.splice(i, 1);
      spareSizes.splice(i, 1);
      if (bestIndex > i) bestIndex--;
      continue;
    }
    best = buffer;
    bestIndex = i;
  }
  if (best === undefined) best = new ArrayBuffer(bytes);
  else {
    spares.splice(bestIndex, 1);
    spareSizes.splice(bestIndex, 1);
  }
  lent.add(best);
  return best;
}

/**
 * Returns a buffer `takeSpare` lent, for the next request; the caller vouches that nothing views
 * it any more. Any other buffer (a slab, memory of its own) is left alone.
 */
export function giveBack(buffer: ArrayBufferLike): void {
  if (!lent.has(buffer)) return;
  lent.delete(buffer);
  if (poisoning) new Uint8Array(buffer).fill(POISON);
  if (spareBytes() + buffer.byteLength > SPARE_LIMIT_BYTES) {
    // Spares a collection freed may still be counted: drop them and look again.
    for (let i = spares.length - 1; i >= 0; i--) {
      if (spares[i]!.deref() !== undefined) continue;
      spares.splice(i, 1);
      spareSizes.splice(i, 1);
    }
    if (spareBytes() + buffer.byteLength > SPARE_LIMIT_BYTES) return;
  }
  if (spares.length >= SPARE_LIMIT_COUNT) return;
  spares.push(new WeakRef(buffer as ArrayBuffer));
  spareSizes.push(buffer.byteLength);
}

/** Bytes held as spares, counting any a collection freed since it was last looked at. */
export function spareBytes(): number {
  let held = 0;
  for (const size of spareSizes) held += size;
  return held;
}

/** Lets go of every spare (a test starting from none). Buffers lent out stay lent. */
export function dropSpares(): void {
  spares.length = 0;
  spareSizes.length = 0;
}
