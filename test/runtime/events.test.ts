// The event recorder on the fake API server and a fake clock: one Event per distinct event, and
// repeats counted on it as a series, written at most once per flush window.
import { expect } from 'chai';
import type { Logger } from 'winston';
import type { KubeObject } from '../../src/kube/objects.js';
import { KubeEventRecorder, type EventRecorderOptions } from '../../src/runtime/events.js';
import { FakeClock } from '../support/fakeclock.js';
import { FakeKube } from '../support/fakekube.js';
import { flush } from '../support/settle.js';

const FLUSH = 10_000;

interface Event extends KubeObject {
  note: string;
  reason: string;
  type: string;
  eventTime: string;
  reportingController: string;
  regarding: { kind: string; name: string; namespace?: string; uid?: string };
  series?: { count: number; lastObservedTime: string };
}

const rr: KubeObject = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name: 'web', namespace: 'team', uid: 'uid-web' },
};

class Harness {
  readonly kube = new FakeKube();
  readonly clock = new FakeClock(Date.parse('2026-03-01T12:00:00Z'));
  readonly warnings: string[] = [];
  readonly recorder: KubeEventRecorder;

  constructor(o: Partial<EventRecorderOptions> = {}) {
    const log = { warn: (msg: string) => this.warnings.push(msg) } as unknown as Logger;
    this.recorder = new KubeEventRecorder(
      this.kube,
      {
        controller: 'berth.dev/operator',
        instance: 'pod-1',
        seriesFlushMs: FLUSH,
        ...o,
        clock: this.clock,
      },
      log,
    );
  }

  events(ns = 'team'): Event[] {
    return this.kube.all<Event>(`/apis/events.k8s.io/v1/namespaces/${ns}/events`);
  }

  verbs(): string[] {
    return this.kube.writes(/\/events/).map((c) => c.verb);
  }
}

