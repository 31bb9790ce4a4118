// Victim choice, table-driven over a capacity oracle, then fast-check against a monotone knapsack:
// the answer exists exactly when it can, fits, is minimal, takes only lower priorities, and
// cannot cycle.
// FC_RUNS raises the number of runs (e.g. FC_RUNS=2000 for a long soak).
import { expect } from 'chai';
import fc from 'fast-check';
import {
  MAX_REPRIEVE,
  chooseVictims,
  victimOrder,
  type Candidate,
} from '../../src/serving/preemption.js';

const RUNS = Number(process.env['FC_RUNS'] ?? 300);

const T = (s: number): string => `2026-01-01T00:00:${String(s).padStart(2, '0')}Z`;

interface Sized extends Candidate {
  size: number;
}

const c = (key: string, priority: number, bound: number, size = 1): Sized => ({
  key,
  priority,
  boundAt: T(bound),
  size,
});

/** The knapsack oracle: `free` capacity now, `need` wanted, each victim frees its size. */
const oracle =
  (free: number, need: number, sizes: ReadonlyMap<string, number>) =>
  (victims: readonly Candidate[]): boolean =>
    free + victims.reduce((s, v) => s + (sizes.get(v.key) ?? 0), 0) >= need;

const sizesOf = (cs: readonly Sized[]): Map<string, number> =>
  new Map(cs.map((x) => [x.key, x.size]));

const keysOf = (vs: readonly Candidate[] | undefined): string[] | undefined =>
  vs?.map((v) => v.key);

describe('preemption: chooseVictims', () => {
  const cases: Array<{
    name: string;
    priority: number;
    candidates: Sized[];
    free: number;
    need: number;
    want: string[] | undefined;
  }> = [
    {
      name: 'only strictly lower priorities are taken (equal and higher are ignored)',
      priority: 10,
      candidates: [c('eq', 10, 1), c('hi', 20, 2), c('lo', 5, 3)],
      free: 0,
      need: 1,
      want: ['lo'],
    },
    {
      name: 'no victim when only equal or higher priorities would make it fit',
      priority: 10,
      candidates: [c('eq', 10, 1, 5), c('hi', 20, 2, 5), c('lo', 5, 3, 1)],
      free: 0,
      need: 2,
      want: undefined,
    },
    {
      name: 'the lowest priority is taken first',
      priority: 10,
      candidates: [c('p3', 3, 1), c('p1', 1, 2), c('p2', 2, 3)],
      free: 0,
      need: 1,
      want: ['p1'],
    },
    {
      name: 'then the next lowest, in order',
      priority: 10,
      candidates: [c('p3', 3, 1), c('p1', 1, 2), c('p2', 2, 3)],
      free: 0,
      need: 2,
      want: ['p1', 'p2'],
    },
    {
      name: 'among equals, the most recently bound first',
      priority: 10,
      candidates: [c('old', 1, 1), c('newest', 1, 9), c('mid', 1, 5)],
      free: 0,
      need: 1,
      want: ['newest'],
    },
    {
      name: 'among equals, the most recently bound first (two needed)',
      priority: 10,
      candidates: [c('old', 1, 1), c('newest', 1, 9), c('mid', 1, 5)],
      free: 0,
      need: 2,
      want: ['newest', 'mid'],
    },
    {
      name: 'priority before recency: an older lower one goes before a newer higher one',
      priority: 10,
      candidates: [c('new-hi', 5, 9), c('old-lo', 1, 1)],
      free: 0,
      need: 1,
      want: ['old-lo'],
    },
    {
      name: 'undefined when even every candidate gone does not fit',
      priority: 10,
      candidates: [c('a', 1, 1, 2), c('b', 2, 2, 2)],
      free: 1,
      need: 6,
      want: undefined,
    },
    {
      name: 'every candidate when all are needed',
      priority: 10,
      candidates: [c('a', 1, 1, 2), c('b', 2, 2, 2)],
      free: 1,
      need: 5,
      want: ['a', 'b'],
    },
    {
      name: '[] when it fits without any',
      priority: 10,
      candidates: [c('a', 1, 1), c('b', 2, 2)],
      free: 3,
      need: 3,
      want: [],
    },
    {
      name: 'a victim that can be spared is given back (reprieve)',
      // The prefix that fits is [small, big]; without small it still fits.
      priority: 10,
      candidates: [c('small', 1, 1, 1), c('big', 2, 1, 5)],
      free: 0,
      need: 5,
      want: ['big'],
    },
    {
      name: 'reprieve gives the highest priority its place back first',
      // The prefix that fits is [a, b, c] (2 + 2 + 3). c (the last taken) is always needed;
      // then b is spared (a + c = 5 fits), and a can no longer be (c alone is 3).
      priority: 10,
      candidates: [c('a', 1, 3, 2), c('b', 2, 2, 2), c('c', 3, 1, 3)],
      free: 0,
      need: 5,
      want: ['a', 'c'],
    },
    {
      name: 'a zero-size victim is never kept',
      priority: 10,
      candidates: [c('nothing', 1, 1, 0), c('some', 2, 1, 3)],
      free: 0,
      need: 3,
      want: ['some'],
    },
  ];

  for (const t of cases)
    it(t.name, () => {
      const fits = oracle(t.free, t.need, sizesOf(t.candidates));
      expect(keysOf(chooseVictims(t.priority, t.candidates, fits))).to.deep.equal(t.want);
      // The order the candidates come in does not matter.
      expect(keysOf(chooseVictims(t.priority, [...t.candidates].reverse(), fits))).to.deep.equal(
        t.want,
      );
    });

  it('no lower-priority candidate at all: undefined (nothing to preempt), even when it fits', () => {
    // Note the asymmetry with '[] when it fits without any': with a lower candidate present the
    // answer would be [].
    expect(chooseVictims(10, [], () => true)).to.equal(undefined);
    expect(chooseVictims(10, [c('eq', 10, 1)], () => true)).to.equal(undefined);
  });

  it('fits is asked only about lower-priority candidates', () => {
    const asked: string[][] = [];
    chooseVictims(5, [c('a', 1, 1), c('b', 5, 1), c('z', 9, 1), c('d', 4, 2)], (vs) => {
      asked.push(vs.map((v) => v.key));
      return vs.length >= 2;
    });
    expect(asked.length).to.be.greaterThan(0);
    for (const set of asked) for (const k of set) expect(['a', 'd']).to.include(k);
  });

  it('victimOrder: priority ascending, then boundAt descending, then key', () => {
    const xs = [c('b', 2, 1), c('a', 1, 1), c('y', 1, 5), c('x', 1, 5)];
    expect(xs.sort(victimOrder).map((x) => x.key)).to.deep.equal(['x', 'y', 'a', 'b']);
  });
});

