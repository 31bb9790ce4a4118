// The operator: informers for the four kinds and PriorityClasses, a controller for requests, one
// for pools and one for quota status,
// leader election, configuration reload and probes, wired together. Every replica keeps warm
// caches; only the leader reconciles. Becoming leader rebuilds the ledger from a fresh list of
// every request's status before any allocation, so a change of leader never double-books.
import type { Logger } from 'winston';
import type { HostPool, ResourceRequest, StoragePool, TenantQuota } from '../api/index.js';
import { HOST_POOLS, RESOURCE_REQUESTS, STORAGE_POOLS, TENANT_QUOTAS } from '../api/index.js';
import { parseQuantity } from '../allocation/index.js';
import { HostsBackend } from '../allocation/service.js';
import type { LoadedConfig } from '../config/load.js';
import { ConfigWatcher } from '../config/watcher.js';
import type { KubeClient } from '../kube/client.js';
import { Informer, defaultInformerOptions } from '../kube/informer.js';
import { listAll } from '../kube/list.js';
import { keyOf, type KubeObject } from '../kube/objects.js';
import {
  NAMESPACES,
  PRIORITY_CLASSES,
  SECRETS,
  collectionPath,
  objectPath,
} from '../kube/paths.js';
import { startProbeServer, type ProbeServer } from '../observability/health.js';
import type { Metrics } from '../observability/metrics.js';
import { AssembledRuntime } from '../provisioning/assemble.js';
import type { SecretReader } from '../provisioning/types.js';
import { KubeEventRecorder } from '../runtime/events.js';
import { LeaderElector, type LeaderElectionConfig } from '../runtime/leaderelection.js';
import { statusOnlyChange } from '../runtime/predicates.js';
import { StatusWriter } from '../runtime/status-writer.js';
import { backoff, sleep } from '../support/time.js';
import { OrphanCollector } from './collector.js';
import { InventoryWatch } from './inventory.js';
import { PoolControllers } from './pools.js';
import { QuotaController } from './quotas.js';
import { RequestController } from './requests.js';
import { Scheduling, type PriorityClass } from './scheduling.js';
import { QuotaBook, quotaInfo } from '../serving/quota.js';

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
  /** How long a pool usage change waits before its status is written (coalescing). */
  poolStatusCoalesceMs?: number;
  /** A pool's status is written at most once per this long under a stream of changes. */
  poolStatusIntervalMs?: number;
  informer?: Partial<typeof defaultInformerOptions>;
  /** How often the gauges of what waits and of provisioners taking calls are read (5 s). */
  gaugeIntervalMs?: number;
  /** Between two sweeps of the orphan collector (external provisioners). */
  orphanIntervalMs?: number;
  /** How long a node no request records must stay so before the collector releases it. */
  orphanGraceMs?: number;
  /** How often moved queue positions are written (coalesced; 5 s). */
  queuePositionIntervalMs?: number;
  /** Called when leadership is lost: the process must exit (it may hold stale decisions). */
  onLostLeadership?: () => void;
}

const CONTROLLER_NAME = 'berth.dev/operator';

/** A quantity in base units (cores, bytes) as a float, for a gauge. */
const baseUnits = (q: string | number) => Number(parseQuantity(q)) / 1e9;

/**
 * Lifecycle only: informers, configuration, probes, leader election, start and stop. Each
 * controller declares its own watches (requests.ts, pools.ts, inventory.ts).
 */
export class Manager {
  readonly requests: Informer<ResourceRequest>;
  readonly hostPools: Informer<HostPool>;
  readonly storagePools: Informer<StoragePool>;
  readonly priorityClasses: Informer<PriorityClass>;
  readonly tenantQuotas: Informer<TenantQuota>;
  readonly scheduling: Scheduling;
  readonly backend = new HostsBackend();
  private readonly quotaController: QuotaController;
  private runtime: AssembledRuntime | undefined;
  private readonly config: ConfigWatcher;
  private readonly inventory: InventoryWatch;
  private readonly requestController: RequestController;
  private readonly pools: PoolControllers;
  private leading = false;
  private runtimeError: string | undefined;
  private probes: ProbeServer | undefined;
  private pendingGauge: NodeJS.Timeout | undefined;
  private positions: NodeJS.Timeout | undefined;
  private readonly recorder: KubeEventRecorder;
  private readonly collector: OrphanCollector;
  /** Stops the collector when leadership ends. */
  private collecting: AbortController | undefined;
  /** Who this operator is to external provisioners: its namespace's uid, read when it leads. */
  private owner: string | undefined;

