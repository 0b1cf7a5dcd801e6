import type { FileBackend } from '../../lib/storage/backend/file-backend.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { DEFAULT_PAGE_SIZE } from '../../lib/storage/options.js';
import { type Durability, initialFileImage, PageStore } from '../../lib/storage/page-store.js';

export const emptyImage = (): Uint8Array => initialFileImage({ pageSize: DEFAULT_PAGE_SIZE });

export function openOn(
  backend: FileBackend,
  options: { readOnly?: boolean; durability?: Durability; cacheBytes?: number; tailBytes?: number } = {},
): PageStore {
  return PageStore.open(backend, {
    readOnly: options.readOnly ?? false,
    durability: options.durability ?? 'full',
    cacheBytes: options.cacheBytes ?? 1 << 20,
    // Small, so that tests read both from the writer's tail and, past it, from the file.
    tailBytes: options.tailBytes ?? 64 << 10,
  });
}

export const openImage = (image: Uint8Array, options?: Parameters<typeof openOn>[1]): PageStore =>
  openOn(new MemoryBackend(image), options);
