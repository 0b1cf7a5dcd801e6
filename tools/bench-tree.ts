/**
 * The hitchhiker tree beside an in-memory B+-tree (sorted-btree) and lmdb-js, in one process and
 * on the same datom-sized entries: inserts in batches of 1, 100 and 10,000 (one commit or
 * transaction per batch), bulk load, warm and cold point lookups, and scans of 1,000-entry ranges.
 * Prints a Markdown table with the goals of the tree issue, the machine, and the tree's shape.
 *
 *   npm run bench:tree                      full run: 1M entries (about 3.5 minutes on 2 cores)
 *   npm run bench:tree -- --quick           100k entries, fewer lookups and scans (about 15 s)
 *   npm run bench:tree -- --interleaved     only the insert goals, Sediment and lmdb-js taking turns
 *                                           chunk by chunk (for a loaded machine; about 1 minute)
 *   npm run bench:tree -- --params-sweep    only the TreeParams sweep: pageSize × bufferBytes (× maxChildren) at 200k
 *                                           entries (about 2.5 minutes; with --quick: 20k entries)
 *
 * Engine settings (the same in every run):
 *  - Sediment: openStoreFile on a file in a temp dir, default cache (64 MiB) unless said otherwise;
 *    one store.commit per batch, its meta the root page id (8 bytes).
 *  - lmdb-js: default key encoding (ordered-binary) with the tuple [e, a, v, tx] as the key and
 *    `true` as the value (default msgpack: one byte); one transactionSync per batch with putSync
 *    inside. overlappingSync is off in both flavours, so that a commit's cost is paid by the commit
 *    that causes it (its background flushing would otherwise overlap the next transactions and be
 *    timed by none); `relaxed` is noSync: true (no flush per commit; Sediment relaxed still flushes
 *    every 1000 commits or 16 MiB, so lmdb is favoured there), `full` is noSync: false (fdatasync
 *    before each commit returns, like Sediment full).
 *  - sorted-btree: BTree with the same comparator, default node size (64), set() per entry.
 * Bytes per entry: Sediment, file growth / entries; lmdb-js, bytes passed to write system calls
 * (/proc/self/io wchar) / entries.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open as openLmdb, type RootDatabase } from 'lmdb';
import sortedBtree from 'sorted-btree';
import type { Durability, PageStore } from '../lib/storage/page-store.js';
import { FrameKind } from '../lib/storage/format.js';
import { openStoreFile } from '../lib/storage/store-file.js';
import { DEFAULT_TREE_PARAMS, type TreeParams } from '../lib/tree/params.js';
import { HitchhikerTree, type TreeRoot } from '../lib/tree/tree.js';
import { compareBytes, type TreeSchema } from '../lib/tree/tree-schema.js';
import { prng } from '../spec/support/store-workload.js';

// sorted-btree is CommonJS whose class is `exports.default`; an ESM default import is the whole module.
const BTree = sortedBtree.default;
type BTree<K, V> = InstanceType<typeof BTree<K, V>>;

// ----- options ------------------------------------------------------------------------------------

const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (a !== '--quick' && a !== '--params-sweep' && a !== '--interleaved') {
    console.error(`unknown option ${a}; use --quick, --params-sweep and/or --interleaved`);
    process.exit(2);
  }
}
const QUICK = args.has('--quick');
const SWEEP = args.has('--params-sweep');
const INTERLEAVED = args.has('--interleaved');
const N = QUICK ? 100_000 : 1_000_000;
const SINGLES = QUICK ? 2_000 : 20_000;
const LOOKUPS = QUICK ? 50_000 : 200_000;
const SCANS = QUICK ? 500 : 2_000;
const SCAN_LENGTH = 1_000;
const ROUNDS = 3;
const SWEEP_N = QUICK ? 20_000 : 200_000;
const SWEEP_SINGLES = QUICK ? 500 : 2_000;
const SEED = 20240611;

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-bench-tree-'));
const started = process.hrtime.bigint();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const nowUs = () => Number(process.hrtime.bigint()) / 1e3;
const progress = (message: string) => console.error(`[${((nowUs() - Number(started) / 1e3) / 1e6).toFixed(1)} s] ${message}`);

// ----- entries ------------------------------------------------------------------------------------

/** A datom: entity, attribute, value, transaction; ordered EAVT, numbers before strings. */
type Datom = readonly [e: number, a: number, v: number | string, tx: number];

function compareDatoms(x: Datom, y: Datom): number {
  let d = x[0] - y[0];
  if (d !== 0) return d;
  d = x[1] - y[1];
  if (d !== 0) return d;
  const xv = x[2];
  const yv = y[2];
  if (xv !== yv) {
    if (typeof xv === 'number') return typeof yv === 'number' ? xv - yv : -1;
    if (typeof yv === 'number') return 1;
    return xv < yv ? -1 : 1;
  }
  return x[3] - y[3];
}

/**
 * Datoms as order-preserving bytes, so the tree compares them bytewise: each integer as a length
 * byte then its big-endian bytes (longer means larger, for the non-negative integers used here);
 * the value as a tag (1 number, 2 string: numbers sort first) then the integer, or the UTF-8 bytes
 * ended by a zero byte.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const scratch = new Uint8Array(4096);

const TWO_32 = 2 ** 32;

/** Writes a non-negative integer below 2^53 as a length byte and its big-endian bytes. */
function putUint(target: Uint8Array, at: number, n: number): number {
  let length: number;
  let low = n;
  if (n < TWO_32) {
    length = n >= 0x10000 ? (n >= 0x1000000 ? 4 : 3) : n >= 0x100 ? 2 : n > 0 ? 1 : 0;
  } else {
    // The high bytes first: below 2^53, the quotient is exact and `>>> 0` keeps the low 32 bits.
    const high = Math.floor(n / TWO_32);
    length = high >= 0x10000 ? (high >= 0x1000000 ? 8 : 7) : high >= 0x100 ? 6 : 5;
    for (let end = at + length - 4, x = high; end > at; end--, x >>>= 8) target[end] = x & 0xff;
    low = n >>> 0;
  }
  target[at] = length;
  // The low bytes, from the last backwards (at most four).
  for (let end = at + length, stop = length > 4 ? end - 4 : at; end > stop; end--, low >>>= 8) target[end] = low & 0xff;
  return at + 1 + length;
}

