// Priorities, queues, preemption and TenantQuota in the controller (Kueue's table-driven reconcile
// tests on a fake client are the model: one row per case, objects in, status and events out).
// First the Scheduling state on its own (priority, queues, StrictFIFO, nominations and victim
// marks); then the RequestReconciler on the fake API server with a real AssembledRuntime on a
// HostsBackend, a Scheduling and a QuotaBook wired as the manager wires them; then the order
// the RequestController's work queue serves keys in.
import { expect } from 'chai';
import type { NodeStatus, ResourceRequest, TenantQuota } from '../../src/api/index.js';
import { HostsBackend } from '../../src/allocation/service.js';
import { RequestReconciler } from '../../src/controller/request-reconciler.js';
import {
  NOMINATION_MS,
  PREEMPTION_BACKOFF_MS,
  Scheduling,
  type PriorityClass,
  type SchedulingDeps,
} from '../../src/controller/scheduling.js';
import { keyOf } from '../../src/kube/objects.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { AssembledRuntime } from '../../src/provisioning/assemble.js';
import { StatusWriter } from '../../src/runtime/status-writer.js';
import type { Queueing } from '../../src/serving/queue.js';
import { QuotaBook, quotaInfo } from '../../src/serving/quota.js';
import { FakeKube } from '../support/fakekube.js';
import { HOSTS_CONFIG, rackPool } from '../support/objects.js';
import { RecordingRecorder } from '../support/recorder.js';
import { flush, until } from '../support/settle.js';
import { RequestControllerHarness } from '../support/request-controller.js';

const RRS = '/apis/berth.dev/v1alpha1/namespaces/team/resourcerequests';
/** A request's path by key (`ns/name`) or by name (in `team`). */
const rrPath = (name: string) => {
  const [ns, n] = name.includes('/') ? name.split('/') : ['team', name];
  return `/apis/berth.dev/v1alpha1/namespaces/${ns}/resourcerequests/${n}`;
};
const keyFor = (name: string) => (name.includes('/') ? name : `team/${name}`);
const ALL_RRS = '/apis/berth.dev/v1alpha1/resourcerequests';
const HPS = '/apis/berth.dev/v1alpha1/hostpools';
const NOW = new Date('2026-03-01T12:00:00Z');

const priorityClass = (
  name: string,
  value: number,
  extra: Partial<Pick<PriorityClass, 'globalDefault' | 'preemptionPolicy'>> = {},
): PriorityClass => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  value,
  ...extra,
});

const LOW = priorityClass('low', 10);
const HIGH = priorityClass('high', 1000);
const NEVER = priorityClass('polite', 1000, { preemptionPolicy: 'Never' });

/** Created `minute` minutes after 11:00 (queue order); 3 of a host's 4 cores unless told. */
const request = (
  name: string,
  o: {
    cls?: string;
    profile?: string;
    minute?: number;
    count?: number;
    cpu?: string;
    status?: ResourceRequest['status'];
    deleting?: boolean;
    ns?: string;
  } = {},
): ResourceRequest => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: {
    name,
    namespace: o.ns ?? 'team',
    creationTimestamp: `2026-03-01T11:${String(o.minute ?? 0).padStart(2, '0')}:00Z`,
    ...(o.deleting ? { deletionTimestamp: '2026-03-01T11:59:00Z', finalizers: ['x'] } : {}),
  },
  spec: {
    count: o.count ?? 1,
    resources: { cpu: o.cpu ?? '3', memory: '1Gi' },
    ...(o.cls ? { priorityClassName: o.cls } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
  },
  ...(o.status ? { status: o.status } : {}),
});

const node = (name: string, state: NodeStatus['state'] = 'Running'): NodeStatus => ({
  name,
  provisioner: 'hosts',
  hostPool: 'rack',
  host: 'h0',
  address: '10.0.0.1',
  configEntry: '',
  state,
});

/** Holding live nodes: not waiting for capacity. */
const bound = (rr: ResourceRequest): ResourceRequest => ({
  ...rr,
  status: { phase: 'Ready', nodes: [node(`${rr.metadata.name}-0`)] },
});

// ---- Scheduling on its own -------------------------------------------------------------------

class Sched {
  readonly classes = new Map<string, PriorityClass>();
  readonly queueing = new Map<string, Queueing>();
  nowMs = 0;
  readonly woken: string[][] = [];
  retries = 0;
  /** Profiles without a hosts provisioner (remote only). */
  readonly remoteOnly = new Set<string>();
  readonly s: Scheduling;

  constructor(classes: PriorityClass[] = [], queueing: Record<string, Queueing> = {}) {
    for (const c of classes) this.classes.set(c.metadata.name, c);
    for (const [p, q] of Object.entries(queueing)) this.queueing.set(p, q);
    const deps: SchedulingDeps = {
      classes: () => this.classes.values(),
      priorityClass: (name) => this.classes.get(name),
      queueing: (p) => this.queueing.get(p) ?? 'BestEffortFIFO',
      usesHosts: (p) => !this.remoteOnly.has(p),
      now: () => this.nowMs,
      wake: (keys) => this.woken.push([...keys]),
      retryPending: () => this.retries++,
    };
    this.s = new Scheduling(deps);
  }

  /** observe() as the informer would call it, for each request. */
  see(...rrs: ResourceRequest[]): this {
    for (const rr of rrs) this.s.observe(keyOf(rr), rr);
    return this;
  }

  queue(profile = 'default'): string[] {
    return this.s.queues.entries(profile).map((e) => e.key);
  }
}

