// The orphan collector against a real webhook service (the kvm-farm behind the test server):
// what it lists, what it leaves alone, when it releases, and what it says.
import { expect } from 'chai';
import type { ResourceRequest } from '../../src/api/index.js';
import { OrphanCollector } from '../../src/controller/collector.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import {
  createDefaultRegistry,
  runStack,
  type Provisioner,
  type RequestRef,
} from '../../src/provisioning/index.js';
import type { Runtime } from '../../src/provisioning/runtime.js';
import { KvmFarm, startFarm, type TestServer } from '../provisioning/helpers/servers.js';
import { RecordingRecorder } from '../support/recorder.js';

const OWNER = 'berth-system/ns-uid';
const GRACE = 60_000;

const ref = (name: string, count: number): RequestRef => ({
  metadata: { namespace: 'team', name, uid: `uid-${name}` },
  spec: { count },
});

/** The request as the cache would show it once the nodes are recorded. */
function recorded(r: RequestRef, nodes: Array<{ name: string; provisioner: string }>) {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ResourceRequest',
    metadata: { ...r.metadata },
    spec: { count: r.spec.count },
    status: {
      phase: 'Ready',
      nodes: nodes.map((n) => ({ ...n, address: '10.0.0.1', configEntry: '', state: 'Running' })),
    },
  } as ResourceRequest;
}

class Harness {
  now = 1_000_000;
  requests: ResourceRequest[] = [];
  busy: { has(uid: string): boolean } = new Set<string>();
  readonly recorder = new RecordingRecorder();
  readonly metrics = new Metrics(false);
  readonly collector: OrphanCollector;

  constructor(readonly provisioners: Provisioner[]) {
    const runtime = { listers: () => provisioners } as Pick<Runtime, 'listers'> as Runtime;
    this.collector = new OrphanCollector({
      runtime: () => runtime,
      requests: () => this.requests,
      busy: (r) => this.busy.has(r.uid ?? ''),
      recorder: this.recorder,
      regarding: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'berth-operator', namespace: 'berth-system' },
      },
      metrics: this.metrics,
      log: silentLogger(),
      now: () => this.now,
      intervalMs: 1000,
      graceMs: GRACE,
    });
  }

  async metric(name: string): Promise<number> {
    const m = (await this.metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? []).reduce((sum, v) => sum + v.value, 0);
  }
}

describe('OrphanCollector', () => {
  let server: TestServer | undefined;
  let farm: KvmFarm;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function service(): Promise<Provisioner> {
    farm = new KvmFarm({ capacity: 8 });
    server = await startFarm(farm);
    return createDefaultRegistry().create(
      { name: 'burst', type: 'webhook', url: server.url, timeoutSeconds: 2, retries: 0 },
      'profiles[0].provisioners[0]',
      { owner: () => OWNER },
    );
  }

  it('releases what no request records once the grace period has passed, and says so', async () => {
    const p = await service();
    const kept = ref('kept', 1);
    const lost = ref('lost', 2);
    await runStack([p], kept);
    await runStack([p], lost); // made, then the leader died before writing the status
    const h = new Harness([p]);
    h.requests = [recorded(kept, [{ name: 'kept-0', provisioner: 'burst' }])];

    const first = await h.collector.sweep();
    expect(first.released.size).to.equal(0);
    expect(await h.metric('berth_orphan_nodes_found_total')).to.equal(2);
    h.now += GRACE - 1;
    expect((await h.collector.sweep()).released.size).to.equal(0);
    h.now += 1;
    const due = await h.collector.sweep();
    expect(due.released.get('burst')).to.deep.equal(['uid-lost/lost-0', 'uid-lost/lost-1']);
    expect(farm.held().map((vm) => vm.name)).to.deep.equal(['kept-0']);
    expect(await h.metric('berth_orphan_nodes_released_total')).to.equal(2);
    expect(h.recorder.events).to.have.length(1);
    expect(h.recorder.events[0]).to.include({
      object: 'berth-system/berth-operator',
      type: 'Normal',
      reason: 'OrphansReleased',
    });
    expect(h.recorder.events[0]!.note).to.match(
      /released 2 node\(s\) provisioner burst held for team\/lost \(uid uid-lost\).*lost-0, lost-1/,
    );
    // Nothing left to do: the next sweep releases nothing and says nothing.
    h.now += GRACE;
    expect((await h.collector.sweep()).released.size).to.equal(0);
    expect(h.recorder.events).to.have.length(1);
    expect(farm.vms.filter((vm) => vm.releaseRequests > 1)).to.deep.equal([]);
  });

  it('leaves a busy request alone, and a node recorded before the grace period ends', async () => {
    const p = await service();
    const busy = ref('busy', 1);
    const late = ref('late', 1);
    await runStack([p], busy);
    await runStack([p], late);
    const h = new Harness([p]);
    h.busy = new Set(['uid-busy']);
    await h.collector.sweep();
    h.requests = [recorded(late, [{ name: 'late-0', provisioner: 'burst' }])]; // written since
    h.now += GRACE * 2;
    await h.collector.sweep();
    expect(farm.held().map((vm) => vm.name)).to.deep.equal(['busy-0', 'late-0']);
    expect(h.recorder.events).to.deep.equal([]);
  });

  it('looks again right before releasing: a request that became busy keeps its node', async () => {
    const p = await service();
    await runStack([p], ref('late', 1));
    const h = new Harness([p]);
    await h.collector.sweep();
    h.now += GRACE;
    // Not busy when the sweep decides; busy (a stack started for it) when it is about to release.
    let asked = 0;
    h.busy = { has: () => ++asked > 1 };
    const r = await h.collector.sweep();
    expect(asked).to.equal(2);
    expect(r.released.size).to.equal(0);
    expect(farm.held().map((vm) => vm.name)).to.deep.equal(['late-0']);
  });

  it('a service that cannot be listed is an error of the sweep, not a release', async () => {
    const p = await service();
    await runStack([p], ref('x', 1));
    await server!.close();
    server = undefined;
    const h = new Harness([p]);
    const r = await h.collector.sweep();
    expect(r.errors.join()).to.match(/^list burst: /);
    expect(await h.metric('berth_orphan_sweeps_total')).to.equal(1);
    const sweeps = (await h.metrics.registry.getMetricsAsJSON()).find(
      (m) => m.name === 'berth_orphan_sweeps_total',
    );
    expect(sweeps?.values.map((v) => v.labels.result)).to.deep.equal(['error']);
  });

  it('runs one sweep at once when it starts leading, then one per interval', async () => {
    const p = await service();
    const h = new Harness([p]);
    const ac = new AbortController();
    const running = h.collector.run(ac.signal);
    await new Promise((r) => setTimeout(r, 1500));
    ac.abort();
    await running;
    expect(server!.count('ListRequest')).to.equal(2);
  });
});
