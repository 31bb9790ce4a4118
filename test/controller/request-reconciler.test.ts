// The ResourceRequest reconciler on the fake API server (Kueue's table-driven reconcile tests on
// a fake client are the model). Each case seeds objects, runs reconcile passes, and checks what
// the server holds, which writes were made, the events, and that every node was released exactly
// once (ReleaseLedger) and no capacity leaked (the engine's usage).
import { expect } from 'chai';
import type { ResourceRequest } from '../../src/api/index.js';
import { HostsBackend } from '../../src/allocation/service.js';
import { KubeError } from '../../src/kube/client.js';
import { Metrics } from '../../src/observability/metrics.js';
import { silentLogger } from '../../src/observability/logger.js';
import { AssembledRuntime } from '../../src/provisioning/assemble.js';
import type { ProfileRuntime, Runtime } from '../../src/provisioning/runtime.js';
import { RequestReconciler } from '../../src/controller/request-reconciler.js';
import { StatusWriter } from '../../src/runtime/status-writer.js';
import { FINALIZER } from '../../src/serving/request-lifecycle.js';
import { FakeProvisioner, ReleaseLedger } from '../provisioning/helpers/fakes.js';
import { FakeKube } from '../support/fakekube.js';
import { HOSTS_CONFIG, rackPool } from '../support/objects.js';
import { RecordingRecorder } from '../support/recorder.js';

const RRS = '/apis/berth.dev/v1alpha1/namespaces/team/resourcerequests';
const HPS = '/apis/berth.dev/v1alpha1/hostpools';
const NOW = new Date('2026-03-01T12:00:00Z');

const request = (
  name: string,
  spec: Partial<ResourceRequest['spec']> = {},
  extra: Partial<ResourceRequest['metadata']> = {},
): ResourceRequest => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name, namespace: 'team', ...extra },
  spec: { count: 1, resources: { cpu: '1', memory: '1Gi' }, ...spec },
});

/** A runtime whose `remote` profile is a fake external provisioner with a release ledger. */
function remoteRuntime(base: Runtime, fake: FakeProvisioner): Runtime {
  const remote: ProfileRuntime = { name: 'remote', provisioners: [fake], remote: true };
  return {
    profile: (n) => (n === 'remote' ? remote : base.profile(n)),
    profileNames: () => [...base.profileNames(), 'remote'],
    hostAvailability: (p, h) => base.hostAvailability(p, h),
    releasers: (profile, records) =>
      profile === 'remote' ? [fake] : base.releasers(profile, records),
    listers: () => [fake],
  };
}

class Harness {
  readonly kube = new FakeKube(() => NOW);
  readonly recorder = new RecordingRecorder();
  readonly backend = new HostsBackend();
  readonly metrics = new Metrics(false);
  readonly ledger = new ReleaseLedger();
  readonly fake: FakeProvisioner;
  readonly notified = { pools: [] as string[], freed: 0 };
  readonly reconciler: RequestReconciler;
  private readonly ac = new AbortController();
  /** What the reconciler's cache shows; defaults to the server's state. */
  stale: ResourceRequest | undefined;
  /** The reconciler's clock (ms); tests move it. */
  nowMs = NOW.getTime();

  constructor(
    opts: {
      hosts?: number;
      maintenance?: boolean;
      remote?: Partial<FakeProvisioner['opts']>;
      /** The default profile replaces nodes of lost hosts after this grace period (seconds). */
      replaceAfter?: number;
      scaleDownOrder?: 'NewestFirst' | 'OldestFirst';
    } = {},
  ) {
    const hp = rackPool(opts.hosts ?? 2, opts.maintenance ? 'Maintenance' : undefined);
    this.kube.seed(HPS, hp);
    this.backend.setInventory([hp], []);
    const config = {
      ...HOSTS_CONFIG,
      profiles: HOSTS_CONFIG.profiles.map((p) => ({
        ...p,
        ...(opts.replaceAfter !== undefined
          ? { onHostLoss: 'Replace' as const, hostLossGraceSeconds: opts.replaceAfter }
          : {}),
        ...(opts.scaleDownOrder ? { scaleDownOrder: opts.scaleDownOrder } : {}),
      })),
    };
    const assembled = AssembledRuntime.build(config, this.backend);
    this.fake = new FakeProvisioner('farm', this.ledger, { capacity: 10, ...opts.remote });
    const runtime = remoteRuntime(assembled, this.fake);
    this.reconciler = new RequestReconciler({
      client: this.kube,
      writer: new StatusWriter(this.kube),
      get: (key) => this.stale ?? this.kube.peek(`${RRS}/${key.split('/')[1]}`),
      runtime: () => runtime,
      recorder: this.recorder,
      metrics: this.metrics,
      log: silentLogger(),
      now: () => new Date(this.nowMs),
      listener: {
        poolsChanged: (p) => this.notified.pools.push(...p.hostPools),
        capacityFreed: () => this.notified.freed++,
      },
      forgetRequest: (ns, name) => this.backend.releaseRequest(ns, name),
      pendingRecheckMs: 60_000,
    });
  }

