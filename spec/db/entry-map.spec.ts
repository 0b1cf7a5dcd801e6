/**
 * Novelty's ordered map (EntryMap: pending writes kept as bytes, merged into sorted chunks when
 * read in order, a few of them one by one in the order made) against a plain Map whose keys are
 * sorted on every read. Random runs of writes (as strings or as bytes inside a larger buffer; the
 * same key often written and deleted between two reads), point and prefix reads, ordered reads
 * from random keys both ways, whole reads as bytes that leave the pending writes pending
 * (`inOrder`, as the indexing commit reads), sizes and clones (each side written after the clone,
 * the other left as it was). Keys share long prefixes and differ in the bytes
 * 0x00 and 0xff and in length, so that the sort's six-byte words tie and pad; runs are long
 * enough for chunks to split, for a merge to go key by key (few pending writes) or rebuild the
 * chunks (many), and for a sort to take more than one of its blocks' worth of 16-bit positions
 * only where the test sets such a size (below). A failure prints fast-check's seed and path;
 * SEDIMENT_SEED replays a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryMap } from '../../lib/db/index/entry-map.js';
import type { Mark } from '../../lib/db/index/novelty.js';

const PREFIXES = ['', '\x00', 'ab', 'abcdef', 'abcdefg\x00', '\xff\xff\xff\xff\xff\xff'];
const CHARS = ['\x00', '\x01', 'a', '\xff'];

const keyArb = fc
  .tuple(fc.constantFrom(...PREFIXES), fc.array(fc.constantFrom(...CHARS), { maxLength: 3 }))
  .map(([prefix, rest]) => prefix + rest.join(''));

type Op =
  | { kind: 'set'; key: string; added: number; bytes?: boolean }
  | { kind: 'delete'; key: string; bytes?: boolean }
  | { kind: 'get'; key: string }
  | { kind: 'size' }
  | { kind: 'extensions'; prefix: string }
  | { kind: 'ordered' }
  | { kind: 'from'; key: string | undefined; reverse: boolean; skip: boolean; take: number }
  | { kind: 'clone'; keepWritingOriginal: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('set' as const), key: keyArb, added: fc.nat(1000), bytes: fc.boolean() }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb, bytes: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('size' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('extensions' as const), prefix: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('ordered' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('from' as const),
      key: fc.option(keyArb, { nil: undefined }),
      reverse: fc.boolean(),
      skip: fc.boolean(),
      take: fc.integer({ min: 1, max: 2000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clone' as const), keepWritingOriginal: fc.boolean() }) },
);

const sortedEntries = (model: Map<string, Mark>) => [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** What the model says `entries(key)` / `entriesReversed(key, _, skip)` give, `take` of them. */
function expectedFrom(model: Map<string, Mark>, op: Extract<Op, { kind: 'from' }>): [string, Mark][] {
  const all = sortedEntries(model);
  const { key } = op;
  const picked = op.reverse
    ? all.filter(([k]) => key === undefined || k < key || (k === key && !op.skip)).reverse()
    : all.filter(([k]) => key === undefined || k >= key);
  return picked.slice(0, op.take);
}

/** The mark of `key`, read as point reads read it: the first entry from the key on. */
function markOf(map: EntryMap, key: string): Mark | undefined {
  const step = map.entries(key, []).next();
  return step.done !== true && step.value[0] === key ? step.value[1] : undefined;
}

function take(iterator: Iterator<[string, Mark]>, n: number): [string, Mark][] {
  const out: [string, Mark][] = [];
  for (let step = iterator.next(); step.done !== true && out.length < n; step = iterator.next()) out.push([step.value[0], step.value[1]]);
  return out;
}

/** A key's bytes inside a larger buffer, as novelty's planned keys lie in theirs: [bytes, start, end]. */
function framed(key: string): [Uint8Array, number, number] {
  const bytes = Buffer.from(`\x07\x07${key}\x07`, 'latin1');
  return [bytes, 2, 2 + key.length];
}

/** `EntryMap.inOrder` as pairs of a key (as a string) and its mark. */
function ordered(map: EntryMap): [string, Mark][] {
  const { entries, marks } = map.inOrder();
  return marks.map((mark, i) => [Buffer.from(entries.bytes.subarray(entries.start(i), entries.end(i))).toString('latin1'), mark]);
}

/** Runs `ops` on the map and the model side by side; a clone forks both, the other pair checked at the end. */
function run(ops: readonly Op[]): void {
  let map = new EntryMap();
  let model = new Map<string, Mark>();
  const forks: { map: EntryMap; model: Map<string, Mark> }[] = [];
  for (const op of ops) {
    switch (op.kind) {
      case 'set': {
        const mark = { added: op.added, removed: 0 };
        if (op.bytes === true) map.setBytes(...framed(op.key), mark);
        else map.set(op.key, mark);
        model.set(op.key, mark);
        break;
      }
      case 'delete':
        if (op.bytes === true) map.deleteBytes(...framed(op.key));
        else map.delete(op.key);
        model.delete(op.key);
        break;
      case 'get':
        expect(markOf(map, op.key)).toBe(model.get(op.key));
        break;
      case 'size':
        expect(map.size).toBe(model.size);
        break;
      case 'extensions': {
        const keys: string[] = [];
        const marks: Mark[] = [];
        map.extensions(op.prefix, keys, marks);
        expect(keys.map((k, i) => [k, marks[i]])).toEqual(sortedEntries(model).filter(([k]) => k.startsWith(op.prefix)));
        break;
      }
      case 'ordered':
        // Leaves the pending writes pending: the reads after it settle them as if it had not run.
        expect(ordered(map)).toEqual(sortedEntries(model));
        break;
      case 'from': {
        const got = op.reverse ? map.entriesReversed(op.key, [], op.skip) : map.entries(op.key, []);
        expect(take(got, op.take)).toEqual(expectedFrom(model, op));
        break;
      }
      case 'clone': {
        const copy = map.clone();
        const copyModel = new Map(model);
        // Keep writing one of the two; the other is checked, unchanged, at the end.
        if (op.keepWritingOriginal) {
          forks.push({ map: copy, model: copyModel });
        } else {
          forks.push({ map, model });
          map = copy;
          model = copyModel;
        }
        break;
      }
    }
  }
  for (const side of [{ map, model }, ...forks]) {
    expect(side.map.size).toBe(side.model.size);
    expect(take(side.map.entries(), Infinity)).toEqual(sortedEntries(side.model));
    expect(ordered(side.map)).toEqual(sortedEntries(side.model));
  }
}

