/**
 * A full structural check of a database file: every frame from the start of the data to the end
 * of the newest commit must pass its checksum, commits must chain (consecutive sequence numbers,
 * each starting where the previous ended, range checksums matching), and each slot must name a
 * commit of that chain. `sediment verify` and the crash tests use it; the tree layer adds its own
 * checks on top.
 */
import type { FileBackend } from './backend/file-backend.js';
import { crc32 } from './checksum.js';
import {
  type CommitName,
  DATA_START,
  decodeCommitPayload,
  EMPTY_COMMIT,
  FRAME_HEADER_BYTES,
  FrameKind,
  frameCrc,
  isFrameKind,
  SLOT_OFFSETS,
} from './format.js';
import { readFileParameters, readSlots } from './recovery.js';

export interface FileProblem {
  /** File offset of the damaged frame, slot or header. */
  readonly offset: number;
  readonly message: string;
}

export interface FileReport {
  readonly commits: number;
  readonly frames: Record<'node' | 'heap' | 'commit', number>;
  readonly fileBytes: number;
  readonly problems: readonly FileProblem[];
}

/** A frame met by `verifyFile`: where it starts, its kind, and its bytes with the header. */
export type FrameVisitor = (offset: number, kind: FrameKind, bytes: number) => void;

/**
 * Checks the file up to `end` (the newest commit's end; by default the whole file), telling
 * `visit` of every intact frame on the way (for `stats`).
 */
export function verifyFile(backend: FileBackend, end: number = backend.size(), visit?: FrameVisitor): FileReport {
  const problems: FileProblem[] = [];
  const frames = { node: 0, heap: 0, commit: 0 };
  try {
    readFileParameters(backend);
  } catch (error) {
    return { commits: 0, frames, fileBytes: backend.size(), problems: [{ offset: 0, message: String((error as Error).message) }] };
  }
  const chain = new Map<number, CommitName>([[0, EMPTY_COMMIT]]);
  let previous = EMPTY_COMMIT;
  let position = DATA_START;
  let rangeCrc = 0;
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  while (position < end) {
    if (position + FRAME_HEADER_BYTES > end || backend.read(header, position) !== FRAME_HEADER_BYTES) {
      problems.push({ offset: position, message: `frame at ${position} is cut short by the end of the data` });
      break;
    }
    const length = header.readUInt32LE(0);
    const kind = header.readUInt32LE(4);
    if (!isFrameKind(kind) || position + FRAME_HEADER_BYTES + length > end) {
      problems.push({ offset: position, message: `frame at ${position} has a damaged header` });
      break;
    }
    const frame = Buffer.alloc(FRAME_HEADER_BYTES + length);
    backend.read(frame, position);
    if (frameCrc(frame, position, length) !== frame.readUInt32LE(8)) {
      // The length may be trusted only as far as the checksum goes: stop walking here.
      problems.push({ offset: position, message: `page ${position} fails its checksum` });
      break;
    }
    visit?.(position, kind, frame.length);
    if (kind === FrameKind.commit) {
      frames.commit += 1;
      const record = decodeCommitPayload(frame.subarray(FRAME_HEADER_BYTES), position);
      const fits =
        record.seq === previous.seq + 1 &&
        record.start === previous.end &&
        record.previousRecordOffset === previous.recordOffset &&
        record.rangeCrc === rangeCrc;
      if (!fits) problems.push({ offset: position, message: `commit record at ${position} does not continue commit ${previous.seq}` });
      previous = { seq: record.seq, recordOffset: position, end: position + frame.length, recordCrc: frame.readUInt32LE(8) };
      chain.set(record.seq, previous);
      rangeCrc = 0;
    } else {
      frames[kind === FrameKind.node ? 'node' : 'heap'] += 1;
      rangeCrc = crc32(frame, rangeCrc);
    }
    position += frame.length;
  }
  if (problems.length === 0 && previous.end !== end) {
    problems.push({ offset: previous.end, message: `bytes after the last commit (${previous.end}) up to ${end} belong to no commit` });
  }
  readSlots(backend).forEach((slot, index) => {
    const offset = SLOT_OFFSETS[index]!;
    if (slot === undefined) {
      problems.push({ offset, message: `commit slot ${index} fails its checksum` });
      return;
    }
    const named = chain.get(slot.seq);
    const matches =
      named !== undefined && named.recordOffset === slot.recordOffset && named.end === slot.end && named.recordCrc === slot.recordCrc;
    if (!matches) problems.push({ offset, message: `commit slot ${index} names commit ${slot.seq}, which is not in the file` });
  });
  return { commits: previous.seq, frames, fileBytes: backend.size(), problems };
}
