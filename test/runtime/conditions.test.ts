import { expect } from 'chai';
import { setCondition, setConditions, type Condition } from '../../src/runtime/conditions.js';
import { statusOnlyChange } from '../../src/runtime/predicates.js';
import { sameStatus } from '../../src/runtime/status-writer.js';

const ready = (status: Condition['status'], reason = 'R', observedGeneration = 1) => ({
  type: 'Ready',
  status,
  reason,
  message: 'm',
  observedGeneration,
});

describe('conditions (metav1.Condition rules)', () => {
  const t0 = '2026-01-01T00:00:00Z';
  const t1 = '2026-01-01T00:05:00Z';

  it('adds a condition with the transition time', () => {
    expect(setCondition([], ready('True'), t0)).to.deep.equal([
      { ...ready('True'), lastTransitionTime: t0 },
    ]);
  });

  it('keeps lastTransitionTime when the status stays, even if reason, message or generation change', () => {
    const before = setCondition([], ready('True'), t0);
    const after = setCondition(before, { ...ready('True', 'Other', 2), message: 'new' }, t1);
    expect(after[0]?.lastTransitionTime).to.equal(t0);
    expect(after[0]?.reason).to.equal('Other');
    expect(after[0]?.observedGeneration).to.equal(2);
  });

  it('moves lastTransitionTime when the status changes', () => {
    const before = setCondition([], ready('True'), t0);
    expect(setCondition(before, ready('False'), t1)[0]?.lastTransitionTime).to.equal(t1);
  });

  it('keeps one condition per type and the others untouched', () => {
    const deg = { type: 'Degraded', status: 'False' as const, reason: 'Ok', message: '' };
    const all = setConditions([], [ready('True'), deg], t0);
    const next = setCondition(all, ready('False'), t1);
    expect(next.map((c) => c.type)).to.deep.equal(['Ready', 'Degraded']);
    expect(next[1]).to.deep.equal(all[1]);
  });
});

describe('change detection', () => {
  const base = {
    metadata: { name: 'a', generation: 1, resourceVersion: '1' },
    spec: { count: 1 },
    status: { phase: 'Pending' },
  };
  it('ignores status-only updates', () => {
    expect(
      statusOnlyChange(base, {
        ...base,
        metadata: { ...base.metadata, resourceVersion: '2' },
        status: { phase: 'Ready' },
      }),
    ).to.equal(true);
  });
  it('sees finalizers, deletion, labels and spec', () => {
    expect(
      statusOnlyChange(base, { ...base, metadata: { ...base.metadata, finalizers: ['x'] } }),
    ).to.equal(false);
    expect(
      statusOnlyChange(base, { ...base, metadata: { ...base.metadata, deletionTimestamp: 'now' } }),
    ).to.equal(false);
    expect(
      statusOnlyChange(base, { ...base, metadata: { ...base.metadata, labels: { a: 'b' } } }),
    ).to.equal(false);
    expect(statusOnlyChange(base, { ...base, spec: { count: 2 } })).to.equal(false);
  });
  it('compares statuses regardless of key order and undefined fields', () => {
    expect(sameStatus({ a: 1, b: { c: 2, d: undefined } }, { b: { c: 2 }, a: 1 })).to.equal(true);
    expect(sameStatus({ a: 1 }, { a: 2 })).to.equal(false);
  });
});
