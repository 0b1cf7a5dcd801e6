/**
 * Looking at a database file as an operator does: `stats` (what the file holds and what a
 * compaction would reclaim) and `verify` (every frame, commit and tree checked). Both open the
 * file read-only, so they run beside a writer.
 */
import { CorruptionError, SedimentError } from '../errors.js';
import type { PageId } from '../ids.js';
import { NodeFileBackend } from '../storage/backend/node-file-backend.js';
import { FrameKind } from '../storage/format.js';
import { readFileParameters } from '../storage/recovery.js';
import { type FileProblem, verifyFile } from '../storage/verify.js';
import { sealedChild, type TreeNode } from '../tree/node.js';
import type { Connection } from './connection.js';
import { Database } from './database.js';
import { INDEX_ORDERS, type IndexOrder } from './encoding/datom-key.js';
import { rootOf } from './index/index-trees.js';

/** The ten trees by name, in `TreeSlot` order. */
export const TREE_NAMES: readonly string[] = [
  ...INDEX_ORDERS.map((o) => `current ${o}`),
  ...INDEX_ORDERS.map((o) => `history ${o}`),
  'log',
  'heap',
];

export interface TreeStats {
  readonly name: string;
  readonly pages: number;
  readonly bytes: number;
  /** Levels from root to leaves; 0 for an empty tree. */
  readonly depth: number;
  /** Entries in leaves, and operations still buffered in branches. */
  readonly entries: number;
  readonly buffered: number;
  /** Average page bytes over the target page size. */
  readonly fill: number;
}

export interface DatabaseStats {
  readonly fileBytes: number;
  readonly commits: number;
  readonly basisT: number;
  readonly pageSize: number;
  readonly frames: Record<'node' | 'heap' | 'commit', { readonly count: number; readonly bytes: number }>;
  readonly trees: readonly TreeStats[];
  /** Datoms the latest database holds in each index (history: retracted assertions and retractions). */
  readonly datoms: Record<IndexOrder, number> & { readonly history: number };
  /** Datoms committed since the last indexing, held in memory and in the log. */
  readonly noveltyDatoms: number;
  readonly heapBytes: number;
  /** Bytes no reader of the latest commit reaches: tree pages of earlier roots. */
  readonly unreachableBytes: number;
}

export function databaseStats(path: string): DatabaseStats {
  const frameBytes = new Map<number, number>();
  const frames = { node: { count: 0, bytes: 0 }, heap: { count: 0, bytes: 0 }, commit: { count: 0, bytes: 0 } };
  const conn = Database.open(path, { readOnly: true });
  try {
    const { store, trees } = conn.internals();
    const backend = NodeFileBackend.open(path, true);
    try {
      verifyFile(backend, store.head.end, (offset, kind, bytes) => {
        const name = kind === FrameKind.node ? 'node' : kind === FrameKind.heap ? 'heap' : 'commit';
        frames[name].count += 1;
        frames[name].bytes += bytes;
        if (kind === FrameKind.node) frameBytes.set(offset, bytes);
      });
    } finally {
      backend.close();
    }
    const db = conn.db();
    const state = db.snapshot.state;
    let reachable = 0;
    const treeStats = TREE_NAMES.map((name, slot) => {
      const s = { name, pages: 0, bytes: 0, depth: 0, entries: 0, buffered: 0, fill: 0 };
      const walk = (id: PageId, depth: number) => {
        const node: TreeNode = trees.tree.load(id);
        s.pages += 1;
        s.bytes += frameBytes.get(id) ?? 0;
        s.depth = Math.max(s.depth, depth);
        if (node.kind === 'leaf') {
          s.entries += node.entries.count;
          return;
        }
        s.buffered += node.buffer.count;
        for (let i = 0; i < node.children.length; i++) walk(sealedChild(node, i), depth + 1);
      };
      const root = rootOf(state.roots, slot);
      if (root !== undefined) walk(root, 1);
      reachable += s.bytes;
      s.fill = s.pages === 0 ? 0 : s.bytes / s.pages / store.params.pageSize;
      return s;
    });
    const count = (iterable: Iterable<unknown>) => {
      let n = 0;
      for (const _ of iterable) n++;
      return n;
    };
    const datoms = Object.fromEntries(INDEX_ORDERS.map((o) => [o, count(db.datoms(o))])) as Record<IndexOrder, number>;
    const everything = count(db.history().datoms('eavt'));
    return {
      fileBytes: store.head.end,
      commits: store.head.seq,
      basisT: db.basisT,
      pageSize: store.params.pageSize,
      frames,
      trees: treeStats,
      datoms: { ...datoms, history: everything - datoms.eavt },
      noveltyDatoms: state.novelty.datomCount,
      heapBytes: frames.heap.bytes,
      unreachableBytes: frames.node.bytes - reachable,
    };
  } finally {
    conn.close();
  }
}

export interface VerifyReport {
  readonly fileBytes: number;
  readonly commits: number;
  readonly problems: readonly FileProblem[];
}

/**
 * Every frame's checksum and the commit chain (storage), then every tree of the newest commit:
 * order, separators, levels, limits, and each page readable. Problems name the page or offset.
 */
/**
 * A file that is not a database at all (another magic number or format version) is refused with
 * the code every other command gives it; a damaged header is a problem to report, as any page is.
 */
function refuseNonDatabase(backend: NodeFileBackend): void {
  try {
    readFileParameters(backend);
  } catch (error) {
    if (!(error instanceof CorruptionError)) throw error;
  }
}

export function verifyDatabase(path: string): VerifyReport {
  const backend = NodeFileBackend.open(path, true);
  let report: ReturnType<typeof verifyFile>;
  try {
    refuseNonDatabase(backend);
    report = verifyFile(backend);
  } finally {
    backend.close();
  }
  const problems: FileProblem[] = [...report.problems];
  if (problems.length > 0) return { fileBytes: report.fileBytes, commits: report.commits, problems };
  let conn: Connection;
  try {
    conn = Database.open(path, { readOnly: true });
  } catch (error) {
    if (!(error instanceof CorruptionError)) throw error;
    return { fileBytes: report.fileBytes, commits: report.commits, problems: [{ offset: error.offset ?? 0, message: error.message }] };
  }
  try {
    const { trees } = conn.internals();
    const roots = conn.db().snapshot.state.roots;
    TREE_NAMES.forEach((name, slot) => {
      const tree = trees.tree.check(rootOf(roots, slot));
      for (const p of tree.problems) problems.push({ offset: p.pageId, message: `${name} tree: ${p.message}` });
    });
  } catch (error) {
    if (!(error instanceof SedimentError)) throw error;
    problems.push({ offset: 0, message: error.message });
  } finally {
    conn.close();
  }
  return { fileBytes: report.fileBytes, commits: report.commits, problems };
}
