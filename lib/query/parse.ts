/**
 * Queries and rule sets to the AST, from Datomic's EDN syntax (text, read by edn-data through
 * `parseEdn`) or the JavaScript array form. Both are the same structure; they differ only in how
 * a symbol is written:
 *
 *   EDN                                   JavaScript
 *   [:find ?e :where [?e :a/b "x"]]       [':find', '?e', ':where', ['?e', 'a/b', 'x']]
 *   [(> ?age 30)]                         [['>', '?age', 30]]
 *   (not [?e :a/b _])                     ['not', ['?e', 'a/b', '_']]
 *
 * In the array form a string is a symbol where EDN can only have one (variables `?x`, `_`,
 * sources `$`, `%`, function and rule names in operator position, `...`), a keyword when it
 * starts with a colon, an attribute in attribute position, and otherwise a string constant.
 * EDN parsing reads lists and vectors alike as arrays, so forms are told apart by their first
 * element: a list starts with an operator symbol, a data pattern with a term.
 */
import { ErrorCode, QueryError } from '../errors.js';
import { EdnSymbol, Keyword, parseEdn } from '../db/edn.js';
import type { SedimentError } from '../errors.js';
import type {
  AggregateFn,
  Arg,
  Binding,
  Blank,
  Clause,
  FindElement,
  FindSpec,
  FnRef,
  InBinding,
  PatternClause,
  Query,
  RuleBranch,
  Rules,
  Term,
  Var,
} from './ast.js';

const BLANK: Blank = { kind: 'blank' };

const fail = (code: SedimentError['code'], message: string, position?: string, form?: unknown): never => {
  throw new QueryError(code, message, position, form === undefined ? undefined : formText(form));
};

/** EDN text of a parsed form, for messages and explain (a list is shown with parentheses). */
export function formText(form: unknown): string {
  if (form instanceof Keyword) return `:${form.name}`;
  if (form instanceof EdnSymbol) return form.name;
  if (typeof form === 'string') return JSON.stringify(form);
  if (typeof form === 'bigint') return `${form}N`;
  if (form === null || form === undefined) return 'nil';
  if (form instanceof Date) return `#inst ${JSON.stringify(form.toISOString())}`;
  if (typeof form === 'function') return '#function';
  if (Array.isArray(form)) {
    const inner = form.map(formText).join(' ');
    const head = form[0];
    const list = head instanceof EdnSymbol && !isVarName(head.name) && head.name !== '_' && !head.name.startsWith('$');
    return list ? `(${inner})` : `[${inner}]`;
  }
  if (typeof form === 'object') {
    return `{${Object.entries(form as Record<string, unknown>).map(([k, v]) => `:${k} ${formText(v)}`).join(' ')}}`;
  }
  return String(form);
}

const isVarName = (name: string) => name.length > 1 && name.startsWith('?');

/** Reads forms of one syntax: `js` for the array form, where strings stand for symbols. */
class Reader {
  constructor(readonly js: boolean) {}

  /** The name of a symbol (in the array form: of a string that is not a keyword). */
  symbol(x: unknown): string | undefined {
    if (x instanceof EdnSymbol) return x.name;
    if (this.js && typeof x === 'string' && !x.startsWith(':')) return x;
    return undefined;
  }

  varName(x: unknown): string | undefined {
    const s = this.symbol(x);
    return s !== undefined && isVarName(s) ? s : undefined;
  }

  isBlank(x: unknown): boolean {
    return this.symbol(x) === '_';
  }

  sourceName(x: unknown): string | undefined {
    const s = this.symbol(x);
    return s !== undefined && s.startsWith('$') ? s : undefined;
  }

  /** An operator: a symbol that is not a variable, blank or source. */
  operator(x: unknown): string | undefined {
    const s = this.symbol(x);
    if (s === undefined || isVarName(s) || s === '_' || s.startsWith('$') || s === '%' || s === '...' || s === '.') return undefined;
    return s;
  }

