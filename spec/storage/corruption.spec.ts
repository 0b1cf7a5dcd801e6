/**
 * Corruption: whatever happens to the bytes of a database file, opening and reading it either
 * reports corruption naming the damaged page (or the header or slot), or falls back to the newest
 * commit the damage left intact. Never wrong data, never a hang, never an unrelated exception.
 *
 * One 25-commit file image is built in memory. Then, one damage at a time: bits are flipped in
 * every frame (header fields and payload), in the file header and in both commit slots; every
 * frame, each slot and the header are zeroed; the file is cut at every frame boundary, inside
 * frames and inside the header area; and random short bursts are XORed in anywhere. Each damaged
 * image is opened as a writer and read-only, and every commit back from the head is verified
 * page by page against the deterministic workload.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptionError, ErrorCode, SedimentError } from '../../lib/errors.js';
import type { FileBackend } from '../../lib/storage/backend/file-backend.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import {
  DATA_START,
  decodeSlot,
  FRAME_HEADER_BYTES,
  FrameKind,
  HEADER_BYTES,
  SLOT_BYTES,
  SLOT_OFFSETS,
} from '../../lib/storage/format.js';
import type { PageStore } from '../../lib/storage/page-store.js';
import { verifyStore, writeCommit } from '../support/store-workload.js';
import { emptyImage, openOn } from '../support/stores.js';

const SEED = 4242;
const COMMITS = 25;
/** Bytes 0..10 hold the magic number and format version, whose damage is reported as notADatabase. */
const MAGIC_AND_VERSION_END = 10;

// ----- the test file and its layout ------------------------------------------------------------

interface FrameInfo {
  readonly offset: number;
  readonly end: number;
  readonly kind: number;
  readonly payloadLength: number;
  /** The commit this frame belongs to (a commit's record is its last frame). */
  readonly seq: number;
}

interface Layout {
  readonly image: Buffer;
  readonly frames: readonly FrameInfo[];
  /** recordOffsets[seq] and commitEnds[seq] for seq 1..headSeq. */
  readonly recordOffsets: readonly number[];
  readonly commitEnds: readonly number[];
  readonly headSeq: number;
  /** The newest commit a slot names; frames after its end are the tail recovery scans forward. */
  readonly slotNamedSeq: number;
  readonly tailStart: number;
}

/** A region whose damage a CorruptionError may name, and the offsets that name it. */
interface Region {
  readonly start: number;
  readonly end: number;
  readonly offset: number;
  /** Commit records that reference the region (a page's own commit, a record's successor). */
  readonly referencedBy: readonly number[];
}

function buildImage(): Buffer {
  const backend = new MemoryBackend(emptyImage());
  const store = openOn(backend);
  for (let seq = 1; seq <= COMMITS; seq++) writeCommit(store, SEED, seq);
  store.close();
  return Buffer.from(backend.snapshot());
}

/**
 * Every frame of a valid image, found by following the frame headers' lengths from DATA_START.
 * Each step advances by at least FRAME_HEADER_BYTES, so the walk always ends.
 */
function walkFrames(image: Buffer): FrameInfo[] {
  const frames: FrameInfo[] = [];
  let seq = 1;
  let position = DATA_START;
  while (position < image.length) {
    if (position + FRAME_HEADER_BYTES > image.length) throw new Error(`frame header at ${position} is cut short`);
    const payloadLength = image.readUInt32LE(position);
    const kind = image.readUInt8(position + 4);
    const end = position + FRAME_HEADER_BYTES + payloadLength;
    if (end > image.length) throw new Error(`frame at ${position} runs past the end of the image`);
    frames.push({ offset: position, end, kind, payloadLength, seq });
    if (kind === FrameKind.commit) seq += 1;
    position = end;
  }
  return frames;
}