/** Where getUint stopped: the byte after the integer it read. */
let readPosition = 0;

function getUint(bytes: Uint8Array, at: number): number {
  const length = bytes[at]!;
  let n = 0;
  for (let i = 1; i <= length; i++) n = n * 256 + bytes[at + i]!;
  readPosition = at + 1 + length;
  return n;
}

/** Short ASCII strings by hand: TextEncoder and TextDecoder cost more than the copy itself. */
function putString(target: Uint8Array, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return at - i + encoder.encodeInto(text, target.subarray(at - i)).written;
    target[at + i] = c;
  }
  return at + text.length;
}

function getString(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
    text += String.fromCharCode(c);
  }
  return text;
}

/** Longest encoding: three 9-byte integers, a tag, a zero byte, and the value's UTF-8 bytes. */
const maxEncodedBytes = (d: Datom): number => 29 + (typeof d[2] === 'string' ? 3 * d[2].length : 9);

/** Writes the datom's encoding into `target` at `offset`; returns its end, or -1 if it may not fit. */
function encodeDatomInto(d: Datom, target: Uint8Array, offset: number): number {
  if (offset + maxEncodedBytes(d) > target.length) return -1;
  let at = putUint(target, offset, d[0]);
  at = putUint(target, at, d[1]);
  const v = d[2];
  if (typeof v === 'number') {
    target[at++] = 1;
    at = putUint(target, at, v);
  } else {
    target[at++] = 2;
    at = putString(target, at, v);
    target[at++] = 0;
  }
  return putUint(target, at, d[3]);
}

function encodeDatom(d: Datom): Uint8Array {
  return scratch.slice(0, encodeDatomInto(d, scratch, 0));
}

function decodeDatom(bytes: Uint8Array, start: number): Datom {
  const e = getUint(bytes, start);
  const a = getUint(bytes, readPosition);
  const tagAt = readPosition;
  let v: number | string;
  if (bytes[tagAt] === 1) {
    v = getUint(bytes, tagAt + 1);
  } else {
    const end = bytes.indexOf(0, tagAt + 1);
    v = getString(bytes, tagAt + 1, end);
    readPosition = end + 1;
  }
  return [e, a, v, getUint(bytes, readPosition)];
}

const datomSchema: TreeSchema<Datom> = {
  encode: encodeDatom,
  encodeInto: encodeDatomInto,
  decode: (bytes, start) => decodeDatom(bytes, start),
  compare: compareBytes,
  prefixOrdered: process.env['SEDIMENT_NO_PREFIX'] === undefined,
};

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

interface DataSet {
  /** The main entries, ascending. */
  readonly sorted: Datom[];
  /** The same entries in random order. */
  readonly shuffled: Datom[];
  /** Entries not among the main ones, in random order: single inserts on a loaded tree. */
  readonly extra: Datom[];
}

/**
 * `count + extraCount` distinct datoms: entities with increasing ids (small gaps), 1 to 6 distinct
 * attributes each (ids 1..8), values half integers of every size and half strings of 8 to 20
 * letters, transactions from a range an eighth the size of the data set. Then `extraCount` of
 * them, chosen at random, are set apart.
 */
function makeDataSet(count: number, extraCount: number, seed: number): DataSet {
  const random = prng(seed);
  const all: Datom[] = [];
  const total = count + extraCount;
  const txBase = 1_000_000;
  const txSpan = Math.max(1, Math.floor(total / 8));
  let e = 1_000;
  while (all.length < total) {
    e += 1 + Math.floor(random() * 3);
    const attributes = 1 + Math.floor(random() * 6);
    let mask = 0;
    while (bitCount(mask) < attributes) mask |= 1 << Math.floor(random() * 8);
    for (let a = 1; a <= 8 && all.length < total; a++) {
      if ((mask & (1 << (a - 1))) === 0) continue;
      let v: number | string;
      if (random() < 0.5) v = Math.floor(random() ** 3 * 2 ** 40);
      else {
        const length = 8 + Math.floor(random() * 13);
        let s = '';
        for (let i = 0; i < length; i++) s += String.fromCharCode(97 + Math.floor(random() * 26));
        v = s;
      }
      all.push([e, a, v, txBase + Math.floor(random() * txSpan)]);
    }
  }
  for (let i = 1; i < all.length; i++) {
    if (compareDatoms(all[i - 1]!, all[i]!) >= 0) throw new Error('internal: generated datoms are not strictly increasing');
  }
  const chosen = new Uint8Array(total);
  const extra: Datom[] = [];
  while (extra.length < extraCount) {
    const i = Math.floor(random() * total);
    if (chosen[i] === 1) continue;
    chosen[i] = 1;
    extra.push(all[i]!);
  }
  const sorted = all.filter((_, i) => chosen[i] === 0);
  return { sorted, shuffled: shuffle(sorted.slice(), random), extra };
}

function bitCount(x: number): number {
  let n = 0;
  for (let v = x; v !== 0; v &= v - 1) n++;
  return n;
}

/** A copy of the entry: lookups get equal keys, not the stored objects. */
const copyOf = (d: Datom): Datom => [d[0], d[1], d[2], d[3]];

// ----- measuring ----------------------------------------------------------------------------------

