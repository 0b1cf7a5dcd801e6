/**
 * The planner: orders a clause list and decides, for each clause, what is bound when it runs.
 *
 * Greedy, one clause at a time, tracking the set of bound variables:
 *  1. Filters go as early as their inputs allow: a predicate or function expression once every
 *     variable it reads is bound (pushdown), a `not` once its join variables are, an `or` or a
 *     rule call once every variable it shares with the rest of the list is bound.
 *  2. Otherwise the cheapest binding clause runs next: among the data patterns, rule calls and
 *     `or`s whose required variables are bound, those sharing a variable with what is already
 *     bound come first (so no cartesian product is built while a join is possible), and among
 *     them the smallest estimate: the index count under the pattern's constants (probed up to a
 *     cap), scaled down when a bound variable lets each row seek a short range (entity bound:
 *     EAVT, lowest when the value is known too, as the clause then only filters; value bound:
 *     AVET or VAET). An `or` qualifies only once every branch can run with
 *     what is bound (a branch may read a variable that an unconnected clause binds).
 *  Filters and clauses that may throw on some values (arithmetic, string functions, `missing?`,
 *  functions passed as inputs, and `not`/`or`/rules containing them) also wait for the clauses
 *  written before them that mention one of their variables, as those decide what values the
 *  variables range over: `[?e :a ?x] [?y ?attr ?x] [(missing? $ ?x :b)]` must not call
 *  `missing?` on a string that the second pattern binds and the first would drop. A variable
 *  that a placed pattern binds in its entity position holds entity ids whatever runs later, so
 *  it holds nothing back; nor do clauses that narrow the rows only through other variables.
 *  Only when nothing else can run do they go ahead regardless.
 *  3. A clause that can never run is an error naming it: an unbound variable in an expression
 *     (SEDIMENT_QUERY_UNBOUND) or unbound join / required variables of `not`, `or-join` and
 *     rules (SEDIMENT_QUERY_INSUFFICIENT_BINDING).
 * The plan fixes the order and the index for each pattern; whether a pattern then seeks once per
 * row (index nested loop) or scans once and hash-joins is chosen when it runs, from the actual
 * number of rows against a capped count of the pattern's range.
 */
import { ErrorCode, QueryError } from '../errors.js';
import { BUILTINS, TOTAL_BUILTINS } from './functions.js';
import type { Arg, Binding, BindingKind, Clause, ClauseKind, NotClause, OrClause, PatternClause, PredicateClause, RuleClause, Rules, Term } from './ast.js';

/** How the planner learns sizes: the count of a pattern's constant range (capped), per source. */
export interface Estimator {
  count(pattern: PatternClause): number;
  /** Whether `pattern`'s attribute is a constant that is in AVET (db/index or db/unique) or a ref (VAET). */
  valueSeekable(pattern: PatternClause): boolean;
}

export type Step =
  | { readonly kind: 'pattern'; readonly clause: PatternClause; readonly estimate: number; readonly bound: readonly string[] }
  | { readonly kind: 'predicate'; readonly clause: Extract<Clause, { kind: 'predicate' }> }
  | { readonly kind: 'function'; readonly clause: Extract<Clause, { kind: 'function' }> }
  | { readonly kind: 'not'; readonly clause: NotClause; readonly joinVars: readonly string[]; readonly body: readonly Step[] }
  | {
      readonly kind: 'or';
      readonly clause: OrClause;
      readonly joinVars: readonly string[];
      /** Join variables bound when the `or` runs: its branches start from their values. */
      readonly inputVars: readonly string[];
      readonly branches: readonly (readonly Step[])[];
    }
  | { readonly kind: 'rule'; readonly clause: RuleClause; readonly bound: readonly string[] };
export type StepKind = Step['kind'];

export function termVars(terms: readonly (Term | Arg)[]): string[] {
  const out: string[] = [];
  for (const t of terms) if (t.kind === 'var' && !out.includes(t.name)) out.push(t.name);
  return out;
}

