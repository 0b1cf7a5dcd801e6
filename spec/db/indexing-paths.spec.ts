/**
 * An indexing commit takes a path of its own: its datoms go from sorted key lists straight into
 * the tree batches (`planBatches`), never into the novelty maps. Before, they went through change
 * objects merged with the maps; writing them into the maps first and indexing the maps alone is
 * that path's meaning. Both must give the same trees, page by page — the same entries, pivots,
 * buffers and shape, so the same bytes in the file — for any epoch state: values in the trees and
 * in novelty, retracted, retired, changed again, cardinality many, refs, large values. One
 * exception, by design: a large commit of adds alone writes novelty's few entries as a batch of
 * their own first (`currentBatches`); its trees hold the same entries in another shape.
 *
 * Likewise the maps no read filled: the epoch writes them from its deferred datoms, encoded and
 * sorted in bulk. That must give the trees the filled maps give, page for page, whichever maps
 * reads filled and when, so that the file does not depend on the reads an epoch saw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import type { LogDatom } from '../../lib/db/encoding/log-record.js';
import { applyDatoms, type IndexBatches, planBatches, writeNovelty } from '../../lib/db/index/indexing.js';
import type { IndexTrees } from '../../lib/db/index/index-trees.js';
import type { Novelty } from '../../lib/db/index/novelty.js';
import { ALL_PARTS, partBit } from '../../lib/db/index/novelty-plan.js';
import { runTransaction } from '../../lib/db/tx/transactor.js';
import type { PageId } from '../../lib/ids.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { DEFAULT_PAGE_SIZE } from '../../lib/storage/options.js';
import { initialFileImage, PageStore } from '../../lib/storage/page-store.js';
import type { EntryList } from '../../lib/tree/entry-list.js';
import { SCHEMA, txData } from '../support/k-workload.js';


/** One random operation on entities 0..5 of `ids` (tempids when not made yet). */
const operation = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }));


/**
 * After `history` (see `afterHistory`), the datoms transaction `last` would commit and the state
 * it would commit on, not yet written; undefined (and the connection closed) when it is rejected.
 */
function lastAfterHistory(indexThreshold: number, history: readonly [number, number, number, number][][], last: readonly [number, number, number, number][], fills: readonly number[] = []) {
  const { store, conn, ids, instant } = afterHistory(indexThreshold, history, fills);
  const snapshot = conn.db().snapshot;
  let datoms: readonly LogDatom[];
  try {
    datoms = runTransaction(snapshot, txData(last, ids), instant + 1000).datoms;
  } catch {
    conn.close();
    return undefined;
  }
  const { roots, novelty } = snapshot.state;
  return { store, conn, datoms, trees: conn.internals().trees, roots, novelty, schema: snapshot.schema };
}

const ORDERS = ['eavt', 'aevt', 'avet', 'vaet'] as const;

/** Fills the maps of the `parts` bits (partBit), as reads of them would. */
function fill(novelty: Novelty, parts: number): void {
  for (const order of ORDERS) {
    if ((parts & partBit(order, 'current')) !== 0) novelty.current(order);
    if ((parts & partBit(order, 'history')) !== 0) novelty.history(order);
  }
}

/** A tree written by a batch, node by node, without its child page ids (they differ by path). */
function shape(trees: IndexTrees, id: PageId | undefined): unknown {
  if (id === undefined) return null;
  const node = trees.tree.load(id);
  if (node.kind === 'leaf') return { entries: entries(node.entries) };
  return {
    level: node.level,
    pivots: entries(node.pivots),
    buffer: entries(node.buffer),
    kinds: [...node.kinds],
    children: node.children.map((child) => shape(trees, child as PageId)),
  };
}

function entries(list: EntryList): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.count; i++) out.push(Buffer.from(list.bytes.subarray(list.start(i), list.end(i))).toString('hex'));
  return out;
}

/**
 * A connection on a fresh memory file after the schema and `history` (its conflicting
 * transactions rejected), with the ids of entities 0..5 and the last instant used.
 */
function afterHistory(indexThreshold: number, history: readonly [number, number, number, number][][], fills: readonly number[] = []) {
  const store = PageStore.open(new MemoryBackend(initialFileImage({ pageSize: DEFAULT_PAGE_SIZE })), {
    readOnly: false,
    durability: 'relaxed',
    cacheBytes: 1 << 20,
  });
  const conn = new Connection(store, { indexThreshold });
  let instant = Date.UTC(2024, 0, 1);
  conn.transact(SCHEMA, { txInstant: new Date(instant) });
  const ids: number[] = [];
  for (const [step, ops] of history.entries()) {
    fill(conn.db().snapshot.state.novelty, fills[step] ?? 0);
    try {
      const report = conn.transact(txData(ops, ids), { txInstant: new Date((instant += 1000)) });
      for (let i = 0; i < 6; i++) ids[i] ??= report.tempids[`t${i}`]!;
    } catch {
      // Conflicting random data is rejected and changes nothing: the epoch goes on.
    }
  }
  return { store, conn, ids, instant };
}

