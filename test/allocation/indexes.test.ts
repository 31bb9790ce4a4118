// The index structures against naive models, at sizes and chunk sizes that exercise splits.
import { expect } from 'chai';
import fc from 'fast-check';
import { MaxTree } from '../../src/allocation/indexes/max-tree.js';
import { MaxTreap } from '../../src/allocation/indexes/max-treap.js';

describe('allocation/indexes', () => {
  it('MaxTreap keeps its order and answers first/last like a scan, through inserts, removes and key changes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })), {
          minLength: 1,
          maxLength: 200,
        }),
        fc.array(
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })),
          { maxLength: 200 },
        ),
        fc.tuple(
          fc.integer({ min: 0, max: 21 }),
          fc.integer({ min: 0, max: 21 }),
          fc.integer({ min: 0, max: 21 }),
        ),
        (init, changes, [lo, needKey, needOther]) => {
          // Dimension 0 is the key, dimension 1 another resource.
          const vals = init.map(([a, b]) => [a, b]);
          const cmp = (a: number, b: number) => vals[a]![0]! - vals[b]![0]! || a - b;
          const treap = new MaxTreap(vals.length, 2, cmp, (id, d) => vals[id]![d]!);
          const present = new Set<number>();
          vals.forEach((_, i) => {
            if (i % 3 !== 0) {
              treap.insert(i);
              present.add(i);
            }
          });
          for (const [pick, a, b] of changes) {
            const i = pick % vals.length;
            if (present.has(i)) {
              treap.remove(i);
              present.delete(i);
              if (a % 2 === 0) continue; // sometimes just drop it
            }
            vals[i] = [a, b];
            treap.insert(i);
            present.add(i);
          }
          const order = [...present].sort(cmp);
          expect(treap.toArray()).to.deep.equal(order);
          expect(treap.size).to.equal(order.length);
          const need = [needKey, needOther];
          const fits = (i: number) => vals[i]![0]! >= need[0]! && vals[i]![1]! >= need[1]!;
          const want = order.find((i) => vals[i]![0]! >= lo && fits(i)) ?? -1;
          expect(treap.first((i) => vals[i]![0]! >= lo, need, [0, 1])).to.equal(want);
          const wantLast = [...order].reverse().find((i) => vals[i]![0]! < lo && fits(i)) ?? -1;
          expect(treap.last((i) => vals[i]![0]! < lo, need, [0, 1])).to.equal(wantLast);
          expect(treap.first(() => true, need, [1])).to.equal(
            order.find((i) => vals[i]![1]! >= need[1]!) ?? -1,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('MaxTree.findFirst finds the leftmost position meeting every need, like a scan', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -1, max: 10 }), fc.integer({ min: -1, max: 10 })), {
          minLength: 1,
          maxLength: 200,
        }),
        fc.array(
          fc.tuple(fc.nat(), fc.integer({ min: -1, max: 10 }), fc.integer({ min: -1, max: 10 })),
          { maxLength: 50 },
        ),
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
