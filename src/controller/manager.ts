// The operator: informers for the three kinds, a controller for requests and one for pools,
// leader election, configuration reload and probes, wired together. Every replica keeps warm
// caches; only the leader reconciles. Becoming leader rebuilds the ledger from a fresh list of
// every request's status before any allocation, so a change of leader never double-books.
import type { Logger } from 'winston';
import type { HostPool, ResourceRequest, StoragePool } from '../api/index.js';
import { API_VERSION } from '../api/index.js';
import type { LoadedConfig } from '../config/load.js';
import { ConfigWatcher } from '../config/watcher.js';
import { Informer, defaultInformerOptions } from '../kube/informer.js';
import { keyOf, type ObjectList } from '../kube/objects.js';
import type { KubeClient } from '../kube/client.js';
import { startProbeServer, type ProbeServer } from '../observability/health.js';
import type { Metrics } from '../observability/metrics.js';
import { AssembledRuntime } from '../provisioning/assemble.js';
import { parseQuantity } from '../allocation/index.js';
import { HostsBackend } from '../provisioning/hosts.js';
import { releaseRecords } from '../provisioning/ledger.js';
import type { SecretReader } from '../provisioning/types.js';
import { Controller } from '../runtime/controller.js';
import { KubeEventRecorder } from '../runtime/events.js';
import { LeaderElector, type LeaderElectionConfig } from '../runtime/leaderelection.js';
import { PoolReconciler } from './pools.js';
import { statusOnlyChange } from '../runtime/predicates.js';
import {
  ResourceRequestReconciler,
  nodeStatusToRecord,
  type ReconcileResult,
} from './resourcerequest.js';

export interface ManagerOptions {
  rest: KubeClient;
  log: Logger;
  metrics: Metrics;
  configPath: string;
  workers: number;
  /** Omit to run without leader election (a single replica). */
  leaderElection?: LeaderElectionConfig;
  identity: string;
  namespace: string;
  probeAddress?: { host: string; port: number };
  pendingRecheckMs?: number;
  informer?: Partial<typeof defaultInformerOptions>;
  /** Called when leadership is lost: the process must exit (it may hold stale decisions). */
  onLostLeadership?: () => void;
}

const CONTROLLER_NAME = 'berth.dev/operator';

/** A quantity in base units (cores, bytes) as a float, for a gauge. */
const baseUnits = (q: string | number) => Number(parseQuantity(q)) / 1e9;

export class Manager {
  readonly requests: Informer<ResourceRequest>;
  readonly hostPools: Informer<HostPool>;
  readonly storagePools: Informer<StoragePool>;
  readonly backend = new HostsBackend();
  private runtime: AssembledRuntime | undefined;
  private readonly config: ConfigWatcher;
  private readonly requestController: Controller<ReconcileResult>;
  private readonly poolController: Controller<Record<string, never>>;
  private readonly reconciler: ResourceRequestReconciler;
  private leading = false;
  private runtimeError: string | undefined;
  private probes: ProbeServer | undefined;
  private pendingGauge: NodeJS.Timeout | undefined;
  private inventoryDirty = false;

