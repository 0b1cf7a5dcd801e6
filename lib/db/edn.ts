/**
 * EDN at the API edge (edn-data parses; this module maps its output to the JavaScript forms the
 * rest of Sediment takes). Keywords become `Keyword` objects rather than strings, because in
 * transaction data a keyword in entity or ref position names an ident, where a string would be a
 * tempid; every other reader turns a Keyword into its name.
 */
import { parseEDNString } from 'edn-data';
import { ErrorCode, SedimentError } from '../errors.js';

export class Keyword {
  constructor(readonly name: string) {}

  toString(): string {
    return `:${this.name}`;
  }
}

/**
 * Parses one EDN form from text; `what` names the input in errors ("transaction data", "query").
 * The text is read inside a vector of its own because edn-data stops after the first form and
 * ignores the rest (`[1 2] 3` reads as `[1 2]`), which would drop part of what the user wrote; the
 * vector's length says how many forms there were. The newline ends a trailing comment.
 */
export function parseEdn(text: string, what: string, code: SedimentError['code'] = ErrorCode.invalidTx): unknown {
  let forms: unknown;
  try {
    forms = parseEDNString(`[${text}\n]`, { mapAs: 'doubleArray', setAs: 'array', listAs: 'array' });
  } catch (error) {
    // edn-data fails with a TypeError of its own when a closing bracket has no opening one.
    const reason = error instanceof TypeError ? 'a closing bracket matches no opening one' : (error as Error).message;
    throw new SedimentError(code, `${what} is not valid EDN: ${reason}`);
  }
  // edn-data returns null, not an error, for unbalanced input such as `[:a`.
  if (!Array.isArray(forms)) throw new SedimentError(code, `${what} is not valid EDN: incomplete or unbalanced input`);
  if (forms.length !== 1) {
    throw new SedimentError(code, forms.length === 0 ? `${what} is empty: no EDN form` : `${what} is not one EDN form but ${forms.length}: ${text.trim().slice(0, 80)}`);
  }
  return fromParsedEdn(forms[0], what, code);
}

/** The JavaScript form of a value as edn-data parsed it (with the options `parseEdn` uses). */
export function fromParsedEdn(value: unknown, what: string, code: SedimentError['code'] = ErrorCode.invalidTx): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((v) => fromParsedEdn(v, what, code));
  const o = value as Record<string, unknown>;
  if (typeof o.key === 'string') return new Keyword(o.key);
  if (Array.isArray(o.map)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of o.map as [unknown, unknown][]) {
      const key = fromParsedEdn(k, what, code);
      out[key instanceof Keyword ? key.name : String(key)] = fromParsedEdn(v, what, code);
    }
    return out;
  }
  if (typeof o.char === 'string') return o.char;
  if (typeof o.sym === 'string') return new EdnSymbol(o.sym);
  if (typeof o.tag === 'string') {
    if (o.tag === 'uuid' && typeof o.val === 'string') return o.val;
    // Bytes have no EDN literal; `sediment export` writes them under this tag, in base64.
    if (o.tag === 'sediment/bytes' && typeof o.val === 'string') return new Uint8Array(Buffer.from(o.val, 'base64'));
    throw new SedimentError(code, `${what}: unsupported EDN tag #${o.tag}`);
  }
  throw new SedimentError(code, `${what}: unsupported EDN value ${JSON.stringify(value)}`);
}

/** An EDN symbol (`?x`, `count`, `_`): queries read them; transaction data rejects them. */
export class EdnSymbol {
  constructor(readonly name: string) {}

  toString(): string {
    return this.name;
  }
}
