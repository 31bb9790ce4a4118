// The pool controllers on the fake API server: a pool's status is derived from the engine's usage
// and written only when it changed; usage changes are coalesced on the controllers' clock; a
// status the API server refuses for good is said and counted.
import { expect } from 'chai';
import type { Logger } from 'winston';
import type { HostPool, StoragePool } from '../../src/api/index.js';
import type { HostPoolUsageStatus, StoragePoolUsageStatus } from '../../src/allocation/index.js';
import { PoolControllers } from '../../src/controller/pools.js';
import { KubeError } from '../../src/kube/client.js';
import { Metrics } from '../../src/observability/metrics.js';
import { StatusWriter } from '../../src/runtime/status-writer.js';
import { hostPoolStatus, type PoolView } from '../../src/serving/pool-status.js';
import { FakeClock } from '../support/fakeclock.js';
import { FakeKube } from '../support/fakekube.js';
import { RecordingRecorder } from '../support/recorder.js';
import { flush, testInformer } from '../support/settle.js';

const HPS = '/apis/berth.dev/v1alpha1/hostpools';
const SPS = '/apis/berth.dev/v1alpha1/storagepools';
const NOW = new Date('2026-03-01T12:00:00Z');
const COALESCE = 1000;

const hostPool = (name = 'rack'): HostPool => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name },
  spec: {
    zone: 'z1',
    hosts: [{ name: 'h0', address: '10.0.0.1', capacity: { cpu: '4', memory: '8Gi' } }],
  },
});

const storagePool = (name = 'ceph'): StoragePool =>
  ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'StoragePool',
    metadata: { name },
    spec: { scope: 'Zone', zone: 'z1', capacity: '10Ti' },
  }) as StoragePool;

const hostUsage = (cpu: string, nodes: number): HostPoolUsageStatus => ({
  hostCount: 1,
  nodes,
  capacity: { cpu: '4', memory: '8Gi' },
  allocated: { cpu, memory: '0' },
  hosts: [],
});

/** The engine's side, as the controllers see it: usage set by the test. */
class View implements PoolView {
  readonly hosts = new Map<string, HostPoolUsageStatus>();
  readonly storage = new Map<string, StoragePoolUsageStatus>();
  problems = new Map<string, string>();
  missing = new Map<string, string>();
  hostPoolUsage(name: string) {
    return this.hosts.get(name);
  }
  storagePoolUsage(name: string) {
    return this.storage.get(name);
  }
  problem(kind: 'HostPool' | 'StoragePool', name: string) {
    return this.problems.get(`${kind}/${name}`);
  }
  missingReference(name: string) {
    return this.missing.get(name);
  }
}

class Harness {
  readonly kube = new FakeKube(() => NOW);
  readonly clock = new FakeClock(NOW.getTime());
  readonly metrics = new Metrics(false);
  readonly view = new View();
  readonly errors: string[] = [];
  readonly recorder = new RecordingRecorder();
  readonly observed: string[] = [];
  readonly hostPools = testInformer<HostPool>(this.kube, HPS);
  readonly storagePools = testInformer<StoragePool>(this.kube, SPS);
  readonly pools: PoolControllers;
  private readonly ac = new AbortController();
  private informers: Promise<void>[] = [];

  constructor(o: { minIntervalMs?: number } = {}) {
    this.view.hosts.set('rack', hostUsage('0', 0));
    this.view.storage.set('ceph', {
      capacity: '10Ti',
      allocatable: '10Ti',
      allocated: '0',
      volumes: 0,
    });
    const log = {
      error: (msg: string, meta: { error: string }) => this.errors.push(`${msg}: ${meta.error}`),
      info: () => undefined,
      warn: () => undefined,
    } as unknown as Logger;
    this.pools = new PoolControllers({
      writer: new StatusWriter(this.kube),
      recorder: this.recorder,
      hostPools: this.hostPools,
      storagePools: this.storagePools,
      view: () => this.view,
      now: () => NOW,
      metrics: this.metrics,
      log,
      coalesceMs: COALESCE,
      ...(o.minIntervalMs !== undefined ? { minIntervalMs: o.minIntervalMs } : {}),
      clock: this.clock,
      observe: (kind, name, capacity, allocated) =>
        this.observed.push(
          `${kind}/${name} ${JSON.stringify(capacity)} ${JSON.stringify(allocated)}`,
        ),
    });
  }

