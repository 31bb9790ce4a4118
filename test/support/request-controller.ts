// The ResourceRequest controller on real informers over the fake API server, with the hosts
// engine behind it: what test/controller/requests.test.ts drives for its watches and
// test/controller/scheduling.test.ts for its queue order. With `classes`, the controller has the
// Scheduling (priorities, queues, preemption marks) the manager gives it.
import type {
  HostPool,
  OperatorConfig,
  ResourceRequest,
  StoragePool,
} from '../../src/api/index.js';
import { HostsBackend } from '../../src/allocation/service.js';
import { InventoryWatch } from '../../src/controller/inventory.js';
import { RequestController } from '../../src/controller/requests.js';
import { Scheduling, type PriorityClass } from '../../src/controller/scheduling.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { AssembledRuntime } from '../../src/provisioning/assemble.js';
import { StatusWriter } from '../../src/runtime/status-writer.js';
import { FakeKube } from './fakekube.js';
import { HOSTS_CONFIG, rackPool } from './objects.js';
import { drainQueue } from './queue.js';
import { RecordingRecorder } from './recorder.js';
import { flush, testInformer } from './settle.js';

const ALL_RRS = '/apis/berth.dev/v1alpha1/resourcerequests';
const RRS = '/apis/berth.dev/v1alpha1/namespaces/team/resourcerequests';
const HPS = '/apis/berth.dev/v1alpha1/hostpools';
const SPS = '/apis/berth.dev/v1alpha1/storagepools';
export const HARNESS_NOW = new Date('2026-03-01T12:00:00Z');

export class RequestControllerHarness {
  readonly kube = new FakeKube(() => HARNESS_NOW);
  readonly backend = new HostsBackend();
  readonly metrics = new Metrics(false);
  readonly requests = testInformer<ResourceRequest>(this.kube, ALL_RRS);
  readonly hostPools = testInformer<HostPool>(this.kube, HPS);
  readonly storagePools = testInformer<StoragePool>(this.kube, SPS);
  readonly inventory: InventoryWatch;
  readonly rc: RequestController;
  readonly scheduling: Scheduling | undefined;
  /** Inventory rebuilds the watch made. */
  rebuilds = 0;
  private readonly ac = new AbortController();
  private running: Promise<void>[] = [];

  constructor(
    o: { hosts?: number; config?: OperatorConfig; classes?: readonly PriorityClass[] } = {},
  ) {
    this.kube.seed(HPS, rackPool(o.hosts ?? 1));
    const runtime = AssembledRuntime.build(o.config ?? HOSTS_CONFIG, this.backend);
    const byName = new Map((o.classes ?? []).map((c) => [c.metadata.name, c]));
    this.scheduling = o.classes
      ? new Scheduling({
          classes: () => byName.values(),
          priorityClass: (n) => byName.get(n),
          queueing: (p) => runtime.profile(p)?.queueing,
          usesHosts: () => true,
          now: () => Date.now(),
          wake: (keys) => this.rc.wake(keys),
          retryPending: () => this.rc.enqueuePending(),
        })
      : undefined;
    const owner = {
      setInventory: (hp: readonly HostPool[], sp: readonly StoragePool[]) => {
        this.rebuilds++;
        return this.backend.setInventory(hp, sp);
      },
    };
    this.inventory = new InventoryWatch(owner, this.hostPools, this.storagePools, silentLogger());
    this.rc = new RequestController(this.requests, this.inventory, {
      client: this.kube,
      writer: new StatusWriter(this.kube),
      runtime: () => runtime,
      recorder: new RecordingRecorder(),
      metrics: this.metrics,
      log: silentLogger(),
      now: () => HARNESS_NOW,
      pools: () => undefined,
      forgetRequest: (ns, name) => this.backend.releaseRequest(ns, name),
      pendingRecheckMs: 60_000,
      ...(this.scheduling ? { scheduling: this.scheduling } : {}),
    });
  }

  /** Runs the informers; with `reconcile`, also the controller (else keys stay queued). */
  async start(reconcile: boolean): Promise<void> {
    const s = this.ac.signal;
    this.running = [this.requests.run(s), this.hostPools.run(s), this.storagePools.run(s)];
    await Promise.all([
      this.requests.waitForSync(),
      this.hostPools.waitForSync(),
      this.storagePools.waitForSync(),
    ]);
    this.inventory.refresh();
    if (reconcile) this.rc.controller.start(1, s);
    await this.settle();
  }

  async settle(): Promise<void> {
    await flush(40);
  }

  async stop(): Promise<void> {
    this.ac.abort();
    this.scheduling?.reset();
    await this.rc.controller.stop();
    await Promise.all(this.running);
  }

  /** The keys queued (the controller not running), in order; empties the queue. */
  queued(): Promise<string[]> {
    return drainQueue(this.rc.controller.queue);
  }

  /** Of a request in namespace `team`. */
  phase(name: string): string | undefined {
    return this.kube.peek<ResourceRequest>(`${RRS}/${name}`)?.status?.phase;
  }

  async reconciles(): Promise<number> {
    const m = await this.metrics.registry.getSingleMetricAsString(
      'controller_runtime_reconcile_total',
    );
    return [...m.matchAll(/\} (\d+)/g)].reduce((n, x) => n + Number(x[1]), 0);
  }

  held(): number {
    return this.backend.hostPoolUsage('rack')?.nodes ?? 0;
  }
}
