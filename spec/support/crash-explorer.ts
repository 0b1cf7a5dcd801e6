/**
 * Crash-state exploration in the manner of SQLite's crash tests: record every write, flush and
 * truncate of a workload, then build the images a crash could leave behind at every point and
 * check that each opens to exactly some commit k with
 *     (last durable commit) <= k <= (last commit started),
 * passes the file verifier, holds exactly commit k's content, and - for a sample - that
 * continuing the workload from k gives a file byte-identical to the uninterrupted run.
 *
 * The medium model (SQLite's assumptions): writes after the last completed flush may be lost,
 * reordered, or torn at sector granularity with the unwritten part keeping its old bytes or
 * turning to zeros or garbage; a file may grow without its new data; bytes outside a write's
 * range never change (powersafe overwrite). Everything is derived from `seed`, so a violation
 * replays by running the same exploration again.
 */
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import type { Durability } from '../../lib/storage/page-store.js';
import { verifyFile } from '../../lib/storage/verify.js';
import { applyOps, type RecordedOp, RecordingBackend } from './recording-backend.js';
import { emptyImage, openOn } from './stores.js';
import { prng, SMALL_SHAPE, verifyStore, type WorkloadShape, writeCommit } from './store-workload.js';

export interface ExploreOptions {
  readonly seed: number;
  readonly durability: Durability;
  readonly commits: number;
  /** Sizes of the pages the commits write (large pages make writes span many sectors). */
  readonly shape?: WorkloadShape;
  /** Relaxed mode: sync after every this many commits. */
  readonly syncEvery?: number;
  /** Close and reopen the store after these commits (exercises open-time normalization). */
  readonly reopenAfter?: readonly number[];
  /**
   * After these commits the process "dies": the store is dropped without close or sync, and a new
   * one opens the same backend, whose operating-system cache still holds the unflushed writes.
   */
  readonly abandonAfter?: readonly number[];
  /** Most subsets of pending writes tried per crash point when there are too many for all. */
  readonly maxSubsets?: number;
  /** Check the continue-to-the-end property on every n-th state. */
  readonly continueEvery?: number;
}

export interface ExploreResult {
  readonly states: number;
  readonly byFamily: Record<string, number>;
  readonly violations: string[];
}

interface CommitMark {
  /** Index in the op log of the commit's first operation. */
  readonly start: number;
  /** Index one past the commit's last operation (its flush, in full mode). */
  readonly end: number;
  readonly recordOffset: number;
  readonly recordEnd: number;
}

interface RecordedWorkload {
  readonly initial: Uint8Array;
  readonly ops: readonly RecordedOp[];
  readonly marks: readonly CommitMark[]; // index = seq - 1
  readonly finalImage: Buffer;
}

function recordWorkload(options: ExploreOptions): RecordedWorkload {
  const initial = emptyImage();
  const backend = new RecordingBackend(initial);
  let store = openOn(backend, { durability: options.durability });
  const marks: CommitMark[] = [];
  for (let seq = 1; seq <= options.commits; seq++) {
    const start = backend.ops.length;
    writeCommit(store, options.seed, seq, options.shape ?? SMALL_SHAPE);
    marks.push({ start, end: backend.ops.length, recordOffset: store.head.recordOffset, recordEnd: store.head.end });
    if (options.syncEvery !== undefined && seq % options.syncEvery === 0) store.sync();
    if (options.reopenAfter?.includes(seq)) {
      store.close();
      store = openOn(backend, { durability: options.durability });
    }
    if (options.abandonAfter?.includes(seq)) store = openOn(backend, { durability: options.durability });
  }
  store.close();
  return { initial, ops: backend.ops, marks, finalImage: Buffer.from(backend.image()) };
}

interface CrashState {
  readonly family: string;
  readonly crashPoint: number;
  readonly detail: string;
  readonly image: Uint8Array;
}

const SECTOR_SIZES = [512, 4096] as const;
const FILLS = ['old', 'zeros', 'garbage'] as const;
type Fill = (typeof FILLS)[number];

