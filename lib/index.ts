export {
  CorruptionError,
  ErrorCode,
  IoError,
  LockedError,
  PoisonedError,
  SedimentError,
} from './errors.js';
export type { OpenOptions } from './storage/options.js';
