import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asPageId } from '../../lib/ids.js';
import { PageCache } from '../../lib/storage/page-cache.js';

describe('page cache', () => {
  it('never holds more than its capacity in bytes, returns what was stored, and forgets what was taken', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.tuple(fc.nat(40), fc.integer({ min: 1, max: 120 }), fc.constantFrom('read', 'write', 'take'))),
        (capacity, operations) => {
          const cache = new PageCache(capacity);
          for (const [id, cost, operation] of operations) {
            if (operation === 'read') {
              const hit = cache.get(asPageId(id));
              if (hit !== undefined) expect(hit).toBe(`page ${id}`);
            } else if (operation === 'write') {
              cache.set(asPageId(id), `page ${id}`, cost);
            } else {
              const before = cache.usedBytes;
              const taken = cache.take(asPageId(id));
              if (taken !== undefined) expect([taken.value, before - cache.usedBytes]).toEqual([`page ${id}`, taken.cost]);
              expect(cache.get(asPageId(id))).toBeUndefined();
            }
            expect(cache.usedBytes).toBeLessThanOrEqual(capacity);
          }
        },
      ),
      { seed: 20261121 },
    );
  });

  it('gives recently read pages a second chance over pages never read again', () => {
    const cache = new PageCache(3);
    for (const id of [1, 2, 3]) cache.set(asPageId(id), id, 1);
    cache.get(asPageId(1));
    cache.set(asPageId(4), 4, 1); // evicts 2, the oldest page not read since it was stored
    expect(cache.get(asPageId(1))).toBe(1);
    expect(cache.get(asPageId(2))).toBeUndefined();
    expect(cache.get(asPageId(3))).toBe(3);
    expect(cache.get(asPageId(4))).toBe(4);
  });

  it('clears the value of an entry that leaves, so that whoever kept the entry reloads the page', () => {
    const cache = new PageCache(2);
    const one = cache.set(asPageId(1), 'one', 1)!;
    const two = cache.set(asPageId(2), 'two', 1)!;
    expect(cache.set(asPageId(2), 'two again', 1)).toBe(two);
    cache.set(asPageId(3), 'three', 1); // evicts 1
    expect(one.value).toBeUndefined();
    const taken = cache.take(asPageId(2))!;
    expect([taken.value, two.value]).toEqual(['two', undefined]);
    expect(cache.entry(asPageId(3))!.value).toBe('three');
  });

  it('does not cache a page larger than the whole cache, and a zero-byte cache holds nothing', () => {
    const cache = new PageCache(10);
    cache.set(asPageId(1), 'big', 11);
    expect(cache.get(asPageId(1))).toBeUndefined();
    const none = new PageCache(0);
    none.set(asPageId(1), 'x', 1);
    expect(none.size).toBe(0);
  });
});
