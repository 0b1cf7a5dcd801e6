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

/** Parses EDN text; `what` names the input in errors ("transaction data", "query"). */
export function parseEdn(text: string, what: string, code: SedimentError['code'] = ErrorCode.invalidTx): unknown {
  let parsed: unknown;
  try {
    parsed = parseEDNString(text, { mapAs: 'doubleArray', setAs: 'array', listAs: 'array' });
  } catch (error) {
    throw new SedimentError(code, `${what} is not valid EDN: ${(error as Error).message}`);
  }
  // edn-data returns null, not an error, for unbalanced input such as `[:a`.
  if (parsed === null && text.trim() !== 'nil') throw new SedimentError(code, `${what} is not valid EDN: incomplete or unbalanced input`);
  return fromParsedEdn(parsed, what, code);
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