  create(rr: ResourceRequest): ResourceRequest {
    return this.kube.seed(RRS, rr);
  }

  get(name: string): ResourceRequest | undefined {
    return this.kube.peek(`${RRS}/${name}`);
  }

  reconcile(name: string) {
    return this.reconciler.reconcile(`team/${name}`, this.ac.signal);
  }

  /** Nodes the engine holds on the pool. */
  held(): number {
    return this.backend.hostPoolUsage('rack')?.nodes ?? 0;
  }

  statusWrites(): number {
    return this.kube.writes(/\/resourcerequests\/[^/]+\/status$/).length;
  }
}

describe('RequestReconciler', () => {
  describe('binding', () => {
    it('a hosts profile binds on the first pass with one status write, one event, no finalizer', async () => {
      const h = new Harness();
      h.create(request('web'));
      expect(await h.reconcile('web')).to.deep.equal({});
      const rr = h.get('web')!;
      expect(rr.status?.phase).to.equal('Ready');
      expect(rr.status?.nodes).to.have.length(1);
      expect(rr.metadata.finalizers ?? []).to.deep.equal([]);
      expect(h.kube.writes().map((c) => c.verb)).to.deep.equal(['replace']);
      expect(h.recorder.reasons()).to.deep.equal(['Normal/Allocated']);
      expect(h.held()).to.equal(1);
      expect(h.notified.pools).to.deep.equal(['rack']);
      // A second pass changes nothing.
      await h.reconcile('web');
      expect(h.kube.writes()).to.have.length(1);
      expect(h.held()).to.equal(1);
    });

    it('a remote profile adds the finalizer before it provisions, in the same pass', async () => {
      const h = new Harness();
      h.create(request('vm', { profile: 'remote', count: 2 }));
      await h.reconcile('vm');
      const rr = h.get('vm')!;
      expect(rr.metadata.finalizers).to.deep.equal([FINALIZER]);
      expect(rr.status?.phase).to.equal('Ready');
      expect(rr.status?.nodes?.map((n) => n.provisioner)).to.deep.equal(['farm', 'farm']);
      const writes = h.kube.writes().map((c) => `${c.verb} ${c.path.split('/').pop()}`);
      expect(writes).to.deep.equal(['mergePatch vm', 'replace status', 'replace status']);
      expect(h.fake.calls).to.equal(1);
    });

    it('a remote request that already holds the finalizer (admission policy) is not patched', async () => {
      const h = new Harness();
      h.create(request('vm', { profile: 'remote' }, { finalizers: [FINALIZER] }));
      await h.reconcile('vm');
      expect(h.kube.writes().map((c) => c.verb)).to.deep.equal(['replace', 'replace']);
      expect(h.get('vm')!.status?.phase).to.equal('Ready');
    });

    it('a cache that lags our own writes neither provisions again nor releases twice', async () => {
      const h = new Harness();
      const created = h.create(request('vm', { profile: 'remote', count: 2 }));
      h.stale = created; // the watch has not delivered any of our writes yet
      await h.reconcile('vm');
      await h.reconcile('vm'); // e.g. woken by the finalizer's update event
      expect(h.fake.calls).to.equal(1);
      expect(h.fake.held).to.equal(2);
      await h.kube.delete(`${RRS}/vm`);
      h.stale = h.get('vm'); // deleting, as the watch shows it
      await h.reconcile('vm');
      await h.reconcile('vm'); // the cache still shows the finalizer we removed
      expect(h.get('vm')).to.equal(undefined);
      expect(h.ledger.leaked()).to.deep.equal([]);
      expect(h.ledger.overReleased()).to.deep.equal([]);
    });

    it('forgets its own copy of a request once the watch has shown the write', async () => {
      const h = new Harness();
      const created = h.create(request('web'));
      h.stale = created;
      await h.reconcile('web');
      expect(h.reconciler.remembered()).to.equal(1);
      h.reconciler.observed(created); // an older version: still needed
      expect(h.reconciler.remembered()).to.equal(1);
      h.reconciler.observed(h.get('web')!); // the watch caught up
      expect(h.reconciler.remembered()).to.equal(0);
    });

    it('an unknown profile fails clearly, once', async () => {
      const h = new Harness();
      h.create(request('x', { profile: 'nope' }));
      await h.reconcile('x');
      const rr = h.get('x')!;
      expect(rr.status?.phase).to.equal('Failed');
      const ready = rr.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.reason).to.equal('UnknownProfile');
      expect(ready?.message).to.match(/profile "nope" is not in the operator configuration/);
      expect(h.recorder.reasons()).to.deep.equal(['Warning/UnknownProfile']);
      await h.reconcile('x');
      expect(h.recorder.events).to.have.length(1);
      expect(h.statusWrites()).to.equal(1);
    });

    it('a request that does not fit stays Pending, says why, and holds nothing', async () => {
      const h = new Harness({ hosts: 1 });
      h.create(request('big', { resources: { cpu: '64' } }));
      await h.reconcile('big');
      const rr = h.get('big')!;
      expect(rr.status?.phase).to.equal('Pending');
      expect(rr.status?.explanation?.summary).to.be.a('string').and.not.equal('');
      expect(h.recorder.reasons()).to.deep.equal(['Warning/FailedToAllocate']);
      expect(h.held()).to.equal(0);
    });
  });

  describe('the status write', () => {
    it('a conflict with a copy that still records nothing is retried: booked once', async () => {
      const h = new Harness();
      h.create(request('web'));
      h.kube.failNext(
        { verb: 'replace', path: /status$/ },
        () => new KubeError(409, 'Conflict', 'modified'),
      );
      await h.reconcile('web');
      expect(h.get('web')!.status?.nodes).to.have.length(1);
      expect(h.held()).to.equal(1);
      expect(h.statusWrites()).to.equal(2);
    });

    it('a conflict with a copy that already records nodes gives ours back', async () => {
      const h = new Harness();
      const created = h.create(request('web'));
      h.stale = created; // the cache lags: it shows no status
      // Someone (a former leader) recorded nodes in the meantime.
      await h.kube.replace(`${RRS}/web/status`, {
        ...created,
        status: {
          phase: 'Ready',
          nodes: [
            {
              name: 'web-0',
              provisioner: 'hosts',
              hostPool: 'rack',
              host: 'h1',
              address: '10.0.0.2',
              configEntry: '',
              state: 'Running',
            },
          ],
        },
      });
      await h.reconcile('web');
      expect(h.get('web')!.status?.nodes?.[0]?.host).to.equal('h1');
      expect(h.held()).to.equal(0); // ours were released; theirs are the record
      expect(h.notified.freed).to.equal(1);
    });

    it('a failed write keeps the nodes in memory and writes them on the next pass', async () => {
      const h = new Harness();
      h.create({
        ...request('vm', { profile: 'remote' }, { finalizers: [FINALIZER] }),
        status: { phase: 'Provisioning' },
      });
      h.kube.failNext(
        { verb: 'replace', path: /status$/ },
        () => new KubeError(500, 'InternalError', 'etcd timeout'),
      );
      await h.reconcile('vm').then(
        () => expect.fail('should throw'),
        (e: Error) => expect(e.message).to.match(/etcd timeout/),
      );
      expect(h.fake.calls).to.equal(1);
      expect(h.get('vm')!.status?.nodes ?? []).to.have.length(0);
      await h.reconcile('vm');
      expect(h.get('vm')!.status?.nodes).to.have.length(1);
      expect(h.fake.calls).to.equal(1); // not provisioned twice
      expect(h.fake.held).to.equal(1);
      expect(h.ledger.overReleased()).to.deep.equal([]);
    });

    it('a status the API server refuses for good releases the nodes and says so', async () => {
      const h = new Harness();
      h.create(request('web'));
      h.kube.failNext(
        { verb: 'replace', path: /status$/ },
        () => new KubeError(422, 'Invalid', 'status.nodes[0].hostPool: Invalid value'),
      );
      await h.reconcile('web');
      expect(h.held()).to.equal(0);
      const e = h.recorder.events.find((x) => x.reason === 'StatusWriteRefused');
      expect(e?.note).to.match(/Invalid value.*1 node\(s\) obtained for it were released/);
      const refused = await h.metrics.registry.getSingleMetricAsString(
        'berth_status_write_refused_total',
      );
      expect(refused).to.match(/kind="ResourceRequest"\} 1/);
    });

    it('a request deleted while its nodes were provisioned gives them back', async () => {
      const h = new Harness();
      h.create(request('web'));
      h.kube.failNext(
        { verb: 'replace', path: /status$/ },
        () => new KubeError(404, 'NotFound', 'gone'),
      );
      await h.reconcile('web');
      expect(h.held()).to.equal(0);
      expect(h.recorder.events).to.have.length(0);
    });
  });

  describe('release', () => {
    it('a partial release failure keeps the finalizer and retries only the rest', async () => {
      let failing = true;
      const h = new Harness({ remote: { failRelease: (n) => failing && n.endsWith('-1') } });
      h.create(request('vm', { profile: 'remote', count: 3 }, { finalizers: [FINALIZER] }));
      await h.reconcile('vm');
      expect(h.fake.held).to.equal(3);
      await h.kube.delete(`${RRS}/vm`);
      await h.reconcile('vm').then(
        () => expect.fail('should throw'),
        (e: Error) => expect(e.message).to.match(/release failed for team-vm-1|release failed/),
      );
      let rr = h.get('vm')!;
      expect(rr.metadata.finalizers).to.deep.equal([FINALIZER]);
      expect(rr.status?.nodes?.map((n) => n.state)).to.deep.equal([
        'Released',
        'Running',
        'Released',
      ]);
      expect(h.recorder.reasons()).to.include('Warning/ReleaseFailed');
      failing = false;
      await h.reconcile('vm');
      expect(h.get('vm')).to.equal(undefined); // finalizer dropped: the object is gone
      expect(h.ledger.leaked()).to.deep.equal([]);
      expect(h.ledger.overReleased()).to.deep.equal([]);
      rr = { ...rr, status: { ...rr.status, nodes: [] } };
      expect(h.reconciler.deleted(rr)).to.equal(false); // its delete event releases nothing
    });

    it('zombie nodes (Releasing in status) are released and leave the record', async () => {
      const h = new Harness();
      const created = h.create(request('vm', { profile: 'remote' }, { finalizers: [FINALIZER] }));
      const zombie = h.fake.make('vm-9', { namespace: 'team', name: 'vm' });
      await h.kube.replace(`${RRS}/vm/status`, {
        ...created,
        status: {
          phase: 'Pending',
          nodes: [{ ...zombie.toRecord(), state: 'Releasing' }],
        },
      });
      await h.reconcile('vm');
      expect(h.ledger.releases.get('farm/vm-9')).to.equal(1);
      // Released, then served on the next pass.
      await h.reconcile('vm');
      expect(h.get('vm')!.status?.nodes?.map((n) => n.name)).to.deep.equal(['vm-0']);
      expect(h.ledger.overReleased()).to.deep.equal([]);
    });

    it('a request deleted without a finalizer gives its capacity back exactly once', async () => {
      const h = new Harness();
      h.create(request('web', { count: 2 }));
      await h.reconcile('web');
      expect(h.held()).to.equal(2);
      const last = h.get('web')!;
      await h.kube.delete(`${RRS}/web`);
      expect(h.get('web')).to.equal(undefined);
      expect(h.reconciler.deleted(last)).to.equal(true);
      await h.reconcile('web');
      expect(h.held()).to.equal(0);
      expect(h.notified.freed).to.equal(1);
      await h.reconcile('web'); // a second pass has nothing left to give back
      expect(h.notified.freed).to.equal(1);
    });

    it('a remote request stripped of its finalizer is still released through its provisioner, once', async () => {
      const h = new Harness();
      h.create(request('vm', { profile: 'remote', count: 2 }));
      await h.reconcile('vm');
      const last = h.get('vm')!;
      await h.kube.mergePatch(`${RRS}/vm`, { metadata: { finalizers: null } });
      await h.kube.delete(`${RRS}/vm`);
      expect(h.reconciler.deleted(last)).to.equal(true);
      await h.reconcile('vm');
      expect(h.ledger.leaked()).to.deep.equal([]);
      expect(h.ledger.overReleased()).to.deep.equal([]);
    });
  });

  describe('scale', () => {
    const scale = (h: Harness, name: string, spec: { count: number; minCount?: number }) =>
      h.kube.mergePatch(`${RRS}/${name}`, { spec });
    const names = (rr: ResourceRequest | undefined) => (rr?.status?.nodes ?? []).map((n) => n.name);

    it('up: runs the stack for the missing nodes only, keeps the ones held, one write', async () => {
      const h = new Harness();
      h.create(request('web', { count: 2 }));
      await h.reconcile('web');
      await scale(h, 'web', { count: 5 });
      const writes = h.statusWrites();
      await h.reconcile('web');
      const rr = h.get('web')!;
      expect(names(rr)).to.deep.equal(['web-0', 'web-1', 'web-2', 'web-3', 'web-4']);
      expect(rr.status).to.include({ phase: 'Ready', ready: '5/5', observedGeneration: 2 });
      expect(h.statusWrites() - writes).to.equal(1);
      expect(h.held()).to.equal(5);
      expect(h.recorder.events.at(-1)).to.include({ reason: 'Scaled', type: 'Normal' });
      expect(h.recorder.events.at(-1)!.note).to.match(/^scaled up from 2 to 5 node\(s\): rack\//);
      await h.reconcile('web'); // settled: nothing more
      expect(h.statusWrites() - writes).to.equal(1);
    });

    it('up, partly: at least minCount in total is Ready, and is not topped up later', async () => {
      const h = new Harness(); // 2 hosts × 4 CPU: 8 nodes of 1 CPU
      h.create(request('web', { count: 2, minCount: 1 }));
      await h.reconcile('web');
      await scale(h, 'web', { count: 10, minCount: 1 });
      await h.reconcile('web');
      const rr = h.get('web')!;
      expect(names(rr)).to.have.length(8);
      expect(rr.status).to.include({ phase: 'Ready', ready: '8/10', observedGeneration: 2 });
      expect(RequestReconciler.pending([rr])).to.deep.equal([]);
    });

    it('up, below minCount: what the run got is released, the held nodes stay, retried when capacity frees', async () => {
      const h = new Harness();
      h.create(request('other', { count: 4 }));
      await h.reconcile('other');
      h.create(request('web', { count: 2 }));
      await h.reconcile('web');
      await scale(h, 'web', { count: 6, minCount: 6 }); // needs 4 more, 2 are free
      await h.reconcile('web');
      let rr = h.get('web')!;
      expect(names(rr)).to.deep.equal(['web-0', 'web-1']);
      expect(rr.status).to.include({ phase: 'Ready', ready: '2/6', observedGeneration: 1 });
      const allocated = rr.status?.conditions?.find((c) => c.type === 'Allocated');
      expect(allocated).to.include({ status: 'False', reason: 'InsufficientCapacity' });
      expect(allocated?.message).to.match(/^scaling to 6: /);
      expect(h.held()).to.equal(6); // other's 4 and web's 2: nothing of the failed run is held
      expect(h.recorder.reasons().filter((r) => r === 'Warning/FailedToScale')).to.have.length(1);
      expect(RequestReconciler.pending([rr]).map((r) => r.metadata.name)).to.deep.equal(['web']);
      await h.reconcile('web'); // no capacity came back: the same answer, no new Event
      expect(h.recorder.reasons().filter((r) => r === 'Warning/FailedToScale')).to.have.length(1);

      const other = h.get('other')!;
      await h.kube.delete(`${RRS}/other`);
      h.reconciler.deleted(other);
      await h.reconcile('other');
      await h.reconcile('web');
      rr = h.get('web')!;
      expect(names(rr)).to.deep.equal(['web-0', 'web-1', 'web-2', 'web-3', 'web-4', 'web-5']);
      expect(rr.status).to.include({ ready: '6/6', observedGeneration: 2 });
    });

    it('down: releases the newest nodes through their provisioner, each once', async () => {
      const h = new Harness();
      h.create(request('vm', { profile: 'remote', count: 4 }));
      await h.reconcile('vm');
      await scale(h, 'vm', { count: 1 });
      await h.reconcile('vm');
      const rr = h.get('vm')!;
      expect(names(rr)).to.deep.equal(['vm-0']);
      expect(rr.status).to.include({ phase: 'Ready', ready: '1/1', observedGeneration: 2 });
      expect([...h.ledger.releases.keys()]).to.deep.equal(['farm/vm-3', 'farm/vm-2', 'farm/vm-1']);
      expect(h.recorder.events.at(-1)!.note).to.equal(
        'scaled down from 4 to 1 node(s): released vm-3, vm-2, vm-1',
      );
      expect(h.notified.freed).to.equal(1);
      expect(h.ledger.overReleased()).to.deep.equal([]);
    });

    it('down, a release failing: the node stays Releasing and is released on the next pass', async () => {
      let failing = true;
      const h = new Harness({ remote: { failRelease: (n) => failing && n === 'vm-2' } });
      h.create(request('vm', { profile: 'remote', count: 3 }));
      await h.reconcile('vm');
      await scale(h, 'vm', { count: 1 });
      await h.reconcile('vm').then(
        () => expect.fail('should throw'),
        (e: Error) => expect(e.message).to.match(/release failed for vm-2/),
      );
      let rr = h.get('vm')!;
      expect(rr.status?.nodes?.map((n) => `${n.name}:${n.state}`)).to.deep.equal([
        'vm-0:Running',
        'vm-2:Releasing',
      ]);
      expect(rr.status?.observedGeneration).to.equal(1);
      failing = false;
      await h.reconcile('vm'); // the zombie goes
      await h.reconcile('vm'); // the change is observed
      rr = h.get('vm')!;
      expect(names(rr)).to.deep.equal(['vm-0']);
      expect(rr.status?.observedGeneration).to.equal(2);
      expect(h.ledger.overReleased()).to.deep.equal([]);
      expect(h.ledger.leaked()).to.deep.equal(['farm/vm-0']);
    });

    it('down, OldestFirst: the profile chooses the lowest index first', async () => {
      const h = new Harness({ scaleDownOrder: 'OldestFirst' });
      h.create(request('web', { count: 3 }));
      await h.reconcile('web');
      await scale(h, 'web', { count: 1 });
      await h.reconcile('web');
      expect(names(h.get('web'))).to.deep.equal(['web-2']);
      expect(h.held()).to.equal(1);
    });

    it('a partial fill is not topped up when another field changes (an extended deadline)', async () => {
      const h = new Harness(); // 8 nodes of 1 CPU fit
      h.create(request('web', { count: 10, minCount: 1 }));
      await h.reconcile('web');
      expect(names(h.get('web'))).to.have.length(8);
      await h.reconcile('other'); // nothing
      // Capacity comes back, then the deadline is extended: still 8, as VURM fills once.
      h.backend.setInventory([rackPool(3)], []);
      await h.kube.mergePatch(`${RRS}/web`, { spec: { activeDeadlineSeconds: 3600 } });
      await h.reconcile('web');
      expect(names(h.get('web'))).to.have.length(8);
      expect(h.get('web')!.status?.observedGeneration).to.equal(2);
    });

    it('a change of minCount alone runs nothing: it is observed', async () => {
      const h = new Harness();
      h.create(request('web', { count: 3 }));
      await h.reconcile('web');
      await scale(h, 'web', { count: 3, minCount: 1 });
      await h.reconcile('web');
      expect(h.get('web')!.status?.observedGeneration).to.equal(2);
      expect(h.held()).to.equal(3);
    });
  });

  describe('healing (onHostLoss: Replace)', () => {
    const hostsOf = (rr: ResourceRequest | undefined) =>
      (rr?.status?.nodes ?? []).map((n) => `${n.name}@${n.host}`);
    const maintenance = (h: Harness, hosts: number, down: boolean) =>
      h.backend.setInventory([rackPool(hosts, down ? 'Maintenance' : undefined)], []);

    it('after the grace period, releases the nodes of a lost host and places replacements elsewhere', async () => {
      const h = new Harness({ replaceAfter: 30 });
      h.create(request('svc', { count: 2 })); // first fit: both on h0
      await h.reconcile('svc');
      expect(hostsOf(h.get('svc'))).to.deep.equal(['svc-0@h0', 'svc-1@h0']);
      maintenance(h, 2, true);
      expect(await h.reconcile('svc')).to.deep.equal({ requeueAfterMs: 30_000 });
      expect(h.get('svc')!.status?.conditions?.find((c) => c.type === 'Degraded')).to.include({
        status: 'True',
        reason: 'HostUnavailable',
      });
      h.nowMs += 20_000;
      expect(await h.reconcile('svc')).to.deep.equal({ requeueAfterMs: 10_000 });
      expect(hostsOf(h.get('svc'))).to.deep.equal(['svc-0@h0', 'svc-1@h0']);
      h.nowMs += 10_000;
      // The lost nodes go, and the pass asks to come back at once for the replacements.
      expect(await h.reconcile('svc')).to.deep.equal({ requeueAfterMs: 0 });
      let rr = h.get('svc')!;
      expect(rr.status).to.include({ replacing: 2 });
      expect(rr.status?.nodes).to.deep.equal([]);
      expect(h.recorder.reasons().filter((r) => r === 'Warning/HostLost')).to.have.length(2);
      await h.reconcile('svc'); // their replacements come
      rr = h.get('svc')!;
      // The same names, now on h1: a replacement takes the slot of the node it replaces.
      expect(hostsOf(rr)).to.deep.equal(['svc-0@h1', 'svc-1@h1']);
      expect(rr.status).to.include({ phase: 'Ready', ready: '2/2', replacements: 2 });
      expect(rr.status?.replacing).to.equal(undefined);
      expect(rr.status?.conditions?.find((c) => c.type === 'Degraded')?.status).to.equal('False');
      expect(
        h.recorder.events.filter((e) => e.reason === 'Replaced').map((e) => e.note),
      ).to.deep.equal(['replacement svc-0 on rack/h1', 'replacement svc-1 on rack/h1']);
      expect(h.held()).to.equal(2);
    });

    it('a scale made while a lost host is in its grace period is not lost', async () => {
      const h = new Harness({ replaceAfter: 30 });
      h.create(request('svc', { count: 1 }));
      await h.reconcile('svc');
      maintenance(h, 2, true);
      await h.reconcile('svc'); // Degraded, waiting for the grace period
      await h.kube.mergePatch(`${RRS}/svc`, { spec: { count: 2 } });
      await h.reconcile('svc');
      const rr = h.get('svc')!;
      expect(hostsOf(rr)).to.deep.equal(['svc-0@h0', 'svc-1@h1']);
      expect(rr.status?.observedGeneration).to.equal(2);
    });

    it('a host that comes back within the grace period costs nothing', async () => {
      const h = new Harness({ replaceAfter: 30 });
      h.create(request('svc'));
      await h.reconcile('svc');
      maintenance(h, 2, true);
      await h.reconcile('svc');
      h.nowMs += 10_000;
      maintenance(h, 2, false);
      expect(await h.reconcile('svc')).to.deep.equal({});
      h.nowMs += 60_000;
      await h.reconcile('svc');
      expect(hostsOf(h.get('svc'))).to.deep.equal(['svc-0@h0']);
      expect(h.recorder.reasons()).not.to.include('Warning/HostLost');
    });

    it('with no room for a replacement: Degraded says why, and capacity coming back retries it', async () => {
      const h = new Harness({ hosts: 1, replaceAfter: 0 });
      h.create(request('svc'));
      await h.reconcile('svc');
      maintenance(h, 1, true);
      await h.reconcile('svc'); // Degraded now; grace 0: due at once
      await h.reconcile('svc'); // released
      await h.reconcile('svc'); // no host for a replacement
      let rr = h.get('svc')!;
      expect(rr.status?.replacing).to.equal(1);
      const degraded = rr.status?.conditions?.find((c) => c.type === 'Degraded');
      expect(degraded).to.include({ status: 'True', reason: 'ReplacementPending' });
      expect(degraded?.message).to.match(/1 node\(s\) lost with their host not replaced yet: /);
      expect(RequestReconciler.pending([rr]).map((r) => r.metadata.name)).to.deep.equal(['svc']);
      maintenance(h, 1, false);
      await h.reconcile('svc');
      rr = h.get('svc')!;
      expect(hostsOf(rr)).to.deep.equal(['svc-0@h0']);
      expect(rr.status).to.include({ replacements: 1 });
      expect(RequestReconciler.pending([rr])).to.deep.equal([]);
    });

    it('Keep (the default) only marks the request Degraded', async () => {
      const h = new Harness();
      h.create(request('svc'));
      await h.reconcile('svc');
      maintenance(h, 2, true);
      expect(await h.reconcile('svc')).to.deep.equal({});
      h.nowMs += 3600_000;
      await h.reconcile('svc');
      expect(hostsOf(h.get('svc'))).to.deep.equal(['svc-0@h0']);
    });
  });

  describe('expiry', () => {
    const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString().replace('.000Z', 'Z');

    it('activeDeadlineSeconds counts from the first Ready; the timer wakes it; then Expired, nodes released', async () => {
      const h = new Harness();
      h.create(request('lab', { count: 2, activeDeadlineSeconds: 60 }));
      expect(await h.reconcile('lab')).to.deep.equal({ requeueAfterMs: 60_000 });
      expect(h.get('lab')!.status).to.include({
        phase: 'Ready',
        startTime: at(0),
        expiryTime: at(60_000),
      });
      h.nowMs += 59_000;
      expect(await h.reconcile('lab')).to.deep.equal({ requeueAfterMs: 1000 });
      expect(h.get('lab')!.status?.phase).to.equal('Ready');
      h.nowMs += 1000;
      expect(await h.reconcile('lab')).to.deep.equal({});
      const rr = h.get('lab')!;
      expect(rr.status).to.include({ phase: 'Expired', ready: '0/2' });
      expect(rr.status?.nodes).to.deep.equal([]);
      const ready = rr.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready).to.include({ status: 'False', reason: 'Expired' });
      expect(ready?.message).to.equal(
        `activeDeadlineSeconds 60 passed at ${at(60_000)} (Ready since ${at(0)})`,
      );
      expect(h.held()).to.equal(0);
      expect(h.notified.freed).to.equal(1);
      expect(h.recorder.events.at(-1)).to.include({ type: 'Normal', reason: 'Expired' });
      expect(h.recorder.events.at(-1)!.note).to.match(/: released 2 node\(s\)$/);
      expect(RequestReconciler.pending([rr])).to.deep.equal([]);
      const writes = h.statusWrites();
      await h.reconcile('lab'); // final: nothing more
      expect(h.statusWrites()).to.equal(writes);
    });

    it('is extended by patching the deadline before it passes', async () => {
      const h = new Harness();
      h.create(request('lab', { activeDeadlineSeconds: 60 }));
      await h.reconcile('lab');
      h.nowMs += 30_000;
      await h.kube.mergePatch(`${RRS}/lab`, { spec: { activeDeadlineSeconds: 120 } });
      expect(await h.reconcile('lab')).to.deep.equal({ requeueAfterMs: 90_000 });
      expect(h.get('lab')!.status).to.include({ expiryTime: at(120_000), observedGeneration: 2 });
      h.nowMs += 31_000;
      await h.reconcile('lab');
      expect(h.get('lab')!.status?.phase).to.equal('Ready');
      expect(h.held()).to.equal(1);
    });

    it('expiresAt ends a request that is still Pending', async () => {
      const h = new Harness();
      h.create(request('big', { count: 100, expiresAt: at(10_000) }));
      expect(await h.reconcile('big')).to.deep.equal({ requeueAfterMs: 10_000 });
      expect(h.get('big')!.status).to.include({ phase: 'Pending', expiryTime: at(10_000) });
      h.nowMs += 10_000;
      await h.reconcile('big');
      expect(h.get('big')!.status?.phase).to.equal('Expired');
      expect(h.recorder.events.at(-1)!.note).to.equal(`expiresAt ${at(10_000)} passed`);
    });

    it('an expiry whose write is refused does not spin: no immediate requeue', async () => {
      const h = new Harness();
      h.create(request('lab', { activeDeadlineSeconds: 1 }));
      await h.reconcile('lab');
      h.nowMs += 1000;
      h.kube.failNext(
        { verb: 'replace', path: /\/status$/ },
        () => new KubeError(422, 'Invalid', 'status.phase: Unsupported value'),
      );
      expect(await h.reconcile('lab')).to.deep.equal({});
      expect(h.recorder.reasons()).to.include('Warning/StatusWriteRefused');
    });

    it('holds across a restart: derived from the object, not from memory', async () => {
      const h = new Harness();
      h.create(request('lab', { activeDeadlineSeconds: 60 }));
      await h.reconcile('lab');
      h.reconciler.reset(); // a new leader knows nothing but the object
      h.nowMs += 120_000;
      await h.reconcile('lab');
      expect(h.get('lab')!.status?.phase).to.equal('Expired');
      expect(h.held()).to.equal(0);
    });

    it('a remote request expires through its provisioner, each node released once, even after a failure', async () => {
      let failing = true;
      const h = new Harness({ remote: { failRelease: (n) => failing && n === 'vm-1' } });
      h.create(request('vm', { profile: 'remote', count: 2, activeDeadlineSeconds: 5 }));
      await h.reconcile('vm');
      h.nowMs += 5000;
      await h.reconcile('vm').then(
        () => expect.fail('should throw'),
        (e: Error) => expect(e.message).to.match(/release failed for vm-1/),
      );
      expect(h.get('vm')!.status?.phase).to.equal('Expired');
      expect(h.get('vm')!.status?.nodes?.map((n) => `${n.name}:${n.state}`)).to.deep.equal([
        'vm-1:Releasing',
      ]);
      failing = false;
      await h.reconcile('vm');
      expect(h.get('vm')!.status).to.include({ phase: 'Expired' });
      expect(h.get('vm')!.status?.nodes).to.deep.equal([]);
      expect(h.ledger.leaked()).to.deep.equal([]);
      expect(h.ledger.overReleased()).to.deep.equal([]);
    });
  });

  describe('intent before action: a request deleted while provisioning', () => {
    /** A remote request a dead leader was provisioning: finalizer on, phase Provisioning, no nodes. */
    async function provisioning(h: Harness, count: number, nodes = 0) {
      const created = h.create(
        request('vm', { profile: 'remote', count }, { finalizers: [FINALIZER] }),
      );
      const made = Array.from({ length: nodes }, (_, i) =>
        h.fake.make(`vm-${i}`, { namespace: 'team', name: 'vm' }).toRecord(),
      );
      await h.kube.replace(`${RRS}/vm/status`, {
        ...created,
        status: { phase: 'Provisioning', nodes: made },
      });
      await h.kube.delete(`${RRS}/vm`);
    }

    it('releases by key every name no record names, then drops the finalizer', async () => {
      const h = new Harness();
      await provisioning(h, 3, 1);
      await h.reconcile('vm');
      expect(h.fake.swept).to.deep.equal([['vm-1', 'vm-2']]);
      expect(h.ledger.releases.get('farm/vm-0')).to.equal(1); // the recorded one, as usual
      expect(h.get('vm')).to.equal(undefined);
    });

    it('a cache that still shows the request sweeps nothing twice', async () => {
      const h = new Harness();
      await provisioning(h, 2);
      h.stale = h.get('vm');
      await h.reconcile('vm');
      expect(h.get('vm')).to.equal(undefined);
      await h.reconcile('vm');
      expect(h.fake.swept).to.deep.equal([['vm-0', 'vm-1']]);
    });

    it('keeps the finalizer and releases no record while the service cannot be reached', async () => {
      let down = true;
      const h = new Harness({ remote: { failSweep: () => down } });
      await provisioning(h, 2, 1);
      await h.reconcile('vm').then(
        () => expect.fail('should throw'),
        (e: Error) =>
          expect(e.message).to.match(/could not be released: farm: service unavailable/),
      );
      expect(h.get('vm')!.metadata.finalizers).to.deep.equal([FINALIZER]);
      expect(h.ledger.releases.size).to.equal(0);
      expect(h.recorder.reasons()).to.include('Warning/ReleaseFailed');
      down = false;
      await h.reconcile('vm');
      expect(h.fake.swept).to.deep.equal([['vm-1']]);
      expect(h.ledger.overReleased()).to.deep.equal([]);
      expect(h.ledger.leaked()).to.deep.equal([]);
      expect(h.get('vm')).to.equal(undefined);
    });

    it('a request deleted when Ready or Pending sweeps nothing (no stack was running)', async () => {
      for (const phase of ['Ready', 'Pending'] as const) {
        const h = new Harness();
        const created = h.create(
          request('vm', { profile: 'remote', count: 2 }, { finalizers: [FINALIZER] }),
        );
        await h.kube.replace(`${RRS}/vm/status`, { ...created, status: { phase, nodes: [] } });
        await h.kube.delete(`${RRS}/vm`);
        await h.reconcile('vm');
        expect(h.fake.swept, phase).to.deep.equal([]);
        expect(h.get('vm'), phase).to.equal(undefined);
      }
    });
  });

  describe('busy', () => {
    it('says a request is busy while its stack runs, and not after', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const h = new Harness({
        remote: {
          tamper: async (nodes) => {
            await gate;
            return nodes;
          },
        },
      });
      const rr = h.create(request('vm', { profile: 'remote' }, { uid: 'u-1' }));
      const pass = h.reconcile('vm');
      await new Promise((r) => setTimeout(r, 10));
      const identity = { namespace: 'team', name: 'vm', uid: 'u-1' };
      expect(h.reconciler.busy(identity)).to.equal(true);
      expect(h.reconciler.busy({ ...identity, uid: 'other' })).to.equal(false);
      release();
      await pass;
      expect(h.reconciler.busy(identity)).to.equal(false);
      expect(rr.metadata.uid).to.equal('u-1');
    });
  });

  describe('observe', () => {
    it('a host going to Maintenance makes the request Degraded, with one Warning', async () => {
      const h = new Harness({ hosts: 1 });
      h.create(request('web'));
      await h.reconcile('web');
      const hp = rackPool(1, 'Maintenance');
      h.backend.setInventory([hp], []);
      await h.reconcile('web');
      const rr = h.get('web')!;
      const degraded = rr.status?.conditions?.find((c) => c.type === 'Degraded');
      expect(degraded?.status).to.equal('True');
      expect(degraded?.message).to.match(/rack\/h0 \(Maintenance\)/);
      expect(h.recorder.reasons()).to.deep.equal(['Normal/Allocated', 'Warning/Degraded']);
      await h.reconcile('web');
      expect(h.recorder.events).to.have.length(2);
    });
  });
});
