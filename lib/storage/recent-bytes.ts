/**
 * The newest bytes a writer committed, kept in memory: a copy of the file's tail.
 *
 * A hitchhiker tree's write path rewrites the pages it replaces, and under random writes it comes
 * back to most of them within some tens of megabytes of appends. Caching their decoded forms costs
 * more than it saves (WRITE_CACHE_POLICY in lib/tree/node.ts: the memory they hold drives full
 * collections), but reading them back costs a system call and a checksum pass each. These copies
 * live in a few fixed segments, allocated as the file grows and then reused round-robin, so they
 * give the garbage collector nothing to do.
 *
 * Each segment holds one contiguous range of the file. A commit's bytes go to the newest segment
 * while they fit, else to the next one, which forgets what it held; a commit larger than a segment
 * is not kept. So a range is either held whole by one segment or not at all.
 */
export class RecentBytes {
  private readonly segments: Buffer[] = [];
  /** File offset of each segment's first byte, and how many bytes it holds. */
  private readonly starts: number[] = [];
  private readonly lengths: number[] = [];
  /** The segment being filled, or -1 before the first append. */
  private current = -1;

  constructor(
    private readonly segmentBytes: number,
    private readonly segmentCount: number,
  ) {}

  /** Keeps `bytes`, which now lie on the file at `fileOffset`. */
  append(bytes: Uint8Array, fileOffset: number): void {
    if (this.segmentCount === 0 || bytes.length > this.segmentBytes) return;
    let i = this.current;
    if (i < 0 || this.starts[i]! + this.lengths[i]! !== fileOffset || this.lengths[i]! + bytes.length > this.segmentBytes) i = this.nextSegment(fileOffset);
    this.segments[i]!.set(bytes, this.lengths[i]!);
    this.lengths[i] = this.lengths[i]! + bytes.length;
  }

  /** The segment holding the file's bytes [offset, offset + length) whole, or -1. */
  segmentHolding(offset: number, length: number): number {
    // Newest first: the write path mostly returns to recent pages.
    const count = this.segments.length;
    for (let k = 0, i = this.current; k < count; k++, i = i === 0 ? count - 1 : i - 1) {
      const at = offset - this.starts[i]!;
      if (at >= 0 && at + length <= this.lengths[i]!) return i;
    }
    return -1;
  }

  /** Segment `i`'s memory: the file's byte at offset `o` is at `o - start(i)`. */
  segment(i: number): Buffer {
    return this.segments[i]!;
  }

  start(i: number): number {
    return this.starts[i]!;
  }

  private nextSegment(fileOffset: number): number {
    const i = this.current + 1 === this.segmentCount ? 0 : this.current + 1;
    if (i === this.segments.length) {
      this.segments.push(Buffer.allocUnsafeSlow(this.segmentBytes));
      this.lengths.push(0);
      this.starts.push(0);
    }
    this.starts[i] = fileOffset;
    this.lengths[i] = 0;
    this.current = i;
    return i;
  }
}
