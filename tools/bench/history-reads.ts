/**
 * Reads of the present beside a long history (the database issue's goal): the age of a person
 * whose age changed 1,000 times against one whose age never changed, read through
 * db.datoms('eavt', e, 'age'). Twice: once the changes have been indexed into the trees, and once
 * they are still in novelty (the last commits since the epoch began). Sediment alone: the peers
 * keep no history to compare with.
 */
import { Database } from '../../lib/index.js';
import { peopleDataset } from './datasets.js';
import { sedimentSchema, sedimentTxData } from './engines.js';
import { type Context, fail, figure, freshFile, nowUs, removeDb, repeat, type Row, type Workload } from './harness.js';

const WORKLOAD = '2b. reads beside history';
const CHANGES = 1_000;

interface HistoryDb {
  readonly conn: ReturnType<typeof Database.open>;
  readonly file: string;
  /** Never changed; changed 1,000 times and indexed since; changed 1,000 times in novelty. */
  readonly still: number;
  readonly indexed: number;
  readonly novel: number;
}

/**
 * People imported (indexed into the trees), one person's age changed CHANGES times, enough new
 * people for the next indexing to write those changes into the trees, then another person's age
 * changed CHANGES times after it.
 */
function build(ctx: Context, people: number, padding: number): HistoryDb {
  const file = freshFile(ctx, 'sediment-history.db');
  const conn = Database.open(file, { create: true, durability: 'relaxed' });
  const d = peopleDataset({ people });
  conn.transact(sedimentSchema(d));
  const ids = Object.values(conn.transact(sedimentTxData(d)).tempids);
  const [still, indexed, novel] = [ids[0]!, ids[1]!, ids[2]!];
  for (let i = 1; i <= CHANGES; i++) conn.transact([['db/add', indexed, 'age', 1000 + i]]);
  conn.transact(sedimentTxData(peopleDataset({ people: padding }, 7)));
  for (let i = 1; i <= CHANGES; i++) conn.transact([['db/add', novel, 'age', 2000 + i]]);
  conn.sync();
  return { conn, file, still, indexed, novel };
}

function ageOf(h: HistoryDb, e: number): number {
  let age = -1;
  for (const d of h.conn.db().datoms('eavt', e, 'age')) age = d.v as number;
  return age;
}

function check(h: HistoryDb): void {
  if (ageOf(h, h.indexed) !== 1000 + CHANGES) fail(`the indexed person's age is ${ageOf(h, h.indexed)}`);
  if (ageOf(h, h.novel) !== 2000 + CHANGES) fail(`the novel person's age is ${ageOf(h, h.novel)}`);
  const history = [...h.conn.db().history().datoms('eavt', h.novel, 'age')].length;
  if (history !== 2 * CHANGES + 1) fail(`${history} history datoms of the novel person's age`);
  if (h.conn.db().snapshot.state.novelty.datomCount === 0) fail('the last changes are not in novelty');
}

export const historyReadsWorkload: Workload = {
  name: 'history-reads',
  async run(ctx) {
    // Padding: past the indexing threshold (65,536 datoms), so the first changes reach the trees.
    const h = build(ctx, ctx.quick ? 10_000 : 20_000, 8_000);
    check(h);
    const reads = ctx.quick ? 5_000 : 20_000;
    const time = (e: number) =>
      repeat(ctx, () => {
        const db = h.conn.db();
        const t0 = nowUs();
        for (let i = 0; i < reads; i++) for (const d of db.datoms('eavt', e, 'age')) if (d.v === -1) fail('impossible');
        return (nowUs() - t0) / reads;
      });
    const still = time(h.still);
    const indexed = time(h.indexed);
    const novel = time(h.novel);
    h.conn.close();
    removeDb(h.file);
    const row = (what: string, s: ReturnType<typeof time>): Row => ({
      workload: WORKLOAD,
      metric: `age of a person changed ${CHANGES.toLocaleString('en-US')} times, ${what}, vs one never changed: µs/read`,
      sediment: figure(s, 'µs'),
      peers: { floor: figure(still, 'µs', 'never changed') },
      goal: '≤ 2× the never-changed read',
      met: s.median <= 2 * still.median,
    });
    return [row('the changes indexed into the trees', indexed), row('the changes in novelty', novel)];
  },
  async check(ctx) {
    const h = build(ctx, 300, 8_000);
    check(h);
    h.conn.close();
    removeDb(h.file);
  },
};