  constructor(private readonly o: ManagerOptions) {
    const { rest, log, metrics } = o;
    const informerOpts = (path: string, name: string) => ({
      ...defaultInformerOptions,
      ...o.informer,
      path,
      name,
      log,
      onRestart: (reason: 'error' | 'gone' | 'idle') =>
        metrics.watchRestarts.inc({ informer: name, reason }),
    });
    this.requests = new Informer(
      rest,
      informerOpts(`/apis/${API_VERSION}/resourcerequests`, 'resourcerequests'),
    );
    this.hostPools = new Informer(
      rest,
      informerOpts(`/apis/${API_VERSION}/hostpools`, 'hostpools'),
    );
    this.storagePools = new Informer(
      rest,
      informerOpts(`/apis/${API_VERSION}/storagepools`, 'storagepools'),
    );
    this.config = new ConfigWatcher(
      o.configPath,
      log,
      (c) => this.applyConfig(c),
      (ok) => {
        metrics.configReloads.inc({ result: ok ? 'success' : 'error' });
        metrics.configValid.set(ok ? 1 : 0);
      },
    );
    metrics.configValid.set(1);
    const recorder = new KubeEventRecorder(rest, CONTROLLER_NAME, o.identity, log, o.namespace);
    this.reconciler = new ResourceRequestReconciler({
      rest,
      get: (key) => this.requests.get(key),
      runtime: () => this.requireRuntime(),
      recorder,
      metrics,
      log,
      now: () => new Date(),
      pendingRecheckMs: o.pendingRecheckMs ?? 5 * 60_000,
    });
    const pools = new PoolReconciler({
      rest,
      getHostPool: (n) => this.hostPools.get(n),
      getStoragePool: (n) => this.storagePools.get(n),
      view: () => this.backend,
      now: () => new Date(),
      observe: (kind, pool, capacity, allocated) => {
        // Every resource with a capacity, so a pool with nothing allocated still shows 0.
        for (const [resource, q] of Object.entries(capacity)) {
          metrics.poolCapacity.set({ kind, pool, resource }, baseUnits(q));
          metrics.poolAllocated.set(
            { kind, pool, resource },
            baseUnits(allocated[resource] ?? '0'),
          );
        }
      },
    });
    this.requestController = new Controller(
      'resourcerequest',
      (k, s) => this.reconciler.reconcile(k, s),
      (_k, r) => this.afterRequest(r),
      metrics,
      log,
    );
    this.poolController = new Controller(
      'pool',
      (k) => pools.reconcile(k),
      () => {},
      metrics,
      log,
    );
    this.wireHandlers();
  }

  private requireRuntime(): AssembledRuntime {
    if (!this.runtime) throw new Error('the operator configuration is not assembled');
    return this.runtime;
  }

  private secretReader(): SecretReader {
    return async (ref) => {
      const secret = await this.o.rest.get<{ data?: Record<string, string> }>(
        `/api/v1/namespaces/${ref.namespace}/secrets/${ref.name}`,
      );
      const value = secret.data?.[ref.key];
      if (value === undefined)
        throw new Error(`secret ${ref.namespace}/${ref.name} has no key ${ref.key}`);
      return Buffer.from(value, 'base64').toString('utf8');
    };
  }

  private assemble(config: LoadedConfig): AssembledRuntime {
    return AssembledRuntime.build(config.config, this.backend, {
      logger: this.o.log,
      secretReader: this.secretReader(),
      operatorNamespace: this.o.namespace,
      baseDir: config.path.replace(/\/[^/]*$/, '') || '.',
    });
  }

  private applyConfig(config: LoadedConfig): void {
    let next: AssembledRuntime;
    try {
      next = this.assemble(config);
    } catch (err) {
      this.runtimeError = String(err instanceof Error ? err.message : err);
      this.o.log.error('OperatorConfig could not be assembled; keeping the running profiles', {
        error: this.runtimeError,
      });
      this.o.metrics.configValid.set(0);
      return;
    }
    this.runtimeError = undefined;
    const old = this.runtime;
    this.runtime = next;
    if (old) void old.close();
    if (this.leading) {
      next.restore(this.requests.list());
      for (const rr of this.requests.list()) this.requestController.queue.add(keyOf(rr));
    }
  }

