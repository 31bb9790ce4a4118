// The leader elector on the fake API server and fake clocks (client-go's leaderelection tests are
// the model): acquire, renew, lose, hand over — with the lease's age measured on each candidate's
// own clock, never compared with the holder's renewTime.
import { expect } from 'chai';
import { KubeError } from '../../src/kube/client.js';
import { silentLogger } from '../../src/observability/logger.js';
import { LeaderElector, type LeaderElectionConfig } from '../../src/runtime/leaderelection.js';
import { FakeClock } from '../support/fakeclock.js';
import { FakeKube } from '../support/fakekube.js';
import { flush } from '../support/settle.js';

const LEASE = '/apis/coordination.k8s.io/v1/namespaces/berth-system/leases/berth';
const T0 = Date.parse('2026-03-01T12:00:00Z');
const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

interface Lease {
  metadata: { resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

class Candidate {
  readonly ac = new AbortController();
  readonly changes: boolean[] = [];
  readonly elector: LeaderElector;
  started = 0;
  outcome: 'lost' | 'stopped' | undefined;

  constructor(
    kube: FakeKube,
    readonly identity: string,
    readonly clock: FakeClock,
  ) {
    const cfg: LeaderElectionConfig = {
      namespace: 'berth-system',
      name: 'berth',
      identity,
      ...TIMING,
    };
    this.elector = new LeaderElector(
      kube,
      cfg,
      silentLogger(),
      (leading) => this.changes.push(leading),
      clock,
    );
  }

  run(): Promise<void> {
    return this.elector
      .run(this.ac.signal, () => this.started++)
      .then((o) => void (this.outcome = o));
  }
}

/** Advances every clock by `ms` in steps of `step`, letting the electors act at each one. */
async function pass(clocks: FakeClock[], ms: number, step = 1000): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    for (const c of clocks) c.advance(Math.min(step, ms - t));
    await flush();
  }
}

const lease = (kube: FakeKube) => kube.peek<Lease>(LEASE);

