/**
 * The package as users import it: `sediment` resolves through package.json `exports` to the
 * built library in dist/ (npm's `prepare` builds it; `npm test` rebuilds it first).
 */
import { describe, expect, it } from 'vitest';
import * as sediment from 'sediment';

describe('package entry', () => {
  it('exports SedimentError and its subclasses from the built library', () => {
    const error = new sediment.LockedError('/tmp/x.db');
    expect(error).toBeInstanceOf(sediment.SedimentError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(sediment.ErrorCode.locked);
    expect(error.message).toContain('/tmp/x.db');
    expect(import.meta.resolve('sediment')).toMatch(/\/dist\/lib\/index\.js$/);
  });
});