function describeLayout(image: Buffer): Layout {
  const frames = walkFrames(image);
  const recordOffsets: number[] = [0];
  const commitEnds: number[] = [DATA_START];
  for (const frame of frames) {
    if (frame.kind !== FrameKind.commit) continue;
    recordOffsets[frame.seq] = frame.offset;
    commitEnds[frame.seq] = frame.end;
  }
  const headSeq = recordOffsets.length - 1;
  const slots = SLOT_OFFSETS.map((offset) => decodeSlot(image.subarray(offset, offset + SLOT_BYTES)));
  const slotNamedSeq = Math.max(...slots.map((slot) => slot?.seq ?? -1));
  const tailStart = commitEnds[slotNamedSeq];
  if (tailStart === undefined) throw new Error('the slots name no commit of the image');
  return { image, frames, recordOffsets, commitEnds, headSeq, slotNamedSeq, tailStart };
}

function regionsOf(layout: Layout): Region[] {
  const regions: Region[] = [{ start: 0, end: HEADER_BYTES, offset: 0, referencedBy: [] }];
  for (const offset of SLOT_OFFSETS) regions.push({ start: offset, end: offset + SLOT_BYTES, offset, referencedBy: [] });
  for (const frame of layout.frames) {
    const referencingSeq = frame.kind === FrameKind.commit ? frame.seq + 1 : frame.seq;
    const record = layout.recordOffsets[referencingSeq];
    regions.push({
      start: frame.offset,
      end: frame.end,
      offset: frame.offset,
      referencedBy: record === undefined ? [] : [record],
    });
  }
  return regions;
}

/** How many commits lie wholly before `offset`. */
const commitsBefore = (layout: Layout, offset: number): number =>
  layout.commitEnds.filter((end, seq) => seq > 0 && end <= offset).length;

// ----- damaged images --------------------------------------------------------------------------

type Blame = 'damaged' | 'referencing record';

interface DamageCase {
  readonly label: string;
  readonly image: Uint8Array;
  /** Whether a CorruptionError naming `offset` points at the damage. */
  readonly blame: (offset: number) => Blame | undefined;
  readonly magicDamaged: boolean;
  /**
   * undefined: the damage hits the header or a frame some slot-named commit relies on, so reading
   * must report it. Otherwise, the oldest head recovery may fall back to.
   */
  readonly minHead: number | undefined;
}

/** A case for damage to the bytes [from, to) of an otherwise intact image. */
function rangeCase(layout: Layout, regions: readonly Region[], label: string, image: Uint8Array, from: number, to: number): DamageCase {
  const hit = regions.filter((r) => r.start < to && from < r.end);
  const blame = (offset: number): Blame | undefined => {
    if (hit.some((r) => r.offset === offset)) return 'damaged';
    if (hit.some((r) => r.referencedBy.includes(offset))) return 'referencing record';
    return undefined;
  };
  const mustReport = from < HEADER_BYTES || layout.frames.some((f) => f.offset < layout.tailStart && f.offset < to && from < f.end);
  const minHead = mustReport ? undefined : to <= DATA_START ? layout.headSeq : commitsBefore(layout, from);
  return { label, image, blame, magicDamaged: from < MAGIC_AND_VERSION_END, minHead };
}

function bitFlipCase(layout: Layout, regions: readonly Region[], label: string, byteOffset: number, bit: number): DamageCase {
  const image = Uint8Array.from(layout.image);
  image[byteOffset] = image[byteOffset]! ^ (1 << bit);
  return rangeCase(layout, regions, `flip bit ${bit} of byte ${byteOffset} (${label})`, image, byteOffset, byteOffset + 1);
}

function zeroCase(layout: Layout, regions: readonly Region[], label: string, from: number, to: number): DamageCase {
  const image = Uint8Array.from(layout.image);
  image.fill(0, from, to);
  return rangeCase(layout, regions, `zero [${from}, ${to}) (${label})`, image, from, to);
}

function burstCase(layout: Layout, regions: readonly Region[], from: number, masks: readonly number[]): DamageCase {
  const image = Uint8Array.from(layout.image);
  const to = Math.min(image.length, from + masks.length);
  for (let i = from; i < to; i++) image[i] = image[i]! ^ masks[i - from]!;
  return rangeCase(layout, regions, `xor burst [${from}, ${to}) with ${masks.join(',')}`, image, from, to);
}