  private wireHandlers(): void {
    const rrQueue = () => this.requestController.queue;
    this.requests.addHandlers({
      add: (rr) => rrQueue().add(keyOf(rr)),
      update: (oldRR, rr) => {
        if (!statusOnlyChange(oldRR, rr)) rrQueue().add(keyOf(rr));
      },
      delete: (rr) => this.requestGone(rr),
      resync: (rr) => rrQueue().add(keyOf(rr)),
    });
    const poolChanged = (kind: 'HostPool' | 'StoragePool', name: string, specChanged: boolean) => {
      this.poolController.queue.add(`${kind}/${name}`);
      if (!specChanged) return;
      this.markInventoryDirty();
      // Capacity or state changed: pending requests may fit now, placed ones may be Degraded.
      this.enqueuePending();
      if (kind === 'HostPool') {
        for (const rr of this.requests.list()) {
          if ((rr.status?.nodes ?? []).some((n) => n.hostPool === name)) rrQueue().add(keyOf(rr));
        }
      }
    };
    this.hostPools.addHandlers({
      add: (p) => poolChanged('HostPool', p.metadata.name, true),
      update: (a, b) => poolChanged('HostPool', b.metadata.name, !statusOnlyChange(a, b)),
      delete: (p) => poolChanged('HostPool', p.metadata.name, true),
      resync: (p) => poolChanged('HostPool', p.metadata.name, false),
    });
    this.storagePools.addHandlers({
      add: (p) => poolChanged('StoragePool', p.metadata.name, true),
      update: (a, b) => poolChanged('StoragePool', b.metadata.name, !statusOnlyChange(a, b)),
      delete: (p) => poolChanged('StoragePool', p.metadata.name, true),
      resync: (p) => poolChanged('StoragePool', p.metadata.name, false),
    });
  }

  /** Inventory rebuilds are batched: a burst of pool events costs one rebuild. */
  private markInventoryDirty(): void {
    if (this.inventoryDirty) return;
    this.inventoryDirty = true;
    queueMicrotask(() => this.refreshInventory());
  }

  private refreshInventory(): void {
    this.inventoryDirty = false;
    const problems = this.backend.setInventory(this.hostPools.list(), this.storagePools.list());
    for (const p of problems)
      this.o.log.warn('inventory problem', { kind: p.kind, name: p.name, problem: p.message });
  }

  /** A request object disappeared. Released by our finalizer, or removed around it? */
  private requestGone(rr: ResourceRequest): void {
    const uid = rr.metadata.uid ?? keyOf(rr);
    if (this.reconciler.forget(uid) || !this.leading) return;
    const live = (rr.status?.nodes ?? []).filter((n) => n.state !== 'Released');
    if (live.length === 0) return;
    this.o.log.warn('request deleted without its finalizer; releasing its nodes', {
      object: keyOf(rr),
      nodes: live.length,
    });
    const records = live.map(nodeStatusToRecord);
    void releaseRecords(
      records,
      { namespace: rr.metadata.namespace ?? '', name: rr.metadata.name, uid: rr.metadata.uid },
      this.runtime?.releasers(rr.spec.profile ?? 'default', records) ?? [],
    ).then(({ failures }) => {
      for (const f of failures)
        this.o.log.error('release failed', { object: keyOf(rr), node: f.name, error: f.error });
      this.backend.releaseRequest(rr.metadata.namespace ?? '', rr.metadata.name);
      this.enqueuePending();
    });
  }

  private afterRequest(result: ReconcileResult): void {
    for (const pool of result.poolsTouched ?? []) this.poolController.queue.add(pool);
    if (result.capacityFreed) this.enqueuePending();
  }

