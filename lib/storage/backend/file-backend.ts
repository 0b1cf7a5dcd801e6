/**
 * The lowest layer: a byte-addressed file. Everything above it speaks only this interface, so the
 * page store runs unchanged on a real file, in memory, or on the fault-injecting backend of the
 * tests. Implementations throw the operating system's errors as they are; the page store decides
 * what an error means (it poisons the connection on any failed write, flush or truncate).
 */
export interface FileBackend {
  /** Reads up to `target.length` bytes at `position`; returns how many were read (short at the end). */
  read(target: Uint8Array, position: number): number;
  /** Writes all of `source` at `position`, growing the file when needed. */
  write(source: Uint8Array, position: number): void;
  /** Makes every write so far durable (fdatasync): the only ordering barrier the medium offers. */
  flush(): void;
  truncate(length: number): void;
  size(): number;
  close(): void;
}
