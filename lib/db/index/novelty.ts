/**
 * Novelty: what the commits since the last indexing did to each index, kept in memory beside the
 * trees (Datomic's design). Commits append their datoms to the log and here; once novelty holds
 * enough datoms, one commit writes all of it into the trees as one batch per tree, so a small
 * transaction costs a log record, not a rewrite of every tree's root.
 *
 * Each entry of a tree's novelty carries a mark: the tx that added it (0: the entry is in the tree
 * already) and the tx that removed it (0: not removed). A reader at basis t sees an entry when it
 * was added at or before t and not removed at or before t, so every snapshot within the epoch
 * reads the same novelty object. Novelty is copy-on-write: a commit clones the sorted maps (O(1),
 * sorted-btree shares nodes until written) and writes only the clone, so an iterator over an older
 * snapshot never sees a map change under it.
 */
import sortedBtree from 'sorted-btree';
import { INDEX_ORDERS, type IndexOrder } from '../encoding/datom-key.js';

// sorted-btree is CommonJS whose class is `exports.default`; an ESM default import is the whole module.
const BTree = sortedBtree.default;
export type EntryMap = InstanceType<typeof BTree<Buffer, Mark>>;

export interface Mark {
  readonly added: number;
  readonly removed: number;
}

export const compareKeys = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);

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

export class Novelty {
  private constructor(
    readonly current: Record<IndexOrder, EntryMap>,
    readonly history: Record<IndexOrder, EntryMap>,
    /** Commits since the trees were written, oldest first; the indexing commit itself comes first. */
    readonly txs: EpochTx[],
    /** Datoms applied since the trees were written: the indexing trigger. */
    public datomCount: number,
  ) {}

  static empty(): Novelty {
    return new Novelty(emptyMaps(), emptyMaps(), [], 0);
  }

  /** A copy to write to, sharing every node with this one until written. */
  clone(): Novelty {
    const copy = (maps: Record<IndexOrder, EntryMap>) =>
      Object.fromEntries(INDEX_ORDERS.map((o) => [o, maps[o].clone()])) as Record<IndexOrder, EntryMap>;
    return new Novelty(copy(this.current), copy(this.history), [...this.txs], this.datomCount);
  }

  addCurrent(order: IndexOrder, key: Buffer, tx: number): void {
    this.current[order].set(key, { added: tx, removed: 0 });
  }

  /** Removes the current entry `key` as of `tx`, whether it lives in the tree or in novelty. */
  removeCurrent(order: IndexOrder, key: Buffer, tx: number): void {
    const map = this.current[order];
    const mark = map.get(key);
    map.set(key, { added: mark?.added ?? 0, removed: tx });
  }

  /** History entries become visible at `visibleAt`: a retracted assertion joins history when retracted. */
  addHistory(order: IndexOrder, key: Buffer, visibleAt: number): void {
    this.history[order].set(key, { added: visibleAt, removed: 0 });
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
    const txs = this.txs.filter((t) => t.tx <= basis);
    return new Novelty(cut(this.current), cut(this.history), txs, this.datomCount);
  }
}

function emptyMaps(): Record<IndexOrder, EntryMap> {
  return Object.fromEntries(INDEX_ORDERS.map((o) => [o, new BTree<Buffer, Mark>(undefined, compareKeys)])) as Record<
    IndexOrder,
    EntryMap
  >;
}
