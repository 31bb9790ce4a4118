// The per-profile queues: order (priority, creation, key), moves, heads, and when a new position
// is worth a status write. Table-driven, then fast-check against a naive sort.
// FC_RUNS raises the number of runs (e.g. FC_RUNS=2000 for a long soak).
import { expect } from 'chai';
import fc from 'fast-check';
import {
  ProfileQueues,
  positionWorthWriting,
  queueOrder,
  shownPosition,
  type QueueEntry,
} from '../../src/serving/queue.js';

const RUNS = Number(process.env['FC_RUNS'] ?? 150);

const T = (s: number): string => `2026-01-01T00:00:${String(s).padStart(2, '0')}Z`;
const e = (key: string, priority: number, created: number, profile = 'default'): QueueEntry => ({
  key,
  profile,
  priority,
  created: T(created),
});

const fill = (...entries: QueueEntry[]): ProfileQueues => {
  const q = new ProfileQueues();
  for (const x of entries) q.set(x.key, x);
  return q;
};

const keys = (q: ProfileQueues, profile = 'default'): string[] =>
  q.entries(profile).map((x) => x.key);

describe('queue: order and positions', () => {
  const cases: Array<{ name: string; entries: QueueEntry[]; want: string[] }> = [
    {
      name: 'higher priority first, whatever the creation time',
      entries: [e('t/a', 0, 1), e('t/b', 10, 5), e('t/c', 5, 3)],
      want: ['t/b', 't/c', 't/a'],
    },
    {
      name: 'same priority: earlier creation first',
      entries: [e('t/late', 1, 30), e('t/early', 1, 10), e('t/mid', 1, 20)],
      want: ['t/early', 't/mid', 't/late'],
    },
    {
      name: 'same priority and creation: by key',
      entries: [e('t/c', 1, 5), e('t/a', 1, 5), e('t/b', 1, 5)],
      want: ['t/a', 't/b', 't/c'],
    },
    {
      name: 'negative priorities go after 0',
      entries: [e('t/neg', -100, 0), e('t/zero', 0, 50)],
      want: ['t/zero', 't/neg'],
    },
    {
      name: 'all three keys mixed',
      entries: [e('t/d', 1, 2), e('t/a', 2, 9), e('t/c', 1, 1), e('t/b', 1, 2), e('t/e', 0, 0)],
      want: ['t/a', 't/c', 't/b', 't/d', 't/e'],
    },
  ];

  for (const c of cases)
    it(c.name, () => {
      const q = fill(...c.entries);
      expect(keys(q)).to.deep.equal(c.want);
      c.want.forEach((k, i) => expect(q.position(k), k).to.equal(i + 1));
      expect(q.head('default')?.key).to.equal(c.want[0]);
      expect(q.size()).to.equal(c.want.length);
      // Inserted in the reverse order: the same queue.
      expect(keys(fill(...[...c.entries].reverse()))).to.deep.equal(c.want);
    });

  it('profiles are separate queues', () => {
    const q = fill(e('t/a', 0, 1, 'gpu'), e('t/b', 5, 2, 'cpu'), e('t/c', 9, 3, 'gpu'));
    expect(keys(q, 'gpu')).to.deep.equal(['t/c', 't/a']);
    expect(keys(q, 'cpu')).to.deep.equal(['t/b']);
    expect(q.position('t/b')).to.equal(1);
    expect(q.position('t/a')).to.equal(2);
    expect(q.profiles().sort()).to.deep.equal(['cpu', 'gpu']);
    expect(q.entries('none')).to.deep.equal([]);
    expect(q.head('none')).to.equal(undefined);
  });

  it('set(key, undefined) removes it; positions after it move up', () => {
    const q = fill(e('t/a', 0, 1), e('t/b', 0, 2), e('t/c', 0, 3));
    q.set('t/b', undefined);
    expect(q.has('t/b')).to.equal(false);
    expect(q.position('t/b')).to.equal(undefined);
    expect(q.position('t/c')).to.equal(2);
    expect(keys(q)).to.deep.equal(['t/a', 't/c']);
    expect(q.size()).to.equal(2);
  });

  it('removing the last entry drops the profile', () => {
    const q = fill(e('t/a', 0, 1, 'gpu'));
    expect(q.set('t/a', undefined)).to.deep.equal(['gpu']);
    expect(q.profiles()).to.deep.equal([]);
    expect(q.size()).to.equal(0);
  });

  it('removing a key not queued changes nothing', () => {
    const q = fill(e('t/a', 0, 1));
    expect(q.set('t/zzz', undefined)).to.deep.equal([]);
    expect(keys(q)).to.deep.equal(['t/a']);
  });

  it('re-setting with a higher priority moves it forward', () => {
    const q = fill(e('t/a', 0, 1), e('t/b', 0, 2), e('t/c', 0, 3));
    expect(q.set('t/c', e('t/c', 10, 3))).to.deep.equal(['default']);
    expect(keys(q)).to.deep.equal(['t/c', 't/a', 't/b']);
    expect(q.position('t/c')).to.equal(1);
    expect(q.size()).to.equal(3);
  });

  it('re-setting with a lower priority moves it back', () => {
    const q = fill(e('t/a', 5, 1), e('t/b', 0, 2), e('t/c', 0, 3));
    expect(q.set('t/a', e('t/a', -1, 1))).to.deep.equal(['default']);
    expect(keys(q)).to.deep.equal(['t/b', 't/c', 't/a']);
    expect(q.position('t/a')).to.equal(3);
  });

  it('re-setting into another profile moves it between queues', () => {
    const q = fill(e('t/a', 0, 1, 'p1'), e('t/b', 0, 2, 'p1'));
    expect(q.set('t/a', e('t/a', 0, 1, 'p2')).sort()).to.deep.equal(['p1', 'p2']);
    expect(keys(q, 'p1')).to.deep.equal(['t/b']);
    expect(keys(q, 'p2')).to.deep.equal(['t/a']);
  });

  it('re-setting the same entry is a no-op and reports no head change', () => {
    const q = fill(e('t/a', 0, 1), e('t/b', 0, 2));
    expect(q.set('t/a', e('t/a', 0, 1))).to.deep.equal([]);
    expect(q.set('t/b', e('t/b', 0, 2))).to.deep.equal([]);
    expect(keys(q)).to.deep.equal(['t/a', 't/b']);
  });

  const heads: Array<{
    name: string;
    before: QueueEntry[];
    key: string;
    entry: QueueEntry | undefined;
    changed: string[];
  }> = [
    {
      name: 'the first entry of a profile is its new head',
      before: [],
      key: 't/a',
      entry: e('t/a', 0, 1),
      changed: ['default'],
    },
    {
      name: 'a later entry behind the head: no change',
      before: [e('t/a', 0, 1)],
      key: 't/b',
      entry: e('t/b', 0, 2),
      changed: [],
    },
    {
      name: 'a higher priority entry takes the head',
      before: [e('t/a', 0, 1)],
      key: 't/b',
      entry: e('t/b', 1, 2),
      changed: ['default'],
    },
    {
      name: 'removing the head: changed',
      before: [e('t/a', 0, 1), e('t/b', 0, 2)],
      key: 't/a',
      entry: undefined,
      changed: ['default'],
    },
    {
      name: 'removing one behind the head: no change',
      before: [e('t/a', 0, 1), e('t/b', 0, 2)],
      key: 't/b',
      entry: undefined,
      changed: [],
    },
    {
      name: 'an entry in another profile changes only that profile',
      before: [e('t/a', 0, 1, 'p1')],
      key: 't/b',
      entry: e('t/b', 0, 0, 'p2'),
      changed: ['p2'],
    },
    {
      name: 'moving the second to the front: changed',
      before: [e('t/a', 0, 1), e('t/b', 0, 2)],
      key: 't/b',
      entry: e('t/b', 3, 2),
      changed: ['default'],
    },
  ];

  for (const c of heads)
    it(`set returns the profiles whose head changed: ${c.name}`, () => {
      const q = fill(...c.before);
      expect(q.set(c.key, c.entry).sort()).to.deep.equal(c.changed);
    });
});