  constructor(private readonly o: ManagerOptions) {
    const { rest, log, metrics } = o;
    const informer = <T extends { metadata: { name: string } }>(path: string, name: string) =>
      new Informer<T>(rest, {
        ...defaultInformerOptions,
        ...o.informer,
        path,
        name,
        log,
        onRestart: (reason: 'error' | 'gone' | 'idle') =>
          metrics.watchRestarts.inc({ informer: name, reason }),
      });
    this.requests = informer(collectionPath(RESOURCE_REQUESTS), 'resourcerequests');
    this.hostPools = informer(collectionPath(HOST_POOLS), 'hostpools');
    this.storagePools = informer(collectionPath(STORAGE_POOLS), 'storagepools');
    this.priorityClasses = informer(collectionPath(PRIORITY_CLASSES), 'priorityclasses');
    this.tenantQuotas = informer(collectionPath(TENANT_QUOTAS), 'tenantquotas');
    this.scheduling = new Scheduling({
      classes: () => this.priorityClasses.list(),
      priorityClass: (name) => this.priorityClasses.get(name),
      queueing: (profile) => this.runtime?.profile(profile)?.queueing,
      usesHosts: (profile) =>
        this.runtime?.profile(profile)?.provisioners.some((p) => p.type === 'hosts') ?? false,
      now: () => Date.now(),
      wake: (keys) => this.requestController.wake(keys),
      retryPending: () => this.requestController.enqueuePending(),
    });
    /** A namespace's requests as the reconciler sees them: its own writes win over the cache. */
    const requestsIn = (namespace: string) =>
      this.requests
        .list()
        .filter((rr) => rr.metadata.namespace === namespace)
        .map((rr) => this.requestController.reconciler.current(keyOf(rr)) ?? rr);
    const quotas = new QuotaBook({
      quotas: (namespace) =>
        this.tenantQuotas
          .list()
          .filter((q) => q.metadata.namespace === namespace)
          .map(quotaInfo),
      requests: requestsIn,
    });
    const recorder = new KubeEventRecorder(
      rest,
      { controller: CONTROLLER_NAME, instance: o.identity },
      log,
    );
    this.recorder = recorder;
    this.config = new ConfigWatcher(
      o.configPath,
      log,
      (c) => this.applyConfig(c),
      (ok, error) => {
        metrics.configReloads.inc({ result: ok ? 'success' : 'error' });
        metrics.configValid.set(ok ? 1 : 0);
        if (!ok) this.configRefused(`OperatorConfig ${o.configPath} is invalid`, error);
      },
    );
    metrics.configValid.set(1);
    const writer = new StatusWriter(rest);
    this.inventory = new InventoryWatch(this.backend, this.hostPools, this.storagePools, log);
    this.pools = new PoolControllers({
      writer,
      recorder,
      hostPools: this.hostPools,
      storagePools: this.storagePools,
      view: () => this.backend,
      now: () => new Date(),
      metrics,
      log,
      coalesceMs: o.poolStatusCoalesceMs ?? 250,
      minIntervalMs: o.poolStatusIntervalMs ?? 5000,
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
    this.inventory.onChange((kind) => this.pools.inventoryChanged(kind));
    this.requestController = new RequestController(this.requests, this.inventory, {
      client: rest,
      writer,
      runtime: () => this.requireRuntime(),
      recorder,
      metrics,
      log,
      now: () => new Date(),
      pools: (p) => this.pools.usageChanged(p),
      forgetRequest: (namespace, name) => this.backend.releaseRequest(namespace, name),
      pendingRecheckMs: o.pendingRecheckMs ?? 5 * 60_000,
      scheduling: this.scheduling,
      quotas,
    });
    this.quotaController = new QuotaController({
      quotas: this.tenantQuotas,
      requests: this.requests,
      requestsIn,
      writer,
      metrics,
      log,
      coalesceMs: o.poolStatusCoalesceMs ?? 250,
    });
    // A class or a quota that appears or grows may let a waiting request go.
    const retry = () => {
      if (this.leading) this.requestController.enqueuePending();
    };
    this.priorityClasses.addHandlers({ add: retry, update: retry });
    this.tenantQuotas.addHandlers({
      add: retry,
      delete: retry,
      update: (old, q) => {
        if (!statusOnlyChange(old, q)) retry();
      },
    });
    const reconciler = this.requestController.reconciler;
    this.collector = new OrphanCollector({
      runtime: () => this.requireRuntime(),
      requests: () => this.requests.list(),
      busy: (r) => reconciler.busy(r),
      recorder,
      regarding: this.operatorObject(),
      metrics,
      log,
      now: () => Date.now(),
      intervalMs: o.orphanIntervalMs ?? 5 * 60_000,
      graceMs: o.orphanGraceMs ?? 2 * 60_000,
    });
  }

  /**
   * What Events about the operator itself are regarding: the leader-election Lease, the one
   * object every replica shares and whose name and namespace the operator knows
   * (`kubectl events -n <ns> --for lease/<name>`); without leader election, the namespace.
   */
  private operatorObject(): KubeObject {
    const le = this.o.leaderElection;
    return le
      ? {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: le.name, namespace: le.namespace },
        }
      : { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.o.namespace } };
  }