export function bindingVars(b: Binding): string[] {
  const targets = BINDING_TARGETS[b.kind](b as never);
  return termVars(targets);
}

const BINDING_TARGETS: { [K in BindingKind]: (b: Extract<Binding, { kind: K }>) => readonly Term[] } = {
  scalar: (b) => [b.target],
  tuple: (b) => b.elements,
  collection: (b) => [b.element],
  relation: (b) => b.elements,
};

/** Every variable a clause mentions, nested clauses included. */
export function clauseVars(c: Clause): string[] {
  return CLAUSE_VARS[c.kind](c as never);
}

const union = (lists: readonly (readonly string[])[]): string[] => [...new Set(lists.flat())];

const CLAUSE_VARS: { [K in ClauseKind]: (c: Extract<Clause, { kind: K }>) => string[] } = {
  pattern: (c) => termVars(c.terms),
  predicate: (c) => union([termVars(c.args), c.fn.kind === 'input' ? [c.fn.name] : []]),
  function: (c) => union([termVars(c.args), c.fn.kind === 'input' ? [c.fn.name] : [], bindingVars(c.binding)]),
  not: (c) => c.joinVars?.slice() ?? union(c.clauses.map(clauseVars)),
  or: (c) => c.joinVars?.slice() ?? union(c.branches.map((b) => union(b.map(clauseVars)))),
  rule: (c) => termVars(c.args),
};

/** Whether running `c` on rows that another clause would drop could throw (see the module comment). */
function mayThrow(c: Clause, rules: Rules | undefined, seenRules: Set<string> = new Set()): boolean {
  return MAY_THROW[c.kind](c as never, rules, seenRules);
}

const anyMayThrow = (cs: readonly Clause[], rules: Rules | undefined, seen: Set<string>) => cs.some((c) => mayThrow(c, rules, seen));

const MAY_THROW: { [K in ClauseKind]: (c: Extract<Clause, { kind: K }>, rules: Rules | undefined, seen: Set<string>) => boolean } = {
  pattern: () => false,
  predicate: (c) => c.fn.kind === 'input' || !TOTAL_BUILTINS.has(c.fn.name),
  function: (c) => c.fn.kind === 'input' || !TOTAL_BUILTINS.has(c.fn.name),
  not: (c, rules, seen) => anyMayThrow(c.clauses, rules, seen),
  or: (c, rules, seen) => c.branches.some((b) => anyMayThrow(b, rules, seen)),
  rule: (c, rules, seen) => {
    if (seen.has(c.name)) return false;
    seen.add(c.name);
    return (rules?.get(c.name) ?? []).some((branch) => anyMayThrow(branch.clauses, rules, seen));
  },
};

/** Variables a filter needs bound before it can run; an unknown built-in is an error here. */
function inputsOf(c: Extract<Clause, { kind: 'predicate' | 'function' }>): string[] {
  if (c.fn.kind === 'builtin' && !BUILTINS.has(c.fn.name)) {
    throw new QueryError(ErrorCode.queryUnknownFunction, `unknown function ${c.fn.name} (pass a function as an :in variable to call your own)`, c.position, c.text);
  }
  return union([termVars(c.args), c.fn.kind === 'input' ? [c.fn.name] : []]);
}

export interface PlanOptions {
  readonly estimator: (source: string) => Estimator | undefined;
  readonly rules: Rules | undefined;
}

/** A rule call's required variables: the first `required` head positions, as the call's terms. */
function requiredArgs(c: RuleClause, rules: Rules | undefined): Term[] {
  const branches = rules?.get(c.name);
  if (branches === undefined) {
    throw new QueryError(ErrorCode.queryUnknownRule, `no rule named ${c.name}${rules === undefined ? ' (the query has no % input)' : ''}`, c.position, c.text);
  }
  const arity = branches[0]!.vars.length;
  if (c.args.length !== arity) {
    throw new QueryError(ErrorCode.queryParse, `rule ${c.name} takes ${arity} arguments, called with ${c.args.length}`, c.position, c.text);
  }
  return c.args.slice(0, branches[0]!.required);
}