/** Bytes this process passed to write system calls so far (all threads), or NaN if unknown. */
function writtenBytes(): number {
  try {
    const match = /^wchar:\s*(\d+)/m.exec(fs.readFileSync('/proc/self/io', 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

interface InsertMeasure {
  readonly usPerEntry: number;
  /**
   * Sediment relaxed: the part of usPerEntry spent in the store's periodic flushes (every 16 MiB
   * or 1,000 commits: fdatasync and the slots), which lmdb-js with noSync never does.
   */
  readonly flushUsPerEntry?: number;
  /** Sediment: file growth per entry; lmdb: bytes passed to write(2) per entry. */
  readonly bytesPerEntry: number;
  readonly seconds: number;
}

function batchesOf(entries: readonly Datom[], batch: number): Datom[][] {
  const batches: Datom[][] = [];
  for (let i = 0; i < entries.length; i += batch) batches.push(entries.slice(i, i + batch));
  return batches;
}

// ----- Sediment -----------------------------------------------------------------------------------

interface SedimentDb {
  readonly file: string;
  readonly store: PageStore;
  readonly tree: HitchhikerTree<Datom>;
  root: TreeRoot;
}

let fileCounter = 0;

function openSediment(label: string, durability: Durability, params: TreeParams = DEFAULT_TREE_PARAMS): SedimentDb {
  const file = path.join(directory, `sediment-${label}-${fileCounter++}.db`);
  const store = openStoreFile(file, { create: true, durability });
  return { file, store, tree: new HitchhikerTree(store, datomSchema, params), root: undefined };
}

function metaOf(root: TreeRoot): Buffer {
  const meta = Buffer.alloc(8);
  meta.writeDoubleLE(root === undefined ? -1 : root, 0);
  return meta;
}

function rootOf(meta: Buffer): TreeRoot {
  const value = meta.length === 8 ? meta.readDoubleLE(0) : -1;
  return value < 0 ? undefined : (value as TreeRoot);
}

function closeSediment(db: SedimentDb): void {
  db.store.close();
  fs.rmSync(db.file, { force: true });
}

function sedimentInsert(db: SedimentDb, batches: readonly Datom[][]): InsertMeasure {
  const before = db.store.head.end;
  let count = 0;
  // Time the periodic flushes a relaxed commit makes (commit calls sync at the bound).
  let flushUs = 0;
  const store = db.store;
  const sync = store.sync;
  store.sync = function timedSync(this: PageStore): void {
    const start = nowUs();
    sync.call(this);
    flushUs += nowUs() - start;
  };
  const t0 = nowUs();
  try {
    for (const batch of batches) {
      db.root = db.tree.insert(db.root, batch);
      db.store.commit(metaOf(db.root));
      count += batch.length;
    }
  } finally {
    store.sync = sync;
  }
  const elapsed = nowUs() - t0;
  return { usPerEntry: elapsed / count, flushUsPerEntry: flushUs / count, bytesPerEntry: (db.store.head.end - before) / count, seconds: elapsed / 1e6 };
}

function sedimentBulkLoad(db: SedimentDb, sorted: readonly Datom[]): InsertMeasure {
  const before = db.store.head.end;
  const t0 = nowUs();
  db.root = db.tree.bulkLoad(sorted);
  db.store.commit(metaOf(db.root));
  const elapsed = nowUs() - t0;
  return { usPerEntry: elapsed / sorted.length, bytesPerEntry: (db.store.head.end - before) / sorted.length, seconds: elapsed / 1e6 };
}

// ----- lmdb-js ------------------------------------------------------------------------------------

/** lmdb's Key type wants a mutable array; the same tuples are passed, only the type differs. */
type LmdbKey = [e: number, a: number, v: number | string, tx: number];
type LmdbDb = RootDatabase<true, LmdbKey>;
interface LmdbHandle {
  readonly dir: string;
  readonly db: LmdbDb;
}

function openLmdbDb(label: string, durability: Durability): LmdbHandle {
  const dir = path.join(directory, `lmdb-${label}-${fileCounter++}`);
  fs.mkdirSync(dir);
  const db = openLmdb<true, LmdbKey>({ path: path.join(dir, 'data.mdb'), noSync: durability === 'relaxed', overlappingSync: false });
  return { dir, db };
}

async function closeLmdb(handle: LmdbHandle): Promise<void> {
  await handle.db.close();
  fs.rmSync(handle.dir, { recursive: true, force: true });
}

function lmdbInsert(handle: LmdbHandle, batches: readonly Datom[][]): InsertMeasure {
  const db = handle.db;
  const before = writtenBytes();
  let count = 0;
  const t0 = nowUs();
  for (const batch of batches) {
    db.transactionSync(() => {
      for (const d of batch) db.putSync(d as LmdbKey, true);
    });
    count += batch.length;
  }
  const elapsed = nowUs() - t0;
  return { usPerEntry: elapsed / count, bytesPerEntry: (writtenBytes() - before) / count, seconds: elapsed / 1e6 };
}

/** lmdb's closest thing to a bulk load: sorted keys with MDB_APPEND, in one transaction. */
function lmdbAppend(handle: LmdbHandle, sorted: readonly Datom[]): InsertMeasure {
  const db = handle.db;
  const before = writtenBytes();
  const t0 = nowUs();
  db.transactionSync(() => {
    for (const d of sorted) db.putSync(d as LmdbKey, true, { append: true });
  });
  const elapsed = nowUs() - t0;
  return { usPerEntry: elapsed / sorted.length, bytesPerEntry: (writtenBytes() - before) / sorted.length, seconds: elapsed / 1e6 };
}

// ----- sorted-btree -------------------------------------------------------------------------------

const newBTree = (): BTree<Datom, true> => new BTree<Datom, true>(undefined, compareDatoms);

function btreeInsert(tree: BTree<Datom, true>, batches: readonly Datom[][]): InsertMeasure {
  let count = 0;
  const t0 = nowUs();
  for (const batch of batches) {
    for (const d of batch) tree.set(d, true);
    count += batch.length;
  }
  const elapsed = nowUs() - t0;
  return { usPerEntry: elapsed / count, bytesPerEntry: 0, seconds: elapsed / 1e6 };
}

// ----- reads --------------------------------------------------------------------------------------

interface Reader {
  readonly name: string;
  /** Looks every key up; returns how many were missing (must be 0). */
  lookups(keys: readonly Datom[]): number;
  /** Scans SCAN_LENGTH entries from each start; returns how many scans ended on the wrong entry. */
  scans(starts: readonly Datom[], lasts: readonly Datom[]): number;
}

/**
 * Lookups with `has` by default: the question sorted-btree's and lmdb-js's `get` answer here, whose
 * stored value is `true`. With `decode`, `get`, which also decodes the entry found.
 */
function sedimentReader(name: string, tree: HitchhikerTree<Datom>, root: TreeRoot, decode = false): Reader {
  return {
    name,
    lookups(keys) {
      let missing = 0;
      if (decode) {
        for (const k of keys) if (tree.get(root, k) === undefined) missing++;
      } else {
        for (const k of keys) if (!tree.has(root, k)) missing++;
      }
      return missing;
    },
    scans(starts, lasts) {
      let wrong = 0;
      for (let s = 0; s < starts.length; s++) {
        const start = starts[s]!;
        const cursor = tree.scan(root, { lower: encodeDatom(start) });
        let last: Datom | undefined;
        for (let i = 0; i < SCAN_LENGTH; i++) last = cursor.nextEntry();
        if (last === undefined || compareDatoms(last, lasts[s]!) !== 0) wrong++;
      }
      return wrong;
    },
  };
}

function btreeReader(tree: BTree<Datom, true>): Reader {
  return {
    name: 'sorted-btree',
    lookups(keys) {
      let missing = 0;
      for (const k of keys) if (tree.get(k) === undefined) missing++;
      return missing;
    },
    scans(starts, lasts) {
      let wrong = 0;
      const reused: (Datom | true)[] = [];
      for (let s = 0; s < starts.length; s++) {
        const iterator = tree.entries(starts[s]!, reused);
        let last: Datom | undefined;
        for (let i = 0; i < SCAN_LENGTH; i++) {
          const step = iterator.next();
          last = step.done === true ? undefined : step.value[0];
        }
        if (last === undefined || compareDatoms(last, lasts[s]!) !== 0) wrong++;
      }
      return wrong;
    },
  };
}

function lmdbReader(db: LmdbDb): Reader {
  return {
    name: 'lmdb-js',
    lookups(keys) {
      let missing = 0;
      for (const k of keys) if (db.get(k as LmdbKey) === undefined) missing++;
      return missing;
    },
    scans(starts, lasts) {
      let wrong = 0;
      for (let s = 0; s < starts.length; s++) {
        let last: Datom | undefined;
        let count = 0;
        for (const { key } of db.getRange({ start: starts[s] as LmdbKey, limit: SCAN_LENGTH })) {
          last = key;
          count++;
        }
        if (count !== SCAN_LENGTH || last === undefined || compareDatoms(last, lasts[s]!) !== 0) wrong++;
      }
      return wrong;
    },
  };
}

interface ReadMeasure {
  /** Median µs per lookup. */
  readonly lookupUs: number;
  /** Median µs per scan of SCAN_LENGTH entries. */
  readonly scanUs: number;
}

/**
 * One untimed pass (warming caches and the JIT), then ROUNDS timed rounds, the readers taking
 * turns within each round so that drift in the machine affects them alike.
 */
function measureReads(readers: readonly Reader[], keys: readonly Datom[], starts: readonly Datom[], lasts: readonly Datom[]): ReadMeasure[] {
  const lookups = readers.map(() => [] as number[]);
  const scans = readers.map(() => [] as number[]);
  for (let round = -1; round < ROUNDS; round++) {
    readers.forEach((reader, i) => {
      let t0 = nowUs();
      const missing = reader.lookups(keys);
      const lookupUs = (nowUs() - t0) / keys.length;
      t0 = nowUs();
      const wrong = reader.scans(starts, lasts);
      const scanUs = (nowUs() - t0) / starts.length;
      if (missing !== 0) throw new Error(`${reader.name}: ${missing} of ${keys.length} lookups found nothing`);
      if (wrong !== 0) throw new Error(`${reader.name}: ${wrong} of ${starts.length} scans did not end on the expected entry`);
      if (round >= 0) {
        lookups[i]!.push(lookupUs);
        scans[i]!.push(scanUs);
      }
    });
  }
  return readers.map((_, i) => ({ lookupUs: median(lookups[i]!), scanUs: median(scans[i]!) }));
}

/**
 * Lookups on a new read-only connection with a page cache of `cacheBytes`. Cold: each round on a
 * fresh connection, nothing cached in the process (the OS page cache is warm). Warm: one
 * connection, an untimed pass, then the rounds.
 */
function connectionLookups(file: string, keys: readonly Datom[], cacheBytes: number, warm: boolean): number {
  const times: number[] = [];
  let store: PageStore | undefined;
  try {
    for (let round = warm ? -1 : 0; round < ROUNDS; round++) {
      if (store === undefined || !warm) {
        store?.close();
        store = openStoreFile(file, { readOnly: true, cacheBytes });
      }
      const tree = new HitchhikerTree(store, datomSchema);
      const root = rootOf(store.headMeta);
      const t0 = nowUs();
      const missing = sedimentReader('connection', tree, root).lookups(keys);
      if (round >= 0) times.push((nowUs() - t0) / keys.length);
      if (missing !== 0) throw new Error(`lookups on a new connection: ${missing} missing`);
    }
  } finally {
    store?.close();
  }
  return median(times);
}

function readWorkload(data: DataSet, count: number, scanCount: number, seed: number): { keys: Datom[]; starts: Datom[]; lasts: Datom[] } {
  const random = prng(seed);
  const sorted = data.sorted;
  const keys: Datom[] = [];
  for (let i = 0; i < count; i++) keys.push(copyOf(sorted[Math.floor(random() * sorted.length)]!));
  const starts: Datom[] = [];
  const lasts: Datom[] = [];
  for (let i = 0; i < scanCount; i++) {
    const at = Math.floor(random() * (sorted.length - SCAN_LENGTH + 1));
    starts.push(copyOf(sorted[at]!));
    lasts.push(sorted[at + SCAN_LENGTH - 1]!);
  }
  return { keys, starts, lasts };
}

// ----- formatting ---------------------------------------------------------------------------------

const num = (x: number): string => (x < 1 ? x.toFixed(3) : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
const perEntry = (m: InsertMeasure, bytes: boolean): string => `${num(m.usPerEntry)} µs/entry${bytes ? `, ${num(m.bytesPerEntry)} B/entry` : ''}`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
const count = (n: number): string => n.toLocaleString('en-US');

interface Row {
  readonly workload: string;
  readonly sediment: string;
  readonly btree: string;
  readonly lmdb: string;
  readonly ratios: string;
  readonly goal: string;
  readonly met: string;
}

const rows: Row[] = [];
const readRows: Row[] = [];
const notes: string[] = [];

function insertRow(workload: string, s: InsertMeasure, b: InsertMeasure | undefined, l: InsertMeasure | undefined, goal: boolean): void {
  const ratios: string[] = [];
  if (b !== undefined) ratios.push(`S/btree ${ratio(s.usPerEntry, b.usPerEntry)}`);
  if (l !== undefined) ratios.push(`S/lmdb ${ratio(s.usPerEntry, l.usPerEntry)}`);
  const flushes = s.flushUsPerEntry !== undefined && s.flushUsPerEntry > 0 ? ` (flushes ${num(s.flushUsPerEntry)})` : '';
  rows.push({
    workload,
    sediment: perEntry(s, true) + flushes,
    btree: b === undefined ? '—' : perEntry(b, false),
    lmdb: l === undefined ? '—' : perEntry(l, true),
    ratios: ratios.join(', ') || '—',
    goal: goal ? 'µs/entry ≤ lmdb-js' : '—',
    met: goal && l !== undefined ? (s.usPerEntry <= l.usPerEntry ? 'yes' : 'no') : '—',
  });
}

// ----- the comparison -----------------------------------------------------------------------------

async function compare(): Promise<void> {
  progress(`generating ${count(N)} + ${count(SINGLES)} datoms`);
  const data = makeDataSet(N, SINGLES, SEED);
  checkEncoding(data.sorted);
  const reads = readWorkload(data, LOOKUPS, SCANS, SEED + 1);
  const shuffled100 = batchesOf(data.shuffled, 100);
  const shuffled10k = batchesOf(data.shuffled, 10_000);
  const sorted10k = batchesOf(data.sorted, 10_000);
  const singles = batchesOf(data.extra, 1);
  const meanBytes = data.sorted.reduce((sum, d) => sum + encodeDatom(d).length, 0) / data.sorted.length;

  // Batches of 10,000 in random order, then the reads on the trees they built.
  progress('batches of 10,000, random order: Sediment');
  const sed = openSediment('b10k', 'relaxed');
  const s10k = sedimentInsert(sed, shuffled10k);
  progress(`  ${s10k.seconds.toFixed(1)} s; sorted-btree`);
  const bt = newBTree();
  const b10k = btreeInsert(bt, shuffled10k);
  progress(`  ${b10k.seconds.toFixed(1)} s; lmdb-js`);
  const lm = openLmdbDb('b10k', 'relaxed');
  const l10k = lmdbInsert(lm, shuffled10k);
  progress(`  ${l10k.seconds.toFixed(1)} s; reads`);
  insertRow(`insert ${count(N)}, random order, batches of 10,000 (relaxed)`, s10k, b10k, l10k, true);

  const [sRead, sGetRead, bRead, lRead] = measureReads(
    [sedimentReader('Sediment', sed.tree, sed.root), sedimentReader('Sediment get', sed.tree, sed.root, true), btreeReader(bt), lmdbReader(lm.db)],
    reads.keys,
    reads.starts,
    reads.lasts,
  ) as [ReadMeasure, ReadMeasure, ReadMeasure, ReadMeasure];
  progress('  reads done; cold lookups');
  sed.store.sync();
  const cold = connectionLookups(sed.file, reads.keys, 1 << 20, false);
  const bigCache = connectionLookups(sed.file, reads.keys, 256 << 20, true);
  const lookupGoal = sRead.lookupUs <= 2 * bRead.lookupUs && sRead.lookupUs < lRead.lookupUs;
  readRows.push({
    workload: `point lookups, ${count(LOOKUPS)} random existing keys, warm (Sediment: tree.has; the others' get returns the stored value, true)`,
    sediment: `${num(sRead.lookupUs)} µs`,
    btree: `${num(bRead.lookupUs)} µs`,
    lmdb: `${num(lRead.lookupUs)} µs`,
    ratios: `S/btree ${ratio(sRead.lookupUs, bRead.lookupUs)}, S/lmdb ${ratio(sRead.lookupUs, lRead.lookupUs)}`,
    goal: '≤ 2× sorted-btree and < lmdb-js',
    met: lookupGoal ? 'yes' : `no (${sRead.lookupUs > 2 * bRead.lookupUs ? '> 2× btree' : ''}${sRead.lookupUs > 2 * bRead.lookupUs && sRead.lookupUs >= lRead.lookupUs ? ', ' : ''}${sRead.lookupUs >= lRead.lookupUs ? '≥ lmdb' : ''})`,
  });
  readRows.push({
    workload: `point lookups returning the entry, decoded (Sediment: tree.get)`,
    sediment: `${num(sGetRead.lookupUs)} µs`,
    btree: `${num(bRead.lookupUs)} µs`,
    lmdb: `${num(lRead.lookupUs)} µs`,
    ratios: `S/btree ${ratio(sGetRead.lookupUs, bRead.lookupUs)}, S/lmdb ${ratio(sGetRead.lookupUs, lRead.lookupUs)}`,
    goal: '—',
    met: '—',
  });
  readRows.push({
    workload: `point lookups, cold: new read-only connection, 1 MiB page cache (OS cache warm)`,
    sediment: `${num(cold)} µs`,
    btree: '—',
    lmdb: '—',
    ratios: `S/lmdb(warm) ${ratio(cold, lRead.lookupUs)}`,
    goal: '—',
    met: '—',
  });
  readRows.push({
    workload: `point lookups, warm, new read-only connection with a 256 MiB page cache (only the current tree's pages cached)`,
    sediment: `${num(bigCache)} µs`,
    btree: `${num(bRead.lookupUs)} µs`,
    lmdb: `${num(lRead.lookupUs)} µs`,
    ratios: `S/btree ${ratio(bigCache, bRead.lookupUs)}, S/lmdb ${ratio(bigCache, lRead.lookupUs)}`,
    goal: '(same goal, non-default cache)',
    met: bigCache <= 2 * bRead.lookupUs && bigCache < lRead.lookupUs ? 'yes' : 'no',
  });
  readRows.push({
    workload: `range scans, ${count(SCANS)} × ${count(SCAN_LENGTH)} consecutive entries from a random existing key`,
    sediment: `${num(sRead.scanUs)} µs/scan (${num((sRead.scanUs * 1000) / SCAN_LENGTH)} ns/entry)`,
    btree: `${num(bRead.scanUs)} µs/scan`,
    lmdb: `${num(lRead.scanUs)} µs/scan`,
    ratios: `S/btree ${ratio(sRead.scanUs, bRead.scanUs)}, S/lmdb ${ratio(sRead.scanUs, lRead.scanUs)}`,
    goal: '—',
    met: '—',
  });

  progress('  tree check');
  const report = sed.tree.check(sed.root);
  const cache = sed.store.cache;
  notes.push(
    `Sediment after inserting ${count(N)} in random batches of 10,000 (TreeParams ${JSON.stringify(DEFAULT_TREE_PARAMS)}): depth ${report.depth}, ` +
      `${count(report.leaves)} leaves, ${count(report.branches)} branches, ${count(report.leafEntries)} entries in leaves + ${count(report.bufferedOps)} buffered, ` +
      `${report.problems.length} problems; ${(report.leafEntries / report.leaves).toFixed(1)} entries/leaf; ` +
      `file ${(sed.store.head.end / 2 ** 20).toFixed(1)} MiB = ${num(sed.store.head.end / N)} B/entry ` +
      `(mean entry estimate ${meanBytes.toFixed(1)} B); page cache after the reads and check: ${count(cache.size)} pages, ${(cache.usedBytes / 2 ** 20).toFixed(1)} MiB of ${(cache.capacityBytes / 2 ** 20).toFixed(0)} MiB.`,
  );
  if (report.problems.length > 0) notes.push(`tree problems: ${report.problems.slice(0, 5).map((p) => p.message).join('; ')}`);
  closeSediment(sed);
  await closeLmdb(lm);
  bt.clear();

  // Batches of 100, random order.
  progress('batches of 100, random order: Sediment');
  {
    const s = openSediment('b100', 'relaxed');
    const sm = sedimentInsert(s, shuffled100);
    closeSediment(s);
    progress(`  ${sm.seconds.toFixed(1)} s; sorted-btree`);
    const b = newBTree();
    const bm = btreeInsert(b, shuffled100);
    b.clear();
    progress(`  ${bm.seconds.toFixed(1)} s; lmdb-js`);
    const l = openLmdbDb('b100', 'relaxed');
    const lmm = lmdbInsert(l, shuffled100);
    await closeLmdb(l);
    progress(`  ${lmm.seconds.toFixed(1)} s`);
    insertRow(`insert ${count(N)}, random order, batches of 100 (relaxed)`, sm, bm, lmm, true);
  }

  // Batches of 10,000, ascending order.
  progress('batches of 10,000, ascending order: Sediment');
  {
    const s = openSediment('seq', 'relaxed');
    const sm = sedimentInsert(s, sorted10k);
    closeSediment(s);
    const b = newBTree();
    const bm = btreeInsert(b, sorted10k);
    b.clear();
    const l = openLmdbDb('seq', 'relaxed');
    const lmm = lmdbInsert(l, sorted10k);
    await closeLmdb(l);
    progress(`  ${sm.seconds.toFixed(1)} s / ${bm.seconds.toFixed(1)} s / ${lmm.seconds.toFixed(1)} s`);
    insertRow(`insert ${count(N)}, ascending order, batches of 10,000 (relaxed)`, sm, bm, lmm, true);
  }

  // Batches of 10,000, random order, full durability.
  progress('batches of 10,000, random order, full durability: Sediment');
  {
    const s = openSediment('full', 'full');
    const sm = sedimentInsert(s, shuffled10k);
    closeSediment(s);
    progress(`  ${sm.seconds.toFixed(1)} s; lmdb-js`);
    const l = openLmdbDb('full', 'full');
    const lmm = lmdbInsert(l, shuffled10k);
    await closeLmdb(l);
    progress(`  ${lmm.seconds.toFixed(1)} s`);
    insertRow(`insert ${count(N)}, random order, batches of 10,000 (full: flushed per commit)`, sm, undefined, lmm, true);
  }

  // Bulk load, then single-entry batches on top of it.
  progress('bulk load, then batches of 1: Sediment');
  {
    const s = openSediment('single', 'relaxed');
    const load = sedimentBulkLoad(s, data.sorted);
    const loadedRead = measureReads([sedimentReader('Sediment (bulk-loaded)', s.tree, s.root)], reads.keys, reads.starts.slice(0, 1), reads.lasts.slice(0, 1))[0]!;
    const sm = sedimentInsert(s, singles);
    const shape = s.tree.check(s.root);
    const rootBytes = s.root === undefined ? 0 : s.store.read(s.root, FrameKind.node).length;
    const rootNode = s.root === undefined ? undefined : s.tree.load(s.root);
    const rootShape = rootNode === undefined ? 'none' : rootNode.kind === 'leaf' ? 'a leaf' : `${rootNode.children.length} children, ${rootNode.buffer.count} buffered ops`;
    notes.push(
      `Sediment bulk-loaded ${count(N)}: ${count(shape.leaves)} leaves, ${count(shape.branches)} branches, depth ${shape.depth} after the ${count(SINGLES)} single inserts ` +
        `(${count(shape.bufferedOps)} buffered); warm lookups on the bulk-loaded tree (before the singles) ${num(loadedRead.lookupUs)} µs. ` +
        `Each single-entry commit rewrites at least the root: after the singles it is a ${rootBytes}-byte page (${rootShape}), of the ${num(sm.bytesPerEntry)} bytes written per commit.`,
    );
    closeSediment(s);
    progress(`  ${load.seconds.toFixed(1)} s + ${sm.seconds.toFixed(1)} s; sorted-btree`);
    const b = new BTree<Datom, true>(
      data.sorted.map((d): [Datom, true] => [d, true]),
      compareDatoms,
    );
    const bm = btreeInsert(b, singles);
    b.clear();
    const bLoad = newBTree();
    const bLoadM = btreeInsert(bLoad, [data.sorted]);
    bLoad.clear();
    progress('  lmdb-js');
    const l = openLmdbDb('single', 'relaxed');
    const lLoad = lmdbAppend(l, data.sorted);
    const lmm = lmdbInsert(l, singles);
    await closeLmdb(l);
    progress(`  ${lLoad.seconds.toFixed(1)} s + ${lmm.seconds.toFixed(1)} s`);
    rows.push({
      workload: `insert ${count(SINGLES)} new entries, batches of 1 (a commit each, relaxed), into ${count(N)} bulk-loaded`,
      sediment: perEntry(sm, true),
      btree: perEntry(bm, false),
      lmdb: perEntry(lmm, true),
      ratios: `S/btree ${ratio(sm.usPerEntry, bm.usPerEntry)}, S/lmdb ${ratio(sm.usPerEntry, lmm.usPerEntry)}`,
      goal: '≤ 300 B/entry (the database goal, for all its indexes together)',
      met: sm.bytesPerEntry <= 300 ? 'yes' : 'no',
    });
    rows.push({
      workload: `bulk load ${count(N)} sorted entries (lmdb: MDB_APPEND in one transaction; btree: set() ascending)`,
      sediment: perEntry(load, true),
      btree: perEntry(bLoadM, false),
      lmdb: perEntry(lLoad, true),
      ratios: `S/btree ${ratio(load.usPerEntry, bLoadM.usPerEntry)}, S/lmdb ${ratio(load.usPerEntry, lLoad.usPerEntry)}`,
      goal: '—',
      met: '—',
    });
  }

  const ordered = [...rows, ...readRows];
  console.log(`\n## Tree benchmark${QUICK ? ' (--quick)' : ''}: ${count(N)} datom-sized entries (mean ${meanBytes.toFixed(1)} B encoded)\n`);
  console.log(machineLine());
  console.log('');
  console.log('| workload | Sediment | sorted-btree | lmdb-js | ratio(s) | goal | met? |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of ordered) console.log(`| ${r.workload} | ${r.sediment} | ${r.btree} | ${r.lmdb} | ${r.ratios} | ${r.goal} | ${r.met} |`);
  console.log('');
  console.log(
    `Inserts: one round each (expensive); reads: median of ${ROUNDS} rounds after one warm-up pass. Time ratios S/x > 1 mean Sediment is slower. ` +
      `Sediment B/entry = file growth / entries (includes commit records: ${FRAME_COMMIT_NOTE}); lmdb-js B/entry = bytes passed to write(2) / entries.`,
  );
  for (const n of notes) console.log(`\n${n}`);
}

const FRAME_COMMIT_NOTE = '12-byte frame header + 32-byte record + 8-byte meta per commit';

function machineLine(): string {
  const cpus = os.cpus();
  return `machine: ${cpus[0]?.model ?? 'cpu'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.platform()} ${os.release()}, tmp ${directory}`;
}

/** The encoding must round-trip and order datoms exactly as compareDatoms does. */
function checkEncoding(sorted: readonly Datom[]): void {
  const step = Math.max(1, Math.floor(sorted.length / 5000));
  for (let i = step; i < sorted.length; i += step) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    const ea = encodeDatom(a);
    const eb = encodeDatom(b);
    if (compareDatoms(decodeDatom(ea, 0), a) !== 0) throw new Error(`encoding does not round-trip ${JSON.stringify(a)}`);
    if (Math.sign(compareBytes(ea, 0, ea.length, eb, 0, eb.length)) !== Math.sign(compareDatoms(a, b))) {
      throw new Error(`encoded order differs for ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
    }
  }
}

// ----- the TreeParams sweep -----------------------------------------------------------------------

/** bufferBytes as a fraction of pageSize in lowest terms, e.g. 3/4 or 29/32. */
const fractionOf = (params: TreeParams): string => {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const d = gcd(params.bufferBytes, params.pageSize);
  return `${params.bufferBytes / d}/${params.pageSize / d}`;
};

function sweep(): void {
  progress(`params sweep: ${count(SWEEP_N)} + ${count(SWEEP_SINGLES)} datoms`);
  const data = makeDataSet(SWEEP_N, SWEEP_SINGLES, SEED + 2);
  const reads = readWorkload(data, SWEEP_N, QUICK ? 50 : 200, SEED + 3);
  const batches = batchesOf(data.shuffled, 100);
  const singles = batchesOf(data.extra, 1);
  const grid: TreeParams[] = [];
  for (const pageSize of [2048, 4096, 8192]) {
    for (const fraction of [1 / 8, 1 / 4, 1 / 2]) grid.push({ pageSize, bufferBytes: pageSize * fraction });
  }
  grid.push(DEFAULT_TREE_PARAMS);
  // Beyond the grid: buffers taking most of the page (fewer children, longer runs per flush).
  for (const pageSize of [2048, 4096, 8192]) grid.push({ pageSize, bufferBytes: (pageSize * 3) / 4 });
  grid.push({ pageSize: 4096, bufferBytes: 3584 });
  // With truncated separators a child costs ~11 bytes of a branch instead of ~30: bytes alone
  // would allow ~90 children. A cap on children keeps the fan-out low (long flush runs) and lets
  // the buffer take the room the pivots leave; a small structure share does the same by bytes.
  for (const maxChildren of [16, 24, 48]) grid.push({ pageSize: 4096, bufferBytes: 3072, maxChildren });
  grid.push({ pageSize: 4096, bufferBytes: 3712 });
  grid.push({ pageSize: 8192, bufferBytes: 6144, maxChildren: 64 });
  const lines: string[] = [];
  for (const params of grid) {
    const label = `${params.pageSize}/${params.bufferBytes}/${params.maxChildren ?? '-'}`;
    progress(`  ${label}`);
    const s = openSediment(`sweep-${label.replaceAll('/', '-')}`, 'relaxed', params);
    const insert = sedimentInsert(s, batches);
    const read = measureReads([sedimentReader(label, s.tree, s.root)], reads.keys, reads.starts, reads.lasts)[0]!;
    const shape = s.tree.check(s.root);
    closeSediment(s);
    const loaded = openSediment(`sweep1-${label.replaceAll('/', '-')}`, 'relaxed', params);
    sedimentBulkLoad(loaded, data.sorted);
    const single = sedimentInsert(loaded, singles);
    const loadedShape = loaded.tree.check(loaded.root);
    closeSediment(loaded);
    const isDefault = params === DEFAULT_TREE_PARAMS;
    lines.push(
      `| ${params.pageSize} | ${params.bufferBytes} (${fractionOf(params)}) | ${params.maxChildren ?? '-'}${isDefault ? ' (default)' : ''} | ${num(insert.usPerEntry)} | ${num(insert.bytesPerEntry)} | ` +
        `${num(read.lookupUs)} | ${num(read.scanUs)} | ${shape.depth} / ${count(shape.leaves)} / ${count(shape.branches)} | ` +
        `${num(single.usPerEntry)} | ${num(single.bytesPerEntry)} | ${loadedShape.depth} |`,
    );
  }
  console.log(`\n## TreeParams sweep${QUICK ? ' (--quick)' : ''}: ${count(SWEEP_N)} datom-sized entries, Sediment only, relaxed\n`);
  console.log(machineLine());
  console.log('');
  console.log(
    `| pageSize | bufferBytes | maxChildren | insert, batches of 100: µs/entry | B/entry | lookup µs (median of ${ROUNDS}, ${count(SWEEP_N)} keys) | µs per ${count(SCAN_LENGTH)}-entry scan | depth / leaves / branches | ${count(SWEEP_SINGLES)} singles on bulk-loaded: µs/entry | singles B/entry | bulk-loaded depth |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const line of lines) console.log(line);
  console.log('\nInserts: one round each. Reads on the tree the batches of 100 built.');
}

// ----- the insert goals, interleaved -----------------------------------------------------------

/**
 * Sediment and lmdb-js insert the same batches into stores of their own, CHUNKS chunks each,
 * taking turns (the first alternating), so that a load that comes and goes on a shared machine
 * falls on both alike; a sequential run can swing either way by 2× under such load.
 */
const CHUNKS = 20;

async function interleaved(): Promise<void> {
  progress(`generating ${count(N)} datoms`);
  const data = makeDataSet(N, 0, SEED);
  const workloads: Array<[string, Datom[][]]> = [
    ['random order, batches of 10,000', batchesOf(data.shuffled, 10_000)],
    ['random order, batches of 100', batchesOf(data.shuffled, 100)],
    ['ascending order, batches of 10,000', batchesOf(data.sorted, 10_000)],
  ];
  const lines: string[] = [];
  for (const [label, batches] of workloads) {
    progress(label);
    const s = openSediment(`interleaved-${lines.length}`, 'relaxed');
    const l = openLmdbDb(`interleaved-${lines.length}`, 'relaxed');
    const per = Math.ceil(batches.length / CHUNKS);
    const totals = { s: 0, flush: 0, l: 0, sBytes: 0, lBytes: 0 };
    const ratios: number[] = [];
    for (let c = 0; c * per < batches.length; c++) {
      const chunk = batches.slice(c * per, (c + 1) * per);
      const entries = chunk.reduce((sum, b) => sum + b.length, 0);
      let sm: InsertMeasure | undefined;
      let lm: InsertMeasure | undefined;
      if (c % 2 === 0) {
        sm = sedimentInsert(s, chunk);
        lm = lmdbInsert(l, chunk);
      } else {
        lm = lmdbInsert(l, chunk);
        sm = sedimentInsert(s, chunk);
      }
      totals.s += sm.usPerEntry * entries;
      totals.flush += (sm.flushUsPerEntry ?? 0) * entries;
      totals.l += lm.usPerEntry * entries;
      totals.sBytes += sm.bytesPerEntry * entries;
      totals.lBytes += lm.bytesPerEntry * entries;
      ratios.push(sm.usPerEntry / lm.usPerEntry);
    }
    closeSediment(s);
    await closeLmdb(l);
    const n = data.sorted.length;
    lines.push(
      `| ${label} | ${num(totals.s / n)} µs/entry (flushes ${num(totals.flush / n)}), ${num(totals.sBytes / n)} B/entry | ` +
        `${num(totals.l / n)} µs/entry, ${num(totals.lBytes / n)} B/entry | ${ratio(totals.s, totals.l)} | ${median(ratios).toFixed(2)}× | ${totals.s <= totals.l ? 'yes' : 'no'} |`,
    );
  }
  console.log(`\n## Insert goals, interleaved: ${count(N)} datom-sized entries, relaxed, ${CHUNKS} chunks each taking turns\n`);
  console.log(machineLine());
  console.log('');
  console.log('| workload | Sediment | lmdb-js | S/lmdb, totals | S/lmdb, median chunk | µs/entry ≤ lmdb-js? |');
  console.log('|---|---|---|---|---|---|');
  for (const line of lines) console.log(line);
}

// ----- main ---------------------------------------------------------------------------------------

try {
  if (SWEEP) sweep();
  else if (INTERLEAVED) await interleaved();
  else await compare();
  progress(`total ${((nowUs() - Number(started) / 1e3) / 1e6).toFixed(0)} s`);
} finally {
  fs.rmSync(directory, { recursive: true, force: true });
}
