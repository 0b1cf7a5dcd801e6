/**
 * Differential test against DataScript 1.8: random sequences of transactions over the features
 * both systems share (upsert through db.unique/identity, tempids that upsert, one tempid used
 * several times, string and negative-number tempids, tempids in ref values, nested component
 * maps, cardinality many, lookup refs in entity and value position, db/retract with and without
 * a value, db/retractEntity with components and references, db/cas), applied to Sediment (small
 * indexing thresholds, so sequences cross indexing epochs) and to DataScript. After every
 * transaction both must agree on whether it failed; on success on the tempid resolution (each
 * tempid names "the same" entity: entities are labelled by the tempids that created them), the
 * transaction's datoms, the whole current state, AVET order, and pull (`[*]` and a nested and
 * reverse pattern, by id and by lookup ref). At the end of each sequence every earlier Db value
 * (kept from the reports) and `asOf` of every earlier tx must equal the DataScript value of then.
 *
 * Generation is state-aware (fc.gen, reading DataScript's current value) and shrinks; a failure
 * prints the seed and path that replay it (SEDIMENT_SEED picks the seed, SEDIMENT_DIFF_RUNS the
 * number of sequences).
 *
 * Where DataScript departs from Datomic, Sediment follows Datomic and the case is excluded from
 * generation (an analyzer resolves each candidate transaction against the db before it and drops
 * any operation that would make it one of these). DataScript applies a transaction's operations
 * one by one against the growing in-transaction database; Datomic applies the whole set against
 * the database before it. So DataScript:
 *   E1  takes the last of several values asserted for one cardinality-one attribute of one
 *       entity in one transaction (Datomic: :db.error/datoms-conflict);
 *   E2  lets one transaction assert and retract the same datom, the result depending on the
 *       order (Datomic: conflict); also `[:db/retract e a]` (all values) with an assertion on a;
 *   E3  orders db/retractEntity against other operations on the retracted entity, its
 *       components, or refs to them (Datomic: retractEntity retracts what held before the
 *       transaction; other assertions stand);
 *   E4  checks db/cas against the in-transaction value (Datomic: the value before it);
 *   E5  lets a unique value move from one entity to another in one transaction only if the
 *       retraction comes first (Datomic: order does not matter);
 *   E6  resolves lookup refs against the in-transaction database, seeing values asserted or
 *       retracted earlier in the transaction (Datomic: the database before it);
 *   E9  upserts a tempid to an existing entity that got a new identity value earlier in the
 *       same transaction (Datomic: only values held before the transaction upsert).
 * And, independent of order:
 *   E7  db/retract and db/retractEntity through a lookup ref that names nothing are no-ops in
 *       DataScript, errors in Datomic (and Sediment: SEDIMENT_LOOKUP_REF_NOT_FOUND);
 *   E8  DataScript rejects a tempid in db/retract even when db/add of the same transaction makes
 *       the entity; Datomic accepts it. Not generated: tempids appear only in db/add and maps;
 *   E10 DataScript accepts any positive entity id, allocating nothing; Datomic and Sediment
 *       reject ids never allocated. Only ids of existing entities are generated;
 *   E11 DataScript's db/cas works on cardinality-many attributes (old must be one of the
 *       values); Sediment rejects it (SEDIMENT_INVALID_TX). Only cardinality-one cas is generated;
 *   E12 DataScript does not check value types and needs no schema for scalar attributes;
 *       Sediment does (schema on write). Only well-typed values of installed attributes occur;
 *   E13 `pull '[*]'` of an entity without datoms: DataScript returns `{:db/id e}`, Sediment
 *       null. Pulls are compared only for entities that have datoms.
 *   E15 DataScript's db/cas on a ref attribute cannot expect "no value" (nil old value: "Expected
 *       number or lookup ref for entity id, got nil"); Datomic and Sediment can. Not generated.
 *   E16 DataScript's `[:db/retract e a]` (no value) on a component attribute also retracts the
 *       component entities, as retractEntity would; Datomic and Sediment retract only the refs
 *       (the explicit `[:db/retract e a v]` retracts only the ref in both). Not generated.
 *   E17 DataScript checks a db.unique/value assertion of a tempid before that tempid upserts
 *       through a later identity assertion, so `[:db/add "t" :ssn s] [:db/add "t" :email e]`
 *       fails there when e's holder has s; Datomic upserts first (the ssn is then redundant).
 *       Likewise when the identity value joins the tempid to another tempid of the transaction
 *       asserting the same s: DataScript sees two entities with s (seed 1159738698 found it).
 *   E18 DataScript fails a transaction in which a tempid upserts to entity X and
 *       `[:db/retract X a v]` names an identity value v that another entity holds ("Conflicting
 *       upsert: -20 resolves both to X and Y"); in Datomic the retraction of a datom that does not
 *       exist is a no-op and the upsert stands (seed 1628770541 found it).
 *   E14 a nested pull pattern that matches nothing of the referenced entity: DataScript leaves
 *       the attribute out, Sediment gives `{db/id: ...}`. Nested patterns here include db/id.
 * Not a semantic difference but kept out to avoid component cycles (which DataScript's
 * retractEntity would recurse on forever): component values are always new entities.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Connection } from '../../lib/db/connection.js';
import type { Db } from '../../lib/db/db.js';
import { SedimentError } from '../../lib/errors.js';
import { MemoryBackend } from '../../lib/storage/backend/memory-backend.js';
import { initialFileImage, PageStore } from '../../lib/storage/page-store.js';
import {
  type AttributeSpec,
  canonicalDatom,
  canonicalPull,
  datascript as ds,
  datascriptDialect,
  datascriptSchema,
  type DsConn,
  type DsDb,
  describeTx,
  type ERef,
  Labels,
  type Nested,
  type Op,
  renderTx,
  type Scalar,
  sedimentDialect,
  sedimentSchemaTx,
  type TxValue,
} from '../support/datascript-oracle.js';

const SEED = process.env['SEDIMENT_SEED'] === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env['SEDIMENT_SEED']);
const RUNS = Number(process.env['SEDIMENT_DIFF_RUNS'] ?? 300);

const ATTRIBUTES: readonly AttributeSpec[] = [
  { ident: 'person/email', type: 'string', unique: 'identity' },
  { ident: 'person/ssn', type: 'string', unique: 'value' },
  { ident: 'person/name', type: 'string' },
  { ident: 'person/age', type: 'long', index: true },
  { ident: 'person/tag', type: 'string', many: true },
  { ident: 'person/friend', type: 'ref', many: true },
  { ident: 'person/best', type: 'ref' },
  { ident: 'person/address', type: 'ref', component: true },
  { ident: 'person/pet', type: 'ref', many: true, component: true },
  { ident: 'address/street', type: 'string' },
  { ident: 'pet/name', type: 'string' },
];
const BY_IDENT = new Map(ATTRIBUTES.map((a) => [a.ident, a]));
const spec = (ident: string): AttributeSpec => BY_IDENT.get(ident)!;
const isRef = (ident: string) => spec(ident).type === 'ref';
const COMPONENT_ATTRS = ATTRIBUTES.filter((a) => a.component).map((a) => a.ident);
const PLAIN_ATTRS = ATTRIBUTES.filter((a) => !a.component).map((a) => a.ident);
const CARD_ONE_CAS_ATTRS = ['person/email', 'person/name', 'person/age', 'person/best', 'address/street'];

const POOLS: Record<string, readonly Scalar[]> = {
  'person/email': ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7'],
  'person/ssn': ['s0', 's1', 's2', 's3', 's4'],
  'person/name': ['Ann', 'Bob', 'Cy', 'Dee'],
  'person/age': [0, 1, 2, 3, 4],
  'person/tag': ['x', 'y', 'z'],
  'address/street': ['Elm', 'Oak', 'Ash'],
  'pet/name': ['Rex', 'Tom'],
};

// Nested patterns include db/id: see E14.
const PULL_NESTED_DS = '["person/name" {"person/friend" [:db/id "person/email" "person/name"]} {"person/best" [:db/id "person/email"]} "person/_friend" "person/_best" "person/_address" "person/_pet"]';
const PULL_NESTED_SEDIMENT = [
  'person/name',
  { 'person/friend': ['db/id', 'person/email', 'person/name'] },
  { 'person/best': ['db/id', 'person/email'] },
  'person/_friend',
  'person/_best',
  'person/_address',
  'person/_pet',
];

// ----- the analyzer: resolving a candidate transaction as Datomic would ---------------------------

interface Analysis {
  /** Why the transaction is out of scope (a DataScript/Datomic difference), if it is. */
  readonly exclude: string | undefined;
  /** A reason Datomic rejects it that the analyzer is sure of (both sides must then fail). */
  readonly fails: string | undefined;
}

