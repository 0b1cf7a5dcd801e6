/**
 * The entry point: `Database.open(path, options)` for a file, `Database.memory()` for a database
 * whose pages live in memory (same API and format; gone when dropped).
 */
import { MemoryBackend } from '../storage/backend/memory-backend.js';
import { DEFAULT_PAGE_SIZE, type OpenOptions, resolveOpenOptions } from '../storage/options.js';
import { initialFileImage, PageStore } from '../storage/page-store.js';
import { openStoreFile } from '../storage/store-file.js';
import { Connection } from './connection.js';

export class Database {
  private constructor() {}

  /** Opens (with `create`, creates) the database file at `path`. */
  static open(path: string, options?: OpenOptions): Connection {
    const store = openStoreFile(path, options);
    try {
      return new Connection(store);
    } catch (error) {
      store.close();
      throw error;
    }
  }

  /** A database held in memory. `cacheBytes` and `durability` are accepted and change nothing visible. */
  static memory(options?: Pick<OpenOptions, 'cacheBytes'>): Connection {
    const resolved = resolveOpenOptions({ ...options, create: true });
    const backend = new MemoryBackend(initialFileImage({ pageSize: DEFAULT_PAGE_SIZE }));
    return new Connection(PageStore.open(backend, { readOnly: false, durability: 'relaxed', cacheBytes: resolved.cacheBytes }));
  }
}
