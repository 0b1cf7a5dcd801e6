export {
  CorruptionError,
  ErrorCode,
  IoError,
  LockedError,
  PoisonedError,
  QueryError,
  SedimentError,
} from './errors.js';
export type { OpenOptions } from './storage/options.js';
export { Database } from './db/database.js';
export { Connection, type TxListener } from './db/connection.js';
export { Db } from './db/db.js';
export { Datom, type IndexName, type LogEntry, type TxOptions, type TxReport } from './db/datom.js';
export { Entity } from './db/read/entity.js';
export type { PullPattern } from './db/read/pull.js';
export type { Value, ValueType } from './db/schema/value-type.js';
