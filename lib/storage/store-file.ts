/**
 * Opening a database file: creation, the writer lock, and the backend under the page store.
 * The lock is flock(2) on the database file itself (fs-native-extensions): the kernel drops it
 * when the process dies, so a crashed writer never leaves a stale lock behind, and a second
 * descriptor, even in the same process, is refused. Read-only connections take no lock.
 */
import * as fs from 'node:fs';
import { tryLock } from 'fs-native-extensions';
import { ErrorCode, IoError, LockedError, SedimentError } from '../errors.js';
import { createFileAtomically, NodeFileBackend } from './backend/node-file-backend.js';
import { DEFAULT_PAGE_SIZE, resolveOpenOptions } from './options.js';
import { initialFileImage, MAX_TAIL_BYTES, PageStore } from './page-store.js';

export function openStoreFile(filePath: string, rawOptions?: unknown): PageStore {
  const options = resolveOpenOptions(rawOptions);
  if (!fs.existsSync(filePath)) {
    if (!options.create) throw new SedimentError(ErrorCode.notFound, `database file ${filePath} does not exist`);
    try {
      createFileAtomically(filePath, initialFileImage({ pageSize: DEFAULT_PAGE_SIZE }));
    } catch (error) {
      // Another process may have created it in between: then open what it made.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new IoError(`creating ${filePath}`, error);
    }
  }
  let backend: NodeFileBackend;
  try {
    backend = NodeFileBackend.open(filePath, options.readOnly);
  } catch (error) {
    throw new IoError(`opening ${filePath}`, error);
  }
  try {
    if (!options.readOnly && !tryLock(backend.fd)) throw new LockedError(filePath);
    return PageStore.open(backend, { ...options, tailBytes: Math.min(MAX_TAIL_BYTES, Math.floor(options.cacheBytes / 2)) });
  } catch (error) {
    backend.close();
    throw error;
  }
}