describe('Scheduling', () => {
  const made: Sched[] = [];
  const sched = (...a: ConstructorParameters<typeof Sched>) => {
    const s = new Sched(...a);
    made.push(s);
    return s;
  };
  // Nomination timers are real (unref'd) timeouts: cleared after each case.
  afterEach(() => {
    for (const s of made.splice(0)) s.s.reset();
  });

  describe('priority()', () => {
    const rows: Array<{
      name: string;
      classes: PriorityClass[];
      rr: ResourceRequest;
      want:
        | { ok: true; priority: number; preemptionPolicy: string; className?: string }
        | { ok: false; message: RegExp };
    }> = [
      {
        name: 'a named class: its value, PreemptLowerPriority by default',
        classes: [HIGH, LOW],
        rr: request('a', { cls: 'high' }),
        want: {
          ok: true,
          priority: 1000,
          preemptionPolicy: 'PreemptLowerPriority',
          className: 'high',
        },
      },
      {
        name: 'a named class with preemptionPolicy Never',
        classes: [NEVER],
        rr: request('a', { cls: 'polite' }),
        want: { ok: true, priority: 1000, preemptionPolicy: 'Never', className: 'polite' },
      },
      {
        name: 'no name: the globalDefault class',
        classes: [HIGH, priorityClass('std', 50, { globalDefault: true })],
        rr: request('a'),
        want: {
          ok: true,
          priority: 50,
          preemptionPolicy: 'PreemptLowerPriority',
          className: 'std',
        },
      },
      {
        name: 'no name, several globalDefault classes: the highest',
        classes: [
          priorityClass('std', 50, { globalDefault: true }),
          priorityClass('more', 70, { globalDefault: true }),
        ],
        rr: request('a'),
        want: {
          ok: true,
          priority: 70,
          preemptionPolicy: 'PreemptLowerPriority',
          className: 'more',
        },
      },
      {
        name: 'no name and no globalDefault: 0',
        classes: [HIGH],
        rr: request('a'),
        want: { ok: true, priority: 0, preemptionPolicy: 'PreemptLowerPriority' },
      },
      {
        name: 'a name no class has: not ok, the message names it',
        classes: [HIGH, priorityClass('std', 50, { globalDefault: true })],
        rr: request('a', { cls: 'nope' }),
        want: { ok: false, message: /PriorityClass "nope" does not exist/ },
      },
      {
        name: 'resolved before: status.priority wins over a changed class',
        classes: [priorityClass('high', 5)],
        rr: request('a', { cls: 'high', status: { priority: 1000 } }),
        want: {
          ok: true,
          priority: 1000,
          preemptionPolicy: 'PreemptLowerPriority',
          className: 'high',
        },
      },
      {
        name: 'resolved before, its class deleted since: the value stays, it may not preempt',
        classes: [],
        rr: request('a', { cls: 'high', status: { priority: 1000 } }),
        want: { ok: true, priority: 1000, preemptionPolicy: 'Never' },
      },
    ];
    for (const r of rows)
      it(r.name, () => {
        const got = sched(r.classes).s.priority(r.rr);
        if (r.want.ok) expect(got).to.deep.equal(r.want);
        else {
          expect(got.ok).to.equal(false);
          expect((got as { message: string }).message).to.match(r.want.message);
        }
      });
  });

  describe('observe(): the queues', () => {
    it('queues waiting requests per profile by priority, then creation time', () => {
      const h = sched([LOW, HIGH]).see(
        request('old-low', { cls: 'low', minute: 1 }),
        request('new-high', { cls: 'high', minute: 9 }),
        request('mid-none', { minute: 5 }),
        request('old-none', { minute: 2 }),
        request('old-high', { cls: 'high', minute: 3 }),
        request('other', { profile: 'gpu', minute: 0 }),
      );
      expect(h.queue()).to.deep.equal([
        'team/old-high',
        'team/new-high',
        'team/old-low',
        'team/old-none',
        'team/mid-none',
      ]);
      expect(h.queue('gpu')).to.deep.equal(['team/other']);
      expect(h.s.position(request('old-low'))).to.equal(3);
      expect(h.s.position(request('other'))).to.equal(1);
    });

    const gone: Array<{ name: string; after: ResourceRequest | undefined }> = [
      { name: 'bound (live nodes)', after: bound(request('b', { minute: 2 })) },
      { name: 'deleted (observed as undefined)', after: undefined },
      { name: 'being deleted', after: request('b', { minute: 2, deleting: true }) },
      { name: 'Expired', after: request('b', { minute: 2, status: { phase: 'Expired' } }) },
      { name: 'its class unknown', after: request('b', { minute: 2, cls: 'nope' }) },
    ];
    for (const g of gone)
      it(`takes a request out of its queue when it is ${g.name}`, () => {
        const h = sched().see(request('a', { minute: 1 }), request('b', { minute: 2 }));
        expect(h.queue()).to.deep.equal(['team/a', 'team/b']);
        h.s.observe('team/b', g.after);
        expect(h.queue()).to.deep.equal(['team/a']);
        expect(h.s.position(request('b'))).to.equal(undefined);
      });

    it('never queues a request whose class does not exist', () => {
      const h = sched().see(request('a', { cls: 'nope' }));
      expect(h.queue()).to.deep.equal([]);
    });

    it('a request bound and then preempted (no live node) is queued again', () => {
      const h = sched().see(bound(request('a')));
      expect(h.queue()).to.deep.equal([]);
      h.see(request('a', { status: { phase: 'Pending', nodes: [node('a-0', 'Released')] } }));
      expect(h.queue()).to.deep.equal(['team/a']);
    });
  });

  describe('waitFor()', () => {
    const rows: Array<{
      name: string;
      queueing: Queueing;
      nominate?: { by: string; priority: number };
      queued: ResourceRequest[];
      ask: ResourceRequest;
      want: RegExp | undefined;
    }> = [
      {
        name: 'StrictFIFO: a request behind the head waits, naming the head',
        queueing: 'StrictFIFO',
        queued: [request('head', { minute: 1 }), request('next', { minute: 2 })],
        ask: request('next', { minute: 2 }),
        want: /^waiting behind team\/head, the head of the StrictFIFO queue of profile default$/,
      },
      {
        name: 'StrictFIFO: the head itself does not wait',
        queueing: 'StrictFIFO',
        queued: [request('head', { minute: 1 }), request('next', { minute: 2 })],
        ask: request('head', { minute: 1 }),
        want: undefined,
      },
      {
        name: 'StrictFIFO: a higher-priority newcomer is the head, the older one waits behind it',
        queueing: 'StrictFIFO',
        queued: [request('old', { minute: 1 }), request('vip', { minute: 9, cls: 'high' })],
        ask: request('old', { minute: 1 }),
        want: /^waiting behind team\/vip, /,
      },
      {
        name: 'BestEffortFIFO: nothing waits, whatever its place',
        queueing: 'BestEffortFIFO',
        queued: [request('head', { minute: 1 }), request('next', { minute: 2 })],
        ask: request('next', { minute: 2 }),
        want: undefined,
      },
      {
        name: 'a nomination of priority 1000 makes a lower request wait, naming the preemptor',
        queueing: 'BestEffortFIFO',
        nominate: { by: 'team/vip', priority: 1000 },
        queued: [request('low', { cls: 'low' })],
        ask: request('low', { cls: 'low' }),
        want: /^waiting: capacity is being freed by preemption for team\/vip \(priority 1000\)$/,
      },
      {
        name: 'a nomination does not make the preemptor itself wait',
        queueing: 'BestEffortFIFO',
        nominate: { by: 'team/vip', priority: 1000 },
        queued: [request('vip', { cls: 'high' })],
        ask: request('vip', { cls: 'high' }),
        want: undefined,
      },
      {
        name: 'a nomination does not make a request of higher priority wait',
        queueing: 'BestEffortFIFO',
        nominate: { by: 'team/vip', priority: 500 },
        queued: [request('top', { cls: 'high' })],
        ask: request('top', { cls: 'high' }),
        want: undefined,
      },
      {
        name: 'a nomination wins over StrictFIFO headship for a lower head',
        queueing: 'StrictFIFO',
        nominate: { by: 'team/vip', priority: 1000 },
        queued: [request('head', { cls: 'low', minute: 1 })],
        ask: request('head', { cls: 'low', minute: 1 }),
        want: /preemption for team\/vip/,
      },
    ];
    for (const r of rows)
      it(r.name, () => {
        const h = sched([LOW, HIGH], { default: r.queueing }).see(...r.queued);
        if (r.nominate) h.s.nominate(r.nominate.by, r.nominate.priority, [], 'm');
        const p = h.s.priority(r.ask);
        expect(p.ok).to.equal(true);
        const got = h.s.waitFor(r.ask, (p as { priority: number }).priority);
        if (r.want) expect(got).to.match(r.want);
        else expect(got).to.equal(undefined);
      });

    it('a nomination that timed out makes nobody wait', () => {
      const h = sched([LOW]).see(request('low', { cls: 'low' }));
      h.s.nominate('team/vip', 1000, ['team/x'], 'm');
      expect(h.s.waitFor(request('low', { cls: 'low' }), 10)).to.match(/team\/vip/);
      expect(h.s.nominated('team/vip')).to.deep.equal(['team/x']);
      h.nowMs += NOMINATION_MS;
      expect(h.s.waitFor(request('low', { cls: 'low' }), 10)).to.equal(undefined);
      expect(h.s.nominated('team/vip')).to.equal(undefined);
    });
  });

  describe('nominations and victims', () => {
    it('nominate() marks the victims with the message and wakes them', () => {
      const h = sched().see(bound(request('v1')), bound(request('v2')), bound(request('other')));
      h.s.nominate('team/vip', 1000, ['team/v1', 'team/v2'], 'preempted by team/vip');
      expect(h.woken).to.deep.equal([['team/v1', 'team/v2']]);
      expect(h.s.preemption(request('v1'))).to.deep.equal({
        by: 'team/vip',
        message: 'preempted by team/vip',
      });
      expect(h.s.preemption(request('v2'))?.by).to.equal('team/vip');
      expect(h.s.preemption(request('other'))).to.equal(undefined);
      expect(h.s.preempting().sort()).to.deep.equal(['team/v1', 'team/v2']);
      expect(h.s.nominated('team/vip')?.slice().sort()).to.deep.equal(['team/v1', 'team/v2']);
    });

    const unmark: Array<{ name: string; after: ResourceRequest | undefined; stays: boolean }> = [
      {
        name: 'its nodes all Released',
        after: request('v1', { status: { nodes: [node('v1-0', 'Released')] } }),
        stays: false,
      },
      { name: 'no node left', after: request('v1', { status: { nodes: [] } }), stays: false },
      { name: 'deleted (observed as undefined)', after: undefined, stays: false },
      {
        name: 'a node still Releasing: still a victim',
        after: request('v1', { status: { nodes: [node('v1-0', 'Releasing')] } }),
        stays: true,
      },
      {
        name: 'a node still Running: still a victim',
        after: request('v1', { status: { nodes: [node('v1-0'), node('v1-1', 'Released')] } }),
        stays: true,
      },
    ];
    for (const u of unmark)
      it(`a victim observed with ${u.name}`, () => {
        const h = sched().see(bound(request('v1')), bound(request('v2')));
        h.s.nominate('team/vip', 1000, ['team/v1', 'team/v2'], 'm');
        h.s.observe('team/v1', u.after);
        expect(!!h.s.preemption(request('v1'))).to.equal(u.stays);
        expect(h.s.nominated('team/vip')?.includes('team/v1')).to.equal(u.stays);
        // The other victim and the nomination are untouched.
        expect(h.s.preemption(request('v2'))?.by).to.equal('team/vip');
        expect(h.s.waitFor(request('low'), 0)).to.match(/team\/vip/);
        expect(h.retries).to.equal(0);
      });

    const ends: Array<{ name: string; after: ResourceRequest | undefined }> = [
      { name: 'observed bound', after: bound(request('vip', { cls: 'high' })) },
      { name: 'deleted', after: undefined },
      { name: 'being deleted', after: request('vip', { cls: 'high', deleting: true }) },
    ];
    for (const e of ends)
      it(`a nomination ends when the preemptor is ${e.name}: waiting requests retry`, () => {
        const h = sched([LOW, HIGH]).see(
          request('vip', { cls: 'high' }),
          request('low', { cls: 'low' }),
        );
        h.s.nominate('team/vip', 1000, ['team/v1'], 'm');
        expect(h.s.waitFor(request('low', { cls: 'low' }), 10)).to.match(/team\/vip/);
        h.s.observe('team/vip', e.after);
        expect(h.retries).to.equal(1);
        expect(h.s.waitFor(request('low', { cls: 'low' }), 10)).to.equal(undefined);
        expect(h.s.nominated('team/vip')).to.equal(undefined);
      });

    it('a nomination that ends unmarks the victims that have not started releasing', () => {
      const h = sched([HIGH]).see(request('vip', { cls: 'high' }), bound(request('v1')));
      h.s.nominate('team/vip', 1000, ['team/v1'], 'm');
      expect(h.s.preemption(request('v1'))?.by).to.equal('team/vip');
      // Room came from elsewhere: the preemptor is bound before its victim released anything.
      h.see(bound(request('vip', { cls: 'high' })));
      expect(h.s.preemption(request('v1'))).to.equal(undefined);
      expect(h.s.preempting()).to.deep.equal([]);
    });

    it('a nomination holds back only requests whose profile places nodes on hosts', () => {
      const h = sched([LOW, HIGH]).see(request('vip', { cls: 'high' }));
      h.remoteOnly.add('farm');
      h.s.nominate('team/vip', 1000, ['team/v1'], 'm');
      expect(h.s.waitFor(request('low', { cls: 'low' }), 10)).to.match(/team\/vip/);
      expect(h.s.waitFor(request('vm', { cls: 'low', profile: 'farm' }), 10)).to.equal(undefined);
    });

    it('the preemptor observed still waiting (its own Pending write) keeps the nomination', () => {
      const h = sched([HIGH]).see(request('vip', { cls: 'high' }));
      h.s.nominate('team/vip', 1000, ['team/v1'], 'm');
      h.see(request('vip', { cls: 'high', status: { phase: 'Pending', priority: 1000 } }));
      expect(h.retries).to.equal(0);
      expect(h.s.nominated('team/vip')).to.deep.equal(['team/v1']);
    });

    it('reset() forgets every mark and nomination (the queues mirror the cache and stay)', () => {
      const h = sched([LOW, HIGH]).see(
        request('vip', { cls: 'high' }),
        request('low', { cls: 'low' }),
        bound(request('v1')),
      );
      h.s.nominate('team/vip', 1000, ['team/v1'], 'm');
      h.s.reset();
      expect(h.s.preemption(request('v1'))).to.equal(undefined);
      expect(h.s.preempting()).to.deep.equal([]);
      expect(h.s.nominated('team/vip')).to.equal(undefined);
      expect(h.s.waitFor(request('low', { cls: 'low' }), 10)).to.equal(undefined);
      // Nothing was pending on a nomination: a new leader re-queues everything anyway.
      expect(h.retries).to.equal(0);
      expect(h.queue()).to.deep.equal(['team/vip', 'team/low']);
    });
  });

  describe('quota-blocked requests', () => {
    const overQuota = (name: string, minute: number) =>
      request(name, {
        minute,
        profile: 'strict',
        status: {
          phase: 'Pending',
          conditions: [
            {
              type: 'Allocated',
              status: 'False',
              reason: 'QuotaExceeded',
              message: 'TenantQuota team/limits: nodes used 1 + asked 1 would exceed hard 1',
              lastTransitionTime: '2026-03-01T11:00:00Z',
            },
          ],
        },
      });

    it('wait for their quota out of the queue: they head no StrictFIFO queue and hold no place', () => {
      const h = sched([], { strict: 'StrictFIFO' }).see(
        overQuota('b', 0),
        request('c', { minute: 1, profile: 'strict', ns: 'other' }),
      );
      expect(h.queue('strict')).to.deep.equal(['other/c']);
      expect(h.s.waitFor(request('c', { minute: 1, profile: 'strict', ns: 'other' }), 0)).to.equal(
        undefined,
      );
      expect(h.s.position(overQuota('b', 0))).to.equal(undefined);
    });

    it('a scale-up held back by its quota is out of the queue too: it heads no StrictFIFO queue', () => {
      const scaling = request('big', {
        minute: 0,
        profile: 'strict',
        count: 3,
        status: {
          phase: 'Ready',
          observedGeneration: 1,
          nodes: [node('big-0')],
          conditions: [
            {
              type: 'Allocated',
              status: 'False',
              reason: 'QuotaExceeded',
              message: 'TenantQuota team/limits: nodes used 1 + asked 2 would exceed hard 2',
              lastTransitionTime: '2026-03-01T11:00:00Z',
            },
          ],
        },
      });
      scaling.metadata.generation = 2; // scaled to 3, not done
      const other = request('c', { minute: 1, profile: 'strict', ns: 'other' });
      const h = sched([], { strict: 'StrictFIFO' }).see(scaling, other);
      expect(h.queue('strict')).to.deep.equal(['other/c']);
      expect(h.s.waitFor(other, 0)).to.equal(undefined);
    });

    it('a preemptor that meets its quota withdraws: what its nomination held back may go', () => {
      const h = sched([LOW, HIGH]).see(request('vip', { cls: 'high' }));
      h.s.nominate('team/vip', 1000, ['team/v1'], 'm');
      expect(h.s.waitFor(request('low', { cls: 'low' }), 10)).to.match(/team\/vip/);
      h.s.withdraw('team/vip');
      expect(h.retries).to.equal(1);
      expect(h.s.waitFor(request('low', { cls: 'low' }), 10)).to.equal(undefined);
      expect(h.s.preemption(request('v1'))).to.equal(undefined);
    });

    it('come back behind whoever is ahead of them when they try again', () => {
      const h = sched([], { strict: 'StrictFIFO' }).see(
        request('a', { minute: 0, profile: 'strict' }),
        overQuota('b', 1),
      );
      expect(h.s.waitFor(overQuota('b', 1), 0)).to.equal(
        'waiting behind team/a, the head of the StrictFIFO queue of profile strict',
      );
    });
  });

  describe('StrictFIFO heads', () => {
    it('wakes the new head when the head changes (bound, deleted, overtaken), and only then', () => {
      const h = sched([HIGH], { default: 'StrictFIFO' });
      h.see(request('a', { minute: 1 }));
      expect(h.woken).to.deep.equal([['team/a']]);
      h.see(request('b', { minute: 2 }), request('c', { minute: 3 }));
      expect(h.woken).to.have.length(1); // not heads: nobody new may go
      h.see(bound(request('a', { minute: 1 })));
      expect(h.woken.at(-1)).to.deep.equal(['team/b']);
      h.see(request('vip', { minute: 9, cls: 'high' }));
      expect(h.woken.at(-1)).to.deep.equal(['team/vip']);
      h.s.observe('team/vip', undefined);
      expect(h.woken.at(-1)).to.deep.equal(['team/b']);
      h.s.observe('team/c', undefined); // not the head
      expect(h.woken).to.have.length(4);
    });

    it('BestEffortFIFO wakes nobody on a head change', () => {
      const h = sched();
      h.see(request('a', { minute: 1 }), request('b', { minute: 2 }));
      h.see(bound(request('a', { minute: 1 })));
      expect(h.woken).to.deep.equal([]);
    });
  });
});