describe('an indexing commit straight to the trees', () => {
  it('writes the trees its datoms would give through the novelty maps, page for page', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 25 }),
        fc.array(operation, { minLength: 1, maxLength: 12 }),
        (indexThreshold, history, last) => {
          const state = lastAfterHistory(indexThreshold, history, last);
          if (state === undefined) return;
          const { store, conn, datoms, trees, roots, novelty, schema } = state;
          // The indexing path: the commit's own entries straight into the batches.
          const direct = writeNovelty(trees, roots, novelty, planBatches(datoms, schema));
          // Its meaning: the commit's changes into (a copy of) the maps, then the maps indexed.
          const viaMaps = novelty.clone();
          applyDatoms(viaMaps, datoms, schema);
          const nothing: IndexBatches = planBatches([], schema);
          const indexed = writeNovelty(trees, roots, viaMaps, nothing);
          for (let slot = 0; slot < 8; slot++) {
            expect(shape(trees, direct[slot] as PageId | undefined), `tree ${slot}`).toEqual(shape(trees, indexed[slot] as PageId | undefined));
          }
          store.abort();
          conn.close();
        },
      ),
      { numRuns: 150, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x5ed6) },
    );
  });

  it('writes the maps no read filled from the deferred datoms, as the filled maps would, page for page', () => {
    let deferredParts = 0;
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(100_000)),
        fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 25 }),
        // Mostly nothing filled by a step; now and then some maps, as reads between commits do.
        fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.nat(ALL_PARTS)), { maxLength: 25 }),
        fc.array(operation, { minLength: 1, maxLength: 12 }),
        (indexThreshold, history, fills, last) => {
          const state = lastAfterHistory(indexThreshold, history, last, fills);
          if (state === undefined) return;
          const { store, conn, datoms, trees, roots, novelty, schema } = state;
          deferredParts += novelty.filledParts === ALL_PARTS ? 0 : 1;
          const deferred = writeNovelty(trees, roots, novelty.clone(), planBatches(datoms, schema));
          const filled = novelty.clone();
          fill(filled, ALL_PARTS);
          const fromMaps = writeNovelty(trees, roots, filled, planBatches(datoms, schema));
          for (let slot = 0; slot < 8; slot++) {
            expect(shape(trees, deferred[slot] as PageId | undefined), `tree ${slot}`).toEqual(shape(trees, fromMaps[slot] as PageId | undefined));
          }
          store.abort();
          conn.close();
        },
      ),
      { numRuns: 150, seed: Number(process.env['SEDIMENT_SEED'] ?? 0xdef3) },
    );
    expect(deferredParts).toBeGreaterThan(60);
  });

  it('writes a large commit of adds alone after novelty as two batches, with the same entries', () => {
    // An import after the schema's transaction: novelty's few entries go into a tree first, then
    // the commit's adds as they are. The trees differ in shape from one merged batch's, so they
    // are compared entry by entry.
    let separate = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(operation, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 20, max: 120 }),
        (history, people) => {
          // No epoch ends: the schema and `history` stay in novelty, the trees hold the bootstrap.
          const { store, conn, ids, instant } = afterHistory(100_000, history);
          const friend = ids.find((id) => id !== undefined);
          const load = Array.from({ length: people }, (_, i) => [
            ['db/add', `p${i}`, 'k/name', `person ${i}`],
            ['db/add', `p${i}`, 'k/n', i],
            ['db/add', `p${i}`, 'k/tags', `t/${i % 3}`],
            ...(friend === undefined ? [] : [['db/add', `p${i}`, 'k/friend', friend]]),
          ]).flat();
          const snapshot = conn.db().snapshot;
          const datoms = runTransaction(snapshot, load, instant + 1000).datoms;
          const { trees } = conn.internals();
          const { roots, novelty } = snapshot.state;
          const schema = snapshot.schema;
          const own = planBatches(datoms, schema);
          for (const order of ['eavt', 'aevt', 'avet', 'vaet'] as const) {
            const novel = novelty.current(order).size;
            if (novel > 0 && novel * 16 <= own[order].adds.count) separate++;
          }
          const direct = writeNovelty(trees, roots, novelty, own);
          const viaMaps = novelty.clone();
          applyDatoms(viaMaps, datoms, schema);
          const indexed = writeNovelty(trees, roots, viaMaps, planBatches([], schema));
          for (let slot = 0; slot < 8; slot++) {
            expect(contents(trees, direct[slot] as PageId | undefined), `tree ${slot}`).toEqual(contents(trees, indexed[slot] as PageId | undefined));
          }
          store.abort();
          conn.close();
        },
      ),
      { numRuns: 60, seed: Number(process.env['SEDIMENT_SEED'] ?? 0x7b0) },
    );
    // Most runs took the two-batch path for some tree (an empty tree takes one merged batch).
    expect(separate).toBeGreaterThan(30);
  });
});

/** A tree's entries in order, as hex. */
function contents(trees: IndexTrees, id: PageId | undefined): string[] {
  if (id === undefined) return [];
  return [...trees.tree.scan(id)].map((entry) => Buffer.from(entry).toString('hex'));
}
