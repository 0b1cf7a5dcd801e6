/**
 * Transaction instants never go backwards. Without an explicit instant a transaction takes the
 * clock, or `SOURCE_DATE_EPOCH` (seconds) when set, so that builds replaying the same
 * transactions write the same bytes; either is raised to the previous instant if it is earlier.
 * An explicit instant (imports) must not be earlier than the previous one.
 */
import { ErrorCode, SedimentError } from '../../errors.js';

export function chooseInstant(previous: number, explicit: Date | undefined): number {
  if (explicit !== undefined) {
    if (!(explicit instanceof Date) || Number.isNaN(explicit.getTime())) {
      throw new SedimentError(ErrorCode.invalidArgument, `txInstant must be a valid Date`);
    }
    const ms = explicit.getTime();
    if (ms < previous) {
      throw new SedimentError(
        ErrorCode.txInstant,
        `txInstant ${explicit.toISOString()} is earlier than the previous transaction's ${new Date(previous).toISOString()}`,
      );
    }
    return ms;
  }
  return Math.max(clock(), previous);
}

function clock(): number {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch === undefined || epoch === '') return Date.now();
  const seconds = Number(epoch);
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new SedimentError(ErrorCode.invalidArgument, `SOURCE_DATE_EPOCH must be whole seconds since 1970, got ${JSON.stringify(epoch)}`);
  }
  return seconds * 1000;
}
