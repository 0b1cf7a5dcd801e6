import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asPageId } from '../../lib/ids.js';
import { CorruptionError } from '../../lib/errors.js';
import { EntryList } from '../../lib/tree/entry-list.js';
import { BranchNode, LeafNode, type TreeNode } from '../../lib/tree/node.js';
import { decodeNode, encodeNode } from '../../lib/tree/node-codec.js';

const entries = (list: EntryList): number[][] => Array.from({ length: list.count }, (_, i) => [...list.bytes.subarray(list.start(i), list.end(i))]);

/** Sorted distinct byte strings, some empty. */
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

  it('reject a page whose lists run past its end', () => {
    const page = encodeNode(new LeafNode(EntryList.of([Buffer.from('ab'), Buffer.from('abc')]), null));
    // kind, count, the lengths, the entries' bytes
    expect([...page]).toEqual([0, 2, 2, 3, 97, 98, 97, 98, 99]);
    expect(() => decodeNode(page.subarray(0, 8), asPageId(4096))).toThrow(CorruptionError);
    const bad = Buffer.from(page);
    bad[1] = 200;
    expect(() => decodeNode(bad, asPageId(4096))).toThrow(CorruptionError);
  });
});