// ---- properties ----------------------------------------------------------------------------

const scenarioArb = fc.record({
  priority: fc.integer({ min: -3, max: 3 }),
  free: fc.integer({ min: 0, max: 8 }),
  need: fc.integer({ min: 0, max: 25 }),
  candidates: fc.uniqueArray(
    fc.record({
      key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'),
      priority: fc.integer({ min: -4, max: 4 }),
      boundAt: fc.integer({ min: 0, max: 4 }).map(T),
      size: fc.integer({ min: 0, max: 6 }),
    }),
    { selector: (x) => x.key, maxLength: 10 },
  ),
});

describe('preemption: properties (monotone knapsack oracle)', () => {
  it('undefined iff it cannot fit; otherwise it fits, is minimal, and takes only lower priorities', () => {
    fc.assert(
      fc.property(scenarioArb, ({ priority, free, need, candidates }) => {
        const sizes = sizesOf(candidates);
        const fits = oracle(free, need, sizes);
        const lower = candidates.filter((x) => x.priority < priority);
        const all = free + lower.reduce((s, x) => s + x.size, 0);
        const out = chooseVictims(priority, candidates, fits);

        // (a) undefined iff even every lower-priority candidate gone does not fit (with no
        // lower-priority candidate at all, undefined: nothing to preempt).
        if (lower.length === 0) {
          expect(out).to.equal(undefined);
          return;
        }
        expect(out === undefined).to.equal(all < need);
        if (!out) return;
        // (b) it fits.
        expect(fits(out)).to.equal(true);
        // (c) minimal: no single victim can be spared.
        for (const v of out) expect(fits(out.filter((x) => x !== v)), v.key).to.equal(false);
        // (d) only strictly lower priorities, each at most once, all from the candidates.
        for (const v of out) {
          expect(v.priority).to.be.below(priority);
          expect(candidates).to.include(v);
        }
        expect(new Set(out.map((v) => v.key)).size).to.equal(out.length);
        // Victims come in victimOrder.
        expect(keysOf(out)).to.deep.equal(keysOf([...out].sort(victimOrder)));
        // The same answer whatever the candidates' order.
        expect(keysOf(chooseVictims(priority, [...candidates].reverse(), fits))).to.deep.equal(
          keysOf(out),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('no cycle: a victim can never preempt its preemptor back', () => {
    fc.assert(
      fc.property(scenarioArb, ({ priority, free, need, candidates }) => {
        const fits = oracle(free, need, sizesOf(candidates));
        const out = chooseVictims(priority, candidates, fits) ?? [];
        const preemptor: Candidate = { key: 'preemptor', priority, boundAt: T(59) };
        for (const v of out) {
          // Whatever the capacity, the victim may not take the preemptor's nodes.
          for (const anyFit of [
            () => true,
            () => false,
            (vs: readonly Candidate[]) => vs.length > 0,
          ]) {
            const back = chooseVictims(v.priority, [preemptor, ...candidates], anyFit);
            expect(keysOf(back) ?? []).to.not.include('preemptor');
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('chooseVictims: many victims', () => {
  it('past MAX_REPRIEVE victims, the shortest prefix stands: the what-ifs stay logarithmic', () => {
    const candidates = Array.from({ length: 200 }, (_, i) => ({
      key: `t/c${String(i).padStart(3, '0')}`,
      priority: 1,
      boundAt: '2026-01-01T00:00:00Z',
    }));
    let calls = 0;
    // Each candidate frees one unit; the request needs 100.
    const victims = chooseVictims(10, candidates, (v) => {
      calls++;
      return v.length >= 100;
    })!;
    expect(victims).to.have.length(100);
    expect(MAX_REPRIEVE).to.be.below(100);
    expect(calls).to.be.at.most(1 + Math.ceil(Math.log2(200)));
  });
});
