/**
 * A small random workload over five attributes (string with AVET, long, keyword many, ref many,
 * large text), shared by specs that compare two read or write paths on the same databases.
 */
export const SCHEMA = [
  { 'db/ident': 'k/name', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one', 'db/index': true },
  { 'db/ident': 'k/n', 'db/valueType': 'db.type/long', 'db/cardinality': 'db.cardinality/one' },
  { 'db/ident': 'k/tags', 'db/valueType': 'db.type/keyword', 'db/cardinality': 'db.cardinality/many' },
  { 'db/ident': 'k/friend', 'db/valueType': 'db.type/ref', 'db/cardinality': 'db.cardinality/many', 'db/index': true },
  { 'db/ident': 'k/text', 'db/valueType': 'db.type/string', 'db/cardinality': 'db.cardinality/one' },
];

export const NAMES = ['', 'a', 'ab', 'é', 'a\u0000b', 'Zed'];
const LARGE = ['x'.repeat(300), 'y'.repeat(400)];

/** Transaction data for random operations [kind, entity, other entity, value] on `ids` (tempids when not made yet). */
export function txData(ops: readonly [number, number, number, number][], ids: number[]): unknown[] {
  const ref = (i: number) => ids[i] ?? `t${i}`;
  return ops.map(([kind, i, j, x]) => {
    switch (kind) {
      case 0:
      case 1:
        return ['db/add', ref(i), 'k/name', NAMES[x]];
      case 2:
        return ['db/add', ref(i), 'k/n', x * 1000 - 2000];
      case 3:
        return ['db/add', ref(i), 'k/tags', `t/${x}`];
      case 4:
        // A tempid only used as a value names no entity: refs go to entities made already.
        return ids[j] === undefined ? ['db/add', ref(i), 'k/n', x] : ['db/add', ref(i), 'k/friend', ids[j]];
      case 5:
        return ['db/add', ref(i), 'k/text', LARGE[x % 2]];
      case 6:
        return ids[i] === undefined ? ['db/add', ref(i), 'k/n', x] : ['db/retract', ids[i], 'k/tags', `t/${x}`];
      case 7:
        return ids[i] === undefined ? ['db/add', ref(i), 'k/n', x] : ['db/retract', ids[i], 'k/name'];
      case 8:
        return ids[i] === undefined || ids[j] === undefined ? ['db/add', ref(i), 'k/n', x] : ['db/retract', ids[i], 'k/friend', ids[j]];
      default:
        return ids[i] === undefined ? ['db/add', ref(i), 'k/n', x] : ['db/retractEntity', ids[i]];
    }
  });
}