/** The file cut to `length` bytes: everything from the region containing the cut is damaged. */
function truncationCase(layout: Layout, regions: readonly Region[], length: number): DamageCase {
  const cutRegion = regions.find((r) => r.start <= length && length < r.end);
  const firstDamaged = cutRegion === undefined ? length : cutRegion.start;
  return {
    label: `truncate to ${length} bytes`,
    image: layout.image.subarray(0, length),
    blame: (offset) => (offset >= firstDamaged && offset <= layout.image.length ? 'damaged' : undefined),
    magicDamaged: length < MAGIC_AND_VERSION_END,
    minHead: length < layout.tailStart ? undefined : commitsBefore(layout, length),
  };
}

const frameLabel = (frame: FrameInfo): string => {
  const kind = frame.kind === FrameKind.commit ? 'commit record' : frame.kind === FrameKind.node ? 'node' : 'heap';
  return `${kind} frame @${frame.offset} of commit ${frame.seq}`;
};

// ----- the oracle ------------------------------------------------------------------------------

class ReadBudgetExceeded extends Error {}

/** A memory file that refuses to serve more than `budget` reads: a reader stuck in a loop fails fast. */
class ReadBudgetBackend implements FileBackend {
  private readonly inner: MemoryBackend;
  reads = 0;

  constructor(
    image: Uint8Array,
    private readonly budget: number,
  ) {
    this.inner = new MemoryBackend(image);
  }

  read(target: Uint8Array, position: number): number {
    this.reads += 1;
    if (this.reads > this.budget) throw new ReadBudgetExceeded(`more than ${this.budget} reads`);
    return this.inner.read(target, position);
  }

  write(source: Uint8Array, position: number): void {
    this.inner.write(source, position);
  }

  flush(): void {
    this.inner.flush();
  }

  truncate(length: number): void {
    this.inner.truncate(length);
  }

  size(): number {
    return this.inner.size();
  }

  close(): void {
    this.inner.close();
  }
}

const exhaustedBudget = (error: unknown): boolean => {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof ReadBudgetExceeded) return true;
  }
  return false;
};

const describeError = (error: unknown): string =>
  error instanceof SedimentError
    ? `${error.name} ${error.code}: ${error.message}`
    : error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error);

type Outcome = 'reported' | 'reported via referencing record' | 'fell back' | 'intact';
type Verdict = { readonly outcome: Outcome } | { readonly violation: string };

class Tally {
  images = 0;
  opens = 0;
  readonly outcomes = new Map<Outcome, number>();
  readonly violations: string[] = [];