  keyword(x: unknown): string | undefined {
    if (x instanceof Keyword) return x.name;
    if (this.js && typeof x === 'string' && x.startsWith(':')) return x.slice(1);
    return undefined;
  }

  /** A term: variable, blank or constant (a symbol that is none of these is an error). */
  term(x: unknown, position: string, form: unknown): Term {
    const v = this.varName(x);
    if (v !== undefined) return { kind: 'var', name: v };
    if (this.isBlank(x)) return BLANK;
    if (x instanceof EdnSymbol) fail(ErrorCode.queryParse, `${x.name} is not a variable, _ or a constant`, position, form);
    return { kind: 'const', value: this.constant(x) };
  }

  constant(x: unknown): unknown {
    if (this.js && typeof x === 'string' && x.startsWith(':')) return new Keyword(x.slice(1));
    return x;
  }

  /** A variable or blank (binding forms and rule heads). */
  target(x: unknown, position: string, form: unknown): Var | Blank {
    const v = this.varName(x);
    if (v !== undefined) return { kind: 'var', name: v };
    if (this.isBlank(x)) return BLANK;
    return fail(ErrorCode.queryParse, `expected a variable or _, found ${formText(x)}`, position, form);
  }
}

// ----- queries -------------------------------------------------------------------------------------

const SECTIONS = ['find', 'keys', 'strs', 'syms', 'with', 'in', 'where'] as const;
type Section = (typeof SECTIONS)[number];

/** A query as EDN text or the array (or map) form, to its AST. */
export function parseQuery(query: unknown): Query {
  let form = query;
  const js = typeof query !== 'string';
  if (typeof query === 'string') {
    try {
      form = parseEdn(query, 'query', ErrorCode.queryParse);
    } catch (error) {
      throw new QueryError(ErrorCode.queryParse, (error as Error).message.replace(/^query: /, ''));
    }
  }
  const r = new Reader(js);
  const sections = splitSections(r, form);
  const find = sections.get('find');
  if (find === undefined || find.length === 0) fail(ErrorCode.queryParse, 'a query needs a :find with at least one element', ':find', form);
  const keySections = (['keys', 'strs', 'syms'] as const).filter((k) => sections.has(k));
  if (keySections.length > 1) fail(ErrorCode.queryParse, `only one of :keys, :strs and :syms may be given`, `:${keySections[1]}`);
  const spec = parseFind(r, find!);
  let keys: string[] | undefined;
  if (keySections.length === 1) {
    const section = keySections[0]!;
    keys = sections.get(section)!.map((k, i) => {
      const name = typeof k === 'string' && !js ? k : (r.symbol(k) ?? r.keyword(k) ?? (typeof k === 'string' ? k : undefined));
      if (name === undefined) fail(ErrorCode.queryParse, `:${section} takes names, found ${formText(k)}`, `:${section} element ${i + 1}`);
      return name!;
    });
    const width = spec.kind === 'relation' || spec.kind === 'tuple' ? spec.elements.length : 1;
    if (spec.kind === 'scalar' || spec.kind === 'collection') fail(ErrorCode.queryParse, `:${section} needs a relation or tuple :find`, `:${section}`);
    if (keys.length !== width) fail(ErrorCode.queryParse, `:${section} names ${keys.length} keys for ${width} :find elements`, `:${section}`);
  }
  const withVars = (sections.get('with') ?? []).map((x, i) => {
    const v = r.varName(x);
    if (v === undefined) fail(ErrorCode.queryParse, `:with takes variables, found ${formText(x)}`, `:with element ${i + 1}`);
    return v!;
  });
  const inForms = sections.get('in') ?? [new EdnSymbol('$')];
  const inputs = inForms.map((x, i) => parseInBinding(r, x, `:in element ${i + 1}`));
  const where = (sections.get('where') ?? []).map((c, i) => parseClause(r, c, `:where clause ${i + 1}`, '$'));
  return { find: spec, keys, with: withVars, in: inputs, where };
}

