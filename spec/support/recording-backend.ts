/**
 * A file backend for the tests: the file lives in memory, every write, flush and truncate is
 * recorded in order (crash images are built from that log), and a fault can be injected at the
 * N-th call of any operation.
 */
import type { FileBackend } from '../../lib/storage/backend/file-backend.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';

export type RecordedOp =
  | { readonly type: 'write'; readonly position: number; readonly bytes: Uint8Array }
  | { readonly type: 'flush' }
  | { readonly type: 'truncate'; readonly length: number };

export type FaultOp = 'read' | 'write' | 'flush' | 'truncate';

export interface Fault {
  readonly op: FaultOp;
  /** 1-based: the N-th call of `op` fails. */
  readonly nth: number;
  readonly code: 'EIO' | 'ENOSPC';
}

export function errnoError(code: string, syscall: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: injected fault, ${syscall}`);
  error.code = code;
  error.syscall = syscall;
  return error;
}

export class RecordingBackend implements FileBackend {
  readonly ops: RecordedOp[] = [];
  readonly calls: Record<FaultOp, number> = { read: 0, write: 0, flush: 0, truncate: 0 };
  /** Whether the injected fault has fired. */
  faulted = false;
  private readonly file: MemoryBackend;

  constructor(
    readonly initial: Uint8Array,
    private readonly fault?: Fault,
  ) {
    this.file = new MemoryBackend(initial);
  }

  read(target: Uint8Array, position: number): number {
    this.maybeFail('read');
    return this.file.read(target, position);
  }

  write(source: Uint8Array, position: number): void {
    if (this.shouldFail('write')) {
      // A failed write may still have landed partly: keep the first half.
      const half = source.subarray(0, source.length >> 1);
      this.ops.push({ type: 'write', position, bytes: half.slice() });
      this.file.write(half, position);
      throw errnoError(this.fault!.code, 'write');
    }
    this.ops.push({ type: 'write', position, bytes: Uint8Array.from(source) });
    this.file.write(source, position);
  }

  flush(): void {
    this.maybeFail('flush');
    this.ops.push({ type: 'flush' });
  }

  truncate(length: number): void {
    this.maybeFail('truncate');
    this.ops.push({ type: 'truncate', length });
    this.file.truncate(length);
  }

  size(): number {
    return this.file.size();
  }

  close(): void {}

  /** Everything written so far, as the operating system's cache would show it. */
  image(): Uint8Array {
    return this.file.snapshot();
  }

  private maybeFail(op: FaultOp): void {
    if (this.shouldFail(op)) throw errnoError(this.fault!.code, op);
  }

  private shouldFail(op: FaultOp): boolean {
    this.calls[op] += 1;
    if (this.fault === undefined || this.fault.op !== op || this.calls[op] !== this.fault.nth) return false;
    this.faulted = true;
    return true;
  }
}

/** Applies recorded operations to an image, as the medium would if it kept them all in order. */
export function applyOps(initial: Uint8Array, ops: readonly RecordedOp[]): Uint8Array {
  const file = new MemoryBackend(initial);
  for (const op of ops) {
    if (op.type === 'write') file.write(op.bytes, op.position);
    else if (op.type === 'truncate') file.truncate(op.length);
  }
  return file.snapshot();
}