  count(outcome: Outcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  summary(name: string): string {
    const outcomes = [...this.outcomes].map(([outcome, n]) => `${outcome} ${n}`).join(', ');
    return `corruption (${name}): ${this.images} images, ${this.opens} opens, ${this.violations.length} violations [${outcomes}]`;
  }
}

function judgeError(c: DamageCase, error: unknown, phase: string): Verdict {
  if (exhaustedBudget(error)) return { violation: `${phase}: reads did not terminate (${describeError(error)})` };
  if (error instanceof CorruptionError && error.code === ErrorCode.corrupt) {
    const named =
      error.offset !== undefined
        ? [error.offset]
        : [...error.message.matchAll(/\d+/g)].map((m) => Number(m[0]));
    const blames = named.map((offset) => c.blame(offset));
    if (blames.includes('damaged')) return { outcome: 'reported' };
    if (blames.includes('referencing record')) return { outcome: 'reported via referencing record' };
    return { violation: `${phase}: corruption reported at offset ${String(error.offset)}, not the damage: ${error.message}` };
  }
  if (error instanceof SedimentError && error.code === ErrorCode.notADatabase && c.magicDamaged) {
    return { outcome: 'reported' };
  }
  return { violation: `${phase}: unexpected ${describeError(error)}` };
}

function examineOnce(c: DamageCase, layout: Layout, readOnly: boolean, readBudget: number): Verdict {
  const backend = new ReadBudgetBackend(c.image, readBudget);
  let store: PageStore;
  try {
    store = openOn(backend, { readOnly });
  } catch (error) {
    return judgeError(c, error, 'open');
  }
  let verdict: Verdict;
  try {
    const seq = verifyStore(store, SEED);
    if (seq > layout.headSeq) verdict = { violation: `verified head ${seq}, newer than the file's ${layout.headSeq}` };
    else if (c.minHead === undefined) verdict = { violation: `damage went unreported: verified commits up to ${seq}` };
    else if (seq < c.minHead) verdict = { violation: `fell back to commit ${seq} though commit ${c.minHead} was intact` };
    else verdict = { outcome: seq === layout.headSeq ? 'intact' : 'fell back' };
  } catch (error) {
    verdict = judgeError(c, error, 'verify');
  }
  try {
    store.close();
  } catch (error) {
    if (!(error instanceof SedimentError)) verdict = { violation: `close: unexpected ${describeError(error)}` };
  }
  return verdict;
}

function examine(c: DamageCase, layout: Layout, readBudget: number, tally: Tally): void {
  tally.images += 1;
  for (const readOnly of [false, true]) {
    tally.opens += 1;
    const verdict = examineOnce(c, layout, readOnly, readBudget);
    if ('outcome' in verdict) tally.count(verdict.outcome);
    else tally.violations.push(`${c.label}, ${readOnly ? 'read-only' : 'writer'}: ${verdict.violation}`);
  }
}

// ----- the tests -------------------------------------------------------------------------------

describe('corruption', () => {
  let layout: Layout;
  let regions: Region[];
  let readBudget: number;
  const total = new Tally();

  const run = (name: string, cases: readonly DamageCase[]): Tally => {
    const tally = new Tally();
    for (const c of cases) examine(c, layout, readBudget, tally);
    console.log(tally.summary(name));
    total.images += tally.images;
    total.opens += tally.opens;
    total.violations.push(...tally.violations);
    for (const [outcome, n] of tally.outcomes) total.outcomes.set(outcome, (total.outcomes.get(outcome) ?? 0) + n);
    return tally;
  };

  beforeAll(() => {
    layout = describeLayout(buildImage());
    regions = regionsOf(layout);
    // A clean open and verification costs a few hundred reads; ten times that is plenty.
    const probe = new ReadBudgetBackend(layout.image, Number.MAX_SAFE_INTEGER);
    verifyStore(openOn(probe), SEED);
    readBudget = probe.reads * 10 + 100;
  });

  afterAll(() => {
    console.log(total.summary('all'));
  });

  it('the pristine image has the expected shape and verifies whole in both modes', () => {
    expect(layout.headSeq).toBe(COMMITS);
    expect(layout.slotNamedSeq).toBe(COMMITS - 1);
    expect(layout.frames.at(-1)?.end).toBe(layout.image.length);
    expect(layout.frames.some((f) => f.kind === FrameKind.node)).toBe(true);
    expect(layout.frames.some((f) => f.kind === FrameKind.heap)).toBe(true);
    expect(layout.frames.some((f) => f.seq > layout.slotNamedSeq && f.kind !== FrameKind.commit)).toBe(true);
    const control: DamageCase = {
      label: 'no damage',
      image: layout.image,
      blame: () => undefined,
      magicDamaged: false,
      minHead: layout.headSeq,
    };
    const tally = run('control', [control]);
    expect(tally.violations).toEqual([]);
    expect(tally.outcomes.get('intact')).toBe(2);
  });

  it('a flipped bit anywhere in a frame, the header or a slot is reported or recovered from', () => {
    const cases: DamageCase[] = [];
    layout.frames.forEach((frame, i) => {
      const o = frame.offset;
      const at = (label: string, byteOffset: number, bit: number) =>
        cases.push(bitFlipCase(layout, regions, `${label} of ${frameLabel(frame)}`, byteOffset, bit));
      at('payload length', o, i % 8);
      at('payload length, high bit', o + 3, 7);
      at('kind', o + 4, i % 2);
      at('reserved header byte', o + 5 + (i % 3), i % 8);
      at('crc', o + 8 + (i % 4), (i + 3) % 8);
      const payload = o + FRAME_HEADER_BYTES;
      const last = frame.end - 1;
      const inPayload = [...new Set([payload, payload + Math.floor(frame.payloadLength / 2), last])].filter((b) => b >= payload);
      inPayload.forEach((byteOffset, k) => at(`payload byte ${byteOffset - payload}`, byteOffset, (i + k) % 8));
    });
    const headerBytes: Array<[string, number]> = [
      ['header magic', 0],
      ['header magic', 7],
      ['header version', 8],
      ['header dataStart', 12],
      ['header pageSize', 17],
      ['header reserved', 40],
      ['header crc', 60],
      ['header crc', 63],
      ['header padding', HEADER_BYTES],
      ['header padding', 300],
      ['header padding', SLOT_OFFSETS[0] - 1],
    ];
    for (const [label, byteOffset] of headerBytes) {
      for (const bit of [0, 5]) cases.push(bitFlipCase(layout, regions, label, byteOffset, bit));
    }
    SLOT_OFFSETS.forEach((slot, index) => {
      const fields: Array<[string, number]> = [
        ['magic', 0],
        ['seq', 8],
        ['recordOffset', 16],
        ['end', 24],
        ['recordCrc', 32],
        ['reserved', 40],
        ['crc', 60],
        ['padding', SLOT_BYTES],
        ['padding', 400],
        ['padding', 511],
      ];
      for (const [label, at] of fields) {
        for (const bit of [1, 6]) cases.push(bitFlipCase(layout, regions, `slot ${index} ${label}`, slot + at, bit));
      }
    });
    expect(cases.length).toBeGreaterThan(layout.frames.length * 6);
    expect(run('bit flips', cases).violations).toEqual([]);
  });

  it('a zeroed frame, slot or header is reported or recovered from', () => {
    const cases = layout.frames.map((frame) => zeroCase(layout, regions, frameLabel(frame), frame.offset, frame.end));
    cases.push(zeroCase(layout, regions, 'header', 0, HEADER_BYTES));
    cases.push(zeroCase(layout, regions, 'whole header area', 0, DATA_START));
    SLOT_OFFSETS.forEach((slot, index) => cases.push(zeroCase(layout, regions, `slot ${index}`, slot, slot + SLOT_BYTES)));
    const bothSlots = Uint8Array.from(layout.image);
    for (const slot of SLOT_OFFSETS) bothSlots.fill(0, slot, slot + SLOT_BYTES);
    const bothSlotsCase = rangeCase(layout, regions, 'zero both slots', bothSlots, SLOT_OFFSETS[0], SLOT_OFFSETS[1] + SLOT_BYTES);
    cases.push({ ...bothSlotsCase, minHead: undefined }); // no slot left to start recovery from
    expect(run('zeroing', cases).violations).toEqual([]);
  });

  it('a file cut at any frame boundary, inside a frame or inside the header area is reported or recovered from', () => {
    const lengths = new Set<number>();
    for (const frame of layout.frames) {
      lengths.add(frame.offset);
      lengths.add(frame.offset + 1);
      lengths.add(frame.offset + FRAME_HEADER_BYTES);
      lengths.add(frame.offset + FRAME_HEADER_BYTES + Math.floor(frame.payloadLength / 2));
      lengths.add(frame.end - 1);
    }
    const headerArea = [0, 1, 7, 8, 9, 10, 12, 32, 60, 63, HEADER_BYTES, HEADER_BYTES + 1, 300, DATA_START - 1];
    for (const length of headerArea) lengths.add(length);
    for (const slot of SLOT_OFFSETS) {
      for (const at of [-1, 0, 1, 8, 32, SLOT_BYTES - 1, SLOT_BYTES, SLOT_BYTES + 1]) lengths.add(slot + at);
    }
    const cases = [...lengths]
      .filter((length) => length < layout.image.length)
      .sort((a, b) => a - b)
      .map((length) => truncationCase(layout, regions, length));
    expect(cases.length).toBeGreaterThan(layout.frames.length * 4);
    expect(run('truncation', cases).violations).toEqual([]);
  });

  it('random short bursts of flipped bytes anywhere in the file are reported or recovered from', () => {
    const bursts = fc.sample(
      fc.record({
        from: fc.integer({ min: 0, max: layout.image.length - 1 }),
        masks: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 16 }),
      }),
      { seed: SEED, numRuns: 300 },
    );
    const cases = bursts.map(({ from, masks }) => burstCase(layout, regions, from, masks));
    expect(run('random bursts', cases).violations).toEqual([]);
  });
});