function splitSections(r: Reader, form: unknown): Map<Section, unknown[]> {
  const sections = new Map<Section, unknown[]>();
  if (Array.isArray(form)) {
    let current: unknown[] | undefined;
    for (const x of form) {
      const k = r.keyword(x);
      if (k !== undefined && (SECTIONS as readonly string[]).includes(k)) {
        if (sections.has(k as Section)) fail(ErrorCode.queryParse, `:${k} given twice`, `:${k}`);
        current = [];
        sections.set(k as Section, current);
      } else if (k !== undefined && current === undefined) {
        fail(ErrorCode.queryParse, `unknown query section :${k}; use :find, :keys, :strs, :syms, :with, :in, :where`, `:${k}`);
      } else if (current === undefined) {
        fail(ErrorCode.queryParse, `a query starts with :find, found ${formText(x)}`, 'query', form);
      } else {
        current.push(x);
      }
    }
    return sections;
  }
  if (form !== null && typeof form === 'object' && !(form instanceof Keyword) && !(form instanceof EdnSymbol)) {
    for (const [key, value] of Object.entries(form as Record<string, unknown>)) {
      const k = key.startsWith(':') ? key.slice(1) : key;
      if (!(SECTIONS as readonly string[]).includes(k)) fail(ErrorCode.queryParse, `unknown query section :${k}`, `:${k}`);
      if (!Array.isArray(value)) fail(ErrorCode.queryParse, `:${k} takes a vector`, `:${k}`, value);
      sections.set(k as Section, value as unknown[]);
    }
    return sections;
  }
  return fail(ErrorCode.queryParse, 'a query is a vector [:find ... :where ...] or a map {:find [...] :where [...]}', 'query', form);
}

function parseFind(r: Reader, elements: unknown[]): FindSpec {
  const first = elements[0];
  if (elements.length === 2 && r.symbol(elements[1]) === '.') {
    return { kind: 'scalar', element: parseFindElement(r, first, ':find element 1') };
  }
  if (elements.length === 1 && Array.isArray(first) && r.operator(first[0]) === undefined) {
    if (first.length === 2 && r.symbol(first[1]) === '...') {
      return { kind: 'collection', element: parseFindElement(r, first[0], ':find element 1') };
    }
    if (first.length === 0) fail(ErrorCode.queryParse, 'an empty tuple find', ':find element 1', first);
    return { kind: 'tuple', elements: first.map((x, i) => parseFindElement(r, x, `:find tuple element ${i + 1}`)) };
  }
  return { kind: 'relation', elements: elements.map((x, i) => parseFindElement(r, x, `:find element ${i + 1}`)) };
}

