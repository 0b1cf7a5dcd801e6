import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { FrameKind } from '../../lib/storage/format.js';
import { openStoreFile } from '../../lib/storage/store-file.js';
import { EntryList } from '../../lib/tree/entry-list.js';
import { BranchNode, LeafNode, leafBytes, type TreeNode } from '../../lib/tree/node.js';
import { encodeNode } from '../../lib/tree/node-codec.js';
import type { PageStore } from '../../lib/storage/page-store.js';
import { HitchhikerTree, type TreeRoot } from '../../lib/tree/tree.js';
import { compareBytes, type TreeSchema } from '../../lib/tree/tree-schema.js';
import { errorCodeOf } from '../support/error-code.js';
import { emptyImage, openOn } from '../support/stores.js';
import { type Entry, ENTRY_PAGE_BYTES, entrySchema, LEAF_OVERHEAD_BYTES, SortedModel } from '../support/tree-model.js';

const perLeaf = 5;
const tinyParams = { pageSize: LEAF_OVERHEAD_BYTES + perLeaf * ENTRY_PAGE_BYTES, bufferBytes: 21 };
const entries = (keys: Iterable<number>, version = 0): Entry[] => [...keys].map((k) => [k, version] as const);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('bulk load', () => {
  it('packs sorted entries into full leaves and builds a valid tree that later batches extend', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 60 }), fc.option(fc.integer({ min: 4, max: 6 }), { nil: undefined }), (count, extra, maxChildren) => {
        const store = openOn(new MemoryBackend(emptyImage()));
        // Branches are filled up to their bytes, or to maxChildren when given (and smaller).
        const params = maxChildren === undefined ? { ...tinyParams, bufferBytes: 1 } : { ...tinyParams, bufferBytes: 1, maxChildren };
        const tree = new HitchhikerTree(store, entrySchema, params);
        const root = tree.bulkLoad(entries(range(0, count)));
        expect([...tree.scan(root)]).toEqual(entries(range(0, count)));
        const report = tree.check(root);
        expect(report.problems).toEqual([]);
        // Full pages: every leaf but the last holds as many entries as fit.
        expect(report.leaves).toBe(Math.ceil(count / perLeaf));

        const model = new SortedModel();
        model.apply(range(0, count).map((key) => ({ key, version: 0, remove: false })));
        const ops = extra.map((key, i) => ({ key, version: i + 1, remove: i % 3 === 0 }));
        model.apply(ops);
        const next = tree.apply(root, ops.map((op) => ({ entry: [op.key, op.version] as const, remove: op.remove })));
        expect([...tree.scan(next)]).toEqual(model.entries());
        expect(tree.check(next).problems).toEqual([]);
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it('cuts separators short under the bytewise order, and fills branches up to maxChildren', () => {
    // Pivots of a few bytes: branches would hold six children by bytes, more than maxChildren.
    const bytewise: TreeSchema<Entry> = { ...entrySchema, compare: compareBytes };
    const params = { pageSize: LEAF_OVERHEAD_BYTES + 7 * ENTRY_PAGE_BYTES, bufferBytes: 1 };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.option(fc.integer({ min: 4, max: 5 }), { nil: undefined }), (count, maxChildren) => {
        const tree = new HitchhikerTree(openOn(new MemoryBackend(emptyImage())), bytewise, maxChildren === undefined ? params : { ...params, maxChildren });
        const root = tree.bulkLoad(entries(range(0, count)));
        expect(tree.check(root).problems).toEqual([]);
        expect([...tree.scan(root)]).toEqual(entries(range(0, count)));
        for (let key = -1; key <= count; key++) expect(tree.has(root, [key, 0])).toBe(key >= 0 && key < count);
      }),
      { numRuns: 40, seed: 9 },
    );
  });

  it('writes its leaves without caching them, and caches its branches', () => {
    // Only the writer has touched them (WRITE_CACHE_POLICY): decoded for the cache as written, a
    // million datoms' leaves were 50 MB of ArrayBuffers and a cache full of pages nobody read.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3_000 }), (count) => {
        const store = openOn(new MemoryBackend(emptyImage()), { cacheBytes: 1 << 24 });
        const tree = new HitchhikerTree(store, entrySchema, tinyParams);
        const root = tree.bulkLoad(entries(range(0, count)));
        store.commit(Buffer.alloc(0)); // pages written decoded enter the cache with their commit
        const cached = store.cache.size;
        const branches = (id: TreeRoot): number => {
          const node = tree.load(id!);
          return node.kind === 'leaf' ? 0 : 1 + node.children.reduce((sum: number, child) => sum + branches(child as TreeRoot), 0);
        };
        expect(cached, 'pages cached by the write').toBe(branches(root));
        expect([...tree.scan(root)]).toEqual(entries(range(0, count)));
      }),
      { numRuns: 25, seed: 11 },
    );
  });

  it('refuses input that is not strictly increasing', () => {
    const tree = new HitchhikerTree(openOn(new MemoryBackend(emptyImage())), entrySchema, tinyParams);
    expect(errorCodeOf(() => tree.bulkLoad(entries([1, 3, 2])))).toBe(ErrorCode.invalidArgument);
    expect(errorCodeOf(() => tree.bulkLoad(entries([1, 1])))).toBe(ErrorCode.invalidArgument);
  });
});

