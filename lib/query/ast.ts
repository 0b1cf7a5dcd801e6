/**
 * The query AST: what `parse` makes of a query, in either syntax (EDN text or the JavaScript
 * array form). Every node is a discriminated union on `kind`; the planner and the executor
 * dispatch through `Record<Kind, handler>` tables, so a new kind without a handler does not
 * compile.
 */

export interface Var {
  readonly kind: 'var';
  readonly name: string;
}

export interface Blank {
  readonly kind: 'blank';
}

/**
 * A constant as written. Keywords stay `Keyword` objects here: in entity position and in the
 * value position of a ref attribute a keyword names an ident; everywhere else it stands for its
 * name (keyword values are strings, as in datoms).
 */
export interface Const {
  readonly kind: 'const';
  readonly value: unknown;
}

/** A data source named in a clause or argument list: `$`, `$hist`. */
export interface Source {
  readonly kind: 'source';
  readonly name: string;
}

export type Term = Var | Blank | Const;
export type Arg = Term | Source;

/** Where a clause stands (`:where clause 2, or branch 1, clause 1`) and its EDN text, for errors and explain. */
export interface Located {
  readonly position: string;
  readonly text: string;
}

/** `[$? e a v tx added]`: missing trailing positions are blanks. */
export interface PatternClause extends Located {
  readonly kind: 'pattern';
  readonly source: string;
  /** Always five terms: e, a, v, tx, added. */
  readonly terms: readonly [Term, Term, Term, Term, Term];
}

/** A function named by a symbol (built in) or by an input variable bound to a JavaScript function. */
export type FnRef = { readonly kind: 'builtin'; readonly name: string } | { readonly kind: 'input'; readonly name: string };

/** `[(pred args...)]`: keeps the rows for which the call is truthy (anything but false and nil). */
export interface PredicateClause extends Located {
  readonly kind: 'predicate';
  readonly fn: FnRef;
  readonly args: readonly Arg[];
}

/** `[(fn args...) binding]`: binds the call's result. */
export interface FunctionClause extends Located {
  readonly kind: 'function';
  readonly fn: FnRef;
  readonly args: readonly Arg[];
  readonly binding: Binding;
}

/** `(not ...)` (joinVars undefined: every variable it shares with the enclosing clauses) or `(not-join [?a ...] ...)`. */
export interface NotClause extends Located {
  readonly kind: 'not';
  readonly source: string;
  readonly joinVars: readonly string[] | undefined;
  readonly clauses: readonly Clause[];
}

/** `(or ...)` / `(or-join [[?req] ?free] ...)`: each branch a clause list (`(and ...)` or one clause). */
export interface OrClause extends Located {
  readonly kind: 'or';
  readonly source: string;
  /** Undefined for plain `or`: the variables every branch uses. */
  readonly joinVars: readonly string[] | undefined;
  readonly required: readonly string[];
  readonly branches: readonly (readonly Clause[])[];
}

/** `(rule-name args...)`, optionally prefixed by a source. */
export interface RuleClause extends Located {
  readonly kind: 'rule';
  readonly source: string;
  readonly name: string;
  readonly args: readonly Term[];
}

export type Clause = PatternClause | PredicateClause | FunctionClause | NotClause | OrClause | RuleClause;
export type ClauseKind = Clause['kind'];

/** Binding forms, of function results and of inputs. A blank element binds nothing. */
export type Binding =
  | { readonly kind: 'scalar'; readonly target: Var | Blank }
  | { readonly kind: 'tuple'; readonly elements: readonly (Var | Blank)[] }
  | { readonly kind: 'collection'; readonly element: Var | Blank }
  | { readonly kind: 'relation'; readonly elements: readonly (Var | Blank)[] };
export type BindingKind = Binding['kind'];

export type InBinding = Binding | { readonly kind: 'source'; readonly name: string } | { readonly kind: 'rules' };

/** One branch of a rule: `[(name ?a [?b]) clauses...]`; `vars` lists the head, required ones first. */
export interface RuleBranch {
  readonly name: string;
  readonly vars: readonly string[];
  readonly required: number;
  readonly clauses: readonly Clause[];
  readonly position: string;
}

export type Rules = ReadonlyMap<string, readonly RuleBranch[]>;

export type AggregateFn = { readonly kind: 'builtin'; readonly name: string } | { readonly kind: 'input'; readonly name: string };

export type FindElement =
  | { readonly kind: 'var'; readonly name: string }
  /** `(count ?x)`, `(min 3 ?x)`, `(aggregate ?f ?x)`, `(?f ?x)`: constant arguments first, the variable last. */
  | { readonly kind: 'aggregate'; readonly fn: AggregateFn; readonly args: readonly unknown[]; readonly var: string; readonly text: string }
  | { readonly kind: 'pull'; readonly source: string; readonly var: string; readonly pattern: { readonly var: string } | { readonly value: unknown } };
export type FindElementKind = FindElement['kind'];

export type FindSpec =
  | { readonly kind: 'relation'; readonly elements: readonly FindElement[] }
  | { readonly kind: 'scalar'; readonly element: FindElement }
  | { readonly kind: 'collection'; readonly element: FindElement }
  | { readonly kind: 'tuple'; readonly elements: readonly FindElement[] };

export interface Query {
  readonly find: FindSpec;
  /** `:keys` / `:strs` / `:syms`: each result tuple as an object with these names. */
  readonly keys: readonly string[] | undefined;
  readonly with: readonly string[];
  readonly in: readonly InBinding[];
  readonly where: readonly Clause[];
}