describe('KubeEventRecorder', () => {
  it('the first event creates one Event about the object', async () => {
    const h = new Harness();
    h.recorder.event(rr, 'Normal', 'Allocated', 'Allocate', 'bound 1 node');
    await flush();
    expect(h.verbs()).to.deep.equal(['create']);
    const [e] = h.events();
    expect(e?.note).to.equal('bound 1 node');
    expect(e?.reason).to.equal('Allocated');
    expect(e?.type).to.equal('Normal');
    expect(e?.reportingController).to.equal('berth.dev/operator');
    expect(e?.eventTime).to.equal('2026-03-01T12:00:00.000000Z');
    expect(e?.regarding).to.include({ kind: 'ResourceRequest', name: 'web', uid: 'uid-web' });
    expect(e?.series).to.equal(undefined);
  });

  it('5 repeats within the flush window cost one PATCH with series.count 6', async () => {
    const h = new Harness();
    h.recorder.event(rr, 'Warning', 'FailedToAllocate', 'Allocate', 'no fit');
    await flush();
    for (let i = 0; i < 5; i++) {
      h.clock.advance(1000);
      h.recorder.event(rr, 'Warning', 'FailedToAllocate', 'Allocate', 'no fit');
    }
    await flush();
    expect(h.verbs(), 'nothing written before the window ends').to.deep.equal(['create']);
    h.clock.advance(FLUSH);
    await flush();
    expect(h.verbs()).to.deep.equal(['create', 'mergePatch']);
    const [e] = h.events();
    expect(e?.series?.count).to.equal(6);
    expect(h.events()).to.have.length(1);
    // A later window that saw no repeat writes nothing; a new repeat writes the next count.
    h.clock.advance(FLUSH * 3);
    await flush();
    expect(h.verbs()).to.have.length(2);
    h.recorder.event(rr, 'Warning', 'FailedToAllocate', 'Allocate', 'no fit');
    h.clock.advance(FLUSH);
    await flush();
    expect(h.verbs()).to.deep.equal(['create', 'mergePatch', 'mergePatch']);
    expect(h.events()[0]?.series?.count).to.equal(7);
  });

  const distinct: Array<{
    name: string;
    obj: KubeObject;
    type: 'Normal' | 'Warning';
    reason: string;
    note: string;
  }> = [
    {
      name: 'a different note',
      obj: rr,
      type: 'Warning',
      reason: 'FailedToAllocate',
      note: 'other',
    },
    { name: 'a different reason', obj: rr, type: 'Warning', reason: 'Degraded', note: 'no fit' },
    {
      name: 'a different type',
      obj: rr,
      type: 'Normal',
      reason: 'FailedToAllocate',
      note: 'no fit',
    },
    {
      name: 'a different object',
      obj: { ...rr, metadata: { ...rr.metadata, name: 'db', uid: 'uid-db' } },
      type: 'Warning',
      reason: 'FailedToAllocate',
      note: 'no fit',
    },
  ];
  for (const c of distinct)
    it(`${c.name} is a new Event, not a repeat`, async () => {
      const h = new Harness();
      h.recorder.event(rr, 'Warning', 'FailedToAllocate', 'Allocate', 'no fit');
      h.recorder.event(c.obj, c.type, c.reason, 'Allocate', c.note);
      await flush();
      h.clock.advance(FLUSH);
      await flush();
      expect(h.verbs()).to.deep.equal(['create', 'create']);
      expect(h.events()).to.have.length(2);
    });

  it('an event about a cluster-scoped object goes to the default namespace', async () => {
    const h = new Harness();
    const pool: KubeObject = {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'HostPool',
      metadata: { name: 'rack' },
    };
    h.recorder.event(pool, 'Warning', 'Invalid', 'Inventory', 'bad quantity');
    await flush();
    expect(h.events('default')).to.have.length(1);
  });

  it('truncates a long note to 1024 characters', async () => {
    const h = new Harness();
    h.recorder.event(rr, 'Normal', 'Allocated', 'Allocate', 'x'.repeat(5000));
    await flush();
    expect(h.events()[0]?.note).to.have.length(1024);
  });

  it('a create failure is logged, not thrown, and the next repeat tries again', async () => {
    const h = new Harness();
    h.kube.failNext({ verb: 'create', path: /events$/ }, () => new Error('connection refused'));
    expect(() => h.recorder.event(rr, 'Normal', 'Allocated', 'Allocate', 'bound')).to.not.throw();
    await flush();
    expect(h.warnings).to.deep.equal(['could not record event']);
    expect(h.events()).to.have.length(0);
    h.recorder.event(rr, 'Normal', 'Allocated', 'Allocate', 'bound');
    await flush();
    expect(h.events()).to.have.length(1);
  });

  it('a series patch failure is logged, not thrown', async () => {
    const h = new Harness();
    h.recorder.event(rr, 'Normal', 'Allocated', 'Allocate', 'bound');
    await flush();
    h.recorder.event(rr, 'Normal', 'Allocated', 'Allocate', 'bound');
    h.kube.failNext({ verb: 'mergePatch', path: /events\// }, () => new Error('timeout'));
    h.clock.advance(FLUSH);
    await flush();
    expect(h.warnings).to.deep.equal(['could not update event series']);
  });

  it('remembers at most maxSeries series: the oldest is forgotten first', async () => {
    const h = new Harness({ maxSeries: 2 });
    for (const note of ['a', 'b', 'c']) h.recorder.event(rr, 'Normal', 'R', 'A', note);
    await flush();
    h.recorder.event(rr, 'Normal', 'R', 'A', 'a'); // forgotten: a new Event
    h.recorder.event(rr, 'Normal', 'R', 'A', 'c'); // remembered: a repeat
    await flush();
    h.clock.advance(FLUSH);
    await flush();
    expect(h.verbs()).to.deep.equal(['create', 'create', 'create', 'create', 'mergePatch']);
  });
});
