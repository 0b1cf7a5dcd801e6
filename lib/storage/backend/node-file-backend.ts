import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileBackend } from './file-backend.js';

/**
 * A real file through Node's synchronous positional calls: no libuv thread pool hop, and the file
 * is opened 'r+' (never 'a', where Linux ignores the position of writes).
 */
export class NodeFileBackend implements FileBackend {
  constructor(readonly fd: number) {}

  static open(filePath: string, readOnly: boolean): NodeFileBackend {
    return new NodeFileBackend(fs.openSync(filePath, readOnly ? 'r' : 'r+'));
  }

  read(target: Uint8Array, position: number): number {
    let done = 0;
    while (done < target.length) {
      const n = fs.readSync(this.fd, target, done, target.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  write(source: Uint8Array, position: number): void {
    let done = 0;
    while (done < source.length) {
      done += fs.writeSync(this.fd, source, done, source.length - done, position + done);
    }
  }

  flush(): void {
    fs.fdatasyncSync(this.fd);
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length);
  }

  size(): number {
    return fs.fstatSync(this.fd).size;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * Creates `filePath` holding exactly `initialBytes`, atomically: the bytes go to a temporary file
 * that is flushed and then hard-linked into place (link, unlike rename, refuses to replace an
 * existing file), and the directory is flushed so the new name survives a crash. A crash leaves
 * either no database or a complete one, never a half-written header.
 */
export function createFileAtomically(filePath: string, initialBytes: Uint8Array): void {
  const directory = path.dirname(path.resolve(filePath));
  const temporary = `${filePath}.${process.pid}.creating`;
  const fd = fs.openSync(temporary, 'wx');
  try {
    fs.writeSync(fd, initialBytes, 0, initialBytes.length, 0);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(temporary, filePath);
  } finally {
    fs.unlinkSync(temporary);
  }
  syncDirectory(directory);
}

/** On Linux a directory entry is durable only after fsync of the directory itself. */
export function syncDirectory(directory: string): void {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