type Atom =
  | { readonly kind: 'add'; readonly e: ERef; readonly a: string; readonly v: Scalar | ERef; readonly cas?: true }
  | { readonly kind: 'retract'; readonly e: ERef; readonly a: string; readonly v: Scalar | ERef | undefined }
  | { readonly kind: 'retractEntity'; readonly e: ERef };

function atomsOf(ops: readonly Op[]): Atom[] {
  const out: Atom[] = [];
  const value = (v: TxValue): Scalar | ERef => {
    if (typeof v === 'object' && v.kind === 'nested') {
      for (const [a, x] of v.attrs) out.push({ kind: 'add', e: { kind: 'temp', name: v.name }, a, v: x });
      return { kind: 'temp', name: v.name };
    }
    return v;
  };
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        out.push({ kind: 'add', e: op.e, a: op.a, v: value(op.v) });
        break;
      case 'retract':
        out.push({ kind: 'retract', e: op.e, a: op.a, v: op.v === undefined ? undefined : value(op.v) });
        break;
      case 'retractEntity':
        out.push({ kind: 'retractEntity', e: op.e });
        break;
      case 'cas':
        out.push({ kind: 'add', e: op.e, a: op.a, v: op.v, cas: true });
        break;
      case 'map':
        for (const [a, v] of op.attrs) {
          for (const x of Array.isArray(v) ? (v as readonly TxValue[]) : [v as TxValue]) out.push({ kind: 'add', e: op.e, a, v: value(x) });
        }
        break;
    }
  }
  return out;
}

