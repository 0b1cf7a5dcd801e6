import type { PageId } from '../ids.js';

export class CacheEntry {
  constructor(
    readonly value: unknown,
    readonly cost: number,
    public referenced: boolean,
  ) {}
}

/**
 * Decoded pages by page id, bounded by an estimate of their bytes. Pages never change once
 * written, so entries never need invalidation. Eviction is CLOCK: a hit only sets a flag, so the
 * read path pays one Map lookup and no reordering. The clock hand is one long-lived Map iterator
 * (it sees entries added behind it); a fresh iterator per eviction would have to step over every
 * deleted slot at the front of the Map, which V8 keeps until it rehashes, and evictions would
 * slow down as the cache grows.
 */
export class PageCache {
  private readonly entries = new Map<number, CacheEntry>();
  private hand: Iterator<[number, CacheEntry]> | undefined;
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

  /**
   * Removes a page that its writer is replacing with a new version: the old one stays valid for
   * older snapshots, but would only take room from live pages. Returns its entry if cached, whose
   * `referenced` flag tells whether a reader used it since the clock hand last passed it.
   */
  take(id: PageId): CacheEntry | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    this.bytes -= entry.cost;
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  private evictOne(): void {
    if (this.entries.size === 0) return;
    for (;;) {
      this.hand ??= this.entries.entries();
      const next = this.hand.next();
      if (next.done) {
        this.hand = undefined; // wrap around
        continue;
      }
      const [id, entry] = next.value;
      if (entry.referenced) {
        entry.referenced = false; // second chance: the hand passes it by once
        continue;
      }
      this.entries.delete(id);
      this.bytes -= entry.cost;
      return;
    }
  }
}