describe('LeaderElector', () => {
  it('acquires the lease when there is none', async () => {
    const kube = new FakeKube();
    const a = new Candidate(kube, 'a', new FakeClock(T0));
    void a.run();
    await flush();
    expect(a.elector.isLeader()).to.equal(true);
    expect(a.started).to.equal(1);
    expect(a.changes).to.deep.equal([true]);
    const l = lease(kube)!;
    expect(l.spec.holderIdentity).to.equal('a');
    expect(l.spec.leaseDurationSeconds).to.equal(15);
    expect(l.spec.leaseTransitions).to.equal(0);
    expect(l.spec.renewTime).to.equal('2026-03-01T12:00:00.000000Z');
    a.ac.abort();
    await flush();
  });

  it('of two candidates racing for a missing lease, exactly one leads', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock(T0);
    const a = new Candidate(kube, 'a', clock);
    const b = new Candidate(kube, 'b', clock);
    void a.run();
    void b.run();
    await pass([clock], 30_000);
    expect([a.elector.isLeader(), b.elector.isLeader()].sort()).to.deep.equal([false, true]);
    expect(kube.writes(/leases$/).map((c) => c.verb)).to.deep.equal(['create', 'create']);
    a.ac.abort();
    b.ac.abort();
    await flush();
  });

  it('renews every retry period, keeping acquireTime and the transition count', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock(T0);
    const a = new Candidate(kube, 'a', clock);
    void a.run();
    await flush();
    const first = lease(kube)!;
    await pass([clock], 2000);
    const renewed = lease(kube)!;
    expect(renewed.spec.renewTime).to.equal('2026-03-01T12:00:02.000000Z');
    expect(renewed.spec.acquireTime).to.equal(first.spec.acquireTime);
    expect(renewed.spec.leaseTransitions).to.equal(0);
    await pass([clock], 8000);
    expect(kube.writes(/leases\/berth$/)).to.have.length(5);
    a.ac.abort();
    await flush();
  });

  it('a second candidate cannot take a lease its holder renews', async () => {
    const kube = new FakeKube();
    const clockA = new FakeClock(T0);
    const clockB = new FakeClock(T0 + 3_600_000); // an hour ahead: skew must not matter
    const a = new Candidate(kube, 'a', clockA);
    void a.run();
    await flush();
    const b = new Candidate(kube, 'b', clockB);
    void b.run();
    await pass([clockA, clockB], 60_000);
    expect(a.elector.isLeader()).to.equal(true);
    expect(b.elector.isLeader()).to.equal(false);
    expect(b.started).to.equal(0);
    expect(lease(kube)!.spec.holderIdentity).to.equal('a');
    a.ac.abort();
    b.ac.abort();
    await flush();
    expect(b.outcome, 'a standby stopped before leading').to.equal('stopped');
  });

  describe('takes a lease not renewed for leaseDuration, measured on its own clock', () => {
    const skews: Array<{ name: string; skewMs: number }> = [
      { name: 'same clock', skewMs: 0 },
      { name: 'an hour ahead of the holder', skewMs: 3_600_000 },
      { name: 'an hour behind the holder', skewMs: -3_600_000 },
    ];
    for (const c of skews)
      it(c.name, async () => {
        const kube = new FakeKube();
        const a = new Candidate(kube, 'a', new FakeClock(T0));
        expect(await a.elector.tryAcquireOrRenew()).to.equal(true); // then never renews
        const clockB = new FakeClock(T0 + c.skewMs);
        const b = new Candidate(kube, 'b', clockB);
        expect(await b.elector.tryAcquireOrRenew(), 'first sight: fresh').to.equal(false);
        clockB.advance(14_999);
        expect(await b.elector.tryAcquireOrRenew()).to.equal(false);
        clockB.advance(1);
        expect(await b.elector.tryAcquireOrRenew()).to.equal(true);
        const l = lease(kube)!;
        expect(l.spec.holderIdentity).to.equal('b');
        expect(l.spec.leaseTransitions).to.equal(1);
      });

    it('a renewal seen meanwhile starts the wait again', async () => {
      const kube = new FakeKube();
      const clockA = new FakeClock(T0);
      const a = new Candidate(kube, 'a', clockA);
      expect(await a.elector.tryAcquireOrRenew()).to.equal(true);
      const clockB = new FakeClock(T0);
      const b = new Candidate(kube, 'b', clockB);
      expect(await b.elector.tryAcquireOrRenew()).to.equal(false);
      clockA.advance(10_000);
      clockB.advance(10_000);
      expect(await a.elector.tryAcquireOrRenew()).to.equal(true);
      expect(await b.elector.tryAcquireOrRenew()).to.equal(false);
      clockB.advance(14_999);
      expect(await b.elector.tryAcquireOrRenew()).to.equal(false);
      clockB.advance(1);
      expect(await b.elector.tryAcquireOrRenew()).to.equal(true);
    });
  });

  describe('loses leadership when it cannot renew for renewDeadline', () => {
    const failures: Array<{ name: string; verb: 'get' | 'replace'; error: () => Error }> = [
      { name: 'reads fail', verb: 'get', error: () => new Error('connection refused') },
      {
        name: 'updates fail',
        verb: 'replace',
        error: () => new KubeError(500, 'InternalError', 'etcd timeout'),
      },
      {
        name: 'updates conflict',
        verb: 'replace',
        error: () => new KubeError(409, 'Conflict', 'modified'),
      },
    ];
    for (const c of failures)
      it(`when ${c.name}`, async () => {
        const kube = new FakeKube();
        const clock = new FakeClock(T0);
        const a = new Candidate(kube, 'a', clock);
        const done = a.run();
        await flush();
        expect(a.elector.isLeader()).to.equal(true);
        kube.failNext({ verb: c.verb, path: /leases\/berth$/ }, c.error, 1000);
        await pass([clock], 10_000);
        expect(a.outcome, 'still within renewDeadline').to.equal(undefined);
        expect(a.elector.isLeader()).to.equal(true);
        await pass([clock], 2_000);
        await done;
        expect(a.outcome).to.equal('lost');
        expect(a.elector.isLeader()).to.equal(false);
        expect(a.changes).to.deep.equal([true, false]);
        // Lost before anyone else could see the lease expire (leaseDuration after the last renewal).
        expect(clock.now() - T0).to.be.below(TIMING.leaseDurationMs);
      });
  });

  it('on abort, releases the lease and a standby takes over at once', async () => {
    const kube = new FakeKube();
    const clockA = new FakeClock(T0);
    const clockB = new FakeClock(T0);
    const a = new Candidate(kube, 'a', clockA);
    const b = new Candidate(kube, 'b', clockB);
    const doneA = a.run();
    await flush();
    void b.run();
    await pass([clockA, clockB], 6000);
    expect(b.elector.isLeader()).to.equal(false);
    a.ac.abort();
    await doneA;
    expect(a.outcome).to.equal('stopped');
    expect(a.changes).to.deep.equal([true, false]);
    const released = lease(kube)!;
    expect(released.spec.holderIdentity ?? null).to.equal(null);
    expect(released.spec.renewTime ?? null).to.equal(null);
    // The next retry of the standby, not leaseDuration later.
    await pass([clockB], TIMING.retryPeriodMs);
    expect(b.elector.isLeader()).to.equal(true);
    expect(b.started).to.equal(1);
    const taken = lease(kube)!;
    expect(taken.spec.holderIdentity).to.equal('b');
    expect(taken.spec.leaseTransitions).to.equal(1);
    b.ac.abort();
    await flush();
  });

  it('does not release a lease someone else holds by now', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock(T0);
    const a = new Candidate(kube, 'a', clock);
    const done = a.run();
    await flush();
    const l = lease(kube)!;
    await kube.replace(LEASE, { ...l, spec: { ...l.spec, holderIdentity: 'z' } });
    a.ac.abort();
    await done;
    expect(lease(kube)!.spec.holderIdentity).to.equal('z');
  });

  it('stops without leading when aborted while waiting', async () => {
    const kube = new FakeKube();
    const clock = new FakeClock(T0);
    kube.failNext({ path: /leases/ }, () => new KubeError(503, 'ServiceUnavailable', 'down'), 1000);
    const a = new Candidate(kube, 'a', clock);
    const done = a.run();
    await pass([clock], 5000);
    a.ac.abort();
    await done;
    expect(a.outcome).to.equal('stopped');
    expect(a.started).to.equal(0);
    expect(a.changes).to.deep.equal([]);
  });
});