/** Reads of the DataScript value the analyzer and the generator share. */
class World {
  constructor(
    readonly db: DsDb,
    readonly labels: Labels,
  ) {}

  values(id: number, a: string): unknown[] {
    return ds.datoms(this.db, ':eavt', id, a).map((d) => d.v);
  }

  holder(a: string, v: unknown): number | undefined {
    return ds.datoms(this.db, ':avet', a, v)[0]?.e;
  }

  /** Every current datom of the given entities and every ref to them. */
  datomsOfAndTo(ids: ReadonlySet<number>): { e: number; a: string; v: unknown }[] {
    return ds.datoms(this.db, ':eavt').filter((d) => ids.has(d.e) || (isRef(d.a) && ids.has(d.v as number)));
  }

  /** The entity and its components, transitively. */
  closure(id: number): Set<number> {
    const out = new Set<number>();
    const visit = (e: number) => {
      if (out.has(e)) return;
      out.add(e);
      for (const a of COMPONENT_ATTRS) for (const v of this.values(e, a)) visit(v as number);
    };
    visit(id);
    return out;
  }
}

function analyze(ops: readonly Op[], world: World): Analysis {
  const atoms = atomsOf(ops);
  const fails: string[] = [];
  const excluded = (why: string): Analysis => ({ exclude: why, fails: undefined });

  // Tempids: those asserting one identity value are one entity; a group upserts to the entity
  // holding one of its values before the transaction.
  const tempKey = (name: string | number) => `t:${String(name)}`;
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    const p = parent.get(k) ?? k;
    if (p === k) return k;
    const root = find(p);
    parent.set(k, root);
    return root;
  };
  const inEntityPosition = new Set<string>();
  const identityOwners = new Map<string, string>();
  for (const atom of atoms) {
    if (atom.kind !== 'add' || atom.e.kind !== 'temp') continue;
    const k = tempKey(atom.e.name);
    inEntityPosition.add(k);
    if (spec(atom.a).unique === 'identity') {
      const owner = identityOwners.get(`${atom.a} ${String(atom.v)}`);
      if (owner === undefined) identityOwners.set(`${atom.a} ${String(atom.v)}`, k);
      else if (find(owner) !== find(k)) parent.set(find(k), find(owner));
    }
  }
  const holdersOfGroup = new Map<string, Set<number>>();
  for (const atom of atoms) {
    if (atom.kind !== 'add' || atom.e.kind !== 'temp' || spec(atom.a).unique !== 'identity') continue;
    const holder = world.holder(atom.a, atom.v);
    if (holder === undefined) continue;
    const root = find(tempKey(atom.e.name));
    let set = holdersOfGroup.get(root);
    if (set === undefined) holdersOfGroup.set(root, (set = new Set()));
    set.add(holder);
  }
  for (const set of holdersOfGroup.values()) if (set.size > 1) fails.push('conflicting upsert');
  const groupSizes = new Map<string, number>();
  for (const k of inEntityPosition) groupSizes.set(find(k), (groupSizes.get(find(k)) ?? 0) + 1);
  for (const atom of atoms) {
    if (atom.kind !== 'add' || atom.e.kind !== 'temp' || spec(atom.a).unique !== 'value') continue;
    const root = find(tempKey(atom.e.name));
    if (holdersOfGroup.has(root) || (groupSizes.get(root) ?? 0) > 1) {
      return excluded('E17 upserting or joined tempid asserts a db.unique/value attribute');
    }
  }

  const lookups: string[] = [];
  /** A target key: `E<ds id>` for an existing entity, `N<group>` for a new one; undefined when it names nothing. */
  const resolve = (ref: ERef): string | undefined => {
    switch (ref.kind) {
      case 'label':
        return `E${world.labels.id(ref.label)}`;
      case 'lookup': {
        lookups.push(`${ref.attr} ${ref.value}`);
        const holder = world.holder(ref.attr, ref.value);
        return holder === undefined ? undefined : `E${holder}`;
      }
      case 'temp': {
        const k = tempKey(ref.name);
        if (!inEntityPosition.has(k)) return undefined;
        const root = find(k);
        const holders = holdersOfGroup.get(root);
        return holders === undefined ? `N${root}` : `E${[...holders][0]!}`;
      }
    }
  };
  const existing = (target: string): number | undefined => (target.startsWith('E') ? Number(target.slice(1)) : undefined);
  const valueKey = (a: string, v: Scalar | ERef): string | undefined => {
    if (!isRef(a)) return JSON.stringify(v);
    const t = resolve(v as ERef);
    return t === undefined ? undefined : `@${t}`;
  };
  const storedKey = (a: string, v: unknown) => (isRef(a) ? `@E${v as number}` : JSON.stringify(v));

  const assertedValues = new Map<string, Set<string>>(); // target|a -> value keys
  const asserted = new Set<string>(); // target|a|v
  const uniqueAssertions: { target: string; a: string; v: string }[] = [];
  const explicitRetracts = new Set<string>();
  const implicitRetracts = new Set<string>(); // what retracting current values removes
  const wholesale = new Set<string>();
  const casSlots: string[] = [];
  const touched = new Set<string>(); // targets named by add, retract and cas (entity or ref value)
  const touchedSlots = new Map<string, number>(); // target|a -> how many atoms name it
  const componentValues = new Map<string, number>();
  const doomed: Set<number>[] = [];

  for (const atom of atoms) {
    if (atom.kind === 'retractEntity') {
      const t = resolve(atom.e);
      if (t === undefined) return excluded('E7 retractEntity through a lookup ref naming nothing');
      const id = existing(t);
      if (id === undefined) return excluded('E8 retractEntity of a tempid');
      doomed.push(world.closure(id));
      continue;
    }
    const t = resolve(atom.e);
    if (t === undefined) {
      if (atom.kind === 'retract') return excluded('E7 retract through a lookup ref naming nothing');
      fails.push(atom.e.kind === 'lookup' ? 'lookup ref names nothing' : 'tempid unresolved');
      continue;
    }
    touched.add(t);
    const slot = `${t}|${atom.a}`;
    touchedSlots.set(slot, (touchedSlots.get(slot) ?? 0) + 1);
    if (atom.kind === 'retract') {
      const id = existing(t);
      if (atom.v === undefined) {
        wholesale.add(slot);
        if (id !== undefined) for (const v of world.values(id, atom.a)) implicitRetracts.add(`${slot}|${storedKey(atom.a, v)}`);
        continue;
      }
      if (id !== undefined && spec(atom.a).unique === 'identity') {
        const holder = world.holder(atom.a, atom.v);
        const upsertedTo = [...holdersOfGroup.values()].some((holders) => holders.has(id));
        if (holder !== undefined && holder !== id && upsertedTo) return excluded('E18 retract of an identity value another entity holds, from an entity a tempid upserts to');
      }
      const vk = valueKey(atom.a, atom.v);
      if (vk === undefined) {
        return excluded(atom.v !== null && typeof atom.v === 'object' && atom.v.kind === 'lookup' ? 'E7 retract of a lookup ref value naming nothing' : 'E8 tempid in retract');
      }
      if (isRef(atom.a)) touched.add(vk.slice(1));
      explicitRetracts.add(`${slot}|${vk}`);
      continue;
    }
    // An assertion (also the new value of a cas).
    const vk = valueKey(atom.a, atom.v);
    if (vk === undefined) {
      fails.push(typeof atom.v === 'object' && atom.v.kind === 'lookup' ? 'lookup ref value names nothing' : 'tempid used only as a value');
      continue;
    }
    if (isRef(atom.a)) {
      touched.add(vk.slice(1));
      if (spec(atom.a).component) {
        // Generation guard: component values are new entities, each with one parent.
        if (!vk.startsWith('@N') || vk === `@${t}`) return excluded('component value is not a new entity');
        componentValues.set(vk, (componentValues.get(vk) ?? 0) + 1);
        if (componentValues.get(vk)! > 1) return excluded('component value with two parents');
      }
    }
    let values = assertedValues.get(slot);
    if (values === undefined) assertedValues.set(slot, (values = new Set()));
    values.add(vk);
    asserted.add(`${slot}|${vk}`);
    if (spec(atom.a).unique !== undefined) uniqueAssertions.push({ target: t, a: atom.a, v: vk });
    const id = existing(t);
    if (!spec(atom.a).many && id !== undefined) {
      for (const v of world.values(id, atom.a)) if (storedKey(atom.a, v) !== vk) implicitRetracts.add(`${slot}|${storedKey(atom.a, v)}`);
    }
    if (atom.cas === true) {
      casSlots.push(slot);
      const cas = ops.find((op) => op.op === 'cas' && op.e === atom.e && op.a === atom.a);
      if (cas !== undefined && cas.op === 'cas' && cas.old !== null && typeof cas.old === 'object') {
        const oldTarget = resolve(cas.old);
        if (oldTarget !== undefined) touched.add(oldTarget);
      }
      if (cas !== undefined && cas.op === 'cas' && id !== undefined) {
        const current = world.values(id, atom.a)[0];
        const old = cas.old === null ? undefined : isRef(atom.a) ? world.labels.id((cas.old as { label: string }).label) : cas.old;
        if (current !== old) fails.push('cas mismatch');
      }
    }
  }

  // Every retraction retractEntity expands to.
  const entityRetracts = new Set<string>();
  const allDoomed = new Set<number>();
  for (const closure of doomed) {
    for (const id of closure) {
      if (allDoomed.has(id)) return excluded('E3 overlapping retractEntity');
      allDoomed.add(id);
    }
  }
  for (const d of world.datomsOfAndTo(allDoomed)) entityRetracts.add(`E${d.e}|${d.a}|${storedKey(d.a, d.v)}`);

  for (const [slot, values] of assertedValues) {
    const a = slot.slice(slot.indexOf('|') + 1);
    if (!spec(a).many && values.size > 1) return excluded('E1 two values for a cardinality-one attribute');
    if (wholesale.has(slot)) return excluded('E2 retract of all values with an assertion');
  }
  for (const key of asserted) {
    if (explicitRetracts.has(key) || implicitRetracts.has(key) || entityRetracts.has(key)) return excluded('E2 assert and retract one datom');
  }
  for (const t of touched) {
    const id = existing(t);
    if (id !== undefined && allDoomed.has(id)) return excluded('E3 retractEntity with other operations on the entity');
  }
  for (const slot of casSlots) {
    if ((touchedSlots.get(slot) ?? 0) > 1) return excluded('E4 cas with other operations on its attribute');
    for (const key of entityRetracts) if (key.startsWith(`${slot}|`)) return excluded('E4 cas on an attribute retractEntity retracts');
  }
  const retractedUnique = (a: string, v: string): string[] => {
    const out: string[] = [];
    for (const key of [...explicitRetracts, ...implicitRetracts, ...entityRetracts]) {
      const [t, ka, kv] = key.split('|');
      if (ka === a && kv === v) out.push(t!);
    }
    return out;
  };
  for (const u of uniqueAssertions) {
    if (retractedUnique(u.a, u.v).some((t) => t !== u.target)) return excluded('E5 unique value moves between entities');
  }
  for (const lookup of lookups) {
    const space = lookup.indexOf(' ');
    const a = lookup.slice(0, space);
    const v = JSON.stringify(lookup.slice(space + 1));
    if (uniqueAssertions.some((u) => u.a === a && u.v === v) || retractedUnique(a, v).length > 0) {
      return excluded('E6 lookup ref to a value the transaction changes');
    }
  }
  // E9: a new identity value asserted both by tempids and by existing entities.
  const newIdentity = new Map<string, Set<string>>();
  for (const u of uniqueAssertions) {
    if (spec(u.a).unique !== 'identity' || world.holder(u.a, JSON.parse(u.v)) !== undefined) continue;
    const key = `${u.a} ${u.v}`;
    let set = newIdentity.get(key);
    if (set === undefined) newIdentity.set(key, (set = new Set()));
    set.add(u.target.slice(0, 1));
  }
  for (const kinds of newIdentity.values()) if (kinds.size > 1) return excluded('E9 new identity value on a tempid and an existing entity');

  return { exclude: undefined, fails: fails[0] };
}

