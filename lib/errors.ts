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
  /** `create` was given but the file exists already and is not empty. */
  alreadyExists: 'SEDIMENT_ALREADY_EXISTS',
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