  /** Requests waiting for capacity, oldest first. */
  enqueuePending(): void {
    const pending = this.requests
      .list()
      .filter(
        (rr) =>
          !rr.metadata.deletionTimestamp &&
          !(rr.status?.nodes ?? []).some((n) => n.state !== 'Released'),
      )
      .sort(
        (a, b) =>
          (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
          keyOf(a).localeCompare(keyOf(b)),
      );
    for (const rr of pending) this.requestController.queue.add(keyOf(rr));
  }

  ready(): string | undefined {
    if (!this.requests.hasSynced() || !this.hostPools.hasSynced() || !this.storagePools.hasSynced())
      return 'caches not synced';
    if (this.config.lastError)
      return `OperatorConfig invalid (running on the last good one): ${this.config.lastError}`;
    if (this.runtimeError)
      return `OperatorConfig not assembled (running on the last good one): ${this.runtimeError}`;
    return undefined;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Runs until the signal aborts; resolves after a clean shutdown. */
  async run(signal: AbortSignal): Promise<void> {
    const { log, metrics } = this.o;
    if (this.o.probeAddress) {
      this.probes = await startProbeServer(
        this.o.probeAddress.host,
        this.o.probeAddress.port,
        { healthz: { ping: () => undefined }, readyz: { manager: () => this.ready() } },
        metrics.registry,
      );
      log.info('serving probes and metrics', {
        address: `${this.o.probeAddress.host}:${this.probes.port}`,
      });
    }
    this.runtime = this.assemble(this.config.current);
    this.config.start();
    const informers = [
      this.requests.run(signal),
      this.hostPools.run(signal),
      this.storagePools.run(signal),
    ];
    await Promise.race([
      Promise.all([
        this.requests.waitForSync(),
        this.hostPools.waitForSync(),
        this.storagePools.waitForSync(),
      ]),
      abortPromise(signal),
    ]);
    this.refreshInventory();
    this.pendingGauge = setInterval(
      () =>
        metrics.pendingRequests.set(
          this.requests.list().filter((r) => r.status?.phase === 'Pending').length,
        ),
      5000,
    );
    this.pendingGauge.unref();
    if (!signal.aborted) {
      if (this.o.leaderElection) {
        const elector = new LeaderElector(this.o.rest, this.o.leaderElection, log, (leading) =>
          metrics.leader.set({ name: this.o.leaderElection!.name }, leading ? 1 : 0),
        );
        const outcome = await elector.run(signal, () => void this.leadUntilDone(signal));
        if (outcome === 'lost') {
          this.leading = false;
          await this.stopControllers();
          this.o.onLostLeadership?.();
        }
      } else {
        await this.leadUntilDone(signal);
      }
    }
    await abortPromise(signal);
    log.info('shutting down: finishing reconciles in flight');
    await this.stopControllers();
    this.config.stop();
    clearInterval(this.pendingGauge);
    await Promise.allSettled(informers);
    await this.runtime?.close();
    await this.probes?.close();
  }

  /** Leading needs one fresh list; keep trying (with backoff) until it works or we stop. */
  private async leadUntilDone(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.lead(signal);
        return;
      } catch (err) {
        const wait = Math.min(30_000, 500 * 2 ** attempt);
        this.o.log.error('could not start leading; retrying', {
          error: String(err),
          retryInMs: wait,
        });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private async lead(signal: AbortSignal): Promise<void> {
    // The caches may lag the last leader's writes; the ledger is rebuilt from a fresh list.
    const fresh = await this.listAll<ResourceRequest>(`/apis/${API_VERSION}/resourcerequests`);
    this.refreshInventory();
    const problems = this.requireRuntime().restore(fresh);
    for (const p of problems) this.o.log.warn('could not restore a node record', p);
    this.leading = true;
    this.requestController.start(this.o.workers, signal);
    this.poolController.start(1, signal);
    const byAge = [...fresh].sort((a, b) =>
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
    );
    for (const rr of byAge) this.requestController.queue.add(keyOf(rr));
    for (const p of this.hostPools.list())
      this.poolController.queue.add(`HostPool/${p.metadata.name}`);
    for (const p of this.storagePools.list())
      this.poolController.queue.add(`StoragePool/${p.metadata.name}`);
  }

  private async stopControllers(): Promise<void> {
    await Promise.all([this.requestController.stop(), this.poolController.stop()]);
  }

  private async listAll<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.o.rest.get<ObjectList<T>>(path, { limit: 500, continue: cont });
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
    } while (cont);
    return items;
  }
}

const abortPromise = (signal: AbortSignal) =>
  new Promise<void>((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