// ----- generation ---------------------------------------------------------------------------------

type Gen = fc.GeneratorValue;

class TxGenerator {
  private tempCounter = 0;
  private temps: (string | number)[] = [];

  constructor(
    private readonly g: Gen,
    private world: World,
  ) {}

  private int(min: number, max: number): number {
    return this.g(fc.integer, { min, max });
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }

  private chance(percent: number): boolean {
    return this.int(0, 99) < percent;
  }

  private newTemp(): string | number {
    this.tempCounter += 1;
    return this.chance(30) ? -this.tempCounter : `t${this.tempCounter}`;
  }

  private heldValues(a: string): string[] {
    return ds.datoms(this.world.db, ':avet', a).map((d) => d.v as string);
  }

  /** An existing entity: by label or by lookup ref (now and then one naming nothing). */
  private existingRef(): ERef | undefined {
    const labels = this.world.labels.all;
    if (labels.length === 0) return undefined;
    const roll = this.int(0, 99);
    const emails = this.heldValues('person/email');
    const ssns = this.heldValues('person/ssn');
    if (roll < 22 && emails.length > 0) return { kind: 'lookup', attr: 'person/email', value: this.pick(emails) };
    if (roll < 30 && ssns.length > 0) return { kind: 'lookup', attr: 'person/ssn', value: this.pick(ssns) };
    if (roll < 33) return { kind: 'lookup', attr: 'person/email', value: String(this.pick(POOLS['person/email']!)) };
    return { kind: 'label', label: this.pick(labels) };
  }