// ---- Through the reconciler ------------------------------------------------------------------

/** Profiles: `default`, `fixed` (never preempted), `strict` (StrictFIFO); all first fit. */
const hostsProfile = HOSTS_CONFIG.profiles[0]!;
const CONFIG = {
  ...HOSTS_CONFIG,
  profiles: [
    hostsProfile,
    { ...hostsProfile, name: 'fixed', preemptible: false },
    { ...hostsProfile, name: 'strict', queueing: 'StrictFIFO' },
  ],
} as Parameters<typeof AssembledRuntime.build>[0];

const tenantQuota = (name: string, hard: Record<string, string>): TenantQuota => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'TenantQuota',
  metadata: { name, namespace: 'team' },
  spec: { hard },
});

class Harness {
  readonly kube = new FakeKube(() => NOW);
  readonly recorder = new RecordingRecorder();
  readonly backend = new HostsBackend();
  readonly metrics = new Metrics(false);
  readonly classes = new Map<string, PriorityClass>();
  quotas: TenantQuota[] = [];
  readonly woken: string[] = [];
  retries = 0;
  readonly scheduling: Scheduling;
  readonly book: QuotaBook;
  readonly reconciler: RequestReconciler;
  readonly runtime: AssembledRuntime;
  /** With `lag`: what the cache shows (the request as created), else the server's state. */
  readonly cache = new Map<string, ResourceRequest>();
  nowMs = NOW.getTime();
  private readonly ac = new AbortController();

