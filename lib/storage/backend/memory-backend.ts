import type { FileBackend } from './file-backend.js';

/** The file kept in a growable byte array: `Database.memory()` and the tests run on it. */
export class MemoryBackend implements FileBackend {
  private bytes: Uint8Array;
  private length: number;

  constructor(initial: Uint8Array = new Uint8Array(0)) {
    this.bytes = new Uint8Array(Math.max(4096, initial.length));
    this.bytes.set(initial);
    this.length = initial.length;
  }

  read(target: Uint8Array, position: number): number {
    const n = Math.max(0, Math.min(target.length, this.length - position));
    target.set(this.bytes.subarray(position, position + n));
    return n;
  }

  write(source: Uint8Array, position: number): void {
    const end = position + source.length;
    this.reserve(end);
    // A write past the end leaves a hole that must read as zeros, like a sparse file.
    if (position > this.length) this.bytes.fill(0, this.length, position);
    this.bytes.set(source, position);
    if (end > this.length) this.length = end;
  }

  flush(): void {}

  truncate(length: number): void {
    this.reserve(length);
    if (length > this.length) this.bytes.fill(0, this.length, length);
    this.length = length;
  }

  size(): number {
    return this.length;
  }

  close(): void {}

  /** A copy of the current contents (the tests build crash images from it). */
  snapshot(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  private reserve(capacity: number): void {
    if (capacity <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(capacity, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}