  private tempRef(allowNew = true): ERef {
    if (this.temps.length > 0 && (!allowNew || this.chance(45))) return { kind: 'temp', name: this.pick(this.temps) };
    const name = this.newTemp();
    this.temps.push(name);
    return { kind: 'temp', name };
  }

  private entityForAdd(): ERef {
    if (this.chance(45)) return this.existingRef() ?? this.tempRef();
    return this.tempRef();
  }

  private refValue(): ERef {
    const roll = this.int(0, 99);
    if (roll < 60 || (roll < 96 && this.temps.length === 0)) return this.existingRef() ?? this.tempRef();
    if (roll < 96) return this.tempRef(false); // a tempid of this transaction in a ref value
    return { kind: 'temp', name: this.newTemp() }; // used only as a value: both must reject
  }

  private nested(a: string): Nested {
    this.tempCounter += 1;
    const attr = a === 'person/address' ? 'address/street' : 'pet/name';
    return { kind: 'nested', name: `c${this.tempCounter}`, attrs: [[attr, String(this.pick(POOLS[attr]!))]] };
  }

  private value(a: string): TxValue {
    if (spec(a).component) {
      // List form cannot nest: a component value is then a tempid that the transaction describes.
      return this.nested(a);
    }
    return isRef(a) ? this.refValue() : this.pick(POOLS[a]!);
  }

