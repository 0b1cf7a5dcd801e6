import type { PageId } from '../ids.js';

class CacheEntry {
  constructor(
    readonly value: unknown,
    readonly cost: number,
    public referenced: boolean,
  ) {}
}

/**
 * Decoded pages by page id, bounded by an estimate of their bytes. Pages never change once
 * written, so entries never need invalidation. Eviction is second-chance FIFO (CLOCK): a hit only
 * sets a flag, so the read path pays one Map lookup and no reordering.
 */
export class PageCache {
  private readonly entries = new Map<number, CacheEntry>();
  private bytes = 0;

  constructor(readonly capacityBytes: number) {}

  get(id: PageId): unknown {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    entry.referenced = true;
    return entry.value;
  }

  set(id: PageId, value: unknown, cost: number): void {
    if (cost > this.capacityBytes || this.entries.has(id)) return;
    while (this.bytes + cost > this.capacityBytes) this.evictOne();
    this.entries.set(id, new CacheEntry(value, cost, false));
    this.bytes += cost;
  }

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  private evictOne(): void {
    for (;;) {
      const first = this.entries.entries().next();
      if (first.done) return;
      const [id, entry] = first.value;
      this.entries.delete(id);
      if (entry.referenced) {
        entry.referenced = false;
        this.entries.set(id, entry); // second chance: to the back of the queue
      } else {
        this.bytes -= entry.cost;
        return;
      }
    }
  }
}
