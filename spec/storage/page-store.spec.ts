import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import { asPageId } from '../../lib/ids.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { FrameKind } from '../../lib/storage/format.js';
import { RELAXED_SYNC_COMMITS } from '../../lib/storage/page-store.js';
import { RecordingBackend } from '../support/recording-backend.js';
import { emptyImage, openImage, openOn } from '../support/stores.js';
import { plannedPages, verifyStore, writeCommit } from '../support/store-workload.js';
import { errorCodeOf } from '../support/error-code.js';


describe('page store', () => {
  it('makes each commit visible with its meta and keeps every page readable after reopening', () => {
    const backend = new MemoryBackend(emptyImage());
    const store = openOn(backend);
    for (let seq = 1; seq <= 40; seq++) writeCommit(store, 7, seq);
    expect(store.head.seq).toBe(40);
    expect(verifyStore(store, 7)).toBe(40);
    store.close();
    const reopened = openImage(backend.snapshot());
    expect(verifyStore(reopened, 7)).toBe(40);
  });

  it('reads pages of the commit being built, and abort discards them', () => {
    const store = openImage(emptyImage());
    const id = store.append(FrameKind.node, Buffer.from('draft'));
    expect(store.read(id, FrameKind.node).toString()).toBe('draft');
    store.abort();
    expect(store.head.seq).toBe(0);
    expect(errorCodeOf(() => store.read(id, FrameKind.node))).toBe(ErrorCode.corrupt);
    const kept = store.append(FrameKind.node, Buffer.from('kept'));
    store.commit(Buffer.alloc(0));
    expect(kept).toBe(id); // the aborted bytes were never part of the file
    expect(store.read(kept, FrameKind.node).toString()).toBe('kept');
  });

  it('writes a commit larger than the spill threshold in pieces and recovers it whole', () => {
    const backend = new MemoryBackend(emptyImage());
    const store = openOn(backend);
    const big = Buffer.alloc(3 << 20, 0xab);
    const ids = [0, 1, 2, 3].map(() => store.append(FrameKind.heap, big));
    store.commit(Buffer.from('big'));
    store.close();
    const reopened = openImage(backend.snapshot());
    expect(reopened.head.seq).toBe(1);
    for (const id of ids) expect(reopened.read(id, FrameKind.heap).equals(big)).toBe(true);
  });

  it('spills before pending frames pass 8 MiB, and reads back a large meta rather than keeping it', () => {
    // An import's pages once grew the pending buffer to 16 MiB (32 MiB of ArrayBuffers with its
    // doublings), and its 10 MB record was copied to be kept: V8 starts a full collection for
    // every 64 MiB of those.
    const backend = new RecordingBackend(emptyImage());
    const store = openOn(backend);
    const frame = Buffer.alloc((1 << 20) - 100, 0xcd);
    const ids = Array.from({ length: 20 }, () => store.append(FrameKind.heap, frame));
    const written = () => backend.ops.flatMap((op) => (op.type === 'write' ? [op.bytes.length] : []));
    expect(written().length).toBeGreaterThan(0);
    for (const bytes of written()) expect(bytes).toBeLessThanOrEqual(8 << 20);
    const meta = Buffer.alloc(3 << 20);
    for (let i = 0; i < meta.length; i++) meta[i] = (i * 7) & 0xff;
    const expected = Buffer.from(meta);
    store.commit(meta);
    for (const bytes of written()) expect(bytes).toBeLessThanOrEqual(Math.max(8 << 20, meta.length + 64));
    meta.fill(0); // the caller's buffer is its own again (encodeLogRecord reuses its writer)
    expect(store.headMeta.equals(expected)).toBe(true);
    const small = Buffer.from('small meta');
    store.commit(small);
    small.fill(0);
    expect(store.headMeta.toString()).toBe('small meta');
    store.close();
    const reopened = openImage(backend.image());
    expect(reopened.headMeta.toString()).toBe('small meta');
    for (const id of ids) expect(reopened.read(id, FrameKind.heap).equals(frame)).toBe(true);
  });

  it('aborting a spilled commit truncates what was spilled, so later bytes match an unaborted run', () => {
    const a = new MemoryBackend(emptyImage());
    const store = openOn(a);
    for (let i = 0; i < 3; i++) store.append(FrameKind.heap, Buffer.alloc(3 << 20, i));
    store.abort();
    writeCommit(store, 3, 1);
    store.close();
    const b = new MemoryBackend(emptyImage());
    const clean = openOn(b);
    writeCommit(clean, 3, 1);
    clean.close();
    expect(Buffer.from(a.snapshot()).equals(Buffer.from(b.snapshot()))).toBe(true);
  });

  it('caches the decoded forms a commit hands over, and forgets those of an aborted commit', () => {
    const store = openImage(emptyImage());
    const decode = (payload: Buffer) => `decoded ${payload.toString()}`;
    const draft = store.append(FrameKind.node, Buffer.from('draft'), 'handed over: draft');
    store.abort();
    const kept = store.append(FrameKind.node, Buffer.from('kept'), 'handed over: kept');
    expect(kept).toBe(draft); // the same offset: a stale cache entry would return the wrong page
    store.commit(Buffer.alloc(0));
    expect(store.load(kept, FrameKind.node, decode)).toBe('handed over: kept');
    const plain = store.append(FrameKind.node, Buffer.from('plain'));
    store.commit(Buffer.alloc(0));
    expect(store.load(plain, FrameKind.node, decode)).toBe('decoded plain');
  });

  it('reads a node whose frame runs past 4096 bytes with one read call', () => {
    // Nodes are pages of ~4096 bytes, and a frame adds its header: a second read of a frame's
    // last bytes once cost 43% of cold point reads a second system call.
    const file = new MemoryBackend(emptyImage());
    const writer = openOn(file);
    const sizes = [4096 - 12, 4096, 4300, 6000];
    const ids = sizes.map((n, i) => writer.append(FrameKind.node, Buffer.alloc(n, i + 1)));
    writer.commit(Buffer.alloc(0));
    writer.close();
    const backend = new RecordingBackend(file.snapshot());
    const reader = openOn(backend, { readOnly: true });
    ids.forEach((id, i) => {
      const before = backend.calls.read;
      expect(reader.read(id, FrameKind.node).equals(Buffer.alloc(sizes[i]!, i + 1))).toBe(true);
      expect(backend.calls.read - before, `frame of ${sizes[i]} bytes`).toBe(1);
    });
  });

  it('checks the kind of frame a page id names and refuses ids outside the file', () => {
    const store = openImage(emptyImage());
    const id = store.append(FrameKind.node, Buffer.from('node'));
    store.commit(Buffer.alloc(0));
    expect(errorCodeOf(() => store.read(id, FrameKind.heap))).toBe(ErrorCode.corrupt);
    expect(errorCodeOf(() => store.read(asPageId(10), FrameKind.node))).toBe(ErrorCode.corrupt);
    expect(errorCodeOf(() => store.read(asPageId(1 << 30), FrameKind.node))).toBe(ErrorCode.corrupt);
  });

  it('refuses writes on a read-only store and everything on a closed one', () => {
    const backend = new MemoryBackend(emptyImage());
    const writer = openOn(backend);
    writeCommit(writer, 1, 1);
    const reader = openOn(new MemoryBackend(backend.snapshot()), { readOnly: true });
    expect(errorCodeOf(() => reader.append(FrameKind.node, Buffer.from('x')))).toBe(ErrorCode.readOnly);
    expect(errorCodeOf(() => reader.commit(Buffer.alloc(0)))).toBe(ErrorCode.readOnly);
    writer.close();
    expect(errorCodeOf(() => writer.commit(Buffer.alloc(0)))).toBe(ErrorCode.closed);
    expect(errorCodeOf(() => writer.read(asPageId(2000), FrameKind.node))).toBe(ErrorCode.closed);
    writer.close(); // closing twice is harmless
  });

  it('a read-only store sees newer commits only after refresh', () => {
    const backend = new MemoryBackend(emptyImage());
    const writer = openOn(backend);
    writeCommit(writer, 5, 1);
    const reader = openOn(backend, { readOnly: true });
    writeCommit(writer, 5, 2);
    expect(reader.head.seq).toBe(1);
    expect(reader.refresh()).toBe(true);
    expect(reader.head.seq).toBe(2);
    expect(verifyStore(reader, 5)).toBe(2);
    expect(reader.refresh()).toBe(false);
  });

  it('full durability flushes exactly once per commit; relaxed only at sync, close or the bound', () => {
    const full = new RecordingBackend(emptyImage());
    const store = openOn(full);
    const flushesAtOpen = full.calls.flush;
    for (let seq = 1; seq <= 10; seq++) writeCommit(store, 2, seq);
    expect(full.calls.flush - flushesAtOpen).toBe(10);

    const relaxed = new RecordingBackend(emptyImage());
    const lazy = openOn(relaxed, { durability: 'relaxed' });
    const before = relaxed.calls.flush;
    for (let seq = 1; seq <= 10; seq++) writeCommit(lazy, 2, seq);
    expect(relaxed.calls.flush).toBe(before);
    lazy.sync();
    expect(relaxed.calls.flush).toBeGreaterThan(before);
    const afterSync = relaxed.calls.flush;
    for (let seq = 11; seq <= 10 + RELAXED_SYNC_COMMITS; seq++) lazy.append(FrameKind.node, Buffer.of(1)), lazy.commit(Buffer.alloc(0));
    expect(relaxed.calls.flush).toBeGreaterThan(afterSync);
  });

  it('gives the same bytes in full and relaxed mode', () => {
    const run = (durability: 'full' | 'relaxed') => {
      const backend = new MemoryBackend(emptyImage());
      const store = openOn(backend, { durability });
      for (let seq = 1; seq <= 25; seq++) {
        writeCommit(store, 11, seq);
        if (durability === 'relaxed' && seq % 7 === 0) store.sync();
      }
      store.close();
      return Buffer.from(backend.snapshot());
    };
    expect(run('full').equals(run('relaxed'))).toBe(true);
  });

  it('a writer reads the pages of recent commits from its tail, the older ones from the file, alike', () => {
    const backend = new RecordingBackend(emptyImage());
    // Segments of 2 KiB: the workload's commits (up to 4 pages of up to 700 bytes) fill one in a few.
    const store = openOn(backend, { cacheBytes: 0, tailBytes: 16 << 10 });
    for (let seq = 1; seq <= 60; seq++) writeCommit(store, 9, seq);
    const newest = (JSON.parse(store.headMeta.toString()) as { pages: number[] }).pages.map(asPageId);
    const planned = plannedPages(9, 60);
    expect(newest.length).toBeGreaterThan(0);
    const readsBefore = backend.calls.read;
    newest.forEach((id, i) => expect(store.read(id, planned[i]!.kind).equals(planned[i]!.bytes)).toBe(true));
    expect(backend.calls.read).toBe(readsBefore);
    expect(verifyStore(store, 9)).toBe(60);
    expect(backend.calls.read).toBeGreaterThan(readsBefore);
    // read() hands out a copy: changing it changes nothing the store reads next.
    store.read(newest[0]!, planned[0]!.kind).fill(0);
    expect(store.read(newest[0]!, planned[0]!.kind).equals(planned[0]!.bytes)).toBe(true);
    // The kind is checked on the tail's frames as on the file's.
    const wrongKind = planned[0]!.kind === FrameKind.node ? FrameKind.heap : FrameKind.node;
    expect(errorCodeOf(() => store.read(newest[0]!, wrongKind))).toBe(ErrorCode.corrupt);
  });
});
