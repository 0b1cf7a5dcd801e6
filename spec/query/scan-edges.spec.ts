/**
 * Edge cases of the read path's shortcuts, against values computed directly from the datoms:
 * comparisons pushed into scans and AVET ranges (long and double attributes, indexed or not,
 * constants of every numeric sign, -0, doubles against longs, strings and bigints that must not be
 * pushed, the variable on either side), constant values compared as encoded bytes (large values
 * stored as stand-ins, with a variable attribute too), merge joins over entity ids that cross the
 * pair-packing boundaries (2^15, 2^16), cardinality-many slots past the transactor's 8-value switch,
 * and `count` under `:with`; on the present, history, asOf, since and `with` values. Small indexing
 * thresholds put datoms in novelty and in the trees.
 * SEDIMENT_SEED replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import type { Db } from '../../lib/db/db.js';
import { compareValues, valueEquals } from '../../lib/query/values.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { initialFileImage, PageStore } from '../../lib/storage/page-store.js';
import { prng } from '../support/store-workload.js';

const SEED = process.env['SEDIMENT_SEED'] === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env['SEDIMENT_SEED']);

function connection(indexThreshold: number): Connection {
  const store = PageStore.open(new MemoryBackend(initialFileImage({ pageSize: 4096 })), { readOnly: false, durability: 'relaxed', cacheBytes: 1 << 20 });
  return new Connection(store, { indexThreshold });
}

const canon = (rows: unknown) => (rows as unknown[][]).map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).sort();

const SCHEMA = [
  { 'db/ident': 'x/l', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'x/li', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'x/d', 'db/valueType': 'db.type/double', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'x/di', 'db/valueType': 'db.type/double', 'db/cardinality': 'db.cardinality/many', 'db/index': true },
  { 'db/ident': 'x/s', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'x/si', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many', 'db/index': true },
  { 'db/ident': 'x/tag', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/many' },
  { 'db/ident': 'x/ref', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/one' },
];

const NUMBERS = [0, -0, 1, -1, 2, 7, -7, 12, 255, 256, -256, 65_536, -65_537, 2 ** 31, -(2 ** 31), 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
const DOUBLES = [0.5, -0.5, 1.5, -1.5, 6.999, 7.0001, 1e-300, -1e-300, 1e300, -1e300, Infinity, -Infinity, 2 ** 53 + 2, Number.MIN_VALUE];
const BIG = 'b'.repeat(300);
// Large values sharing their first 256 bytes (ordered by digest in the index), one just at the limit.
const STRINGS = ['', 'a', 'x', 'é', '\u0000z', 'a'.repeat(256), 'a'.repeat(257), `${BIG}1`, `${BIG}2`, `${'é'.repeat(130)}`, `${'\u0000'.repeat(300)}`];

describe('read-path shortcuts against the datoms', () => {
  it('pushed comparisons, encoded constants, packed joins, card-many slots and :with counts', () => {
    let checked = 0;
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const r = prng(seed);
        const int = (n: number) => Math.floor(r() * n);
        const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
        const conn = connection(1 + int(40));
        conn.transact(SCHEMA);
        // Entity ids across 2^15 and 2^16: ids are allocated in order, so burn a range first.
        const skip = pick([0, 0, 0, 0, 2 ** 15 - 40, 2 ** 16 - 40]);
        if (skip > 0) {
          for (let done = 0; done < skip; ) {
            const n = Math.min(4000, skip - done);
            conn.transact(Array.from({ length: n }, (_, i) => ({ 'db/id': `f${i}`, 'x/tag': 'filler' })));
            done += n;
          }
        }
        const entities: number[] = [];
        const number = () => (r() < 0.5 ? pick(NUMBERS) : int(200) - 100);
        const double = () => (r() < 0.5 ? pick(DOUBLES) : r() < 0.5 ? pick(NUMBERS) : (int(400) - 200) / 8);
        for (let t = 0; t < 6 + int(8); t++) {
          const data: unknown[] = [];
          for (let k = 0; k < 1 + int(25); k++) {
            const m: Record<string, unknown> = { 'db/id': `n${k}` };
            if (r() < 0.7) m['x/l'] = number();
            if (r() < 0.7) m['x/li'] = number();
            if (r() < 0.7) m['x/d'] = double();
            if (r() < 0.5) m['x/di'] = Array.from({ length: 1 + int(12) }, double);
            if (r() < 0.6) m['x/s'] = pick(STRINGS);
            if (r() < 0.5) m['x/si'] = Array.from({ length: 1 + int(12) }, () => pick(STRINGS));
            if (r() < 0.5) m['x/tag'] = Array.from({ length: 1 + int(14) }, () => `t${int(20)}`);
            if (entities.length > 0 && r() < 0.5) m['x/ref'] = pick(entities);
            data.push(m);
          }
          // Existing entities: more card-many values (past 8 across transactions), retractions.
          const touched = new Set<number>();
          for (let k = 0; k < int(4) && entities.length > 0; k++) {
            const e = pick(entities);
            // One operation per entity and transaction: two values of x/s would conflict.
            if (touched.has(e)) continue;
            touched.add(e);
            const roll = r();
            if (roll < 0.4) data.push({ 'db/id': e, 'x/tag': Array.from({ length: 1 + int(12) }, () => `t${int(20)}`), 'x/di': [double(), double()] });
            else if (roll < 0.6) data.push(['db/retractEntity', e]);
            else if (roll < 0.8) {
              const held = [...conn.db().datoms('eavt', e, 'x/tag')];
              for (const d of held.slice(0, int(held.length + 1))) data.push(['db/retract', e, 'x/tag', d.v]);
            } else data.push(['db/add', e, 'x/s', pick(STRINGS)]);
          }
          const retracted = new Set(data.filter((op) => Array.isArray(op) && op[0] === 'db/retractEntity').map((op) => (op as unknown[])[1]));
          const kept = data.filter((op) => Array.isArray(op) || !retracted.has((op as { 'db/id': unknown })['db/id']));
          const report = conn.transact(kept);
          for (const [name, id] of Object.entries(report.tempids)) if (name.startsWith('n')) entities.push(id);
        }
        const db = conn.db();
        // Past and filtered values (a mid-run tx, usually in an earlier indexing epoch), and a
        // speculative one whose large values live only in its novelty.
        const mid = db.basisT - 1 - int(4);
        const speculative = db.with([{ 'db/id': 'w', 'x/s': `${BIG}w`, 'x/si': [`${BIG}1`, `${BIG}w`], 'x/d': -0.25, 'x/li': 2 ** 31, 'x/tag': ['t1', 'w'] }]).dbAfter;
        const views: [string, Db][] = [
          ['now', db],
          ['history', db.history()],
          [`asOf ${mid}`, db.asOf(mid)],
          [`since ${mid}`, db.since(mid)],
          ['with', speculative],
        ];
        for (const [label, view] of views) {
          const hist = label === 'history';
          const datoms = [...view.datoms('eavt')];
          const of = (a: string) => datoms.filter((d) => d.a === a);
          const where = `seed ${seed} ${label}`;
          // 1. Comparisons, pushed into the scan or an AVET range.
          for (let q = 0; q < 6; q++) {
            const attr = pick(['x/l', 'x/li', 'x/d', 'x/di']);
            const constants: unknown[] = [pick(NUMBERS), pick(DOUBLES), int(40) - 20, 'a', 3n, (int(40) - 20) / 4];
            const preds: { op: string; c: unknown; right: boolean }[] = [];
            for (let p = 0; p < 1 + int(2); p++) preds.push({ op: pick(['<', '<=', '>', '>=', '!=', '=']), c: pick(constants), right: r() < 0.5 });
            const args = preds.map((_, i) => `?c${i}`);
            // Half the constants written in the query (finite numbers), half given as inputs.
            const written = preds.map((p) => typeof p.c === 'number' && Number.isFinite(p.c) && r() < 0.5);
            const argText = preds.map((p, i) => (written[i] ? String(Object.is(p.c, -0) ? '-0.0' : p.c) : args[i]!));
            const clauses2 = preds.map((p, i) => (p.right ? `[(${p.op} ${argText[i]} ?v)]` : `[(${p.op} ?v ${argText[i]})]`));
            const inputArgs = args.filter((_, i) => !written[i]);
            const text = `[:find ?e ?v${hist ? ' ?tx ?added' : ''} :in $ ${inputArgs.join(' ')} :where [?e :${attr} ?v${hist ? ' ?tx ?added' : ''}] ${clauses2.join(' ')}]`;
            const test = (op: string, x: unknown, y: unknown) => {
              if (op === '=') return valueEquals(x, y);
              if (op === '!=') return !valueEquals(x, y);
              const c = compareValues(x, y);
              return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
            };
            const expected = of(attr)
              .filter((d) => preds.every((p) => (p.right ? test(p.op, p.c, d.v) : test(p.op, d.v, p.c))))
              .map((d) => (hist ? [d.e, d.v, d.tx, d.added] : [d.e, d.v]));
            const got = view.q(text, ...preds.filter((_, i) => !written[i]).map((p) => p.c));
            expect(canon(got), `${where} ${text} ${preds.map((p) => String(p.c)).join(' ')}`).toEqual(canon(expected));
            checked++;
          }
          // 2. Constant values as encoded bytes: named attribute (AEVT filter or AVET prefix) and variable attribute.
          for (let q = 0; q < 3; q++) {
            const value = pick(STRINGS);
            for (const attr of ['x/s', 'x/si']) {
              const expected = [...new Set(of(attr).filter((d) => d.v === value).map((d) => d.e))].map((e) => [e]);
              expect(canon(view.q(`[:find ?e :in $ ?x :where [?e :${attr} ?x]]`, value)), `${where} ${attr} = ${value.slice(0, 8)}…${value.length}`).toEqual(canon(expected));
            }
            const any = [...new Set(datoms.filter((d) => d.v === value).map((d) => JSON.stringify([d.e, d.a])))].map((x) => JSON.parse(x) as unknown[]);
            expect(canon(view.q('[:find ?e ?a :in $ ?x :where [?e ?a ?x]]', value)), `${where} ?a = ${value.slice(0, 8)}…${value.length}`).toEqual(canon(any));
            // Written in the query: a constant of the pattern itself (compared as encoded bytes when
            // outside the index prefix), alone and joined on the entity (a merge join).
            const literal = JSON.stringify(value);
            for (const attr of ['x/s', 'x/si']) {
              const es = [...new Set(of(attr).filter((d) => d.v === value).map((d) => d.e))];
              expect(canon(view.q(`[:find ?e :where [?e :${attr} ${literal}]]`)), `${where} ${attr} literal ${value.slice(0, 8)}…${value.length}`).toEqual(canon(es.map((e) => [e])));
              const withTags = of('x/tag').filter((d) => es.includes(d.e)).map((d) => JSON.stringify([d.e, d.v]));
              expect(canon(view.q(`[:find ?e ?t :where [?e :x/tag ?t] [?e :${attr} ${literal}]]`)), `${where} ${attr} literal join`).toEqual([...new Set(withTags)].sort());
            }
            expect(canon(view.q(`[:find ?e ?a :where [?e ?a ${literal}]]`)), `${where} ?a literal ${value.slice(0, 8)}…${value.length}`).toEqual(canon(any));
            const tagged = new Set(of('x/tag').map((d) => d.e));
            expect(canon(view.q(`[:find ?e ?a :where [?e :x/tag _] [?e ?a ${literal}]]`)), `${where} ?a literal join`).toEqual(canon(any.filter(([e]) => tagged.has(e as number))));
            checked++;
          }
          if (label !== 'now') continue;
          // 3. Joins on the entity (merge joins), on entity pairs (packed keys), through the ref.
          const byE = (a: string) => {
            const m = new Map<number, unknown[]>();
            for (const d of of(a)) m.set(d.e, [...(m.get(d.e) ?? []), d.v]);
            return m;
          };
          const tags = byE('x/tag');
          const ls = byE('x/li');
          const refs = of('x/ref');
          const lo = pick(NUMBERS);
          const joinExpected = [...ls].filter(([, v]) => (v[0] as number) > lo).flatMap(([e, v]) => (tags.get(e) ?? []).map((t) => [e, v[0], t]));
          expect(canon(db.q('[:find ?e ?v ?t :in $ ?lo :where [?e :x/li ?v] [(> ?v ?lo)] [?e :x/tag ?t]]', lo)), `${where} merge join > ${lo}`).toEqual(canon(joinExpected));
          const pairs = refs.flatMap((d) => (tags.get(d.e) ?? []).flatMap((t) => ((tags.get(d.v as number) ?? []).includes(t) ? [[d.e, d.v]] : [])));
          expect(canon(db.q('[:find ?e ?f :where [?e :x/ref ?f] [?e :x/tag ?t] [?f :x/tag ?t]]')), `${where} ref pairs sharing a tag`).toEqual(canon([...new Set(pairs.map((p) => JSON.stringify(p)))].map((p) => JSON.parse(p) as unknown[])));
          const pairRule = refs.filter((d) => (ls.get(d.e)?.[0] ?? null) !== null && ls.get(d.v as number) !== undefined).map((d) => [d.e, d.v]);
          expect(canon(db.q('[:find ?e ?f :where [?e :x/ref ?f] [?e :x/li _] [?f :x/li _] [?e :x/ref ?f]]')), `${where} ref pair join`).toEqual(canon(pairRule));
          // 4. count under :with counts every entity's tags; without :with, distinct tags only.
          const tagCount = of('x/tag').length;
          expect(db.q('[:find (count ?t) . :with ?e :where [?e :x/tag ?t]]') ?? 0, `${where} count :with`).toBe(tagCount);
          expect(db.q('[:find (count ?t) . :where [?e :x/tag ?t]]') ?? 0, `${where} count`).toBe(new Set(of('x/tag').map((d) => d.v)).size);
          const perValue = new Map<unknown, number>();
          for (const d of of('x/li')) perValue.set(d.v, (perValue.get(d.v) ?? 0) + 1);
          expect(canon(db.q('[:find ?v (count ?e) :with ?e :where [?e :x/li ?v]]')), `${where} count by value`).toEqual(canon([...perValue]));
          checked++;
        }
      }),
      { seed: SEED, numRuns: 10 },
    );
    console.log(`scan-edges: seed ${SEED}, ${checked} checks`);
    expect(checked).toBeGreaterThan(10 * 20);
  });
});