const ESTIMATE_RULE_BOUND = 1_000;
const ESTIMATE_RULE_FREE = 10_000_000;
const ESTIMATE_OR = 100_000;

/** Orders `clauses` given the variables bound on entry. */
export function planClauses(clauses: readonly Clause[], entry: ReadonlySet<string>, options: PlanOptions): Step[] {
  const bound = new Set(entry);
  const remaining = clauses.slice();
  const steps: Step[] = [];
  const varsOf = remaining.map(clauseVars);
  /** Variables of clause i that another clause of the list mentions or that are bound on entry. */
  const shared = (i: number): string[] => varsOf[i]!.filter((v) => entry.has(v) || varsOf.some((vs, j) => j !== i && vs.includes(v)));
  const allBound = (vars: readonly string[]) => vars.every((v) => bound.has(v));
  const partial = clauses.map((c) => mayThrow(c, options.rules));
  /** Set when nothing could run in written order: partial clauses may then go ahead. */
  let relaxed = false;
  /** Variables in the entity position of a placed pattern: entity ids whatever runs later. */
  const entities = new Set<string>();
  const mustWait = (i: number) => {
    if (!partial[i]! || relaxed) return false;
    const open = varsOf[i]!.filter((v) => !entities.has(v));
    return open.length > 0 && remaining.some((c) => {
      const j = clauses.indexOf(c);
      return j < i && varsOf[j]!.some((v) => open.includes(v));
    });
  };

  const place = (i: number, step: Step, binds: readonly string[]) => {
    steps.push(step);
    for (const v of binds) bound.add(v);
    if (step.kind === 'pattern' && step.clause.terms[0].kind === 'var') entities.add(step.clause.terms[0].name);
    remaining.splice(remaining.indexOf(clauses[i]!), 1);
  };

  while (remaining.length > 0) {
    // 1. Filters, in written order, as soon as they can run.
    let placed = false;
    for (const c of remaining) {
      const i = clauses.indexOf(c);
      if (mustWait(i)) continue;
      if (c.kind === 'predicate' && allBound(inputsOf(c))) {
        place(i, { kind: 'predicate', clause: c }, []);
      } else if (c.kind === 'function' && allBound(inputsOf(c))) {
        place(i, { kind: 'function', clause: c }, bindingVars(c.binding));
      } else if (c.kind === 'not') {
        const joinVars = c.joinVars ?? shared(i);
        if (joinVars.length === 0) {
          throw new QueryError(ErrorCode.queryInsufficientBinding, `none of the variables of not (${clauseVars(c).join(' ')}) is bound outside it`, c.position, c.text);
        }
        if (!allBound(joinVars)) continue;
        const body = planClauses(c.clauses, new Set(joinVars), options);
        place(i, { kind: 'not', clause: c, joinVars, body }, []);
      } else if (c.kind === 'or' && allBound(shared(i)) && allBound(c.required)) {
        placeBinding(i, c);
      } else if (c.kind === 'rule' && allBound(shared(i)) && allBound(termVars(requiredArgs(c, options.rules)))) {
        placeBinding(i, c);
      } else {
        continue;
      }
      placed = true;
      break;
    }
    if (placed) {
      relaxed = false;
      continue;
    }

    // 2. The cheapest binding clause, preferring those joined to what is bound.
    let best = -1;
    let bestCost = Infinity;
    let bestConnected = false;
    let bestOr: Step | undefined;
    for (const c of remaining) {
      const i = clauses.indexOf(c);
      if (c.kind !== 'pattern' && c.kind !== 'or' && c.kind !== 'rule') continue;
      if (mustWait(i)) continue;
      if (c.kind === 'or' && !allBound(c.required)) continue;
      // An `or` whose branches need a variable that another clause binds must wait for it.
      const orStep = c.kind === 'or' ? planOrIfReady(c, bound, options) : undefined;
      if (c.kind === 'or' && orStep === undefined) continue;
      if (c.kind === 'rule' && !allBound(termVars(requiredArgs(c, options.rules)))) continue;
      const connected = varsOf[i]!.some((v) => bound.has(v));
      const cost = estimate(c, bound, options);
      if (best === -1 || (connected && !bestConnected) || (connected === bestConnected && cost < bestCost)) {
        best = i;
        bestCost = cost;
        bestConnected = connected;
        bestOr = orStep;
      }
    }
    if (best === -1) {
      if (relaxed || !partial.some(Boolean)) throw stuck(remaining, bound, options);
      relaxed = true;
      continue;
    }
    relaxed = false;
    if (bestOr !== undefined) place(best, bestOr, varsOf[best]!);
    else placeBinding(best, clauses[best]!);
  }
  return steps;

  function placeBinding(i: number, c: Clause): void {
    if (c.kind === 'pattern') {
      place(i, { kind: 'pattern', clause: c, estimate: estimate(c, bound, options), bound: varsOf[i]!.filter((v) => bound.has(v)) }, varsOf[i]!);
    } else if (c.kind === 'rule') {
      place(i, { kind: 'rule', clause: c, bound: varsOf[i]!.filter((v) => bound.has(v)) }, varsOf[i]!);
    } else if (c.kind === 'or') {
      place(i, planOr(c, bound, options), varsOf[i]!);
    }
  }
}

