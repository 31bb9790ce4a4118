// The whole operator on the fake API server: informers, the request and pool controllers, the
// configuration file, leader election — started with run(), stopped by its signal. Karpenter's
// and Kueue's envtest suites are the model, with the fake in place of an API server.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostPool, ResourceRequest, StoragePool } from '../../src/api/index.js';
import { Manager, type ManagerOptions } from '../../src/controller/manager.js';
import { KubeError } from '../../src/kube/client.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { FakeKube } from '../support/fakekube.js';
import { until } from '../support/settle.js';

const RRS = '/apis/berth.dev/v1alpha1/namespaces/team/resourcerequests';
const HPS = '/apis/berth.dev/v1alpha1/hostpools';
const SPS = '/apis/berth.dev/v1alpha1/storagepools';
const LEASE = '/apis/coordination.k8s.io/v1/namespaces/berth-system/leases/berth';
const EVENTS = '/apis/events.k8s.io/v1/namespaces/berth-system/events';

interface EventObject {
  type: string;
  reason: string;
  note: string;
  regarding: { apiVersion?: string; kind?: string; name: string; namespace?: string };
}

const CONFIG = `apiVersion: berth.dev/v1alpha1
kind: OperatorConfig
profiles:
  - name: default
    provisioners:
      - name: onprem
        type: hosts
    hostAllocators: [{ type: firstFit }]
`;

const pool: HostPool = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name: 'rack' },
  spec: {
    zone: 'z1',
    hosts: [{ name: 'h0', address: '10.0.0.1', capacity: { cpu: '4', memory: '8Gi' } }],
  },
};

const request = (name: string, cpu = '1'): ResourceRequest => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name, namespace: 'team' },
  spec: { count: 1, resources: { cpu, memory: '1Gi' } },
});

/** Every harness made by a test, stopped after it even when it failed. */
const harnesses: Harness[] = [];

class Harness {
  readonly kube = new FakeKube();
  readonly metrics = new Metrics(false);
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-manager-'));
  readonly configPath = join(this.dir, 'operatorconfig.yaml');
  readonly ac = new AbortController();
  readonly manager: Manager;
  lost = 0;
  done: Promise<void> | undefined;

  constructor(o: Partial<ManagerOptions> = {}) {
    harnesses.push(this);
    writeFileSync(this.configPath, CONFIG);
    this.kube.seed(HPS, pool);
    this.manager = new Manager({
      rest: this.kube,
      log: silentLogger(),
      metrics: this.metrics,
      configPath: this.configPath,
      workers: 2,
      identity: 'berth-0',
      namespace: 'berth-system',
      poolStatusCoalesceMs: 10,
      poolStatusIntervalMs: 50,
      informer: { backoffBaseMs: 10, backoffMaxMs: 20 },
      onLostLeadership: () => this.lost++,
      ...o,
    });
  }

  run(): void {
    this.done = this.manager.run(this.ac.signal);
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.done;
    rmSync(this.dir, { recursive: true, force: true });
  }

  request(name: string): ResourceRequest | undefined {
    return this.kube.peek<ResourceRequest>(`${RRS}/${name}`);
  }

  pool(): HostPool {
    return this.kube.peek<HostPool>(`${HPS}/rack`)!;
  }

  async metric(name: string): Promise<string> {
    return this.metrics.registry.getSingleMetricAsString(name);
  }
}