function parseFindElement(r: Reader, x: unknown, position: string): FindElement {
  const v = r.varName(x);
  if (v !== undefined) return { kind: 'var', name: v };
  if (Array.isArray(x) && x.length > 0) {
    const op = r.operator(x[0]);
    if (op === 'pull') {
      const hasSource = x.length === 4;
      const source = hasSource ? r.sourceName(x[1]) : '$';
      const target = r.varName(x[hasSource ? 2 : 1]);
      if ((x.length !== 3 && x.length !== 4) || source === undefined || target === undefined) {
        fail(ErrorCode.queryParse, 'pull takes (pull ?e pattern) or (pull $src ?e pattern)', position, x);
      }
      const raw = x[x.length - 1];
      // Datomic names a pattern input by a plain symbol (`:in $ pattern`); a variable works too.
      const patternVar = r.varName(raw) ?? (raw instanceof EdnSymbol ? r.operator(raw) : undefined);
      const pattern = patternVar !== undefined ? { var: patternVar } : { value: raw };
      if (patternVar === undefined && !(Array.isArray(raw) || (typeof raw === 'string' && !r.js))) {
        fail(ErrorCode.queryParse, 'a pull pattern is a vector (or a variable bound by :in)', position, x);
      }
      return { kind: 'pull', source: source!, var: target!, pattern };
    }
    let fn: AggregateFn | undefined;
    let args = x.slice(1);
    if (op === 'aggregate') {
      const f = r.varName(x[1]);
      if (f === undefined) fail(ErrorCode.queryParse, '(aggregate ?f ?x) takes the aggregate function as an :in variable', position, x);
      fn = { kind: 'input', name: f! };
      args = x.slice(2);
    } else if (op !== undefined) {
      fn = { kind: 'builtin', name: op };
    } else if (r.varName(x[0]) !== undefined) {
      fn = { kind: 'input', name: r.varName(x[0])! };
    }
    if (fn !== undefined) {
      const last = args.length === 0 ? undefined : r.varName(args[args.length - 1]);
      if (last === undefined) fail(ErrorCode.queryParse, 'an aggregate takes a variable as its last argument', position, x);
      const constants = args.slice(0, -1).map((a) => {
        if (r.varName(a) !== undefined || r.isBlank(a)) fail(ErrorCode.queryParse, 'only the last argument of an aggregate may be a variable', position, x);
        return keywordNames(r.constant(a));
      });
      return { kind: 'aggregate', fn, args: constants, var: last!, text: formText(x) };
    }
  }
  return fail(ErrorCode.queryParse, `a :find element is a variable, an aggregate or a pull, found ${formText(x)}`, position, x);
}

function parseInBinding(r: Reader, x: unknown, position: string): InBinding {
  const s = r.symbol(x);
  if (s === '%') return { kind: 'rules' };
  if (s !== undefined && s.startsWith('$')) return { kind: 'source', name: s };
  // A plain symbol names a pull pattern input (`:in $ pattern`).
  if (x instanceof EdnSymbol && r.operator(x) !== undefined) return { kind: 'scalar', target: { kind: 'var', name: x.name } };
  return parseBinding(r, x, position);
}

function parseBinding(r: Reader, x: unknown, position: string): Binding {
  if (!Array.isArray(x)) return { kind: 'scalar', target: r.target(x, position, x) };
  if (x.length === 1 && Array.isArray(x[0])) {
    const inner = x[0] as unknown[];
    if (inner.length === 0) fail(ErrorCode.queryParse, 'an empty relation binding', position, x);
    return { kind: 'relation', elements: inner.map((e) => r.target(e, position, x)) };
  }
  if (x.length === 2 && r.symbol(x[1]) === '...') return { kind: 'collection', element: r.target(x[0], position, x) };
  if (x.length === 0) fail(ErrorCode.queryParse, 'an empty tuple binding', position, x);
  return { kind: 'tuple', elements: x.map((e) => r.target(e, position, x)) };
}

// ----- clauses -------------------------------------------------------------------------------------

function parseClauses(r: Reader, forms: readonly unknown[], position: string, source: string): Clause[] {
  return forms.map((c, i) => parseClause(r, c, `${position}, clause ${i + 1}`, source));
}

function parseClause(r: Reader, form: unknown, position: string, defaultSource: string): Clause {
  if (!Array.isArray(form) || form.length === 0) {
    return fail(ErrorCode.queryParse, 'a clause is a data pattern, an expression or a list form', position, form);
  }
  const text = formText(form);
  let items = form as unknown[];
  let source = defaultSource;
  const src = r.sourceName(items[0]);
  if (src !== undefined) {
    source = src;
    items = items.slice(1);
    if (items.length === 0) fail(ErrorCode.queryParse, 'a source with no clause', position, form);
  }
  const head = items[0];
  // An expression clause: [(f args...)] or [(f args...) binding].
  if (src === undefined && Array.isArray(head) && isExpression(r, items)) {
    return parseExpression(r, items, position, text, form);
  }
  // A list form starts with an operator; a data pattern with a term. (In the array form an entity
  // is a variable, number, ':ident' or lookup ref, never a bare name, so the same test holds.)
  const op = r.operator(head);
  if (op !== undefined) return parseListForm(r, op, items, position, text, source, form);
  return parsePattern(r, items, position, text, source, form);
}