function planOr(c: OrClause, bound: ReadonlySet<string>, options: PlanOptions): Step {
  let joinVars = c.joinVars;
  if (joinVars === undefined) {
    const sets = c.branches.map((b) => union(b.map(clauseVars)).sort());
    const first = sets[0]!.join(' ');
    if (sets.some((s) => s.join(' ') !== first)) {
      throw new QueryError(ErrorCode.queryInsufficientBinding, `every branch of or must use the same variables (${sets.map((s) => `[${s.join(' ')}]`).join(' vs ')}); use or-join`, c.position, c.text);
    }
    joinVars = sets[0]!;
  }
  const inputVars = joinVars.filter((v) => bound.has(v));
  const branches = c.branches.map((b) => {
    const steps = planClauses(b, new Set(inputVars), options);
    const bindsAll = new Set([...inputVars, ...b.flatMap(clauseVars)]);
    const missing = joinVars!.filter((v) => !bindsAll.has(v));
    if (missing.length > 0) {
      throw new QueryError(ErrorCode.queryInsufficientBinding, `a branch of ${c.joinVars === undefined ? 'or' : 'or-join'} does not bind ${missing.join(' ')}`, c.position, c.text);
    }
    return steps;
  });
  return { kind: 'or', clause: c, joinVars, inputVars, branches };
}

/** The `or`'s plan if its branches can run with what is bound now; undefined if one needs more. */
function planOrIfReady(c: OrClause, bound: ReadonlySet<string>, options: PlanOptions): Step | undefined {
  try {
    return planOr(c, bound, options);
  } catch (error) {
    if (error instanceof QueryError && (error.code === ErrorCode.queryUnbound || error.code === ErrorCode.queryInsufficientBinding)) return undefined;
    throw error;
  }
}

function estimate(c: Clause, bound: ReadonlySet<string>, options: PlanOptions): number {
  if (c.kind === 'rule') return c.args.some((t) => t.kind === 'const' || (t.kind === 'var' && bound.has(t.name))) ? ESTIMATE_RULE_BOUND : ESTIMATE_RULE_FREE;
  if (c.kind !== 'pattern') return ESTIMATE_OR;
  const estimator = options.estimator(c.source);
  const base = estimator === undefined ? ESTIMATE_OR : estimator.count(c);
  const [e, , v] = c.terms;
  // Entity bound and value known: at most one datom per row, so the clause only filters; run it
  // before those that add values to every row.
  if (e.kind === 'var' && bound.has(e.name)) return Math.min(base, v.kind === 'const' || (v.kind === 'var' && bound.has(v.name)) ? 1 : 2);
  if (v.kind === 'var' && bound.has(v.name) && estimator?.valueSeekable(c) === true) return Math.min(base, 20);
  return base;
}