describe('determinism', () => {
  const batches = Array.from({ length: 40 }, (_, b) =>
    Array.from({ length: 1 + ((b * 7) % 23) }, (_, i) => ({ entry: [(b * 31 + i * 17) % 300, b] as const, remove: (b + i) % 5 === 0 })),
  );

  const build = (cacheBytes: number, reopenEvery: number) => {
    const backend = new MemoryBackend(emptyImage());
    let store = openOn(backend, { cacheBytes });
    let root: TreeRoot;
    batches.forEach((batch, i) => {
      root = new HitchhikerTree(store, entrySchema, tinyParams).apply(root, batch);
      store.commit(Buffer.from(String(root ?? '')));
      if ((i + 1) % reopenEvery === 0) {
        store.close();
        store = openOn(backend, { cacheBytes });
      }
    });
    store.close();
    return Buffer.from(backend.snapshot());
  };

  it('gives the same bytes for the same batches whatever the cache size or reopening in between', () => {
    const reference = build(1 << 20, 1000);
    expect(build(0, 1000).equals(reference)).toBe(true);
    expect(build(300, 7).equals(reference)).toBe(true);
    expect(build(1 << 20, 1).equals(reference)).toBe(true);
  });

  it('gives the same shape for the same entries whatever order a batch lists them in', () => {
    const store = openOn(new MemoryBackend(emptyImage()));
    const tree = new HitchhikerTree(store, entrySchema, tinyParams);
    const sorted = entries(range(0, 200));
    const shuffled = [...sorted].sort((a, b) => ((a[0] * 7919) % 211) - ((b[0] * 7919) % 211));
    const a = tree.insert(undefined, sorted);
    const b = tree.insert(undefined, shuffled);
    const shape = (root: TreeRoot) => tree.check(root);
    expect(shape(a)).toEqual(shape(b));
    expect([...tree.scan(a)]).toEqual([...tree.scan(b)]);
  });
});