describe('Manager', () => {
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.stop();
  });

  it('binds a request, gives its capacity back on delete, and stops on abort', async () => {
    const h = new Harness();
    h.kube.seed(RRS, request('web'));
    expect(h.manager.ready()).to.equal('caches not synced');
    h.run();
    await until(() => h.request('web')?.status?.phase === 'Ready', 'web Ready');
    expect(h.manager.ready()).to.equal(undefined);
    expect(h.manager.isLeader()).to.equal(true);
    expect(h.request('web')!.status?.nodes?.[0]).to.include({ hostPool: 'rack', host: 'h0' });
    await until(() => h.pool().status?.allocated?.cpu === '1', 'the pool status counts it');
    expect(h.pool().status?.nodes).to.equal(1);
    expect(await h.metric('berth_pool_allocated')).to.match(/resource="cpu"\} 1/);

    await h.kube.delete(`${RRS}/web`);
    await until(() => h.pool().status?.nodes === 0, 'the capacity back');
    expect(h.pool().status?.allocated?.cpu ?? '0').to.equal('0');
    expect(h.manager.backend.hostPoolUsage('rack')?.nodes).to.equal(0);

    let resolved = false;
    h.ac.abort();
    await h.done!.then(() => (resolved = true));
    expect(resolved).to.equal(true);
    expect(h.kube.openWatches(), 'every watch closed').to.equal(0);
    await h.stop();
  });

  it('a leader rebuilds the ledger from the requests: nothing recorded is handed out twice', async () => {
    const h = new Harness();
    // A former leader bound `old` on h0 (3 of its 4 cores); `new` wants 3 too: it must wait.
    const old = h.kube.seed(RRS, request('old', '3'));
    await h.kube.replace(`${RRS}/old/status`, {
      ...old,
      status: {
        phase: 'Ready',
        nodes: [
          {
            name: 'old-0',
            provisioner: 'onprem',
            hostPool: 'rack',
            host: 'h0',
            address: '10.0.0.1',
            configEntry: '',
            state: 'Running',
          },
        ],
      },
    });
    h.kube.seed(RRS, request('new', '3'));
    h.run();
    await until(() => h.request('new')?.status?.phase === 'Pending', 'new Pending');
    expect(h.request('old')!.status?.phase).to.equal('Ready');
    expect(h.manager.backend.hostPoolUsage('rack')?.nodes).to.equal(1);
    // old goes: new takes its place.
    await h.kube.delete(`${RRS}/old`);
    await until(() => h.request('new')?.status?.phase === 'Ready', 'new Ready');
    await h.stop();
  });

  it('with leader election: leads once it holds the lease, and releases it on stop', async () => {
    const h = new Harness({
      leaderElection: {
        namespace: 'berth-system',
        name: 'berth',
        identity: 'berth-0',
        leaseDurationMs: 2000,
        renewDeadlineMs: 1000,
        retryPeriodMs: 50,
      },
    });
    h.kube.seed(RRS, request('web'));
    h.run();
    await until(() => h.request('web')?.status?.phase === 'Ready', 'web Ready');
    expect(h.kube.peek<{ spec: { holderIdentity: string } }>(LEASE)!.spec.holderIdentity).to.equal(
      'berth-0',
    );
    expect(await h.metric('leader_election_master_status')).to.match(/name="berth"\} 1/);
    await h.stop();
    const lease = h.kube.peek<{ spec: { holderIdentity?: string | null } }>(LEASE)!;
    expect(lease.spec.holderIdentity ?? null).to.equal(null);
    expect(h.lost).to.equal(0);
  });

  it('with leader election: a lost lease stops the controllers and says so', async () => {
    const h = new Harness({
      leaderElection: {
        namespace: 'berth-system',
        name: 'berth',
        identity: 'berth-0',
        leaseDurationMs: 2000,
        renewDeadlineMs: 200,
        retryPeriodMs: 20,
      },
    });
    h.run();
    await until(() => h.manager.isLeader(), 'leading');
    h.kube.failNext(
      { path: /leases\/berth$/ },
      () => new KubeError(503, 'ServiceUnavailable', 'down'),
      1_000_000,
    );
    await until(() => h.lost === 1, 'onLostLeadership');
    expect(h.manager.isLeader()).to.equal(false);
    // Stopped: a new request is not reconciled.
    h.kube.seed(RRS, request('late'));
    await new Promise((r) => setTimeout(r, 50));
    expect(h.request('late')!.status).to.equal(undefined);
    await h.stop();
  });

  it('says when the configuration file turns invalid, and recovers when it is fixed', async () => {
    const h = new Harness();
    h.run();
    await until(() => h.manager.isLeader(), 'leading');
    writeFileSync(h.configPath, 'kind: OperatorConfig\nprofiles: 7\n');
    await until(() => /OperatorConfig invalid/.test(h.manager.ready() ?? ''), 'not ready', 15_000);
    writeFileSync(h.configPath, CONFIG.replace('firstFit', 'bestFit'));
    await until(() => h.manager.ready() === undefined, 'ready again', 15_000);
    h.kube.seed(RRS, request('web'));
    await until(() => h.request('web')?.status?.phase === 'Ready', 'web Ready on the new config');
    expect(await h.metric('berth_config_reloads_total')).to.match(/result="success"\} 1/);
    await h.stop();
  });

  it('an invalid configuration is a Warning Event regarding the Lease', async () => {
    const h = new Harness({
      leaderElection: {
        namespace: 'berth-system',
        name: 'berth',
        identity: 'berth-0',
        leaseDurationMs: 2000,
        renewDeadlineMs: 1000,
        retryPeriodMs: 50,
      },
    });
    h.run();
    await until(() => h.manager.isLeader(), 'leading');
    writeFileSync(h.configPath, 'kind: OperatorConfig\nprofiles: 7\n');
    const invalid = () =>
      h.kube.all<EventObject>(EVENTS).filter((e) => e.reason === 'InvalidConfig');
    await until(() => invalid().length === 1, 'a Warning Event', 15_000);
    const [event] = invalid();
    expect(event).to.include({ type: 'Warning' });
    expect(event!.regarding).to.include({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      name: 'berth',
      namespace: 'berth-system',
    });
    expect(event!.note).to.match(/^OperatorConfig .* is invalid; running on the last good one: /);
    expect(event!.note).to.contain('profiles');
    await h.stop();
  });

  it('reads its gauges: what waits, how long the oldest has waited, which provisioners take calls', async () => {
    const h = new Harness({ gaugeIntervalMs: 20 });
    h.kube.seed(RRS, request('fits'));
    h.kube.seed(RRS, request('too-big', '16'));
    h.run();
    await until(() => h.request('too-big')?.status?.phase === 'Pending', 'too-big Pending');
    // The gauges are read every 20 ms here: poll the registry until they show the pending one.
    for (let i = 0; i < 250; i++) {
      if ((await h.metric('berth_pending_requests')).includes('berth_pending_requests 1')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await h.metric('berth_pending_requests')).to.include('berth_pending_requests 1');
    expect(await h.metric('berth_pending_request_oldest_seconds')).to.match(
      /^berth_pending_request_oldest_seconds \d/m,
    );
    expect(await h.metric('berth_provisioner_available')).to.include(
      'berth_provisioner_available{profile="default",provisioner="onprem"} 1',
    );
    await h.stop();
  });

  it('without leader election, the Event is regarding the operator namespace (kept in default)', async () => {
    const h = new Harness();
    h.run();
    await until(() => h.manager.isLeader(), 'leading');
    writeFileSync(h.configPath, 'kind: OperatorConfig\nprofiles: 7\n');
    // The API server keeps Events about cluster-scoped objects only in `default`.
    const DEFAULT_EVENTS = EVENTS.replace('/berth-system/', '/default/');
    await until(
      () => h.kube.all<EventObject>(DEFAULT_EVENTS).some((e) => e.reason === 'InvalidConfig'),
      'a Warning Event',
      15_000,
    );
    const event = h.kube
      .all<EventObject>(DEFAULT_EVENTS)
      .find((e) => e.reason === 'InvalidConfig')!;
    expect(event.regarding).to.include({ kind: 'Namespace', name: 'berth-system' });
    await h.stop();
  });

  it('a StoragePool naming a HostPool that does not exist is not Ready until it appears', async () => {
    const h = new Harness();
    h.kube.seed(SPS, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'StoragePool',
      metadata: { name: 'shared' },
      spec: { scope: 'Cluster', hostPool: 'rack-x', capacity: '1Ti' },
    });
    h.run();
    const readyOf = () =>
      h.kube
        .peek<StoragePool>(`${SPS}/shared`)
        ?.status?.conditions?.find((c) => c.type === 'Ready');
    await until(() => readyOf()?.reason === 'MissingReference', 'MissingReference');
    expect(readyOf()).to.include({
      status: 'False',
      message: 'hostPool rack-x does not exist: the storage pool takes no new volumes',
    });
    await h.kube.create(HPS, { ...pool, metadata: { name: 'rack-x' } });
    await until(() => readyOf()?.status === 'True', 'Ready once the HostPool exists');
    await h.kube.delete(`${HPS}/rack-x`);
    await until(() => readyOf()?.reason === 'MissingReference', 'not Ready once it is gone');
    await h.stop();
  });

  it('keeps trying to lead while the first list fails', async () => {
    const h = new Harness();
    h.kube.seed(RRS, request('web'));
    // The informers' lists pass; the leader's fresh list fails twice.
    let lists = 0;
    const list = h.kube.list.bind(h.kube);
    h.kube.list = async <T>(
      path: string,
      query?: Record<string, string | number | boolean | undefined>,
    ) => {
      if (path.endsWith('/resourcerequests') && ++lists >= 2 && lists <= 3)
        throw new KubeError(500, 'InternalError', 'etcd timeout');
      return list<T>(path, query);
    };
    h.run();
    await until(() => h.request('web')?.status?.phase === 'Ready', 'web Ready', 10_000);
    expect(lists).to.be.at.least(4);
    await h.stop();
  });
});
