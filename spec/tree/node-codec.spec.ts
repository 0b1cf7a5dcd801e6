import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asPageId } from '../../lib/ids.js';
import { CorruptionError } from '../../lib/errors.js';
import { EntryList } from '../../lib/tree/entry-list.js';
import { BranchNode, LeafNode, leafBytes, type TreeNode } from '../../lib/tree/node.js';
import { decodeNode, encodeNode } from '../../lib/tree/node-codec.js';

const entries = (list: EntryList): number[][] => Array.from({ length: list.count }, (_, i) => [...list.bytes.subarray(list.start(i), list.end(i))]);

/** Sorted distinct byte strings, many sharing prefixes (few distinct bytes), some empty or long. */
const sortedEntries = (maxLength: number) =>
  fc
    .uniqueArray(fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b.map((x) => x % 3))), { maxLength, selector: (b) => b.toString('hex') })
    .map((list) => EntryList.of([...list].sort(Buffer.compare)));

function roundTrip(node: TreeNode, withPrefixes: boolean): TreeNode {
  return decodeNode(encodeNode(node), asPageId(4096), withPrefixes);
}

describe('node pages', () => {
  it('decode to the entries, pivots, children and buffered operations encoded', () => {
    fc.assert(
      fc.property(sortedEntries(60), sortedEntries(20), sortedEntries(30), fc.boolean(), (leafEntries, pivots, buffer, withPrefixes) => {
        const leaf = roundTrip(new LeafNode(leafEntries, null), withPrefixes) as LeafNode;
        expect(entries(leaf.entries)).toEqual(entries(leafEntries));
        const children = Array.from({ length: pivots.count + 1 }, (_, i) => asPageId(1536 + i * 4099));
        const kinds = Uint8Array.from({ length: buffer.count }, (_, i) => i % 2);
        const branch = roundTrip(new BranchNode(2, pivots, children, buffer, kinds, null), withPrefixes) as BranchNode;
        expect([branch.level, entries(branch.pivots), branch.children, entries(branch.buffer), [...branch.kinds]]).toEqual([
          2,
          entries(pivots),
          children,
          entries(buffer),
          [...kinds],
        ]);
      }),
    );
  });

  it('store the prefix an entry shares with the one before only once', () => {
    const keys = Array.from({ length: 100 }, (_, i) => Buffer.from(`entity-0000042/attribute-${String(i).padStart(3, '0')}`));
    const leaf = new LeafNode(EntryList.of(keys), null);
    const page = encodeNode(leaf);
    // Each entry after the first costs its two length bytes and the last one or two digits.
    expect(page.length).toBeLessThan(keys[0]!.length + 100 * 4 + 2);
    expect(leafBytes(leaf)).toBeGreaterThan(page.length * 8);
  });

  it('reject a shared prefix longer than the entry before', () => {
    const page = encodeNode(new LeafNode(EntryList.of([Buffer.from('ab'), Buffer.from('abc')]), null));
    // kind, count, [rest length, "ab"], [shared, rest length, "c"]
    expect([...page]).toEqual([0, 2, 2, 97, 98, 2, 1, 99]);
    const bad = Buffer.from(page);
    bad[5] = 3;
    expect(() => decodeNode(bad, asPageId(4096))).toThrow(CorruptionError);
    expect(() => decodeNode(page.subarray(0, 7), asPageId(4096))).toThrow(CorruptionError);
  });
});