describe('queue: positionWorthWriting', () => {
  const cases: Array<[number | undefined, number, boolean, string]> = [
    [undefined, 1, true, 'nothing recorded'],
    [undefined, 4000, true, 'nothing recorded, far back'],
    [1, 1, false, 'same, at the head'],
    [4000, 4000, false, 'same, far back'],
    [2, 1, true, 'near the head: every change'],
    [10, 9, true, 'near the head: every change'],
    [11, 10, true, 'moved into the first ten'],
    [10, 11, true, 'moved out of the first ten'],
    [5, 500, true, 'from near the head to far back'],
    [12, 11, false, 'just past the first ten: a one-place move is not a tenth'],
    [20, 18, true, 'exactly a tenth'],
    [20, 19, false, 'less than a tenth'],
    [100, 90, true, 'forward by exactly a tenth'],
    [100, 91, false, 'forward by less than a tenth'],
    [100, 110, true, 'back by a tenth'],
    [100, 109, false, 'back by less than a tenth'],
    [4000, 3999, false, 'far back, one place'],
    [4000, 3601, false, 'far back, 399 places'],
    [4000, 3600, true, 'far back, 400 places'],
  ];
  for (const [recorded, now, want, why] of cases)
    it(`${String(recorded)} → ${now}: ${want} (${why})`, () => {
      expect(positionWorthWriting(recorded, now)).to.equal(want);
    });

  const shown: Array<[number | undefined, number | undefined, number | undefined]> = [
    [undefined, undefined, undefined],
    [5, undefined, undefined],
    [undefined, 7, 7],
    [3, 2, 2],
    [100, 95, 100],
    [100, 90, 90],
  ];
  for (const [recorded, now, want] of shown)
    it(`shownPosition(${String(recorded)}, ${String(now)}) = ${String(want)}`, () => {
      expect(shownPosition(recorded, now)).to.equal(want);
    });
});