  constructor(o: { hosts?: number; classes?: PriorityClass[]; lag?: boolean } = {}) {
    const hp = rackPool(o.hosts ?? 2);
    this.kube.seed(HPS, hp);
    this.backend.setInventory([hp], []);
    for (const c of o.classes ?? []) this.classes.set(c.metadata.name, c);
    const runtime = (this.runtime = AssembledRuntime.build(CONFIG, this.backend));
    this.scheduling = new Scheduling({
      classes: () => this.classes.values(),
      priorityClass: (name) => this.classes.get(name),
      queueing: (p) => runtime.profile(p)?.queueing,
      usesHosts: () => true,
      now: () => this.nowMs,
      wake: (keys) => this.woken.push(...keys),
      retryPending: () => this.retries++,
    });
    const cached = (key: string) =>
      o.lag ? this.cache.get(key) : this.kube.peek<ResourceRequest>(rrPath(key));
    const list = () =>
      this.kube
        .all<ResourceRequest>(ALL_RRS)
        .map((rr) => cached(keyOf(rr)) ?? rr)
        .map((rr) => this.reconciler.current(keyOf(rr)) ?? rr);
    this.book = new QuotaBook({
      quotas: (ns) => this.quotas.filter((q) => q.metadata.namespace === ns).map(quotaInfo),
      requests: (ns) => list().filter((rr) => rr.metadata.namespace === ns),
    });
    this.reconciler = new RequestReconciler({
      client: this.kube,
      writer: new StatusWriter(this.kube),
      get: cached,
      runtime: () => runtime,
      recorder: this.recorder,
      metrics: this.metrics,
      log: silentLogger(),
      now: () => new Date(this.nowMs),
      listener: { poolsChanged: () => undefined, capacityFreed: () => undefined },
      forgetRequest: (ns, name) => this.backend.releaseRequest(ns, name),
      pendingRecheckMs: 60_000,
      scheduling: this.scheduling,
      quotas: this.book,
      list,
    });
  }

  /** Creates the request on the server; the informer's add event observes it. */
  create(rr: ResourceRequest): ResourceRequest {
    const ns = rr.metadata.namespace ?? 'team';
    const stored = this.kube.seed(`/apis/berth.dev/v1alpha1/namespaces/${ns}/resourcerequests`, rr);
    this.cache.set(keyOf(stored), stored);
    this.scheduling.observe(keyOf(stored), stored);
    return stored;
  }

  addClass(c: PriorityClass): void {
    this.classes.set(c.metadata.name, c);
  }

  /** Deletes it (no finalizer) as the informer's delete event and its reconcile would. */
  async remove(name: string): Promise<void> {
    const rr = this.get(name)!;
    await this.kube.delete(rrPath(name));
    this.scheduling.observe(keyFor(name), undefined);
    if (this.reconciler.deleted(rr)) await this.reconcile(name);
  }