  private requireRuntime(): AssembledRuntime {
    if (!this.runtime) throw new Error('the operator configuration is not assembled');
    return this.runtime;
  }

  /** Reads a Secret's key when a provisioner needs it (a webhook token): a live GET, not cached. */
  private secretReader(): SecretReader {
    return async (ref) => {
      const secret = await this.o.rest.get<{ data?: Record<string, string> }>(
        objectPath(SECRETS, ref.name, ref.namespace),
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
      owner: () => this.owner,
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
      this.configRefused(`OperatorConfig ${config.path} could not be assembled`, this.runtimeError);
      return;
    }
    this.runtimeError = undefined;
    const old = this.runtime;
    this.runtime = next;
    if (old) void old.close();
    if (this.leading) {
      next.restore(this.requests.list());
      this.requestController.enqueueAll(this.requests.list());
    }
  }

  /**
   * A refused configuration is said on the cluster too (a Warning Event regarding the operator's
   * object), not only in the log, a metric and /readyz. Every replica reads the same file, so
   * each says it once; the recorder counts repeats as a series.
   */
  private configRefused(what: string, error: string | undefined): void {
    this.recorder.event(
      this.operatorObject(),
      'Warning',
      'InvalidConfig',
      'Reload',
      `${what}; running on the last good one: ${error ?? 'unknown error'}`,
    );
  }

  ready(): string | undefined {
    if (this.informers().some((i) => !i.hasSynced())) return 'caches not synced';
    if (this.config.lastError)
      return `OperatorConfig invalid (running on the last good one): ${this.config.lastError}`;
    if (this.runtimeError)
      return `OperatorConfig not assembled (running on the last good one): ${this.runtimeError}`;
    return undefined;
  }

  private informers(): ReadonlyArray<
    Pick<Informer<KubeObject>, 'hasSynced' | 'waitForSync' | 'run'>
  > {
    return [
      this.requests,
      this.hostPools,
      this.storagePools,
      this.priorityClasses,
      this.tenantQuotas,
    ];
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
    const informers = this.informers().map((i) => i.run(signal));
    await Promise.race([
      Promise.all(this.informers().map((i) => i.waitForSync())),
      abortPromise(signal),
    ]);
    this.inventory.refresh();
    this.pendingGauge = setInterval(() => this.observeGauges(), this.o.gaugeIntervalMs ?? 5000);
    this.positions = setInterval(() => {
      if (this.leading) this.requestController.refreshPositions();
    }, this.o.queuePositionIntervalMs ?? 5000);
    this.positions.unref();
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
    clearInterval(this.positions);
    await Promise.allSettled(informers);
    await this.runtime?.close();
    await this.probes?.close();
  }

  /** Gauges read every few seconds: what waits, and which provisioners take calls. */
  private observeGauges(): void {
    const { metrics } = this.o;
    const now = Date.now();
    let pending = 0;
    let oldest = 0;
    for (const r of this.requests.list()) {
      if (r.status?.phase !== 'Pending') continue;
      pending++;
      const created = Date.parse(r.metadata.creationTimestamp ?? '');
      if (Number.isFinite(created)) oldest = Math.max(oldest, (now - created) / 1000);
    }
    metrics.pendingRequests.set(pending);
    metrics.oldestPendingSeconds.set(oldest);
    const runtime = this.runtime;
    if (!runtime) return;
    for (const profile of runtime.profileNames())
      for (const p of runtime.profile(profile)?.provisioners ?? [])
        metrics.provisionerAvailable.set(
          { profile, provisioner: p.name },
          (p.availability?.().available ?? true) ? 1 : 0,
        );
  }

  /** Leading needs one fresh list; keep trying (with backoff) until it works or we stop. */
  private async leadUntilDone(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.lead(signal);
        return;
      } catch (err) {
        const wait = backoff(500, attempt, 30_000);
        this.o.log.error('could not start leading; retrying', {
          error: String(err),
          retryInMs: wait,
        });
        await sleep(wait, signal);
      }
    }
  }

  private async lead(signal: AbortSignal): Promise<void> {
    // The caches may lag the last leader's writes; the ledger is rebuilt from a fresh list. A
    // request deleted while no operator ran is not in it: its capacity was never taken back.
    // Before the list: a delete seen from here on is buried against the ledger restored from it.
    this.requestController.reconciler.reset();
    this.scheduling.reset();
    await this.learnOwner();
    const fresh = await listAll<ResourceRequest>(
      this.o.rest,
      collectionPath(RESOURCE_REQUESTS),
      ledgerView,
    );
    this.inventory.refresh();
    const problems = this.requireRuntime().restore(fresh);
    for (const p of problems) this.o.log.warn('could not restore a node record', p);
    this.leading = true;
    this.requestController.controller.start(this.o.workers, signal);
    this.pools.start(signal);
    this.quotaController.controller.start(1, signal);
    this.requestController.enqueueAll(fresh);
    this.pools.enqueueAll();
    this.quotaController.enqueueAll();
    // Stopped by shutdown or by the end of leadership, whichever comes first — also when the
    // shutdown began while this was still listing (a listener added to an aborted signal never
    // fires, and a sleeping collector would keep the process alive).
    this.collecting = new AbortController();
    const stop = AbortSignal.any([signal, this.collecting.signal]);
    if (stop.aborted) return;
    void this.collector
      .run(stop)
      .catch((err: unknown) =>
        this.o.log.error('orphan collector stopped', { error: String(err) }),
      );
  }

  /**
   * The owner external provisioners keep with every node: the uid of the operator's namespace,
   * the same for every replica and every restart, and different in every cluster. Unreadable
   * (RBAC), provisions carry no owner and the collector lists nothing: it never collects nodes
   * it cannot tell from another cluster's.
   */
  private async learnOwner(): Promise<void> {
    if (this.owner) return;
    try {
      const ns = await this.o.rest.get<KubeObject>(objectPath(NAMESPACES, this.o.namespace));
      if (ns.metadata.uid) this.owner = `${this.o.namespace}/${ns.metadata.uid}`;
    } catch (err) {
      this.o.log.warn('cannot read the operator namespace; orphan collection is off', {
        namespace: this.o.namespace,
        error: String(err),
      });
    }
  }

  private async stopControllers(): Promise<void> {
    this.collecting?.abort();
    await Promise.all([
      this.requestController.controller.stop(),
      this.pools.stop(),
      this.quotaController.controller.stop(),
    ]);
  }
}

/**
 * What rebuilding the ledger reads of a request: identity, spec and recorded nodes. A new leader
 * lists every request while its cache holds them all too; keeping the whole objects a second time
 * would double the memory of a takeover.
 */
const ledgerView = (rr: ResourceRequest): ResourceRequest => ({
  apiVersion: rr.apiVersion,
  kind: rr.kind,
  metadata: {
    name: rr.metadata.name,
    namespace: rr.metadata.namespace,
    uid: rr.metadata.uid,
    resourceVersion: rr.metadata.resourceVersion,
    creationTimestamp: rr.metadata.creationTimestamp,
  },
  spec: rr.spec,
  ...(rr.status?.nodes ? { status: { nodes: rr.status.nodes } } : {}),
});

const abortPromise = (signal: AbortSignal) =>
  new Promise<void>((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
