/**
 * What one commit costs on this machine, beside its floor: a `full` commit of a few small pages
 * against a raw append of the same number of bytes followed by fdatasync; then bytes and time per
 * commit in `relaxed` mode. Medians of several rounds; ratios are what matter.
 *
 *   npm run bench:commit
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FrameKind } from '../lib/storage/format.js';
import { openStoreFile } from '../lib/storage/store-file.js';

const ROUNDS = 5;
const COMMITS = 300;
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'sediment-bench-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const page = Buffer.alloc(100, 7);

function fullCommits(): { usPerCommit: number; bytesPerCommit: number } {
  const file = path.join(directory, `full-${Math.random()}.db`);
  const store = openStoreFile(file, { create: true });
  const before = fs.statSync(file).size;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < COMMITS; i++) {
    store.append(FrameKind.node, page);
    store.commit(Buffer.alloc(16));
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e3;
  store.close();
  return { usPerCommit: elapsed / COMMITS, bytesPerCommit: (fs.statSync(file).size - before) / COMMITS };
}

function rawFdatasync(bytes: number): number {
  const file = path.join(directory, `raw-${Math.random()}.bin`);
  const fd = fs.openSync(file, 'w+');
  const chunk = Buffer.alloc(Math.round(bytes), 7);
  const slot = Buffer.alloc(64, 1);
  let position = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < COMMITS; i++) {
    fs.writeSync(fd, chunk, 0, chunk.length, 4096 + position);
    fs.writeSync(fd, slot, 0, slot.length, 512 * (1 + (i % 2))); // the same two writes as a commit
    fs.fdatasyncSync(fd);
    position += chunk.length;
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e3;
  fs.closeSync(fd);
  return elapsed / COMMITS;
}

function relaxedCommits(n: number, metaBytes: number): { usPerCommit: number; bytesPerCommit: number } {
  const file = path.join(directory, `relaxed-${Math.random()}.db`);
  const store = openStoreFile(file, { create: true, durability: 'relaxed' });
  const before = fs.statSync(file).size;
  const meta = Buffer.alloc(metaBytes);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) store.commit(meta);
  store.close();
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e3;
  return { usPerCommit: elapsed / n, bytesPerCommit: (fs.statSync(file).size - before) / n };
}

const full: number[] = [];
const raw: number[] = [];
let bytesPerCommit = 0;
for (let r = 0; r < ROUNDS; r++) {
  const f = fullCommits();
  full.push(f.usPerCommit);
  bytesPerCommit = f.bytesPerCommit;
  raw.push(rawFdatasync(f.bytesPerCommit));
}
const empty = relaxedCommits(10_000, 0);
const fullMedian = median(full);
const rawMedian = median(raw);
console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}, tmp ${directory}`);
console.log('| workload | Sediment | floor | ratio |');
console.log('|---|---|---|---|');
console.log(`| full-durability commit, one ${page.length}-byte page (${bytesPerCommit.toFixed(0)} B) | ${fullMedian.toFixed(0)} µs (min ${Math.min(...full).toFixed(0)}, max ${Math.max(...full).toFixed(0)}) | raw write + fdatasync ${rawMedian.toFixed(0)} µs (min ${Math.min(...raw).toFixed(0)}, max ${Math.max(...raw).toFixed(0)}) | ${(fullMedian / rawMedian).toFixed(2)}× |`);
console.log(`| empty commit, relaxed | ${empty.usPerCommit.toFixed(2)} µs, ${empty.bytesPerCommit.toFixed(1)} B/commit | — | — |`);
fs.rmSync(directory, { recursive: true, force: true });