function isExpression(r: Reader, items: unknown[]): boolean {
  const call = items[0] as unknown[];
  if (items.length > 2 || call.length === 0) return false;
  if (!r.js) return call[0] instanceof EdnSymbol;
  // Array form: a lookup ref [attr value] in entity position is followed by an attribute, an
  // expression by nothing or a binding form.
  if (items.length === 1) return r.operator(call[0]) !== undefined || r.varName(call[0]) !== undefined;
  const binding = items[1];
  return Array.isArray(binding) || r.varName(binding) !== undefined || r.isBlank(binding);
}

function parseExpression(r: Reader, items: unknown[], position: string, text: string, form: unknown): Clause {
  const call = items[0] as unknown[];
  let fn: FnRef;
  const op = r.operator(call[0]);
  const fnVar = r.varName(call[0]);
  if (op !== undefined) fn = { kind: 'builtin', name: op };
  else if (fnVar !== undefined) fn = { kind: 'input', name: fnVar };
  else return fail(ErrorCode.queryParse, `a function expression starts with a function name, found ${formText(call[0])}`, position, form);
  const args: Arg[] = call.slice(1).map((a) => {
    const s = r.sourceName(a);
    return s !== undefined ? { kind: 'source', name: s } : r.term(a, position, form);
  });
  if (items.length === 1) return { kind: 'predicate', fn, args, position, text };
  return { kind: 'function', fn, args, binding: parseBinding(r, items[1], position), position, text };
}

function parsePattern(r: Reader, items: unknown[], position: string, text: string, source: string, form: unknown): PatternClause {
  if (items.length > 5) fail(ErrorCode.queryParse, 'a data pattern has at most five positions: e a v tx added', position, form);
  const terms = [BLANK, BLANK, BLANK, BLANK, BLANK] as Term[];
  items.forEach((x, i) => {
    if (i === 1 && r.js && typeof x === 'string' && !x.startsWith('?') && x !== '_' && !x.startsWith('$')) {
      // The array form names attributes by plain strings ('person/name'), as DataScript's JS API does.
      terms[i] = { kind: 'const', value: new Keyword(x.startsWith(':') ? x.slice(1) : x) };
      return;
    }
    terms[i] = r.term(x, position, form);
  });
  return { kind: 'pattern', source, terms: terms as unknown as PatternClause['terms'], position, text };
}

function parseListForm(r: Reader, op: string, items: unknown[], position: string, text: string, source: string, form: unknown): Clause {
  const body = items.slice(1);
  switch (op) {
    case 'not':
    case 'not-join': {
      let joinVars: string[] | undefined;
      let clauses = body;
      if (op === 'not-join') {
        joinVars = varList(r, body[0], position, form);
        clauses = body.slice(1);
      }
      if (clauses.length === 0) fail(ErrorCode.queryParse, `${op} needs at least one clause`, position, form);
      return { kind: 'not', source, joinVars, clauses: parseClauses(r, clauses, position, source), position, text };
    }
    case 'or':
    case 'or-join': {
      let joinVars: string[] | undefined;
      let required: string[] = [];
      let branches = body;
      if (op === 'or-join') {
        const spec = body[0];
        if (!Array.isArray(spec)) fail(ErrorCode.queryParse, 'or-join takes a vector of variables first', position, form);
        const list = spec as unknown[];
        if (Array.isArray(list[0])) {
          required = varList(r, list[0], position, form);
          joinVars = [...required, ...varList(r, list.slice(1), position, form)];
        } else {
          joinVars = varList(r, list, position, form);
        }
        branches = body.slice(1);
      }
      if (branches.length === 0) fail(ErrorCode.queryParse, `${op} needs at least one branch`, position, form);
      const parsed = branches.map((b, i) => {
        const at = `${position}, ${op} branch ${i + 1}`;
        if (Array.isArray(b) && r.operator(b[0]) === 'and') {
          if (b.length < 2) fail(ErrorCode.queryParse, 'and needs at least one clause', at, b);
          return parseClauses(r, b.slice(1), at, source);
        }
        return [parseClause(r, b, at, source)];
      });
      return { kind: 'or', source, joinVars, required, branches: parsed, position, text };
    }
    case 'and':
      return fail(ErrorCode.queryParse, 'and is only allowed as a branch of or / or-join', position, form);
    default:
      return { kind: 'rule', source, name: op, args: body.map((x) => r.term(x, position, form)), position, text };
  }
}

