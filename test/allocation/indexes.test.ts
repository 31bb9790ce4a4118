// The index structures against naive models, at sizes and chunk sizes that exercise splits.
import { expect } from 'chai';
import fc from 'fast-check';
import { MaxTree } from '../../src/allocation/indexes/max-tree.js';
import { SortedIndexList } from '../../src/allocation/indexes/sorted-list.js';

describe('allocation/indexes', () => {
  it('SortedIndexList keeps the order of a sorted array through inserts, removes and key changes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 300 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 20 })), { maxLength: 300 }),
        fc.integer({ min: 1, max: 8 }),
        (keys, changes, chunk) => {
          const key = [...keys];
          const cmp = (a: number, b: number) => key[a]! - key[b]! || a - b;
          const present = new Set(keys.map((_, i) => i).filter((i) => i % 3 !== 0));
          const list = SortedIndexList.from([...present], cmp, chunk);
          for (const [pick, k] of changes) {
            const i = pick % key.length;
            if (present.has(i)) {
              expect(list.remove(i)).to.equal(true);
              present.delete(i);
              if (k % 2 === 0) continue; // sometimes just drop it
            }
            key[i] = k;
            list.insert(i);
            present.add(i);
          }
          const want = [...present].sort(cmp);
          expect(list.toArray()).to.deep.equal(want);
          expect(list.size).to.equal(want.length);
          expect([...list.descending()]).to.deep.equal([...want].reverse());
          const t = 10;
          expect([...list.ascending((x) => key[x]! >= t)]).to.deep.equal(want.filter((x) => key[x]! >= t));
          expect(list.remove(-1)).to.equal(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('MaxTree.findFirst finds the leftmost position meeting every need, like a scan', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -1, max: 10 }), fc.integer({ min: -1, max: 10 })), { minLength: 1, maxLength: 200 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: -1, max: 10 }), fc.integer({ min: -1, max: 10 })), { maxLength: 50 }),
        fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 10 })),
        fc.nat(),
        fc.nat(),
        (leaves, updates, need, a, b) => {
          const vals = leaves.map(([x, y]) => [x < 0 ? -Infinity : x, y < 0 ? -Infinity : y]);
          const tree = new MaxTree(vals.length, 2);
          tree.load((pos, d) => vals[pos]![d]!);
          for (const [p, x, y] of updates) {
            const i = p % vals.length;
            vals[i] = [x < 0 ? -Infinity : x, y < 0 ? -Infinity : y];
            tree.set(i, vals[i]!);
          }
          const from = a % (vals.length + 1);
          const to = from + (b % (vals.length + 1 - from));
          let want = -1;
          for (let i = from; i < to; i++) {
            if (vals[i]![0]! >= need[0] && vals[i]![1]! >= need[1]) {
              want = i;
              break;
            }
          }
          expect(tree.findFirst(from, to, need, [0, 1])).to.equal(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});
