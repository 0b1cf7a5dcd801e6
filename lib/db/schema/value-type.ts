/**
 * The value types of attributes, how JavaScript values are checked against them at the edge of a
 * transaction, and the normal form each is stored in (so that equal values encode equally).
 */
import { ErrorCode, SedimentError } from '../../errors.js';

export type ValueType = 'string' | 'long' | 'double' | 'bigint' | 'boolean' | 'instant' | 'keyword' | 'uuid' | 'ref' | 'bytes';

/** A value as the public API shows it (see the contract's `Value`). */
export type Value = string | number | bigint | boolean | Date | Uint8Array;

/** `db/valueType` keywords and the types they name. */
export const VALUE_TYPE_BY_IDENT: ReadonlyMap<string, ValueType> = new Map([
  ['db.type/string', 'string'],
  ['db.type/long', 'long'],
  ['db.type/double', 'double'],
  ['db.type/bigint', 'bigint'],
  ['db.type/boolean', 'boolean'],
  ['db.type/instant', 'instant'],
  ['db.type/keyword', 'keyword'],
  ['db.type/uuid', 'uuid'],
  ['db.type/ref', 'ref'],
  ['db.type/bytes', 'bytes'],
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The stored form of `value` for an attribute of `type`, or undefined when it is not of that type.
 * Lenient only where JSON cannot say otherwise: a safe integer for a bigint, an ISO-8601 string
 * for an instant. Refs are resolved before this point and arrive as entity ids.
 */
export function normalizeValue(type: ValueType, value: unknown): Value | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'keyword':
      return typeof value === 'string' && value.length > 0 && !value.startsWith(':') ? value : undefined;
    case 'long':
    case 'ref':
      return typeof value === 'number' && Number.isSafeInteger(value) && (type === 'long' || value >= 0) ? value : undefined;
    case 'double':
      if (typeof value !== 'number' || Number.isNaN(value)) return undefined;
      return value === 0 ? 0 : value; // -0 and 0 are one value, as `===` says
    case 'bigint':
      if (typeof value === 'bigint') return value;
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'instant': {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : new Date(value.getTime());
      if (typeof value === 'string' && ISO_INSTANT.test(value)) {
        const date = new Date(value);
        return Number.isNaN(date.getTime()) ? undefined : date;
      }
      return undefined;
    }
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : undefined;
    case 'bytes':
      return value instanceof Uint8Array ? new Uint8Array(value) : undefined;
  }
}

/** Like `normalizeValue`, but a value of the wrong type is a `SEDIMENT_WRONG_TYPE` naming `where`. */
export function checkValue(type: ValueType, value: unknown, where: () => string): Value {
  const normal = normalizeValue(type, value);
  if (normal === undefined) {
    throw new SedimentError(ErrorCode.wrongType, `${where()}: ${describeValue(value)} is not a ${type}`);
  }
  return normal;
}

/** Value equality in the stored form (dates by instant, bytes by content). */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Uint8Array) return b instanceof Uint8Array && Buffer.compare(a, b) === 0;
  return false;
}

/** A short, printable rendering of any value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : `#inst "${value.toISOString()}"`;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && value !== null) {
    try {
      const json = JSON.stringify(value);
      return json.length > 80 ? `${json.slice(0, 77)}...` : json;
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}