function varList(r: Reader, x: unknown, position: string, form: unknown): string[] {
  if (!Array.isArray(x) || x.length === 0) return fail(ErrorCode.queryParse, 'expected a vector of variables', position, form);
  return x.map((v) => {
    const name = r.varName(v);
    if (name === undefined) fail(ErrorCode.queryParse, `expected a variable, found ${formText(v)}`, position, form);
    return name!;
  });
}

// ----- rules ---------------------------------------------------------------------------------------

/** A rule set (`%` input): EDN text or the array form, `[[(name ?a [?b]) clause...] ...]`. */
export function parseRules(rules: unknown): Rules {
  let form = rules;
  const js = typeof rules !== 'string';
  if (typeof rules === 'string') {
    try {
      form = parseEdn(rules, 'rules', ErrorCode.queryParse);
    } catch (error) {
      throw new QueryError(ErrorCode.queryParse, (error as Error).message.replace(/^rules: /, 'rules: '));
    }
  }
  const r = new Reader(js);
  if (!Array.isArray(form)) return fail(ErrorCode.queryParse, 'rules are a vector of rule branches', 'rules', form);
  const out = new Map<string, RuleBranch[]>();
  form.forEach((branch, i) => {
    const position = `rule branch ${i + 1}`;
    if (!Array.isArray(branch) || branch.length < 2 || !Array.isArray(branch[0])) {
      fail(ErrorCode.queryParse, 'a rule branch is [(name ?vars...) clause...]', position, branch);
    }
    const head = branch[0] as unknown[];
    const name = r.operator(head[0]);
    if (name === undefined) fail(ErrorCode.queryParse, 'a rule head starts with the rule name', position, branch);
    const at = `rule ${name} branch ${(out.get(name!)?.length ?? 0) + 1}`;
    let required: string[] = [];
    let rest = head.slice(1);
    if (Array.isArray(rest[0])) {
      required = varList(r, rest[0], at, branch);
      rest = rest.slice(1);
    }
    const vars = [...required, ...rest.map((v) => {
      const n = r.varName(v);
      if (n === undefined) fail(ErrorCode.queryParse, `a rule head lists variables, found ${formText(v)}`, at, branch);
      return n!;
    })];
    if (new Set(vars).size !== vars.length) fail(ErrorCode.queryParse, 'a rule head repeats a variable', at, branch);
    const existing = out.get(name!);
    if (existing !== undefined && (existing[0]!.vars.length !== vars.length || existing[0]!.required !== required.length)) {
      fail(ErrorCode.queryParse, `every branch of rule ${name} takes the same number of (required) variables`, at, branch);
    }
    const clauses = parseClauses(r, branch.slice(1), at, '$');
    const list = existing ?? [];
    list.push({ name: name!, vars, required: required.length, clauses, position: at });
    out.set(name!, list);
  });
  return out;
}

/** Keywords in a constant (function arguments, aggregate parameters) as their names: keyword values are strings. */
export function keywordNames(x: unknown): unknown {
  if (x instanceof Keyword) return x.name;
  if (Array.isArray(x)) return x.map(keywordNames);
  return x;
}
