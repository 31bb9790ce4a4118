// Priority resolution, table-driven: the named class, the globalDefault one, 0, and a value
// already recorded in status.priority.
import { expect } from 'chai';
import type { ResourceRequest } from '../../src/api/index.js';
import {
  globalDefault,
  resolvePriority,
  type PriorityClassInfo,
  type Resolved,
} from '../../src/serving/priority.js';

const rr = (priorityClassName?: string, recorded?: number): ResourceRequest => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name: 'job', namespace: 'team' },
  spec: { count: 1, ...(priorityClassName !== undefined ? { priorityClassName } : {}) },
  ...(recorded !== undefined ? { status: { priority: recorded } } : {}),
});

const high: PriorityClassInfo = { name: 'high', value: 1000 };
const low: PriorityClassInfo = { name: 'low', value: -5 };
const batch: PriorityClassInfo = { name: 'batch', value: 50, preemptionPolicy: 'Never' };
const dflt: PriorityClassInfo = { name: 'standard', value: 100, globalDefault: true };
const dfltNever: PriorityClassInfo = {
  name: 'polite',
  value: 10,
  globalDefault: true,
  preemptionPolicy: 'Never',
};

describe('priority: resolvePriority', () => {
  const cases: Array<{
    name: string;
    className?: string;
    recorded?: number;
    classes: PriorityClassInfo[];
    want: Resolved;
  }> = [
    {
      name: 'a named class that exists gives its value',
      className: 'high',
      classes: [high, low, dflt],
      want: {
        ok: true,
        priority: 1000,
        preemptionPolicy: 'PreemptLowerPriority',
        className: 'high',
      },
    },
    {
      name: 'a negative value is kept',
      className: 'low',
      classes: [high, low],
      want: { ok: true, priority: -5, preemptionPolicy: 'PreemptLowerPriority', className: 'low' },
    },
    {
      name: "a named class's Never policy is passed through",
      className: 'batch',
      classes: [batch, dflt],
      want: { ok: true, priority: 50, preemptionPolicy: 'Never', className: 'batch' },
    },
    {
      name: 'no name: the globalDefault class',
      classes: [high, dflt, low],
      want: {
        ok: true,
        priority: 100,
        preemptionPolicy: 'PreemptLowerPriority',
        className: 'standard',
      },
    },
    {
      name: "no name: the globalDefault class's Never policy is passed through",
      classes: [high, dfltNever],
      want: { ok: true, priority: 10, preemptionPolicy: 'Never', className: 'polite' },
    },
    {
      name: 'no name and no globalDefault: 0, PreemptLowerPriority, no class',
      classes: [high, low],
      want: { ok: true, priority: 0, preemptionPolicy: 'PreemptLowerPriority' },
    },
    {
      name: 'no name and no classes at all: 0',
      classes: [],
      want: { ok: true, priority: 0, preemptionPolicy: 'PreemptLowerPriority' },
    },
    {
      name: 'a recorded priority wins over the named class value',
      className: 'high',
      recorded: 7,
      classes: [{ ...high, value: 2000, preemptionPolicy: 'PreemptLowerPriority' }],
      want: { ok: true, priority: 7, preemptionPolicy: 'PreemptLowerPriority', className: 'high' },
    },
    {
      name: 'a recorded priority wins over the globalDefault value',
      recorded: 3,
      classes: [dflt],
      want: {
        ok: true,
        priority: 3,
        preemptionPolicy: 'PreemptLowerPriority',
        className: 'standard',
      },
    },
    {
      name: 'a recorded priority of 0 is still recorded (not treated as absent)',
      className: 'high',
      recorded: 0,
      classes: [{ ...high, preemptionPolicy: 'PreemptLowerPriority' }],
      want: { ok: true, priority: 0, preemptionPolicy: 'PreemptLowerPriority', className: 'high' },
    },
    {
      name: 'a recorded priority keeps the class policy (Never) when the class is still there',
      className: 'batch',
      recorded: 50,
      classes: [batch],
      want: { ok: true, priority: 50, preemptionPolicy: 'Never', className: 'batch' },
    },
    {
      name: 'a recorded priority survives its class being deleted (it may no longer preempt)',
      className: 'gone',
      recorded: 500,
      classes: [high, dflt],
      want: { ok: true, priority: 500, preemptionPolicy: 'Never' },
    },
    {
      name: 'a recorded priority with no name and no default: kept, may preempt',
      recorded: 9,
      classes: [],
      want: { ok: true, priority: 9, preemptionPolicy: 'PreemptLowerPriority' },
    },
  ];

  for (const c of cases)
    it(c.name, () => {
      const byName = new Map(c.classes.map((k) => [k.name, k]));
      const out = resolvePriority(
        rr(c.className, c.recorded),
        (n) => byName.get(n),
        globalDefault(c.classes),
      );
      expect(out).to.deep.equal(c.want);
    });

  // A class without a preemptionPolicy may preempt (PreemptLowerPriority, the Kubernetes
  // default) when first resolved; once the priority is recorded, the same class must say the same.
  for (const c of cases.filter((k) => k.recorded === undefined && k.want.ok))
    it(`resolving again once recorded gives the same answer: ${c.name}`, () => {
      const byName = new Map(c.classes.map((k) => [k.name, k]));
      const lookup = (n: string) => byName.get(n);
      const first = resolvePriority(rr(c.className), lookup, globalDefault(c.classes));
      if (!first.ok) throw new Error('expected a resolution');
      const again = resolvePriority(
        rr(c.className, first.priority),
        lookup,
        globalDefault(c.classes),
      );
      expect(again).to.deep.equal(first);
    });

  it('an unknown class is refused with a message naming it', () => {
    const out = resolvePriority(rr('missing-class'), () => undefined, dflt);
    expect(out.ok).to.equal(false);
    if (out.ok) return;
    expect(out.message).to.include('"missing-class"');
    expect(out.message).to.include('does not exist');
  });

  it('an unknown class is refused even when a globalDefault exists (no silent fallback)', () => {
    const out = resolvePriority(rr('typo'), (n) => (n === 'high' ? high : undefined), dflt);
    expect(out).to.have.property('ok', false);
  });

  it('the lookup is asked for the named class only', () => {
    const asked: string[] = [];
    resolvePriority(
      rr('high'),
      (n) => {
        asked.push(n);
        return n === 'high' ? high : undefined;
      },
      dflt,
    );
    expect(asked).to.deep.equal(['high']);
  });
});

