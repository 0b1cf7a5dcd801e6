/**
 * Novelty: what the commits since the last indexing did to each index, kept in memory beside the
 * trees (Datomic's design). Commits append their datoms to the log and here; once novelty holds
 * enough datoms, one commit writes all of it into the trees as one batch per tree, so a small
 * transaction costs a log record, not a rewrite of every tree's root.
 *
 * Each entry of a tree's novelty carries a mark: the tx that added it (0: the entry is in the tree
 * already) and the tx that removed it (0: not removed). A reader at basis t sees an entry when it
 * was added at or before t and not removed at or before t, so every snapshot of the epoch reads
 * the same novelty object, which later commits of the epoch keep writing: what they add is after
 * every existing snapshot's basis, so no snapshot sees it. Readers iterate by key and re-seek when
 * the maps changed under them (`version`), so a lazy scan survives commits made while it runs.
 * Speculative transactions (`Db.with`) write a clone, which shares nodes until written.
 */
import sortedBtree from 'sorted-btree';
import { INDEX_ORDERS, type IndexOrder } from '../encoding/datom-key.js';
import type { Value } from '../schema/value-type.js';

// sorted-btree is CommonJS whose class is `exports.default`; an ESM default import is the whole module.
// Loaders that honour `__esModule` (vitest, bundlers) hand over `exports.default` itself.
const BTree = sortedBtree.default ?? (sortedBtree as unknown as typeof sortedBtree.default);
export type EntryMap = InstanceType<typeof BTree<Buffer, Mark>>;

export interface Mark {
  readonly added: number;
  readonly removed: number;
}

/** Bytewise order in JavaScript: for keys of a few dozen bytes cheaper than a native call. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function isVisible(mark: Mark, basis: number): boolean {
  return mark.added <= basis && (mark.removed === 0 || mark.removed > basis);
}

/** A commit of the epoch: what reading it back from the log needs. */
export interface EpochTx {
  readonly tx: number;
  readonly recordOffset: number;
  readonly instant: number;
  /** The entity-id counter after the commit. */
  readonly nextId: number;
}

/** One change to one index's novelty: the entry and the tx it happens at. */
export interface NoveltyChange {
  readonly order: IndexOrder;
  readonly kind: 'add' | 'remove' | 'history';
  readonly key: Buffer;
  readonly tx: number;
}

export class Novelty {
  /** Bumped on every write, so that iterators know to re-seek. */
  version = 0;

  /** The heap directory of the epoch: digest (hex) of a large value to its heap page. */
  readonly heap = new Map<string, number>();
  /** Large values of speculative transactions (`Db.with`), which write no heap pages. */
  readonly speculativeValues = new Map<string, Value>();

  private constructor(
    readonly current: Record<IndexOrder, EntryMap>,
    readonly history: Record<IndexOrder, EntryMap>,
    /** Commits of the epoch, oldest first; the indexing commit that began it comes first. */
    readonly txs: EpochTx[],
    /** Datoms applied since the trees were written: the indexing trigger. */
    public datomCount: number,
  ) {}

  static empty(): Novelty {
    return new Novelty(emptyMaps(), emptyMaps(), [], 0);
  }

  /** A copy to write to, sharing every node with this one until either is written. */
  clone(): Novelty {
    const copy = (maps: Record<IndexOrder, EntryMap>) =>
      Object.fromEntries(INDEX_ORDERS.map((o) => [o, maps[o].clone()])) as Record<IndexOrder, EntryMap>;
    return this.withDirectory(new Novelty(copy(this.current), copy(this.history), [...this.txs], this.datomCount));
  }

  private withDirectory(copy: Novelty): Novelty {
    for (const [k, v] of this.heap) copy.heap.set(k, v);
    for (const [k, v] of this.speculativeValues) copy.speculativeValues.set(k, v);
    return copy;
  }

  /** Applies one transaction's changes (planned beforehand, so that this cannot fail halfway). */
  apply(changes: readonly NoveltyChange[], datomCount: number): void {
    this.version++;
    for (const c of changes) {
      switch (c.kind) {
        case 'add':
          this.current[c.order].set(c.key, { added: c.tx, removed: 0 });
          break;
        case 'remove': {
          // The entry may live in the tree (added 0) or in novelty (added by an earlier commit).
          const map = this.current[c.order];
          map.set(c.key, { added: map.get(c.key)?.added ?? 0, removed: c.tx });
          break;
        }
        case 'history':
          // A retracted assertion joins history when retracted, so it is visible from that tx.
          this.history[c.order].set(c.key, { added: c.tx, removed: 0 });
          break;
      }
    }
    this.datomCount += datomCount;
  }

  get lastTx(): EpochTx | undefined {
    return this.txs[this.txs.length - 1];
  }

  /**
   * This novelty as of `basis`: entries and marks after it dropped. For a speculative transaction
   * on an older snapshot, whose tx ids would otherwise meet those of later real commits.
   */
  truncatedTo(basis: number): Novelty {
    const cut = (maps: Record<IndexOrder, EntryMap>) => {
      const out = emptyMaps();
      for (const order of INDEX_ORDERS) {
        for (const [key, mark] of maps[order].entries()) {
          if (mark.added > basis) continue;
          out[order].set(key, mark.removed > basis ? { added: mark.added, removed: 0 } : mark);
        }
      }
      return out;
    };
    return this.withDirectory(new Novelty(cut(this.current), cut(this.history), this.txs.filter((t) => t.tx <= basis), this.datomCount));
  }
}

function emptyMaps(): Record<IndexOrder, EntryMap> {
  return Object.fromEntries(INDEX_ORDERS.map((o) => [o, new BTree<Buffer, Mark>(undefined, compareKeys)])) as Record<
    IndexOrder,
    EntryMap
  >;
}