  async start(): Promise<void> {
    this.informers = [this.hostPools.run(this.ac.signal), this.storagePools.run(this.ac.signal)];
    await Promise.all([this.hostPools.waitForSync(), this.storagePools.waitForSync()]);
    this.pools.start(this.ac.signal);
    await this.settle();
  }

  /** Lets reconciles, their writes and the watch events they cause run out. */
  async settle(): Promise<void> {
    await flush(30);
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.pools.stop();
    await Promise.all(this.informers);
  }

  statusWrites(kind = 'hostpools'): number {
    return this.kube.writes(new RegExp(`/${kind}/[^/]+/status$`)).length;
  }

  host(name = 'rack'): HostPool {
    return this.kube.peek<HostPool>(`${HPS}/${name}`)!;
  }
}

describe('PoolControllers', () => {
  it('writes a new pool status once; its own write coming back writes nothing', async () => {
    const h = new Harness();
    h.kube.seed(HPS, hostPool());
    h.kube.seed(SPS, storagePool());
    await h.start();
    expect(h.statusWrites('hostpools')).to.equal(1);
    expect(h.statusWrites('storagepools')).to.equal(1);
    const status = h.host().status!;
    expect(status.hostCount).to.equal(1);
    expect(status.cpu).to.equal('0/4');
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
    const sp = h.kube.peek<StoragePool>(`${SPS}/ceph`)!;
    expect(sp.status?.capacity).to.equal('10Ti');
    expect(h.observed).to.deep.include.members([
      'HostPool/rack {"cpu":"4","memory":"8Gi"} {"cpu":"0","memory":"0"}',
      'StoragePool/ceph {"storage":"10Ti"} {"storage":"0"}',
    ]);
    // The write came back as a status-only update of the pool: not even reconciled again.
    const reconciles = await h.metrics.registry.getSingleMetricAsString(
      'controller_runtime_reconcile_total',
    );
    expect(reconciles).to.match(/controller="hostpool",result="success"\} 1/);
    await h.stop();
  });

  const unchanged: Array<{ name: string; act(h: Harness): Promise<void> }> = [
    {
      name: 'a pool whose status is already right',
      act: async (h) => {
        const seeded = h.kube.seed(HPS, hostPool());
        const status = hostPoolStatus(seeded, h.view, NOW);
        await h.kube.replace(`${HPS}/rack/status`, { ...seeded, status });
      },
    },
    {
      name: 'a label change of the pool',
      act: async (h) => {
        h.kube.seed(HPS, hostPool());
        await h.start();
        await h.kube.mergePatch(`${HPS}/rack`, { metadata: { labels: { tier: 'ci' } } });
      },
    },
    {
      name: 'a usage change that changes no number',
      act: async (h) => {
        h.kube.seed(HPS, hostPool());
        await h.start();
        h.pools.usageChanged({ hostPools: ['rack'], storagePools: [] });
        h.clock.advance(COALESCE);
      },
    },
    {
      name: 'a pool that is gone by the time it is reconciled',
      act: async (h) => {
        h.pools.usageChanged({ hostPools: ['gone'], storagePools: ['gone'] });
        h.clock.advance(COALESCE);
      },
    },
  ];
  for (const c of unchanged)
    it(`writes no status for ${c.name}`, async () => {
      const h = new Harness();
      await c.act(h);
      const before = h.statusWrites() + h.statusWrites('storagepools');
      if (!h.hostPools.hasSynced()) await h.start();
      await h.settle();
      const after = h.statusWrites() + h.statusWrites('storagepools');
      expect(after - before).to.equal(0);
      await h.stop();
    });

  it('coalesces a burst of usage changes into one write per pool after coalesceMs', async () => {
    const h = new Harness();
    h.kube.seed(HPS, hostPool());
    h.kube.seed(SPS, storagePool());
    await h.start();
    expect(h.statusWrites()).to.equal(1);
    for (let i = 1; i <= 10; i++) {
      h.view.hosts.set('rack', hostUsage(`${i * 100}m`, i));
      h.pools.usageChanged({ hostPools: ['rack'], storagePools: ['ceph'] });
      h.clock.advance(50);
      await h.settle();
    }
    expect(h.statusWrites(), 'nothing written within the window').to.equal(1);
    h.clock.advance(COALESCE - 500);
    await h.settle();
    expect(h.statusWrites()).to.equal(2);
    expect(h.host().status?.nodes).to.equal(10);
    expect(h.host().status?.cpu).to.equal('1000m/4');
    expect(h.statusWrites('storagepools'), 'its usage did not change').to.equal(1);
    h.clock.advance(COALESCE * 5);
    await h.settle();
    expect(h.statusWrites()).to.equal(2);
    await h.stop();
  });

  it('under a stream of changes writes a pool at most once per minIntervalMs', async () => {
    const h = new Harness({ minIntervalMs: 5_000 });
    h.kube.seed(HPS, hostPool());
    await h.start();
    const first = h.statusWrites();
    // Ten seconds of bindings, one every 100 ms.
    for (let i = 1; i <= 100; i++) {
      h.view.hosts.set('rack', hostUsage(`${i * 10}m`, i));
      h.pools.usageChanged({ hostPools: ['rack'], storagePools: [] });
      h.clock.advance(100);
      await h.settle();
    }
    h.clock.advance(5_000);
    await h.settle();
    const writes = h.statusWrites() - first;
    expect(writes).to.be.within(2, 4); // not 10 (one per coalescing window), not 100
    expect(h.host().status?.nodes, 'the last change is written').to.equal(100);
    await h.stop();
  });

  it('a pool spec change is reconciled at once, not coalesced', async () => {
    const h = new Harness();
    h.kube.seed(HPS, hostPool());
    await h.start();
    await h.kube.mergePatch(`${HPS}/rack`, {
      spec: {
        hosts: [
          ...hostPool().spec.hosts,
          { name: 'h1', address: '10.0.0.2', capacity: { cpu: '4' } },
        ],
      },
    });
    await h.settle();
    expect(h.statusWrites()).to.equal(2);
    expect(h.host().status?.hostCount).to.equal(2);
    expect(h.host().status?.observedGeneration).to.equal(2);
    await h.stop();
  });

  const refusals: Array<{ kind: 'HostPool' | 'StoragePool'; path: RegExp }> = [
    { kind: 'HostPool', path: /hostpools\/rack\/status$/ },
    { kind: 'StoragePool', path: /storagepools\/ceph\/status$/ },
  ];
  for (const c of refusals)
    it(`a ${c.kind} status the API server refuses is said, logged and counted, not retried`, async () => {
      const h = new Harness();
      h.kube.seed(HPS, hostPool());
      h.kube.seed(SPS, storagePool());
      h.kube.failNext(
        { verb: 'replace', path: c.path },
        () => new KubeError(422, 'Invalid', 'status.capacity: Invalid value'),
      );
      await h.start();
      const refused = await h.metrics.registry.getSingleMetricAsString(
        'berth_status_write_refused_total',
      );
      expect(refused).to.match(new RegExp(`kind="${c.kind}"\\} 1`));
      expect(h.errors).to.deep.equal(['status write refused: status.capacity: Invalid value']);
      expect(h.recorder.events).to.deep.equal([
        {
          object: c.kind === 'HostPool' ? 'rack' : 'ceph',
          type: 'Warning',
          reason: 'StatusWriteRefused',
          action: 'Observe',
          note: "the API server refused the pool's status: status.capacity: Invalid value",
        },
      ]);
      const errors = await h.metrics.registry.getSingleMetricAsString(
        'controller_runtime_reconcile_errors_total',
      );
      expect(errors, 'not an error: no retry').to.not.match(/\} [1-9]/);
      await h.stop();
    });

  it('enqueueAll reconciles every pool once (a new leader)', async () => {
    const h = new Harness();
    h.kube.seed(HPS, hostPool('a'));
    h.kube.seed(HPS, hostPool('b'));
    h.kube.seed(SPS, storagePool());
    await h.start();
    const total = async () => {
      const m = await h.metrics.registry.getSingleMetricAsString(
        'controller_runtime_reconcile_total',
      );
      return [...m.matchAll(/result="success"\} (\d+)/g)].reduce((n, x) => n + Number(x[1]), 0);
    };
    const before = await total();
    h.pools.enqueueAll();
    await h.settle();
    expect((await total()) - before).to.equal(3);
    expect(h.statusWrites() + h.statusWrites('storagepools')).to.equal(3);
    await h.stop();
  });
});