/** Applies `write` to `image` keeping only [keepFrom, keepTo) of it; the rest gets `fill`. */
function tornWrite(
  image: Uint8Array,
  write: Extract<RecordedOp, { type: 'write' }>,
  keep: (absoluteOffset: number) => boolean,
  fill: Fill,
  random: () => number,
): Uint8Array {
  const file = new MemoryBackend(image);
  const bytes = Uint8Array.from(write.bytes);
  const old = new Uint8Array(bytes.length);
  file.read(old, write.position);
  const oldLength = Math.max(0, Math.min(bytes.length, image.length - write.position));
  for (let i = 0; i < bytes.length; i++) {
    if (keep(write.position + i)) continue;
    if (fill === 'old') bytes[i] = i < oldLength ? old[i]! : 0;
    else if (fill === 'zeros') bytes[i] = 0;
    else bytes[i] = Math.floor(random() * 256);
  }
  // With 'old', bytes past the old end of file were never there: the file does not grow for them.
  let length = bytes.length;
  if (fill === 'old') {
    while (length > oldLength && !keep(write.position + length - 1)) length--;
  }
  file.write(bytes.subarray(0, length), write.position);
  return file.snapshot();
}

/** The sectors (by index) a torn write managed to land: each with probability one half. */
function randomSectors(write: Extract<RecordedOp, { type: 'write' }>, sector: number, random: () => number): Set<number> {
  const kept = new Set<number>();
  const end = write.position + write.bytes.length;
  for (let s = Math.floor(write.position / sector); s * sector < end; s++) if (random() < 0.5) kept.add(s);
  return kept;
}

function* statesAt(workload: RecordedWorkload, crashPoint: number, random: () => number, maxSubsets: number): Generator<CrashState> {
  const { ops, initial } = workload;
  let lastFlush = -1;
  for (let i = 0; i < crashPoint; i++) if (ops[i]!.type === 'flush') lastFlush = i;
  const durableImage = applyOps(initial, ops.slice(0, lastFlush + 1));
  const pending = ops.slice(lastFlush + 1, crashPoint).filter((op) => op.type !== 'flush');

  yield { family: 'prefix', crashPoint, detail: 'all issued operations, in order', image: applyOps(initial, ops.slice(0, crashPoint)) };
  if (pending.length === 0) return;

  // Any subset of the unflushed operations may have reached the medium.
  const subsetCount = 2 ** pending.length;
  const masks: number[] = [];
  if (subsetCount <= maxSubsets + 1) for (let m = 0; m < subsetCount - 1; m++) masks.push(m);
  else for (let s = 0; s < maxSubsets; s++) masks.push(Math.floor(random() * (subsetCount - 1)));
  for (const mask of masks) {
    const chosen = pending.filter((_, i) => (mask >> i) & 1);
    yield { family: 'subset', crashPoint, detail: `pending subset mask ${mask}/${pending.length}`, image: applyOps(durableImage, chosen) };
  }

  // Every unflushed write torn at once: random sectors landed, the rest is garbage.
  for (const sector of SECTOR_SIZES) {
    let image = durableImage;
    for (const op of pending) {
      if (op.type === 'truncate') image = applyOps(image, [op]);
      else {
        const kept = randomSectors(op, sector, random);
        image = tornWrite(image, op, (at) => kept.has(Math.floor(at / sector)), 'garbage', random);
      }
    }
    yield { family: 'all-pending-torn', crashPoint, detail: `all ${pending.length} pending writes torn at ${sector}`, image };
  }

  const last = ops[crashPoint - 1]!;
  if (last.type !== 'write') return;
  const others = pending.slice(0, -1);
  const bases: Array<[string, Uint8Array]> = [
    ['others kept', applyOps(durableImage, others)],
    ['others lost', durableImage],
  ];
  const writeEnd = last.position + last.bytes.length;

  // Torn at sector granularity: a prefix of the sectors landed, or a random subset of them.
  for (const sector of SECTOR_SIZES) {
    const boundaries: number[] = [];
    for (let b = Math.ceil((last.position + 1) / sector) * sector; b < writeEnd; b += sector) boundaries.push(b);
    const sampled = boundaries.length <= 6 ? boundaries : Array.from({ length: 6 }, () => boundaries[Math.floor(random() * boundaries.length)]!);
    for (const [baseName, base] of bases) {
      for (const fill of FILLS) {
        for (const boundary of sampled) {
          yield {
            family: `torn-${sector}`,
            crashPoint,
            detail: `${baseName}; last write kept below ${boundary}, rest ${fill}`,
            image: tornWrite(base, last, (at) => at < boundary, fill, random),
          };
        }
        if (boundaries.length > 0) {
          const keptSectors = randomSectors(last, sector, random);
          yield {
            family: `scrambled-${sector}`,
            crashPoint,
            detail: `${baseName}; random sectors of the last write kept, rest ${fill}`,
            image: tornWrite(base, last, (at) => keptSectors.has(Math.floor(at / sector)), fill, random),
          };
        }
      }
    }
  }

  // The file grew, but the data never arrived.
  for (const [baseName, base] of bases) {
    yield {
      family: 'growth-without-data',
      crashPoint,
      detail: `${baseName}; last write's range reads as zeros`,
      image: tornWrite(base, last, () => false, 'zeros', random),
    };
  }

  // A commit record torn at every byte.
  const mark = workload.marks.find((m) => m.recordOffset >= last.position && m.recordOffset < writeEnd);
  if (mark !== undefined) {
    for (let cut = mark.recordOffset; cut < mark.recordEnd; cut++) {
      yield {
        family: 'record-torn-at-byte',
        crashPoint,
        detail: `commit record at ${mark.recordOffset} cut at byte ${cut - mark.recordOffset}`,
        image: tornWrite(bases[0]![1], last, (at) => at < cut, 'old', random),
      };
    }
  }
}