// ---- properties ----------------------------------------------------------------------------

const KEYS = ['t/a', 't/b', 't/c', 't/d', 't/e', 't/f', 'u/a', 'u/b'];
const PROFILES = ['p1', 'p2', 'p3'];

const entryArb = (key: string): fc.Arbitrary<QueueEntry> =>
  fc.record({
    key: fc.constant(key),
    profile: fc.constantFrom(...PROFILES),
    priority: fc.integer({ min: -2, max: 2 }),
    created: fc.integer({ min: 0, max: 5 }).map(T),
  });

type Op = { key: string; entry: QueueEntry | undefined };
const opArb: fc.Arbitrary<Op> = fc.constantFrom(...KEYS).chain((key) =>
  fc.record({
    key: fc.constant(key),
    entry: fc.option(entryArb(key), { nil: undefined, freq: 4 }),
  }),
);

describe('queue: properties', () => {
  it('after any set/remove sequence, each queue is the naive sort and positions are its indexes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const q = new ProfileQueues();
        const live = new Map<string, QueueEntry>();
        for (const op of ops) {
          const headsBefore = new Map(PROFILES.map((p) => [p, q.head(p)?.key]));
          const changed = q.set(op.key, op.entry);
          if (op.entry) live.set(op.key, op.entry);
          else live.delete(op.key);

          for (const p of PROFILES) {
            const want = [...live.values()].filter((x) => x.profile === p).sort(queueOrder);
            expect(q.entries(p)).to.deep.equal(want);
            want.forEach((x, i) => expect(q.position(x.key)).to.equal(i + 1));
            expect(q.head(p)).to.deep.equal(want[0]);
            // Every head that changed is reported.
            if (headsBefore.get(p) !== want[0]?.key) expect(changed).to.include(p);
          }
          expect(changed.every((p) => PROFILES.includes(p))).to.equal(true);
          expect(new Set(changed).size).to.equal(changed.length);
          expect(q.size()).to.equal(live.size);
          expect(q.profiles().sort()).to.deep.equal(
            [...new Set([...live.values()].map((x) => x.profile))].sort(),
          );
          for (const k of KEYS) {
            expect(q.has(k)).to.equal(live.has(k));
            if (!live.has(k)) expect(q.position(k)).to.equal(undefined);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('StrictFIFO never lets a later request of the same priority pass the head', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const q = new ProfileQueues();
        for (const op of ops) {
          q.set(op.key, op.entry);
          for (const p of q.profiles()) {
            const head = q.head(p)!;
            for (const other of q.entries(p)) {
              // Nothing of higher priority waits behind the head, nor of the same priority
              // created earlier.
              expect(other.priority).to.be.at.most(head.priority);
              if (other.priority === head.priority)
                expect(other.created >= head.created, `${other.key} before ${head.key}`).to.equal(
                  true,
                );
            }
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('queueOrder is a strict total order over distinct keys', () => {
    const distinct = fc.uniqueArray(
      fc.record({
        key: fc.constantFrom(...KEYS),
        profile: fc.constant('p'),
        priority: fc.integer({ min: -2, max: 2 }),
        created: fc.integer({ min: 0, max: 3 }).map(T),
      }),
      { selector: (x) => x.key, minLength: 3, maxLength: 3 },
    );
    fc.assert(
      fc.property(distinct, (xs) => {
        const [a, b, c] = xs as [QueueEntry, QueueEntry, QueueEntry];
        expect(queueOrder(a, a)).to.equal(0);
        expect(Math.sign(queueOrder(a, b))).to.equal(-Math.sign(queueOrder(b, a)));
        expect(queueOrder(a, b)).to.not.equal(0);
        if (queueOrder(a, b) < 0 && queueOrder(b, c) < 0) expect(queueOrder(a, c)).to.be.below(0);
      }),
      { numRuns: RUNS },
    );
  });
});
