import type { PageId } from '../ids.js';

/**
 * A cached page. Besides the cache's own Map, parents may keep their children's entries (see
 * PageStore.loadChild); leaving the cache clears `value`, so such a reference neither keeps the
 * page's memory alive nor returns a page the cache no longer counts.
 */
export class CacheEntry {
  constructor(
    public value: unknown,
    readonly cost: number,
    public referenced: boolean,
  ) {}
}

/**
 * Decoded pages by page id, bounded by an estimate of their bytes. Pages never change once
 * written, so entries never need invalidation. Eviction is CLOCK: a hit only sets a flag, so the
 * read path pays one Map lookup (none through a parent's slot: PageStore.loadChild) and no
 * reordering. The clock hand is one long-lived Map iterator (it sees entries added behind it); a
 * fresh iterator per eviction would have to step over every deleted slot at the front of the Map,
 * which V8 keeps until it rehashes, and evictions would slow down as the cache grows.
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

  /** The page's entry, without marking it used. */
  entry(id: PageId): CacheEntry | undefined {
    return this.entries.get(id);
  }

  /** Caches a page unless it is larger than the whole cache; returns its entry, if cached. */
  set(id: PageId, value: unknown, cost: number): CacheEntry | undefined {
    if (cost > this.capacityBytes) return undefined;
    const present = this.entries.get(id);
    if (present !== undefined) return present;
    while (this.bytes + cost > this.capacityBytes) this.evictOne();
    const entry = new CacheEntry(value, cost, false);
    this.entries.set(id, entry);
    this.bytes += cost;
    return entry;
  }

  /**
   * Removes a page that its writer is replacing with a new version: the old one stays valid for
   * older snapshots, but would only take room from live pages. Returns its entry if cached, whose
   * `referenced` flag tells whether a reader used it since the clock hand last passed it. The
   * returned entry is a copy: the cached one is cleared like an evicted one.
   */
  take(id: PageId): CacheEntry | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    this.bytes -= entry.cost;
    const taken = new CacheEntry(entry.value, entry.cost, entry.referenced);
    entry.value = undefined;
    return taken;
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
      entry.value = undefined;
      return;
    }
  }
}
