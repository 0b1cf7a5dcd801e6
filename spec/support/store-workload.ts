/**
 * A deterministic workload over the page store and the model it is checked against. Commit `k`
 * of a workload depends only on (seed, k): its pages' kinds, sizes and bytes, so a checker can
 * recompute what any commit must hold, in this process or after a child process was killed.
 *
 * Each commit's meta lists the page ids it wrote, so a checker can walk from any head back
 * through every commit and read every page ever written.
 */
import { createHash } from 'node:crypto';
import { asPageId, type PageId } from '../../lib/ids.js';
import { FrameKind } from '../../lib/storage/format.js';
import type { PageStore } from '../../lib/storage/page-store.js';

export interface PlannedPage {
  readonly kind: FrameKind;
  readonly bytes: Buffer;
}

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same stream everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadShape {
  /** Largest number of pages in one commit (0 gives empty commits too). */
  readonly maxPages: number;
  /** Largest page payload in bytes. */
  readonly maxPageBytes: number;
}

export const SMALL_SHAPE: WorkloadShape = { maxPages: 4, maxPageBytes: 700 };

export function plannedPages(seed: number, seq: number, shape: WorkloadShape = SMALL_SHAPE): PlannedPage[] {
  const random = prng(seed * 1_000_003 + seq);
  const count = Math.floor(random() * (shape.maxPages + 1));
  const pages: PlannedPage[] = [];
  for (let i = 0; i < count; i++) {
    const size = 1 + Math.floor(random() ** 3 * shape.maxPageBytes);
    const bytes = Buffer.alloc(size);
    for (let j = 0; j < size; j++) bytes[j] = Math.floor(random() * 256);
    pages.push({ kind: random() < 0.8 ? FrameKind.node : FrameKind.heap, bytes });
  }
  return pages;
}

export interface CommitMeta {
  readonly seq: number;
  readonly pages: readonly number[];
  readonly digest: string;
}

const digestOf = (pages: readonly PlannedPage[]) => {
  const hash = createHash('sha256');
  for (const p of pages) hash.update(Buffer.of(p.kind)).update(p.bytes);
  return hash.digest('hex').slice(0, 16);
};

/** Writes commit `seq` of the workload (the store's head must be `seq - 1`). */
export function writeCommit(store: PageStore, seed: number, seq: number, shape: WorkloadShape = SMALL_SHAPE): void {
  if (store.head.seq !== seq - 1) throw new Error(`workload: head is ${store.head.seq}, cannot write ${seq}`);
  const pages = plannedPages(seed, seq, shape);
  const ids = pages.map((p) => store.append(p.kind, p.bytes));
  const meta: CommitMeta = { seq, pages: ids, digest: digestOf(pages) };
  store.commit(Buffer.from(JSON.stringify(meta)));
}

/**
 * Checks that the store's head is commit `expectedSeq` of the workload and that every commit
 * back to the first holds exactly its planned pages. Throws a plain Error describing the first
 * difference; a CorruptionError from the store propagates unchanged.
 */
export function verifyStore(store: PageStore, seed: number, shape: WorkloadShape = SMALL_SHAPE): number {
  let name = store.head;
  let meta = store.headMeta;
  const headSeq = name.seq;
  while (name.seq > 0) {
    const parsed = parseMeta(meta, name.seq);
    const planned = plannedPages(seed, name.seq, shape);
    if (parsed.pages.length !== planned.length || parsed.digest !== digestOf(planned)) {
      throw new Error(`commit ${name.seq}: meta does not describe the planned pages`);
    }
    planned.forEach((page, i) => {
      const id: PageId = asPageId(parsed.pages[i]!);
      const read = store.read(id, page.kind);
      if (!read.equals(page.bytes)) throw new Error(`commit ${name.seq}: page ${id} holds different bytes`);
    });
    const { record } = store.readCommit(name.recordOffset);
    if (name.seq === 1) break;
    const previous = store.readCommit(record.previousRecordOffset);
    name = previous.name;
    meta = previous.record.meta;
  }
  return headSeq;
}

function parseMeta(meta: Buffer, seq: number): CommitMeta {
  let parsed: CommitMeta;
  try {
    parsed = JSON.parse(meta.toString('utf8')) as CommitMeta;
  } catch {
    throw new Error(`commit ${seq}: meta is not the workload's JSON`);
  }
  if (parsed.seq !== seq) throw new Error(`commit ${seq}: meta names commit ${parsed.seq}`);
  return parsed;
}