const seed = Number(process.env['SEDIMENT_SEED'] ?? 0x3a9);
/**
 * Shrinking a failure of thousands of operations ran for many minutes (planted bugs): it stops
 * after 30 s and reports the case shrunk so far, which the printed seed and path replay. A passing
 * run takes about 2 s.
 */
const bounded = { interruptAfterTimeLimit: 30_000, markInterruptAsFailure: true };

describe('EntryMap against a sorted model', () => {
  it('agrees on every read after random writes, reads in order and clones', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 3000, size: 'max' }), (ops) => run(ops)),
      { numRuns: 60, seed, ...bounded },
    );
  });

  it('agrees when many distinct keys are written between reads (chunks split, merges rebuild)', () => {
    // Distinct keys in the thousands: a key space of prefixes times numbered suffixes.
    const manyKeys = fc
      .tuple(fc.constantFrom(...PREFIXES), fc.nat(5000), fc.constantFrom(...CHARS))
      .map(([prefix, n, c]) => `${prefix}${String.fromCharCode(n >> 8, n & 0xff)}${c}`);
    const writes = fc.array(
      fc.oneof(
        { weight: 8, arbitrary: fc.record({ kind: fc.constant('set' as const), key: manyKeys, added: fc.nat(1000), bytes: fc.boolean() }) },
        { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: manyKeys, bytes: fc.boolean() }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), key: manyKeys }) },
      ),
      { minLength: 100, maxLength: 4000, size: 'max' },
    );
    const reads = fc.array(
      fc.record({ kind: fc.constant('from' as const), key: fc.option(manyKeys, { nil: undefined }), reverse: fc.boolean(), skip: fc.boolean(), take: fc.integer({ min: 1, max: 50 }) }),
      { maxLength: 3, size: 'max' },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(writes, reads), { minLength: 1, maxLength: 4, size: 'max' }), (rounds) => run(rounds.flatMap(([w, r]) => [...w, ...r]))),
      { numRuns: 25, seed, ...bounded },
    );
  });

  it('drops a chunk that deletions settled one by one have emptied', () => {
    // 20,000 keys make chunks of 384; deleting 1,000 consecutive keys a few at a time, each batch
    // settled by a read, goes through single removals (few writes beside the entries) and empties
    // at least one whole chunk, which must leave the list: searches and iterators meet no empty chunk.
    const map = new EntryMap();
    const model = new Map<string, Mark>();
    const mark = { added: 1, removed: 0 };
    const key = (n: number) => `k${String(n).padStart(6, '0')}`;
    for (let n = 0; n < 20_000; n++) {
      map.set(key(n), mark);
      model.set(key(n), mark);
    }
    expect(map.size).toBe(model.size);
    for (let n = 5_000; n < 6_000; n += 4) {
      for (let k = n; k < n + 4; k++) {
        map.delete(key(k));
        model.delete(key(k));
      }
      expect(markOf(map, key(n + 4))).toBe(model.get(key(n + 4)));
      expect(map.size).toBe(model.size);
    }
    for (const probe of [4_999, 5_000, 5_500, 5_999, 6_000]) {
      expect(markOf(map, key(probe))).toBe(model.get(key(probe)));
      expect(take(map.entries(key(probe), []), 3)).toEqual(expectedFrom(model, { kind: 'from', key: key(probe), reverse: false, skip: false, take: 3 }));
      expect(take(map.entriesReversed(key(probe), [], false), 3)).toEqual(expectedFrom(model, { kind: 'from', key: key(probe), reverse: true, skip: false, take: 3 }));
    }
    map.set(key(5_500), mark);
    model.set(key(5_500), mark);
    expect(take(map.entries(key(5_400), []), 3)).toEqual(expectedFrom(model, { kind: 'from', key: key(5_400), reverse: false, skip: false, take: 3 }));
    expect(take(map.entries(), Infinity)).toEqual(sortedEntries(model));
  });

  it('sorts more pending keys than one sort block holds (65,536)', () => {
    const map = new EntryMap();
    const model = new Map<string, Mark>();
    const mark = { added: 1, removed: 0 };
    // Descending numbered keys with a shared six-byte head for every 7th (ties to compare as strings).
    for (let n = 140_000; n > 0; n--) {
      const key = n % 7 === 0 ? `abcdef${n}` : `${String.fromCharCode(n >> 16, (n >> 8) & 0xff, n & 0xff)}x`;
      map.set(key, mark);
      model.set(key, mark);
    }
    expect(ordered(map).map(([k]) => k)).toEqual([...model.keys()].sort());
    expect(take(map.entries(), Infinity).map(([k]) => k)).toEqual([...model.keys()].sort());
  });
});