describe('reads', () => {
  it('decodes only the entries it returns, and reads each page once', () => {
    let decoded = 0;
    const counting: TreeSchema<Entry> = { ...entrySchema, decode: (bytes, start, end) => (decoded++, entrySchema.decode(bytes, start, end)) };
    const backend = new MemoryBackend(emptyImage());
    const store = openOn(backend, { cacheBytes: 1 << 24 });
    const tree = new HitchhikerTree(store, counting, tinyParams);
    const root = tree.insert(undefined, entries(range(0, 500)));
    store.commit(Buffer.alloc(0));
    // Lookups compare encoded bytes in place: only the entry found is decoded.
    for (let k = 0; k < 500; k++) expect(tree.get(root, [k, 0])).toEqual([k, 0]);
    expect(decoded).toBe(500);
    expect([...tree.scan(root)]).toHaveLength(500);
    expect(decoded).toBe(1000);

    // The nodes a commit wrote enter the cache as a reader would decode them: no page is read
    // again. Through a cold cache each page is read once, then never again.
    const pagesRead = (s: PageStore, during: () => void) => {
      const before = s.cache.size;
      during();
      return s.cache.size - before;
    };
    expect(pagesRead(store, () => tree.get(root, [250, 0]))).toBe(0);
    const coldStore = openOn(new MemoryBackend(backend.snapshot()), { cacheBytes: 1 << 24 });
    const cold = new HitchhikerTree(coldStore, entrySchema, tinyParams);
    expect(pagesRead(coldStore, () => [...cold.scan(root)])).toBe(tree.check(root).leaves + tree.check(root).branches);
    expect(pagesRead(coldStore, () => [...cold.scan(root)])).toBe(0);
  });

  it('finds every entry while pages leave the cache under branches that remember their children', () => {
    // A cache of a few pages: lookups evict what earlier lookups remembered, and each batch takes
    // the pages it replaces out, while old roots are still read.
    const store = openOn(new MemoryBackend(emptyImage()), { cacheBytes: 3000 });
    const tree = new HitchhikerTree(store, entrySchema, tinyParams);
    const model = new SortedModel();
    const roots: { root: TreeRoot; entries: Entry[] }[] = [];
    let root: TreeRoot;
    for (let b = 0; b < 12; b++) {
      const ops = range(0, 40).map((i) => ({ key: (b * 53 + i * 29) % 300, version: b, remove: i % 6 === 0 }));
      model.apply(ops);
      root = tree.apply(root, ops.map((op) => ({ entry: [op.key, op.version] as const, remove: op.remove })));
      store.commit(Buffer.alloc(0));
      roots.push({ root, entries: model.entries() });
      for (const { root: r, entries: expected } of roots) {
        const found = new Map(expected.map((e) => [e[0], e]));
        for (let k = 0; k < 300; k += 1 + (b % 3)) expect(tree.get(r, [k, 0])).toEqual(found.get(k));
      }
    }
    expect(store.cache.usedBytes).toBeLessThanOrEqual(3000);
  });

  it('keeps nodes cached across rewrites while readers use them, and leaves those only the writer touched out', () => {
    const store = openOn(new MemoryBackend(emptyImage()), { cacheBytes: 1 << 24 });
    const tree = new HitchhikerTree(store, entrySchema, tinyParams);
    const pagesRead = (during: () => void) => {
      const before = store.cache.size;
      during();
      return store.cache.size - before;
    };
    let root = tree.insert(undefined, entries(range(0, 200)));
    store.commit(Buffer.alloc(0));
    expect(pagesRead(() => tree.get(root, [5, 0]))).toBe(0);
    // A batch that rewrites the nodes over keys 0 to 99: those a reader used (the path to key 5)
    // stay cached in their new versions, the others are read again when next wanted. Nodes the
    // batch did not rewrite stay cached as they were.
    root = tree.insert(root, entries(range(0, 100), 1));
    store.commit(Buffer.alloc(0));
    expect(pagesRead(() => expect(tree.get(root, [5, 1])).toEqual([5, 1]))).toBe(0);
    expect(pagesRead(() => expect(tree.get(root, [50, 1])).toEqual([50, 1]))).toBeGreaterThan(0);
    expect(pagesRead(() => expect(tree.get(root, [50, 1])).toEqual([50, 1]))).toBe(0);
    expect(pagesRead(() => expect(tree.get(root, [150, 0])).toEqual([150, 0]))).toBe(0);
  });

  it('works on a real file across close and reopen', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-tree-'));
    try {
      const file = path.join(dir, 't.db');
      const store = openStoreFile(file, { create: true, durability: 'relaxed' });
      const tree = new HitchhikerTree(store, entrySchema, tinyParams);
      const model = new SortedModel();
      let root: TreeRoot;
      const roots: Array<[TreeRoot, Entry[]]> = [];
      for (let b = 0; b < 30; b++) {
        const ops = range(0, 12).map((i) => ({ key: (b * 13 + i * 29) % 150, version: b, remove: i % 4 === 0 }));
        root = tree.apply(root, ops.map((op) => ({ entry: [op.key, op.version] as const, remove: op.remove })));
        model.apply(ops);
        store.commit(Buffer.from(String(root ?? '')));
        roots.push([root, model.entries()]);
      }
      store.close();
      const reopened = new HitchhikerTree(openStoreFile(file, { readOnly: true }), entrySchema, tinyParams);
      for (const [r, expected] of roots) {
        expect([...reopened.scan(r)]).toEqual(expected);
        expect(reopened.check(r).problems).toEqual([]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('invariant checker', () => {
  /** Writes hand-made nodes (children as page ids) and commits them. */
  const handMade = (build: (write: (node: TreeNode) => number) => number) => {
    const store = openOn(new MemoryBackend(emptyImage()));
    const write = (node: TreeNode) => store.append(FrameKind.node, encodeNode(node));
    const root = build(write);
    store.commit(Buffer.alloc(0));
    return { tree: new HitchhikerTree(store, entrySchema, tinyParams), root: root as TreeRoot };
  };
  const list = (keys: number[]) => EntryList.of(entries(keys).map((e) => entrySchema.encode(e)));
  const leaf = (keys: number[]) => new LeafNode(list(keys), null);
  const branch = (level: number, pivots: number[], children: number[], buffered: number[] = []) =>
    new BranchNode(level, list(pivots), children as never, list(buffered), new Uint8Array(buffered.length), null);
  const problemsOf = (made: ReturnType<typeof handMade>) => made.tree.check(made.root).problems.map((p) => p.message);

  it('accepts a well-formed tree', () => {
    const made = handMade((w) => w(branch(1, [10], [w(leaf([1, 2])), w(leaf([10, 11]))])));
    expect(problemsOf(made)).toEqual([]);
  });

  it('reports entries out of order, outside their separators, and buffers over their limit', () => {
    expect(problemsOf(handMade((w) => w(leaf([2, 1]))))).toEqual([expect.stringContaining('out of order')]);
    const misplaced = handMade((w) => w(branch(1, [10], [w(leaf([1, 12])), w(leaf([10]))])));
    expect(problemsOf(misplaced)).toEqual([expect.stringContaining('outside the range')]);
    const overfull = handMade((w) => w(branch(1, [10], [w(leaf([1])), w(leaf([10]))], [1, 2, 3])));
    expect(problemsOf(overfull)).toEqual([expect.stringContaining('buffer over its limit')]);
  });

  it('reports leaves at different depths and a leaf larger than a page', () => {
    const uneven = handMade((w) => {
      const inner = w(branch(1, [5], [w(leaf([1])), w(leaf([5]))]));
      return w(branch(2, [10], [inner, w(leaf([10]))]));
    });
    expect(problemsOf(uneven)).toEqual([expect.stringContaining('not all at level 1')]);
    const big = leaf(range(0, 20));
    expect(leafBytes(big)).toBeGreaterThan(tinyParams.pageSize);
    expect(problemsOf(handMade((w) => w(big)))).toEqual([expect.stringContaining('larger than a page')]);
  });

  it('reports a child page that is damaged or lies outside the file, naming it', () => {
    const outside = handMade((w) => w(branch(1, [10], [w(leaf([1])), 999_999])));
    const report = outside.tree.check(outside.root);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]!.pageId).toBe(999_999);
  });
});

/** Strings as UTF-8, ordered bytewise. */
const utf8 = new TextEncoder();
const utf8StringSchema: TreeSchema<string> = {
  encode: (s) => utf8.encode(s),
  decode: (bytes, start, end) => new TextDecoder().decode(bytes.subarray(start, end)),
  compare: compareBytes,
  prefixOrdered: true,
};

describe('batch memory', () => {
  it('serves batches larger than it holds, and later batches reuse it without touching older trees', () => {
    // ~200-byte entries: the first batch's lists take far more than the 16 MiB of chunks batch
    // memory keeps (a request beyond them gets memory of its own); the later batches run in
    // chunks the first one filled. Every tree must stay intact after the batches that follow it.
    const schema = utf8StringSchema;
    const entry = (i: number) => `${String(i).padStart(7, '0')}:${'x'.repeat(190)}`;
    const tree = new HitchhikerTree(openOn(new MemoryBackend(emptyImage())), schema);
    const big = Array.from({ length: 100_000 }, (_, i) => entry(i * 2));
    const roots: TreeRoot[] = [tree.insert(undefined, big)];
    const expected: string[][] = [big];
    for (const [b, size] of [3_000, 40_000, 3_000].entries()) {
      const batch = Array.from({ length: size }, (_, i) => entry((i * 67 + b * 13) % 200_000));
      roots.push(tree.insert(roots[roots.length - 1], batch));
      expected.push([...new Set([...expected[expected.length - 1]!, ...batch])].sort());
    }
    roots.forEach((root, i) => {
      expect(tree.check(root).problems).toEqual([]);
      expect([...tree.scan(root)]).toEqual(expected[i]);
    });
  });
});

describe('schemas that encode in place', () => {
  /** Strings of any length, as UTF-8, ordered bytewise; `encodeInto` refuses what does not fit. */
  const text = new TextEncoder();
  const stringSchema = utf8StringSchema;
  const inPlace: TreeSchema<string> = {
    ...stringSchema,
    encodeInto: (s, target, offset) => {
      const { read, written } = text.encodeInto(s, target.subarray(offset));
      return read === s.length ? offset + written : -1;
    },
  };

  it('give the same trees, lookups and bytes as encoding each entry, whatever the entry sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: 'grapheme', maxLength: 700 }), { maxLength: 30 }), { minLength: 1, maxLength: 6 }), (batches) => {
        const stores = [openOn(new MemoryBackend(emptyImage())), openOn(new MemoryBackend(emptyImage()))];
        const trees = [new HitchhikerTree(stores[0]!, stringSchema), new HitchhikerTree(stores[1]!, inPlace)];
        const roots: TreeRoot[] = [undefined, undefined];
        const all = new Set<string>();
        for (const batch of batches) {
          for (let i = 0; i < 2; i++) roots[i] = trees[i]!.insert(roots[i], batch);
          for (const s of batch) all.add(s);
        }
        expect([...trees[1]!.scan(roots[1])]).toEqual([...trees[0]!.scan(roots[0])]);
        expect(stores[1]!.head.end).toBe(stores[0]!.head.end);
        for (const s of all) {
          expect(trees[1]!.get(roots[1], s)).toBe(s);
          expect(trees[1]!.has(roots[1], s)).toBe(true);
          expect(trees[1]!.has(roots[1], `${s}\u0000`)).toBe(all.has(`${s}\u0000`));
        }
      }),
      { numRuns: 40, seed: 11 },
    );
  });
});