export function exploreCrashes(options: ExploreOptions): ExploreResult {
  const workload = recordWorkload(options);
  const random = prng(options.seed ^ 0x5eed);
  const maxSubsets = options.maxSubsets ?? 8;
  const continueEvery = options.continueEvery ?? 25;
  const byFamily: Record<string, number> = {};
  const violations: string[] = [];
  let states = 0;

  for (let crashPoint = 0; crashPoint <= workload.ops.length; crashPoint++) {
    let lastFlush = -1;
    for (let i = 0; i < crashPoint; i++) if (workload.ops[i]!.type === 'flush') lastFlush = i;
    const durableSeq = workload.marks.filter((m) => m.end <= lastFlush + 1).length;
    const startedSeq = workload.marks.filter((m) => m.start < crashPoint).length;

    for (const state of statesAt(workload, crashPoint, random, maxSubsets)) {
      states += 1;
      byFamily[state.family] = (byFamily[state.family] ?? 0) + 1;
      const problem = checkState(state, durableSeq, startedSeq, options, workload, states % continueEvery === 0);
      if (problem !== undefined) {
        violations.push(
          `seed ${options.seed} ${options.durability} crash point ${crashPoint} [${state.family}: ${state.detail}] ` +
            `(durable ${durableSeq}, started ${startedSeq}): ${problem}`,
        );
      }
    }
  }
  return { states, byFamily, violations };
}

function checkState(
  state: CrashState,
  durableSeq: number,
  startedSeq: number,
  options: ExploreOptions,
  workload: RecordedWorkload,
  checkContinuation: boolean,
): string | undefined {
  try {
    // A reader must see the same commit as a writer, without changing anything.
    const reader = openOn(new MemoryBackend(state.image), { readOnly: true });
    const readerSeq = reader.head.seq;

    const backend = new MemoryBackend(state.image);
    const store = openOn(backend, { durability: options.durability });
    const k = store.head.seq;
    if (k < durableSeq || k > startedSeq) return `opened at commit ${k}, outside [${durableSeq}, ${startedSeq}]`;
    if (readerSeq !== k) return `read-only open saw commit ${readerSeq}, writer saw ${k}`;
    const verified = verifyStore(store, options.seed, options.shape ?? SMALL_SHAPE);
    if (verified !== k) return `content check reached commit ${verified}, expected ${k}`;
    if (backend.size() !== store.head.end) return `writer left ${backend.size() - store.head.end} bytes after the last commit`;
    const report = verifyFile(backend);
    if (report.problems.length > 0) return `verifier: ${report.problems.map((p) => p.message).join('; ')}`;
    if (report.commits !== k) return `verifier counted ${report.commits} commits, expected ${k}`;

    if (checkContinuation) {
      for (let seq = k + 1; seq <= options.commits; seq++) writeCommit(store, options.seed, seq, options.shape ?? SMALL_SHAPE);
      store.close();
      if (!Buffer.from(backend.snapshot()).equals(workload.finalImage)) {
        return `continuing from commit ${k} gave a file different from the uninterrupted run`;
      }
    } else {
      store.close();
    }
    return undefined;
  } catch (error) {
    return `threw ${(error as Error).name}: ${(error as Error).message}`;
  }
}
