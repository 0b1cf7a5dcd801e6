import { SedimentError } from '../../lib/errors.js';

/** The SedimentError code `fn` throws, a description of any other error, or 'no error'. */
export function errorCodeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof SedimentError) return error.code;
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    const name = error instanceof Error ? error.constructor.name : typeof error;
    return `not a SedimentError: ${name}${errno ? ` (${errno})` : ''}: ${error instanceof Error ? error.message : String(error)}`;
  }
  return 'no error';
}