describe('priority: globalDefault', () => {
  const cases: Array<{ name: string; classes: PriorityClassInfo[]; want: string | undefined }> = [
    { name: 'none marked: undefined', classes: [high, low], want: undefined },
    { name: 'no classes: undefined', classes: [], want: undefined },
    { name: 'one marked: that one', classes: [high, dflt, low], want: 'standard' },
    {
      name: 'several marked: the highest value',
      classes: [
        { name: 'a', value: 5, globalDefault: true },
        { name: 'b', value: 500, globalDefault: true },
        { name: 'c', value: 50, globalDefault: true },
        { name: 'd', value: 5000, globalDefault: false },
      ],
      want: 'b',
    },
    {
      name: 'several marked, the highest last: still the highest',
      classes: [
        { name: 'x', value: -1, globalDefault: true },
        { name: 'y', value: 0, globalDefault: true },
        { name: 'z', value: 1, globalDefault: true },
      ],
      want: 'z',
    },
    {
      name: 'a tie on value: the first name, whatever the order given',
      classes: [
        { name: 'm', value: 10, globalDefault: true },
        { name: 'k', value: 10, globalDefault: true },
      ],
      want: 'k',
    },
  ];

  for (const c of cases)
    it(c.name, () => {
      expect(globalDefault(c.classes)?.name).to.equal(c.want);
      expect(globalDefault([...c.classes].reverse())?.name).to.equal(c.want);
    });

  it('accepts any iterable (a Map of classes)', () => {
    const m = new Map([
      ['standard', dflt],
      ['high', high],
    ]);
    expect(globalDefault(m.values())).to.equal(dflt);
  });
});