  private currentOrRandom(id: number | undefined, a: string): TxValue {
    const current = id === undefined ? [] : ds.datoms(this.world.db, ':eavt', id, a).map((d) => d.v);
    if (current.length > 0 && this.chance(70)) {
      const v = this.pick(current);
      return isRef(a) ? { kind: 'label', label: this.world.labels.label(v as number) } : (v as Scalar);
    }
    return isRef(a) ? (this.existingRef() ?? { kind: 'label', label: 'none' }) : this.pick(POOLS[a]!);
  }

  private idOf(ref: ERef): number | undefined {
    if (ref.kind === 'label') return this.world.labels.id(ref.label);
    if (ref.kind === 'lookup') return this.world.holder(ref.attr, ref.value);
    return undefined;
  }

  private op(): Op | Op[] | undefined {
    const roll = this.int(0, 99);
    if (roll < 32) {
      const e = this.entityForAdd();
      const attrs: [string, TxValue | TxValue[]][] = [];
      const emails = this.heldValues('person/email');
      if (e.kind === 'temp' && emails.length > 0 && this.chance(35)) attrs.push(['person/email', this.pick(emails)]); // upsert
      for (const a of ATTRIBUTES) {
        if (attrs.some(([x]) => x === a.ident)) continue;
        if (a.ident === 'address/street' || a.ident === 'pet/name' || !this.chance(30)) continue;
        if (a.many) attrs.push([a.ident, Array.from({ length: this.int(1, 2) }, () => this.value(a.ident))]);
        else attrs.push([a.ident, this.value(a.ident)]);
      }
      if (attrs.length === 0) attrs.push(['person/name', this.pick(POOLS['person/name']!)]);
      return { op: 'map', e, attrs };
    }
    if (roll < 55) {
      const a = this.pick(PLAIN_ATTRS);
      return { op: 'add', e: this.entityForAdd(), a, v: this.value(a) };
    }
    if (roll < 57) {
      // A component through list forms: the parent's ref to a new tempid plus the tempid's own datom.
      const a = this.pick(COMPONENT_ATTRS);
      const parent = this.entityForAdd();
      const child = this.nested(a);
      const temp: ERef = { kind: 'temp', name: child.name };
      return [
        { op: 'add', e: parent, a, v: temp },
        { op: 'add', e: temp, a: child.attrs[0]![0], v: child.attrs[0]![1] },
      ];
    }
    const e = this.existingRef();
    if (e === undefined) return undefined;
    const id = this.idOf(e);
    if (roll < 72) {
      const a = this.pick(ATTRIBUTES.map((x) => x.ident));
      const v = this.currentOrRandom(id, a);
      if (typeof v === 'object' && v.kind === 'label' && v.label === 'none') return undefined;
      return { op: 'retract', e, a, v };
    }
    if (roll < 77) return { op: 'retract', e, a: this.pick(PLAIN_ATTRS) }; // E16
    if (roll < 88) return { op: 'retractEntity', e };
    const a = this.pick(CARD_ONE_CAS_ATTRS);
    const current = id === undefined ? undefined : ds.datoms(this.world.db, ':eavt', id, a)[0]?.v;
    const oldRoll = this.int(0, 99);
    let old: Scalar | ERef | null;
    if (isRef(a) && current === undefined) return undefined; // E15
    if (oldRoll < 70 || isRef(a)) old = current === undefined ? null : isRef(a) ? { kind: 'label', label: this.world.labels.label(current as number) } : (current as Scalar);
    else if (oldRoll < 85) old = null;
    else old = this.pick(POOLS[a]!);
    const v = isRef(a) ? (this.existingRef() ?? null) : this.pick(POOLS[a]!);
    if (v === null || (typeof v === 'object' && v.kind !== 'label')) return undefined;
    return { op: 'cas', e, a, old, v };
  }

  /** One transaction: operations added one at a time, each kept only if the whole stays in scope. */
  tx(world: World, exclusions: Map<string, number>): { ops: Op[]; analysis: Analysis } {
    this.world = world;
    this.temps = [];
    const size = this.int(1, 6);
    const ops: Op[] = [];
    let analysis: Analysis = { exclude: undefined, fails: undefined };
    for (let attempt = 0; attempt < size * 3 && ops.length < size; attempt++) {
      const op = this.op();
      if (op === undefined) continue;
      const more = Array.isArray(op) ? op : [op];
      const candidate = analyze([...ops, ...more], world);
      if (candidate.exclude !== undefined) {
        exclusions.set(candidate.exclude, (exclusions.get(candidate.exclude) ?? 0) + 1);
        continue;
      }
      ops.push(...more);
      analysis = candidate;
      if (candidate.fails !== undefined) break;
    }
    return { ops, analysis };
  }
}

// ----- the two sides ------------------------------------------------------------------------------

function sedimentConnection(indexThreshold: number): Connection {
  const store = PageStore.open(new MemoryBackend(initialFileImage({ pageSize: 4096 })), {
    readOnly: false,
    durability: 'relaxed',
    cacheBytes: 1 << 20,
  });
  return new Connection(store, { indexThreshold });
}

