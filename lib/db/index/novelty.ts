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
 * Speculative transactions (`Db.with`) write a clone, which shares chunks until written.
 *
 * A current entry both added and removed within the epoch moves from `current` to `retired`, so
 * that reading the present walks only what holds now (and one tombstone per retracted tree entry),
 * however often a value changed: only a snapshot older than the last such move reads `retired`.
 *
 * Maps are filled on demand (Noria's partial state): commits write only the maps some read has
 * asked for in this epoch. The epoch's other datoms wait in `deferred`, in columns; the first read
 * of a map fills it from there and from then on commits write it too. An epoch no read asked for
 * goes to the trees straight from `deferred`, encoded and sorted in bulk (indexing.ts) as an
 * import is: a one-datom transaction then writes none of its 16 keys into maps. The old values a
 * transaction replaces, which every one reads, come from a hash index of the epoch's latest
 * cardinality-one values instead (latest-values.ts), kept by every commit.
 *
 * Keys are the index entries' bytes as latin1 strings, one character per byte, so that the maps
 * compare them natively (JavaScript orders such strings exactly as memcmp orders the bytes) and
 * each key's bytes sit inside its string rather than behind a Buffer's pointer: measured on
 * 200,000 keys, inserts and lookups took a third of the time of Buffer keys with a JavaScript
 * comparator, mostly cache misses saved.
 */
import { INDEX_ORDERS, type IndexOrder } from '../encoding/datom-key.js';
import type { LogDatom } from '../encoding/log-record.js';
import type { Schema } from '../schema/schema.js';
import type { Value } from '../schema/value-type.js';
import type { EntryList } from '../../tree/entry-list.js';
import { DeferredDatoms } from './deferred-datoms.js';
import { EntryMap } from './entry-map.js';
import { LatestValues } from './latest-values.js';
import { ALL_PARTS, ChangeKind, type NoveltyPart, partBit, planDatoms, planDeferred } from './novelty-plan.js';

/** An index entry's bytes as a string of latin1 characters, one per byte. */
export type NovelKey = string;

export const novelKeyOf = (bytes: Uint8Array): NovelKey => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');

export const bytesOfNovelKey = (key: NovelKey): Buffer => Buffer.from(key, 'latin1');

/** The order of novel keys: their bytes' order. */
export const compareNovelKeys = (a: NovelKey, b: NovelKey): number => (a < b ? -1 : a > b ? 1 : 0);

/** An entry's bytes, `bytes[start, end)`, against a novel key, in the bytes' order. */
export function compareBytesToKey(bytes: Uint8Array, start: number, end: number, key: NovelKey): number {
  const length = end - start;
  const n = length < key.length ? length : key.length;
  for (let i = 0; i < n; i++) {
    const d = bytes[start + i]! - key.charCodeAt(i);
    if (d !== 0) return d;
  }
  return length - key.length;
}

export interface Mark {
  readonly added: number;
  readonly removed: number;
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

/**
 * One transaction's changes to novelty, planned before its commit, in columns: change i's entry
 * is entry i of `keys` (bytes: the maps copy them into their pending writes), its index order
 * `INDEX_ORDERS[orders[i]]`, its kind `kinds[i]` (ChangeKind), the tx it happens at `txs[i]` and, for a
 * removal, the tx that asserted the entry (its key ends with it) `assertedTxs[i]`.
 */
export interface NoveltyPlan {
  readonly keys: EntryList;
  readonly count: number;
  readonly orders: Uint8Array;
  readonly kinds: Uint8Array;
  readonly txs: Float64Array;
  readonly assertedTxs: Float64Array;
  /** The maps it changes (partBit): those filled when it was planned. */
  readonly parts: number;
}

/** The marks `applyPlan` starts from: none is ever written into a map. */
const NO_MARK: Mark = Object.freeze({ added: 0, removed: 0 });

export class Novelty {
  /** Bumped on every write, so that iterators know to re-seek. */
  version = 0;

  /** The heap directory of the epoch: digest (hex) of a large value to its heap page. */
  readonly heap = new Map<string, number>();
  /** Large values of speculative transactions (`Db.with`), which write no heap pages. */
  readonly speculativeValues = new Map<string, Value>();

  /** The highest tx that moved an entry into `retired` (0: none). */
  retiredUpTo = 0;

  /** The maps commits write (partBit): the others are empty, their datoms in `deferred`. */
  private filled = 0;
  /**
   * The epoch's latest cardinality-one values, kept from its start; none in a copy (`clone`,
   * `truncatedTo`), whose commits are speculative: it reads the maps.
   */
  private latest: LatestValues | undefined = new LatestValues();
  /** The epoch's datoms, up to `deferredCount` (the columns may be shared with a clone, which holds more). */
  private deferred = new DeferredDatoms();
  private deferredCount = 0;

  private constructor(
    private readonly currentMaps: Record<IndexOrder, EntryMap>,
    /** Current entries added and removed within the epoch. */
    private readonly retiredMaps: Record<IndexOrder, EntryMap>,
    private readonly historyMaps: Record<IndexOrder, EntryMap>,
    /** Commits of the epoch, oldest first; the indexing commit that began it comes first. */
    readonly txs: EpochTx[],
    /** Datoms applied since the trees were written: the indexing trigger. */
    public datomCount: number,
  ) {}

  static empty(): Novelty {
    return new Novelty(emptyMaps(), emptyMaps(), emptyMaps(), [], 0);
  }

  /** The current entries of `order`, filled first if no read has asked for them yet. */
  current(order: IndexOrder): EntryMap {
    this.fill(partBit(order, 'current'));
    return this.currentMaps[order];
  }

  /** The current entries of `order` added and removed within the epoch (filled as `current`). */
  retired(order: IndexOrder): EntryMap {
    this.fill(partBit(order, 'current'));
    return this.retiredMaps[order];
  }

  /** The history entries of `order` (filled first as `current`). */
  history(order: IndexOrder): EntryMap {
    this.fill(partBit(order, 'history'));
    return this.historyMaps[order];
  }

  /** The maps commits write, as partBit's bits: the rest of the epoch is in `deferredDatoms`. */
  get filledParts(): number {
    return this.filled;
  }

  /** Whether the maps of `order`'s `part` hold the epoch (else `deferredDatoms` does, and they are empty). */
  isFilled(order: IndexOrder, part: NoveltyPart): boolean {
    return (this.filled & partBit(order, part)) !== 0;
  }

  /** The epoch's datoms for the maps not filled, and how many of those columns are this novelty's. */
  get deferredDatoms(): { readonly datoms: DeferredDatoms; readonly count: number } {
    return { datoms: this.deferred, count: this.deferredCount };
  }

  /** The tx of the commit that began the epoch, whose datoms are in the trees (0: no trees yet). */
  get epochTx(): number {
    // No commit yet (a speculative transaction on a file read before its first): no tree either.
    return this.txs.length > 0 ? this.txs[0]!.tx : 0;
  }

  /** The latest cardinality-one values, if they answer for a snapshot at `basis` (the newest commit's). */
  latestValuesAt(basis: number): LatestValues | undefined {
    const latest = this.latest;
    if (latest === undefined) return undefined;
    // No commit taken yet: the epoch's first, whose datoms are in the trees.
    return basis === (latest.tx === 0 ? this.epochTx : latest.tx) ? latest : undefined;
  }

  /** A copy to write to, sharing every node with this one until either is written. */
  clone(): Novelty {
    const copy = (maps: Record<IndexOrder, EntryMap>) =>
      Object.fromEntries(INDEX_ORDERS.map((o) => [o, maps[o].clone()])) as Record<IndexOrder, EntryMap>;
    const copied = new Novelty(copy(this.currentMaps), copy(this.retiredMaps), copy(this.historyMaps), [...this.txs], this.datomCount);
    copied.retiredUpTo = this.retiredUpTo;
    copied.latest = undefined;
    copied.filled = this.filled;
    copied.deferred = this.deferred;
    copied.deferredCount = this.deferredCount;
    return this.withDirectory(copied);
  }

  /**
   * The maps of the `bit`'s part, filled from the deferred datoms if they are not yet: a read asks
   * for them, so from now on commits write them too. Changes the maps, not what any basis sees.
   */
  private fill(bit: number): void {
    if ((this.filled & bit) !== 0) return;
    this.filled |= bit;
    if (this.deferredCount > 0) this.applyPlan(planDeferred(this.deferred, this.deferredCount, bit));
    if (this.filled === ALL_PARTS) {
      this.deferred = new DeferredDatoms();
      this.deferredCount = 0;
    }
  }

  /** Every map filled (see `fill`). */
  private fillAll(): void {
    for (const order of INDEX_ORDERS) {
      this.fill(partBit(order, 'current'));
      this.fill(partBit(order, 'history'));
    }
  }

  private withDirectory(copy: Novelty): Novelty {
    for (const [k, v] of this.heap) copy.heap.set(k, v);
    for (const [k, v] of this.speculativeValues) copy.speculativeValues.set(k, v);
    return copy;
  }

  /**
   * Applies one transaction's changes (planned beforehand, so that this cannot fail halfway).
   *
   * Whether a removed entry is in the tree or in novelty follows from the tx that asserted it,
   * with no lookup: the trees hold every entry asserted up to the commit that began the epoch
   * (`txs[0]`, whose own datoms went straight into them), novelty every later one. Looking each
   * removal up was three map reads a retraction, a third of a one-datom transaction's novelty time.
   */
  apply(plan: NoveltyPlan, datoms: readonly LogDatom[], schema: Schema): void {
    this.applyPlan(plan);
    // A read between planning and now filled more maps (from datoms that did not hold these yet).
    const missed = this.filled & ~plan.parts;
    if (missed !== 0) this.applyPlan(planDatoms(datoms, schema, missed));
    if (this.filled !== ALL_PARTS) this.defer(datoms, schema);
    this.latest?.apply(datoms, schema, datoms[0]!.tx);
    this.datomCount += datoms.length;
  }

  /** Keeps a transaction's datoms for the maps not filled (copying shared columns first). */
  private defer(datoms: readonly LogDatom[], schema: Schema): void {
    if (this.deferred.count !== this.deferredCount) this.deferred = this.deferred.copy(this.deferredCount);
    this.deferred.append(datoms, schema);
    this.deferredCount = this.deferred.count;
  }

  private applyPlan(plan: NoveltyPlan): void {
    const { keys, orders, kinds, txs, assertedTxs } = plan;
    const bytes = keys.bytes;
    this.version++;
    const epochTx = this.epochTx;
    // Marks are never written, so equal ones are one object: one for all that a tx adds, one for
    // its tombstones, one for each retraction's entries in every order. Fewer objects for the
    // collector to move: novelty is most of what a small transaction leaves alive.
    let added = NO_MARK;
    let tombstone = NO_MARK;
    let retired = NO_MARK;
    for (let i = 0; i < plan.count; i++) {
      const order = INDEX_ORDERS[orders[i]!]!;
      const tx = txs[i]!;
      const start = keys.start(i);
      const end = keys.end(i);
      if (added.added !== tx) added = { added: tx, removed: 0 };
      switch (kinds[i]) {
        case ChangeKind.add:
          this.currentMaps[order].setBytes(bytes, start, end, added);
          break;
        case ChangeKind.remove: {
          const map = this.currentMaps[order];
          const assertedTx = assertedTxs[i]!;
          if (assertedTx > epochTx) {
            // Added by an earlier commit of the epoch: it leaves the present for `retired`.
            map.deleteBytes(bytes, start, end);
            if (retired.added !== assertedTx || retired.removed !== tx) retired = { added: assertedTx, removed: tx };
            this.retiredMaps[order].setBytes(bytes, start, end, retired);
            // The highest: filling a map replays older commits' removals after newer ones'.
            if (tx > this.retiredUpTo) this.retiredUpTo = tx;
          } else {
            // In the tree: a tombstone hides it from this tx on.
            if (tombstone.removed !== tx) tombstone = { added: 0, removed: tx };
            map.setBytes(bytes, start, end, tombstone);
          }
          break;
        }
        case ChangeKind.history:
          // A retracted assertion joins history when retracted, so it is visible from that tx.
          this.historyMaps[order].setBytes(bytes, start, end, added);
          break;
      }
    }
  }

  get lastTx(): EpochTx | undefined {
    return this.txs[this.txs.length - 1];
  }

  /**
   * This novelty as of `basis`: entries and marks after it dropped. For a speculative transaction
   * on an older snapshot, whose tx ids would otherwise meet those of later real commits.
   */
  truncatedTo(basis: number): Novelty {
    this.fillAll();
    const current = emptyMaps();
    const retired = emptyMaps();
    let retiredUpTo = 0;
    for (const order of INDEX_ORDERS) {
      for (const [key, mark] of this.currentMaps[order].entries()) {
        if (mark.added > basis) continue;
        // A tombstone laid after the basis: the tree entry it hides still holds then.
        if (mark.added === 0 && mark.removed > basis) continue;
        current[order].set(key, mark);
      }
      for (const [key, mark] of this.retiredMaps[order].entries()) {
        if (mark.added > basis) continue;
        if (mark.removed > basis) {
          current[order].set(key, { added: mark.added, removed: 0 });
        } else {
          retired[order].set(key, mark);
          retiredUpTo = Math.max(retiredUpTo, mark.removed);
        }
      }
    }
    const history = emptyMaps();
    for (const order of INDEX_ORDERS) {
      for (const [key, mark] of this.historyMaps[order].entries()) if (mark.added <= basis) history[order].set(key, mark);
    }
    const truncated = new Novelty(current, retired, history, this.txs.filter((t) => t.tx <= basis), this.datomCount);
    truncated.retiredUpTo = retiredUpTo;
    truncated.latest = undefined;
    truncated.filled = ALL_PARTS;
    return this.withDirectory(truncated);
  }
}

function emptyMaps(): Record<IndexOrder, EntryMap> {
  return Object.fromEntries(INDEX_ORDERS.map((o) => [o, new EntryMap()])) as Record<
    IndexOrder,
    EntryMap
  >;
}
