/**
 * Every failure Sediment reports is a SedimentError with a stable `code`. Codes are part of the
 * public contract: callers branch on them, so a code never changes meaning once released.
 */
export const ErrorCode = {
  /** The file (or one page of it) fails its checksum or structure: never returned as data. */
  corrupt: 'SEDIMENT_CORRUPT',
  /** The file is not a Sediment database at all (wrong magic) or is of an unknown format version. */
  notADatabase: 'SEDIMENT_NOT_A_DATABASE',
  /** Another connection holds the writer lock. */
  locked: 'SEDIMENT_LOCKED',
  /** The database file does not exist and `create` was not given. */
  notFound: 'SEDIMENT_NOT_FOUND',
  /** The operating system reported an I/O failure. */
  io: 'SEDIMENT_IO',
  /** An earlier I/O failure during a write left the connection unusable; reopen the database. */
  poisoned: 'SEDIMENT_POISONED',
  /** The connection is closed. */
  closed: 'SEDIMENT_CLOSED',
  /** A write was attempted on a read-only connection. */
  readOnly: 'SEDIMENT_READ_ONLY',
  /** An option or argument is malformed. */
  invalidArgument: 'SEDIMENT_INVALID_ARGUMENT',
  /** Transaction data that is not a list of map or list forms (or not valid EDN). */
  invalidTx: 'SEDIMENT_INVALID_TX',
  /** An attribute ident that no transaction installed (yet, in this snapshot). */
  unknownAttribute: 'SEDIMENT_UNKNOWN_ATTRIBUTE',
  /** A value that is not of its attribute's `db/valueType`. */
  wrongType: 'SEDIMENT_WRONG_TYPE',
  /** Several values given for a cardinality-one attribute. */
  cardinality: 'SEDIMENT_CARDINALITY',
  /** A `db/unique` value already held by another entity. */
  uniqueConflict: 'SEDIMENT_UNIQUE_CONFLICT',
  /** One transaction both asserting two values of a cardinality-one attribute, or asserting and retracting one datom. */
  datomConflict: 'SEDIMENT_DATOM_CONFLICT',
  /** A tempid that is used only as a value, so no entity is made for it. */
  tempidUnresolved: 'SEDIMENT_TEMPID_UNRESOLVED',
  /** A lookup ref `[uniqueAttr, value]` that names no entity. */
  lookupRefNotFound: 'SEDIMENT_LOOKUP_REF_NOT_FOUND',
  /** An entity id that was never allocated, or an ident that names nothing. */
  entityNotFound: 'SEDIMENT_ENTITY_NOT_FOUND',
  /** `db/cas` found a value other than the expected one. */
  casFailed: 'SEDIMENT_CAS_FAILED',
  /** A schema transaction that is malformed, or alters what cannot change. */
  schema: 'SEDIMENT_SCHEMA',
  /** A transaction instant earlier than the previous transaction's. */
  txInstant: 'SEDIMENT_TX_INSTANT',
  /** An index read that needs an AVET entry for an attribute without `db/index` or `db/unique`. */
  notIndexed: 'SEDIMENT_NOT_INDEXED',
  /** A query (or rule set) that is not well formed: not EDN, a missing `:find`, a clause of no known shape. */
  queryParse: 'SEDIMENT_QUERY_PARSE',
  /** A variable that a predicate, function, `:find` or `:with` uses and nothing in the query binds. */
  queryUnbound: 'SEDIMENT_QUERY_UNBOUND',
  /** `not`, `not-join`, `or-join` or a rule whose join (or required) variables nothing binds first; `or` branches over different variables. */
  queryInsufficientBinding: 'SEDIMENT_QUERY_INSUFFICIENT_BINDING',
  /** A function, predicate or aggregate name that is neither built in nor bound by `:in`. */
  queryUnknownFunction: 'SEDIMENT_QUERY_UNKNOWN_FUNCTION',
  /** A rule call naming no rule of the `%` input (or no `%` input at all). */
  queryUnknownRule: 'SEDIMENT_QUERY_UNKNOWN_RULE',
  /** Inputs that do not match `:in`: their number, a source that is not a database or collection, a collection binding given a non-collection. */
  queryInput: 'SEDIMENT_QUERY_INPUT',
  /** A built-in or input function failed on its arguments (e.g. `+` of a string). */
  queryFunction: 'SEDIMENT_QUERY_FUNCTION',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class SedimentError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A checksum or structural check failed. `offset` names the page (its file offset) or slot. */
export class CorruptionError extends SedimentError {
  readonly offset: number | undefined;

  constructor(message: string, offset?: number) {
    super(ErrorCode.corrupt, message);
    this.offset = offset;
  }
}

/**
 * A query that cannot run. `clause` is the offending form as EDN text and `position` where it
 * stands (`:where clause 2`, `:find element 1`, `rule follows branch 1, clause 2`), when known.
 */
export class QueryError extends SedimentError {
  readonly clause: string | undefined;
  readonly position: string | undefined;

  constructor(code: ErrorCode, message: string, position?: string, clause?: string) {
    super(code, `query: ${message}${position === undefined ? '' : ` (${position}${clause === undefined ? '' : `: ${clause}`})`}`);
    this.clause = clause;
    this.position = position;
  }
}

export class LockedError extends SedimentError {
  constructor(path: string) {
    super(ErrorCode.locked, `database ${path} is locked by another writer`);
  }
}

/** Wraps an error thrown by the operating system, keeping its errno code (EIO, ENOSPC, ...). */
export class IoError extends SedimentError {
  readonly syscallCode: string | undefined;

  constructor(operation: string, cause: unknown) {
    const syscallCode = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(ErrorCode.io, `I/O error during ${operation}: ${describe(cause)}`, { cause });
    this.syscallCode = syscallCode;
  }
}

export class PoisonedError extends SedimentError {
  constructor(cause: unknown) {
    super(
      ErrorCode.poisoned,
      `connection is unusable after an earlier I/O failure (${describe(cause)}); reopen the database`,
      { cause },
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