const userAttribute = (a: string) => BY_IDENT.has(a);

function sedimentState(db: Db, labels: Labels): string[] {
  return [...db.datoms('eavt')].filter((d) => userAttribute(d.a)).map((d) => canonicalDatom(d.e, d.a, d.v, isRef(d.a), labels)).sort();
}

function datascriptState(db: DsDb, labels: Labels): string[] {
  return ds.datoms(db, ':eavt').map((d) => canonicalDatom(d.e, d.a, d.v, isRef(d.a), labels)).sort();
}

function sedimentAvet(db: Db, a: string, labels: Labels): string[] {
  return groupTies([...db.datoms('avet', a)].map((d) => [JSON.stringify(d.v), labels.label(d.e)]));
}

function datascriptAvet(db: DsDb, a: string, labels: Labels): string[] {
  return groupTies(ds.datoms(db, ':avet', a).map((d) => [JSON.stringify(d.v), labels.label(d.e)]));
}

/** Values in index order; entities of one value sorted by label (the sides order them by their own ids). */
function groupTies(pairs: [string, string][]): string[] {
  const out: string[] = [];
  for (let i = 0; i < pairs.length; ) {
    let j = i;
    while (j < pairs.length && pairs[j]![0] === pairs[i]![0]) j++;
    out.push(`${pairs[i]![0]}: ${pairs.slice(i, j).map((p) => p[1]).sort().join(',')}`);
    i = j;
  }
  return out;
}

interface Totals {
  sequences: number;
  txs: number;
  failedBoth: number;
  predictedFailures: number;
  upserts: number;
  retractEntities: number;
  cas: number;
  datoms: number;
  pulls: number;
  readonly exclusions: Map<string, number>;
  readonly errorCodes: Map<string, number>;
}

function runSequence(g: Gen, totals: Totals): void {
  const threshold = g(fc.constantFrom, 3, 10, 40, 16_384);
  const length = g(fc.integer, { min: 3, max: 12 });
  const conn = sedimentConnection(threshold);
  const dsConn: DsConn = ds.conn_from_db(ds.empty_db(datascriptSchema(ATTRIBUTES)));
  conn.transact(sedimentSchemaTx(ATTRIBUTES));
  const sLabels = new Labels();
  const dLabels = new Labels();
  const generator = new TxGenerator(g, new World(ds.db(dsConn), dLabels));
  const history: { sedimentTx: number; sedimentDb: Db; dsDb: DsDb; index: number }[] = [];
  const log: string[] = [];
  const context = () => `transactions so far (index threshold ${threshold}):\n${log.join('\n')}`;

  for (let index = 0; index < length; index++) {
    const before = conn.db();
    const dsBefore = ds.db(dsConn);
    const { ops, analysis } = generator.tx(new World(dsBefore, dLabels), totals.exclusions);
    if (ops.length === 0) continue;
    log.push(`#${index} ${describeTx(ops)}${analysis.fails === undefined ? '' : ` (Datomic rejects: ${analysis.fails})`}`);
    totals.txs += 1;

    let sReport: ReturnType<Connection['transact']> | undefined;
    let sError: unknown;
    try {
      sReport = conn.transact(renderTx(ops, sedimentDialect((l) => sLabels.id(l))));
    } catch (error) {
      sError = error;
    }
    let dReport: ReturnType<typeof ds.transact> | undefined;
    let dError: unknown;
    try {
      dReport = ds.transact(dsConn, renderTx(ops, datascriptDialect((l) => dLabels.id(l))));
    } catch (error) {
      dError = error;
    }
    const outcome = (r: unknown, e: unknown) => (r !== undefined ? 'committed' : `failed: ${e instanceof Error ? e.message : String(e)}`);
    expect(sReport !== undefined, `Sediment ${outcome(sReport, sError)}; DataScript ${outcome(dReport, dError)}\n${context()}`).toBe(dReport !== undefined);

    if (sReport === undefined || dReport === undefined) {
      expect(sError, `not a SedimentError\n${context()}`).toBeInstanceOf(SedimentError);
      expect(conn.db(), 'a failed transaction replaced the connection value').toBe(before);
      const code = (sError as SedimentError).code;
      totals.errorCodes.set(code, (totals.errorCodes.get(code) ?? 0) + 1);
      totals.failedBoth += 1;
      log[log.length - 1] += `  -> failed on both sides (${code})`;
      continue;
    }
    if (analysis.fails !== undefined) totals.predictedFailures += 1; // both committed what the analyzer thought Datomic rejects

    const sTempids = sLabels.absorb(sReport.tempids, index);
    const dTempids = dLabels.absorb(dReport.tempids, index);
    expect(sTempids, `tempid resolution\n${context()}`).toEqual(dTempids);
    for (const op of ops) {
      if (op.op === 'retractEntity') totals.retractEntities += 1;
      if (op.op === 'cas') totals.cas += 1;
    }
    totals.upserts += Object.values(sTempids).filter((label) => !label.startsWith(`tx${index}:`)).length;

    const sTx = sReport.txData.filter((d) => userAttribute(d.a)).map((d) => canonicalDatom(d.e, d.a, d.v, isRef(d.a), sLabels, d.added)).sort();
    // DataScript lists a self-reference's retraction twice under retractEntity (as the entity's datom and as a ref to it).
    const dTx = [...new Set(dReport.tx_data.map((d) => canonicalDatom(d.e, d.a, d.v, isRef(d.a), dLabels, d.tx > 0)))].sort();
    expect(sTx, `transaction datoms\n${context()}`).toEqual(dTx);
    totals.datoms += sTx.length;

    const dbAfter = conn.db();
    const dsAfter = ds.db(dsConn);
    const state = sedimentState(dbAfter, sLabels);
    expect(state, `state after the transaction\n${context()}`).toEqual(datascriptState(dsAfter, dLabels));
    for (const a of ['person/email', 'person/ssn', 'person/age']) {
      expect(sedimentAvet(dbAfter, a, sLabels), `AVET of ${a}\n${context()}`).toEqual(datascriptAvet(dsAfter, a, dLabels));
    }
    // Pull every entity with datoms at the end of the sequence, before that those the transaction touched.
    const last = index === length - 1;
    const touched = new Set(dReport.tx_data.flatMap((d) => (isRef(d.a) ? [d.e, d.v as number] : [d.e])));
    const withDatoms = new Set(ds.datoms(dsAfter, ':eavt').filter((d) => last || touched.has(d.e)).map((d) => dLabels.label(d.e)));
    for (const label of withDatoms) {
      const sId = sLabels.id(label);
      const dId = dLabels.id(label);
      expect(canonicalPull(dbAfter.pull('[*]', sId), sLabels), `pull [*] of ${label}\n${context()}`).toEqual(canonicalPull(ds.pull(dsAfter, '[*]', dId), dLabels));
      const sNested = dbAfter.pull(PULL_NESTED_SEDIMENT, sId);
      const dNested = ds.pull(dsAfter, PULL_NESTED_DS, dId);
      expect(canonicalPull(sNested, sLabels), `nested pull of ${label}\n${context()}`).toEqual(canonicalPull(dNested, dLabels));
      totals.pulls += 2;
    }
    for (const d of ds.datoms(dsAfter, ':avet', 'person/email')) {
      const lookup = ['person/email', d.v];
      expect(canonicalPull(dbAfter.pull('[*]', lookup), sLabels), `pull by lookup ref ${JSON.stringify(lookup)}\n${context()}`).toEqual(
        canonicalPull(ds.pull(dsAfter, '[*]', lookup), dLabels),
      );
      totals.pulls += 1;
    }
    history.push({ sedimentTx: sReport.tx, sedimentDb: sReport.dbAfter, dsDb: dsAfter, index });
  }

  // Earlier values never change, and asOf rebuilds them.
  const latest = conn.db();
  for (const h of history) {
    const expected = datascriptState(h.dsDb, dLabels);
    expect(sedimentState(h.sedimentDb, sLabels), `Db kept from transaction #${h.index}\n${context()}`).toEqual(expected);
    expect(sedimentState(latest.asOf(h.sedimentTx), sLabels), `asOf(${h.sedimentTx}) (#${h.index})\n${context()}`).toEqual(expected);
  }
  totals.sequences += 1;
}