  reconcile(name: string) {
    return this.reconciler.reconcile(keyFor(name), this.ac.signal);
  }

  /** By name (in `team`) or by key. */
  get(name: string): ResourceRequest | undefined {
    return this.kube.peek(rrPath(name));
  }

  phase(name: string): string | undefined {
    return this.get(name)?.status?.phase;
  }

  condition(name: string, type: string) {
    return this.get(name)?.status?.conditions?.find((c) => c.type === type);
  }

  /** Nodes the engine holds on the pool. */
  held(): number {
    return this.backend.hostPoolUsage('rack')?.nodes ?? 0;
  }

  eventsOf(name: string) {
    return this.recorder.events.filter((e) => e.object === keyFor(name));
  }

  async preemptions(): Promise<number> {
    const m = await this.metrics.registry.getSingleMetricAsString('berth_preemptions_total');
    return [...m.matchAll(/\} (\d+)/g)].reduce((n, x) => n + Number(x[1]), 0);
  }

  /** Bound now: Ready with live nodes on record. */
  bound(): string[] {
    return this.kube
      .all<ResourceRequest>(RRS)
      .filter((rr) => rr.status?.phase === 'Ready')
      .map((rr) => rr.metadata.name)
      .sort();
  }
}

describe('RequestReconciler with priorities, quotas and preemption', () => {
  describe('priority classes', () => {
    it('an unknown class waits (UnknownPriorityClass, one Warning); once the class exists it is served with its value', async () => {
      const h = new Harness();
      h.create(request('job', { cls: 'urgent' }));
      expect(await h.reconcile('job')).to.deep.equal({});
      let rr = h.get('job')!;
      expect(rr.status?.phase).to.equal('Pending');
      expect(rr.status?.priority).to.equal(undefined);
      expect(h.condition('job', 'Allocated')).to.include({
        status: 'False',
        reason: 'UnknownPriorityClass',
      });
      expect(h.condition('job', 'Allocated')?.message).to.match(
        /PriorityClass "urgent" does not exist/,
      );
      expect(h.recorder.reasons()).to.deep.equal(['Warning/UnknownPriorityClass']);
      expect(h.held()).to.equal(0);
      await h.reconcile('job'); // nothing new: no second Warning
      expect(h.recorder.events).to.have.length(1);

      h.addClass(priorityClass('urgent', 500));
      await h.reconcile('job');
      rr = h.get('job')!;
      expect(rr.status?.phase).to.equal('Ready');
      expect(rr.status?.priority).to.equal(500);
      expect(rr.status?.queuePosition).to.equal(undefined);
      expect(h.recorder.reasons()).to.deep.equal([
        'Warning/UnknownPriorityClass',
        'Normal/Allocated',
      ]);
      // Resolved once: a later change of the class does not change it.
      h.addClass(priorityClass('urgent', 1));
      await h.reconcile('job');
      expect(h.get('job')!.status?.priority).to.equal(500);
    });

    it('without a class name, the globalDefault class gives status.priority', async () => {
      const h = new Harness({ classes: [priorityClass('std', 42, { globalDefault: true })] });
      h.create(request('job'));
      await h.reconcile('job');
      expect(h.get('job')!.status).to.include({ phase: 'Ready', priority: 42 });
    });

    it('StrictFIFO: a request behind a head that does not fit waits (Queued, naming the head, its position)', async () => {
      const h = new Harness({ hosts: 1 });
      h.create(request('big', { profile: 'strict', minute: 1, count: 2 }));
      h.create(request('small', { profile: 'strict', minute: 2 }));
      await h.reconcile('big');
      expect(h.phase('big')).to.equal('Pending');
      await h.reconcile('small');
      const rr = h.get('small')!;
      expect(rr.status).to.include({ phase: 'Pending', queuePosition: 2 });
      expect(h.condition('small', 'Allocated')).to.include({ status: 'False', reason: 'Queued' });
      expect(h.condition('small', 'Allocated')?.message).to.equal(
        'waiting behind team/big, the head of the StrictFIFO queue of profile strict',
      );
      expect(h.held()).to.equal(0);
      // The head goes away: the new head is woken and served.
      h.woken.length = 0;
      await h.remove('big');
      expect(h.woken).to.deep.equal(['team/small']);
      await h.reconcile('small');
      expect(h.get('small')!.status?.phase).to.equal('Ready');
      expect(h.get('small')!.status?.queuePosition).to.equal(undefined);
    });
  });

  describe('TenantQuota', () => {
    it('a request that would pass the quota waits (QuotaExceeded, naming quota, resource, used, asked, hard); a delete lets it in', async () => {
      const h = new Harness({ hosts: 3 });
      h.quotas = [tenantQuota('limits', { nodes: '2' })];
      for (const [i, n] of ['a', 'b', 'c'].entries()) h.create(request(n, { minute: i }));
      await h.reconcile('a');
      await h.reconcile('b');
      await h.reconcile('c');
      expect(h.bound()).to.deep.equal(['a', 'b']);
      expect(h.phase('c')).to.equal('Pending');
      const allocated = h.condition('c', 'Allocated');
      expect(allocated).to.include({ status: 'False', reason: 'QuotaExceeded' });
      expect(allocated?.message).to.equal(
        'TenantQuota team/limits: nodes used 2 + asked 1 would exceed hard 2',
      );
      expect(h.eventsOf('c').map((e) => `${e.type}/${e.reason}`)).to.deep.equal([
        'Warning/QuotaExceeded',
      ]);
      expect(h.held()).to.equal(2);
      expect(h.book.inFlight()).to.equal(0);
      await h.reconcile('c'); // still over: no second Warning, nothing held
      expect(h.eventsOf('c')).to.have.length(1);
      expect(h.held()).to.equal(2);

      await h.remove('a');
      expect(h.held()).to.equal(1);
      await h.reconcile('c');
      expect(h.bound()).to.deep.equal(['b', 'c']);
      expect(h.held()).to.equal(2);
    });

    it('two requests at once, room in the quota for one: the other is told only what is on record', async () => {
      const h = new Harness({ hosts: 3 });
      h.quotas = [tenantQuota('limits', { nodes: '1' })];
      h.create(request('a', { minute: 0 }));
      h.create(request('b', { minute: 1 }));
      const [, rb] = await Promise.all([h.reconcile('a'), h.reconcile('b')]);
      // Either a's node was on record when b was checked (a verdict), or it was still in flight
      // (b looks again later, told nothing meanwhile).
      if (rb.requeueAfterMs !== undefined) {
        expect(rb.requeueAfterMs).to.equal(1000);
        expect(h.get('b')?.status).to.equal(undefined);
        await h.reconcile('b');
      }
      expect(h.bound()).to.deep.equal(['a']);
      expect(h.condition('b', 'Allocated')?.message).to.equal(
        'TenantQuota team/limits: nodes used 1 + asked 1 would exceed hard 1',
      );
      expect(h.book.inFlight()).to.equal(0);
    });

    it('raising the quota lets the waiting request in; lowering it below usage evicts nothing', async () => {
      const h = new Harness({ hosts: 3 });
      h.quotas = [tenantQuota('limits', { nodes: '2' })];
      for (const [i, n] of ['a', 'b', 'c'].entries()) h.create(request(n, { minute: i }));
      for (const n of ['a', 'b', 'c']) await h.reconcile(n);
      expect(h.phase('c')).to.equal('Pending');
      h.quotas = [tenantQuota('limits', { nodes: '3' })];
      await h.reconcile('c');
      expect(h.bound()).to.deep.equal(['a', 'b', 'c']);

      h.quotas = [tenantQuota('limits', { nodes: '1' })];
      h.create(request('d', { minute: 4 }));
      for (let round = 0; round < 2; round++)
        for (const n of ['a', 'b', 'c', 'd']) await h.reconcile(n);
      expect(h.bound()).to.deep.equal(['a', 'b', 'c']);
      expect(h.held()).to.equal(3);
      expect(h.condition('d', 'Allocated')?.message).to.equal(
        'TenantQuota team/limits: nodes used 3 + asked 1 would exceed hard 1',
      );
      expect(h.recorder.reasons().filter((r) => r === 'Warning/Preempted')).to.deep.equal([]);
    });

    it("a namespace's quota neither counts nor stops the requests of another namespace", async () => {
      const h = new Harness({ hosts: 3 });
      h.quotas = [tenantQuota('limits', { nodes: '1' })];
      h.create(request('a', { minute: 1 }));
      h.create(request('x', { minute: 2, ns: 'other' }));
      h.create(request('y', { minute: 3, ns: 'other' }));
      for (const n of ['a', 'other/x', 'other/y']) await h.reconcile(n);
      expect(h.phase('a')).to.equal('Ready');
      expect(h.phase('other/x')).to.equal('Ready');
      expect(h.phase('other/y')).to.equal('Ready');
      h.create(request('b', { minute: 4 }));
      await h.reconcile('b');
      expect(h.condition('b', 'Allocated')?.message).to.equal(
        'TenantQuota team/limits: nodes used 1 + asked 1 would exceed hard 1',
      );
    });

    it('a quota on cpu counts cores: used, asked and hard in its units', async () => {
      const h = new Harness({ hosts: 3 });
      h.quotas = [tenantQuota('cores', { cpu: '5' })];
      h.create(request('a', { minute: 1 }));
      h.create(request('b', { minute: 2 }));
      await h.reconcile('a');
      await h.reconcile('b');
      expect(h.bound()).to.deep.equal(['a']);
      expect(h.condition('b', 'Allocated')?.message).to.equal(
        'TenantQuota team/cores: cpu used 3 + asked 3 would exceed hard 5',
      );
    });

    for (const lag of [false, true])
      it(`many requests reconciled at once never bind more than the quota${lag ? ' (the cache lagging every write)' : ''}`, async () => {
        const h = new Harness({ hosts: 6, lag });
        h.quotas = [tenantQuota('limits', { nodes: '5' })];
        // 1 core each (4 per host, 24 in all); counts 1 and 2 alternating.
        const names = Array.from({ length: 12 }, (_, i) => `r${i}`);
        names.forEach((n, i) => h.create(request(n, { minute: i, cpu: '1', count: 1 + (i % 2) })));
        for (let round = 0; round < 3; round++) {
          await Promise.all(names.map((n) => h.reconcile(n)));
          const nodes = h.kube
            .all<ResourceRequest>(RRS)
            .reduce((sum, rr) => sum + (rr.status?.nodes ?? []).length, 0);
          expect(nodes, `round ${round}`).to.be.at.most(5);
          expect(h.held(), `round ${round}`).to.equal(nodes);
          expect(h.book.inFlight()).to.equal(0);
        }
        // Served in order until the quota is full: r0 (1), r1 (2), r2 (1), r4 (1).
        const bound = h.bound();
        expect(bound).to.deep.equal(['r0', 'r1', 'r2', 'r4']);
        const waiting = names.filter((n) => !bound.includes(n));
        for (const n of waiting)
          expect(h.condition(n, 'Allocated')?.reason, n).to.equal('QuotaExceeded');
      });
  });

  describe('preemption', () => {
    /** Two low requests fill the pool (2 hosts, one node each); `b` is bound a second later. */
    async function filled(o: { bProfile?: string; aProfile?: string; cls?: string } = {}) {
      const h = new Harness({ hosts: 2, classes: [LOW, HIGH, NEVER] });
      h.create(request('low-a', { cls: o.cls ?? 'low', minute: 1, profile: o.aProfile }));
      h.create(request('low-b', { cls: o.cls ?? 'low', minute: 2, profile: o.bProfile }));
      await h.reconcile('low-a');
      h.nowMs += 1000;
      await h.reconcile('low-b');
      h.nowMs += 1000;
      expect(h.bound()).to.deep.equal(['low-a', 'low-b']);
      expect(h.held()).to.equal(2);
      return h;
    }

    it('two requests competing for one slot plan by priority, whichever reconcile started first', async () => {
      const h = new Harness({ hosts: 1, classes: [LOW, HIGH] });
      // A volume-less low request reaches the engine in fewer turns than the high one would.
      h.create(request('low', { cls: 'low', minute: 0 }));
      h.create(request('high', { cls: 'high', minute: 5 }));
      await Promise.all([h.reconcile('low'), h.reconcile('high')]);
      expect(h.bound()).to.deep.equal(['high']);
      expect(h.phase('low')).to.equal('Pending');
    });

    it('a higher-priority request preempts exactly one victim, the most recently bound; it releases; the preemptor binds', async () => {
      const h = await filled();
      expect(h.get('low-a')!.status!.startTime! < h.get('low-b')!.status!.startTime!).to.equal(
        true,
      );
      h.create(request('vip', { cls: 'high', minute: 9 }));

      // 1. The preemptor finds no room, chooses low-b, and waits for it.
      expect(await h.reconcile('vip')).to.deep.equal({});
      expect(h.phase('vip')).to.equal('Pending');
      expect(h.condition('vip', 'Allocated')).to.include({ status: 'False', reason: 'Preempting' });
      expect(h.eventsOf('vip').map((e) => `${e.type}/${e.reason}`)).to.deep.equal([
        'Normal/Preempting',
      ]);
      expect(h.eventsOf('vip')[0]!.note).to.match(
        /^preempting 1 request\(s\) of lower priority to make room: team\/low-b \(/,
      );
      expect(h.scheduling.preempting()).to.deep.equal(['team/low-b']);
      expect(h.woken).to.deep.equal(['team/low-b']);
      expect(await h.preemptions()).to.equal(1);
      expect(h.held()).to.equal(2); // the what-if released nothing for real

      // Nobody preempts twice: the preemptor again, and the other low one, change nothing.
      await h.reconcile('vip');
      await h.reconcile('low-a');
      expect(h.eventsOf('vip')).to.have.length(1);
      expect(await h.preemptions()).to.equal(1);
      expect(h.phase('low-a')).to.equal('Ready');

      // 2. The victim's own reconcile releases its node and says why.
      await h.reconcile('low-b');
      const victim = h.get('low-b')!;
      expect(victim.status?.phase).to.equal('Pending');
      expect(victim.status?.nodes).to.deep.equal([]);
      expect(h.condition('low-b', 'Preempted')).to.include({
        status: 'True',
        reason: 'Preempted',
        message: 'preempted by team/vip (priority 1000) to make room for it',
      });
      expect(h.condition('low-b', 'Ready')).to.include({ status: 'False', reason: 'Preempted' });
      const ev = h.eventsOf('low-b').at(-1)!;
      expect(ev).to.include({ type: 'Warning', reason: 'Preempted' });
      expect(ev.note).to.equal(
        'preempted by team/vip (priority 1000) to make room for it: released 1 node(s)',
      );
      expect(h.held()).to.equal(1);
      expect(h.scheduling.preempting()).to.deep.equal([]);

      // The freed capacity is set aside: the victim, tried again, does not take it back.
      await h.reconcile('low-b');
      expect(h.phase('low-b')).to.equal('Pending');
      expect(h.condition('low-b', 'Allocated')).to.include({ reason: 'Queued' });
      expect(h.condition('low-b', 'Allocated')?.message).to.equal(
        'waiting: capacity is being freed by preemption for team/vip (priority 1000)',
      );
      expect(h.held()).to.equal(1);

      // 3. The preemptor binds; its nomination ends and the waiting requests retry.
      expect(h.retries).to.equal(0);
      await h.reconcile('vip');
      expect(h.get('vip')!.status).to.include({ phase: 'Ready', priority: 1000 });
      expect(h.bound()).to.deep.equal(['low-a', 'vip']);
      expect(h.retries).to.equal(1);
      expect(h.held()).to.equal(2);

      // The victim now tries, finds no room, and preempts nobody (nothing is lower).
      await h.reconcile('low-b');
      expect(h.phase('low-b')).to.equal('Pending');
      expect(h.condition('low-b', 'Allocated')?.reason).to.equal('InsufficientCapacity');
      expect(await h.preemptions()).to.equal(1);

      // Steady state: every request again, several times, preempts nothing more.
      for (let round = 0; round < 3; round++)
        for (const n of ['vip', 'low-a', 'low-b']) await h.reconcile(n);
      expect(await h.preemptions()).to.equal(1);
      expect(h.scheduling.preempting()).to.deep.equal([]);
      expect(h.bound()).to.deep.equal(['low-a', 'vip']);
      expect(h.held()).to.equal(2);
      expect(h.recorder.reasons().filter((r) => r.endsWith('/Preempting'))).to.have.length(1);
      expect(h.recorder.reasons().filter((r) => r.endsWith('/Preempted'))).to.have.length(1);

      // And the victim comes back when the preemptor goes, Preempted now history.
      await h.remove('vip');
      await h.reconcile('low-b');
      expect(h.bound()).to.deep.equal(['low-a', 'low-b']);
      expect(h.condition('low-b', 'Preempted')).to.include({
        status: 'False',
        reason: 'Allocated',
      });
    });

    it('steady state: after a round, reconciling every request again (in turn or at once) preempts nothing more', async () => {
      const h = await filled();
      h.create(request('late-low', { cls: 'low', minute: 5 })); // pending, nothing below it
      h.create(request('vip', { cls: 'high', minute: 9 }));
      await h.reconcile('vip'); // chooses low-b
      await h.reconcile('low-b'); // released
      await h.reconcile('vip'); // bound
      expect(h.bound()).to.deep.equal(['low-a', 'vip']);
      expect(await h.preemptions()).to.equal(1);
      const names = ['vip', 'low-a', 'low-b', 'late-low'];
      for (let round = 0; round < 4; round++) {
        if (round % 2) await Promise.all(names.map((n) => h.reconcile(n)));
        else for (const n of [...names].reverse()) await h.reconcile(n);
        expect(await h.preemptions(), `round ${round}`).to.equal(1);
        expect(h.scheduling.preempting(), `round ${round}`).to.deep.equal([]);
        expect(h.bound(), `round ${round}`).to.deep.equal(['low-a', 'vip']);
        expect(h.held()).to.equal(2);
      }
      expect(h.recorder.reasons().filter((r) => /\/Preempt(ing|ed)$/.test(r))).to.deep.equal([
        'Normal/Preempting',
        'Warning/Preempted',
      ]);
    });

    const none: Array<{
      name: string;
      setup: () => Promise<Harness>;
      preemptor: ResourceRequest;
    }> = [
      {
        name: 'a class with preemptionPolicy Never waits instead',
        setup: () => filled(),
        preemptor: request('vip', { cls: 'polite', minute: 9 }),
      },
      {
        name: 'requests of equal priority are never preempted',
        setup: () => filled({ cls: 'high' }),
        preemptor: request('vip', { cls: 'high', minute: 9 }),
      },
      {
        name: 'a profile with preemptible: false is never a victim',
        setup: () => filled({ aProfile: 'fixed', bProfile: 'fixed' }),
        preemptor: request('vip', { cls: 'high', minute: 9 }),
      },
      {
        name: 'a request that would not fit even with every lower one gone preempts nobody',
        setup: async () => {
          // low-a (10) and mid (1000) fill the pool; vip (1000) wants both hosts.
          const h = new Harness({ hosts: 2, classes: [LOW, HIGH] });
          h.create(request('low-a', { cls: 'low', minute: 1 }));
          h.create(request('mid', { cls: 'high', minute: 2 }));
          await h.reconcile('low-a');
          await h.reconcile('mid');
          expect(h.held()).to.equal(2);
          return h;
        },
        preemptor: request('vip', { cls: 'high', minute: 9, count: 2 }),
      },
      {
        name: 'a request of priority 0 (no class) preempts nobody',
        setup: () => filled({ cls: 'low' }),
        preemptor: request('vip', { minute: 9 }),
      },
    ];
    for (const c of none)
      it(c.name, async () => {
        const h = await c.setup();
        const before = h.bound();
        h.create(c.preemptor);
        for (let round = 0; round < 2; round++) {
          await h.reconcile('vip');
          for (const n of before) await h.reconcile(n);
        }
        expect(h.phase('vip')).to.equal('Pending');
        expect(h.condition('vip', 'Allocated')?.reason).to.equal('InsufficientCapacity');
        expect(h.eventsOf('vip').map((e) => `${e.type}/${e.reason}`)).to.deep.equal([
          'Warning/FailedToAllocate',
        ]);
        expect(h.scheduling.preempting()).to.deep.equal([]);
        expect(h.scheduling.nominated('team/vip')).to.equal(undefined);
        expect(await h.preemptions()).to.equal(0);
        expect(h.bound()).to.deep.equal(before);
        expect(h.held()).to.equal(2);
      });

    it('a what-if that found nothing backs off: not run again for a while, then looked at again', async () => {
      const h = new Harness({ hosts: 2, classes: [LOW, HIGH] });
      h.create(request('low-a', { cls: 'low', minute: 1 }));
      h.create(request('low-b', { cls: 'low', minute: 2 }));
      await h.reconcile('low-a');
      await h.reconcile('low-b');
      let whatIfs = 0;
      const withoutOwners = h.backend.withoutOwners.bind(h.backend);
      h.backend.withoutOwners = (owners, fn) => {
        whatIfs++;
        return withoutOwners(owners, fn);
      };
      // Three hosts' worth on two: no preemption can serve it.
      h.create(request('vip', { cls: 'high', minute: 9, count: 3 }));
      expect(await h.reconcile('vip')).to.deep.equal({});
      const first = whatIfs;
      expect(first).to.be.greaterThan(0);
      // A capacity event within the backoff: no what-if, and it looks again when it may.
      const again = await h.reconcile('vip');
      expect(whatIfs).to.equal(first);
      expect(again.requeueAfterMs).to.be.within(1, PREEMPTION_BACKOFF_MS);
      h.nowMs += PREEMPTION_BACKOFF_MS;
      await h.reconcile('vip');
      expect(whatIfs).to.be.greaterThan(first);
      expect(h.bound()).to.deep.equal(['low-a', 'low-b']);
    });

    it('a request with nobody of lower priority to take from runs no what-if and is not polled', async () => {
      const h = new Harness({ hosts: 1, classes: [LOW, HIGH] });
      h.create(request('a', { cls: 'low', minute: 1 }));
      await h.reconcile('a');
      h.create(request('b', { cls: 'low', minute: 2 }));
      expect(await h.reconcile('b')).to.deep.equal({});
      expect(await h.reconcile('b')).to.deep.equal({});
      expect(h.scheduling.preemptionBackoff('team/b')).to.equal(undefined);
    });

    it('a non-preemptible request is skipped even when it is the most recently bound', async () => {
      // low-a (default) bound first, low-b (fixed) bound later: victim order would pick low-b.
      const h = await filled({ bProfile: 'fixed' });
      h.create(request('vip', { cls: 'high', minute: 9 }));
      await h.reconcile('vip');
      expect(h.scheduling.preempting()).to.deep.equal(['team/low-a']);
      await h.reconcile('low-b');
      expect(h.phase('low-b')).to.equal('Ready');
      await h.reconcile('low-a');
      await h.reconcile('vip');
      expect(h.bound()).to.deep.equal(['low-b', 'vip']);
    });

    it('a second preemptor of the same priority waits for the first, then chooses its own victim', async () => {
      const h = await filled();
      h.create(request('vip-1', { cls: 'high', minute: 8 }));
      h.create(request('vip-2', { cls: 'high', minute: 9 }));
      await h.reconcile('vip-1');
      expect(h.scheduling.preempting()).to.deep.equal(['team/low-b']);
      // The room being freed is vip-1's: vip-2 (as high) waits instead of taking another victim.
      await h.reconcile('vip-2');
      expect(h.condition('vip-2', 'Allocated')?.reason).to.equal('Queued');
      expect(h.scheduling.preempting()).to.deep.equal(['team/low-b']);
      await h.reconcile('low-b');
      await h.reconcile('vip-1');
      expect(h.bound()).to.deep.equal(['low-a', 'vip-1']);
      await h.reconcile('vip-2');
      expect(h.scheduling.preempting()).to.deep.equal(['team/low-a']);
      await h.reconcile('low-a');
      await h.reconcile('vip-2');
      expect(h.bound()).to.deep.equal(['vip-1', 'vip-2']);
      expect(await h.preemptions()).to.equal(2);
      expect(h.held()).to.equal(2);
    });

    it('lowest priority goes first, whatever the bind order; only as many as needed', async () => {
      const mid = priorityClass('mid', 100);
      const h = new Harness({ hosts: 3, classes: [LOW, mid, HIGH] });
      h.create(request('low-old', { cls: 'low', minute: 1 }));
      h.create(request('mid-new', { cls: 'mid', minute: 2 }));
      h.create(request('low-new', { cls: 'low', minute: 3 }));
      await h.reconcile('low-old');
      h.nowMs += 1000;
      await h.reconcile('low-new');
      h.nowMs += 1000;
      await h.reconcile('mid-new'); // the most recently bound, but not the lowest
      h.create(request('vip', { cls: 'high', minute: 9, count: 2 }));
      await h.reconcile('vip');
      expect(h.scheduling.preempting().sort()).to.deep.equal(['team/low-new', 'team/low-old']);
      expect(h.eventsOf('vip')[0]!.note).to.match(/^preempting 2 request\(s\)/);
      expect(await h.preemptions()).to.equal(2);
      for (const n of ['low-old', 'low-new', 'mid-new', 'vip']) await h.reconcile(n);
      expect(h.bound()).to.deep.equal(['mid-new', 'vip']);
      expect(h.held()).to.equal(3);
    });
  });
});

// ---- The work queue's order --------------------------------------------------------------------

/** The controller with its Scheduling, over this file's profiles (`strict` among them). */
const controllerHarness = (hosts: number, classes: PriorityClass[]) =>
  new RequestControllerHarness({ hosts, config: CONFIG, classes });

describe('RequestController queue order by priority', () => {
  it('serves a higher-priority key before older lower-priority ones', async () => {
    const h = controllerHarness(1, [LOW, HIGH]);
    h.kube.seed(RRS, request('old-low', { cls: 'low', minute: 1 }));
    h.kube.seed(RRS, request('old-none', { minute: 2 }));
    h.kube.seed(RRS, request('new-high', { cls: 'high', minute: 5 }));
    h.kube.seed(RRS, request('newer-high', { cls: 'high', minute: 6 }));
    await h.start(false);
    expect(await h.queued()).to.deep.equal([
      'team/new-high',
      'team/newer-high',
      'team/old-low',
      'team/old-none',
    ]);
    h.rc.enqueueAll([
      request('old-none', { minute: 2 }),
      request('old-low', { cls: 'low', minute: 1 }),
      request('new-high', { cls: 'high', minute: 5 }),
    ]);
    expect(await h.queued()).to.deep.equal(['team/new-high', 'team/old-low', 'team/old-none']);
    await h.stop();
  });

  it('with room for one: the newer high-priority request is bound, the older low one waits', async () => {
    const h = controllerHarness(1, [LOW, HIGH]);
    h.kube.seed(RRS, request('old-low', { cls: 'low', minute: 1 }));
    h.kube.seed(RRS, request('new-high', { cls: 'high', minute: 5 }));
    await h.start(true);
    expect([h.phase('new-high'), h.phase('old-low')]).to.deep.equal(['Ready', 'Pending']);
    await h.stop();
  });

  it('StrictFIFO: a newer small request does not pass a head that does not fit; the head gone, it is woken and bound', async () => {
    const h = controllerHarness(1, []);
    h.kube.seed(RRS, request('big', { profile: 'strict', minute: 1, count: 2 }));
    h.kube.seed(RRS, request('small', { profile: 'strict', minute: 2 }));
    await h.start(true);
    expect([h.phase('big'), h.phase('small')]).to.deep.equal(['Pending', 'Pending']);
    const small = h.kube.peek<ResourceRequest>(`${RRS}/small`)!;
    expect(small.status?.conditions?.find((c) => c.type === 'Allocated')).to.include({
      reason: 'Queued',
      message: 'waiting behind team/big, the head of the StrictFIFO queue of profile strict',
    });
    expect(h.backend.hostPoolUsage('rack')?.nodes).to.equal(0);
    await h.kube.delete(`${RRS}/big`);
    await until(() => h.phase('small') === 'Ready', 'small bound');
    await h.stop();
  });

  it('end to end through the work queue: the victim is woken, releases, and the preemptor is bound', async () => {
    const h = controllerHarness(1, [LOW, HIGH]);
    h.kube.seed(RRS, request('low', { cls: 'low', minute: 1 }));
    await h.start(true);
    expect(h.phase('low')).to.equal('Ready');
    await h.kube.create(RRS, request('vip', { cls: 'high', minute: 5 }));
    await until(() => h.phase('vip') === 'Ready', 'vip bound');
    await flush(40);
    expect(h.phase('low')).to.equal('Pending');
    const low = h.kube.peek<ResourceRequest>(`${RRS}/low`)!;
    expect(low.status?.conditions?.find((c) => c.type === 'Preempted')?.status).to.equal('True');
    expect(h.scheduling!.preempting()).to.deep.equal([]);
    expect(h.backend.hostPoolUsage('rack')?.nodes).to.equal(1);
    await h.stop();
  });
});