/** The error for clauses that can never run: the first of them, in written order. */
function stuck(remaining: readonly Clause[], bound: ReadonlySet<string>, options: PlanOptions): QueryError {
  const c = remaining[0]!;
  switch (c.kind) {
    case 'predicate':
    case 'function': {
      const unbound = inputsOf(c).filter((v) => !bound.has(v));
      return new QueryError(ErrorCode.queryUnbound, `${unbound.join(' ')} ${unbound.length === 1 ? 'is' : 'are'} not bound by any clause before this expression can run`, c.position, c.text);
    }
    case 'not':
      return new QueryError(ErrorCode.queryInsufficientBinding, `join variables ${(c.joinVars ?? clauseVars(c)).filter((v) => !bound.has(v)).join(' ')} of ${c.joinVars === undefined ? 'not' : 'not-join'} are not bound`, c.position, c.text);
    case 'or':
      if (c.required.every((v) => bound.has(v))) planOr(c, bound, options); // throws what keeps its branches from running
      return new QueryError(ErrorCode.queryInsufficientBinding, `required variables ${c.required.filter((v) => !bound.has(v)).join(' ')} of or-join are not bound`, c.position, c.text);
    case 'rule':
      return new QueryError(ErrorCode.queryInsufficientBinding, `required arguments ${termVars(requiredArgs(c, options.rules)).filter((v) => !bound.has(v)).join(' ')} of rule ${c.name} are not bound`, c.position, c.text);
    case 'pattern':
      return new QueryError(ErrorCode.queryInsufficientBinding, 'this clause cannot run', c.position, c.text);
  }
}

/** The predicates placed right after step `at`: those a pattern's scan may apply itself (value-range.ts). */
export function predicatesAfter(steps: readonly Step[], at: number): PredicateClause[] {
  const out: PredicateClause[] = [];
  for (let i = at + 1; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.kind !== 'predicate') break;
    out.push(step.clause);
  }
  return out;
}

export type DescribePattern = (step: Extract<Step, { kind: 'pattern' }>, following: readonly PredicateClause[]) => string;

/** The plan as text, one step a line, nested steps indented. */
export function explainSteps(steps: readonly Step[], describePattern: DescribePattern, indent = ''): string[] {
  const lines: string[] = [];
  steps.forEach((s, i) => {
    const n = `${indent}${i + 1}. `;
    switch (s.kind) {
      case 'pattern':
        lines.push(`${n}${s.clause.text}  ${describePattern(s, predicatesAfter(steps, i))}`);
        break;
      case 'predicate':
        lines.push(`${n}${s.clause.text}  filter`);
        break;
      case 'function':
        lines.push(`${n}${s.clause.text}  bind ${bindingVars(s.clause.binding).join(' ') || '_'}`);
        break;
      case 'not':
        lines.push(`${n}${s.clause.text}  anti-join on ${s.joinVars.join(' ')}`);
        lines.push(...explainSteps(s.body, describePattern, `${indent}   `));
        break;
      case 'or':
        lines.push(`${n}${s.clause.text}  union of ${s.branches.length} branches, joined on ${s.joinVars.join(' ')}${s.inputVars.length > 0 ? `, starting from ${s.inputVars.join(' ')}` : ''}`);
        s.branches.forEach((b, j) => {
          lines.push(`${indent}   branch ${j + 1}:`);
          lines.push(...explainSteps(b, describePattern, `${indent}     `));
        });
        break;
      case 'rule':
        lines.push(`${n}${s.clause.text}  rule ${s.bound.length === 0 && s.clause.args.every((t) => t.kind !== 'const') ? 'evaluated bottom-up (semi-naive), hash-joined' : `evaluated top-down from the bound arguments ${s.bound.join(' ')}`}`);
        break;
    }
  });
  return lines;
}