describe('differential test against DataScript', () => {
  it(`agrees on failures, tempids, datoms, state, AVET order and pull over ${RUNS} random transaction sequences`, () => {
    const totals: Totals = {
      sequences: 0,
      txs: 0,
      failedBoth: 0,
      predictedFailures: 0,
      upserts: 0,
      retractEntities: 0,
      cas: 0,
      datoms: 0,
      pulls: 0,
      exclusions: new Map(),
      errorCodes: new Map(),
    };
    const started = performance.now();
    fc.assert(
      fc.property(fc.gen(), (g) => runSequence(g, totals)),
      // Shrinking replays whole sequences and can take minutes; the failure message carries the
      // transactions anyway. SEDIMENT_SHRINK=1 shrinks.
      { seed: SEED, numRuns: RUNS, endOnFailure: process.env['SEDIMENT_SHRINK'] === undefined },
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const exclusions = [...totals.exclusions].sort().map(([why, n]) => `${why}: ${n}`).join('; ');
    const codes = [...totals.errorCodes].sort().map(([code, n]) => `${code} ${n}`).join(', ');
    console.log(
      `datascript-diff: seed ${SEED}, ${totals.sequences} sequences, ${totals.txs} transactions, ` +
        `${totals.failedBoth} rejected by both (${codes}), ${totals.upserts} tempids upserted, ${totals.retractEntities} retractEntity, ` +
        `${totals.cas} cas, ${totals.datoms} datoms compared in tx data, ${totals.pulls} pulls compared, ${seconds} s; ` +
        `candidate operations dropped as out of scope: ${exclusions}`,
    );
    expect(totals.failedBoth).toBeGreaterThan(0);
    expect(totals.upserts).toBeGreaterThan(0);
    expect(totals.retractEntities).toBeGreaterThan(0);
    expect(totals.cas).toBeGreaterThan(0);
  });
});
