// Prometheus metrics under controller-runtime's names (so existing dashboards and alerts work)
// plus Berth's own. One registry per operator process; tests make their own.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What a work queue reports (client-go's workqueue metrics). */
export interface QueueMetrics {
  depth(n: number): void;
  added(): void;
  retried(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queued(seconds: number): void;
  /** Seconds a worker held a key. */
  worked(seconds: number): void;
}

const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Metrics {
  readonly registry = new Registry();
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileTime: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly maxConcurrentReconciles: Gauge<'controller'>;
  readonly queueDepth: Gauge<'name' | 'controller'>;
  readonly queueAdds: Counter<'name' | 'controller'>;
  readonly queueDuration: Histogram<'name' | 'controller'>;
  readonly workDuration: Histogram<'name' | 'controller'>;
  readonly queueRetries: Counter<'name' | 'controller'>;
  readonly leader: Gauge<'name'>;
  readonly allocations: Counter<'profile' | 'provisioner'>;
  readonly allocationFailures: Counter<'profile' | 'reason'>;
  readonly preemptions: Counter<'profile'>;
  readonly pendingRequests: Gauge;
  readonly oldestPendingSeconds: Gauge;
  readonly provisionerAvailable: Gauge<'profile' | 'provisioner'>;
  readonly poolAllocated: Gauge<'kind' | 'pool' | 'resource'>;
  readonly poolCapacity: Gauge<'kind' | 'pool' | 'resource'>;
  readonly configReloads: Counter<'result'>;
  readonly configValid: Gauge;
  readonly watchRestarts: Counter<'informer' | 'reason'>;
  readonly statusWriteRefused: Counter<'kind'>;
  readonly orphansFound: Counter<'provisioner'>;
  readonly orphansReleased: Counter<'provisioner'>;
  readonly orphanSweeps: Counter<'result'>;

  constructor(defaults = true) {
    const r = this.registry;
    if (defaults) collectDefaultMetrics({ register: r });
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers: [r] });
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Gauge<L>({ name, help, labelNames, registers: [r] });
    const histogram = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers: [r] });

    this.reconcileTotal = counter(
      'controller_runtime_reconcile_total',
      'Total number of reconciliations per controller',
      ['controller', 'result'],
    );
    this.reconcileErrors = counter(
      'controller_runtime_reconcile_errors_total',
      'Total number of reconciliation errors per controller',
      ['controller'],
    );
    this.reconcileTime = histogram(
      'controller_runtime_reconcile_time_seconds',
      'Length of time per reconciliation per controller',
      ['controller'],
    );
    this.activeWorkers = gauge(
      'controller_runtime_active_workers',
      'Number of currently used workers per controller',
      ['controller'],
    );
    this.maxConcurrentReconciles = gauge(
      'controller_runtime_max_concurrent_reconciles',
      'Maximum number of concurrent reconciles per controller',
      ['controller'],
    );
    this.queueDepth = gauge('workqueue_depth', 'Current depth of workqueue', [
      'name',
      'controller',
    ]);
    this.queueAdds = counter('workqueue_adds_total', 'Total number of adds handled by workqueue', [
      'name',
      'controller',
    ]);
    this.queueDuration = histogram(
      'workqueue_queue_duration_seconds',
      'How long in seconds an item stays in workqueue before being requested',
      ['name', 'controller'],
    );
    this.workDuration = histogram(
      'workqueue_work_duration_seconds',
      'How long in seconds processing an item from workqueue takes',
      ['name', 'controller'],
    );
    this.queueRetries = counter(
      'workqueue_retries_total',
      'Total number of retries handled by workqueue',
      ['name', 'controller'],
    );
    this.leader = gauge(
      'leader_election_master_status',
      'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
      ['name'],
    );
    this.allocations = counter(
      'berth_allocations_total',
      'Nodes placed, by profile and provisioner',
      ['profile', 'provisioner'],
    );
    this.allocationFailures = counter(
      'berth_allocation_failures_total',
      'Requests that could not be (fully) served, by reason',
      ['profile', 'reason'],
    );
    this.preemptions = counter(
      'berth_preemptions_total',
      "Bound requests preempted to make room for one of higher priority, by the preemptor's profile",
      ['profile'],
    );
    this.pendingRequests = gauge(
      'berth_pending_requests',
      'ResourceRequests waiting for capacity',
      [],
    );
    this.oldestPendingSeconds = gauge(
      'berth_pending_request_oldest_seconds',
      'Age of the oldest ResourceRequest waiting for capacity (0 when none waits)',
      [],
    );
    this.provisionerAvailable = gauge(
      'berth_provisioner_available',
      'Whether a provisioner takes calls: 0 while a webhook circuit breaker is open',
      ['profile', 'provisioner'],
    );
    this.poolAllocated = gauge(
      'berth_pool_allocated',
      'Allocated amount per pool and resource (base units)',
      ['kind', 'pool', 'resource'],
    );
    this.poolCapacity = gauge(
      'berth_pool_capacity',
      'Allocatable amount per pool and resource (base units)',
      ['kind', 'pool', 'resource'],
    );
    this.configReloads = counter('berth_config_reloads_total', 'OperatorConfig reloads by result', [
      'result',
    ]);
    this.configValid = gauge(
      'berth_config_last_reload_successful',
      '1 when the last OperatorConfig load succeeded',
      [],
    );
    this.watchRestarts = counter(
      'berth_watch_restarts_total',
      'Watches restarted, by informer and reason',
      ['informer', 'reason'],
    );
    this.statusWriteRefused = counter(
      'berth_status_write_refused_total',
      'Status writes the API server refused for good (not a conflict), by kind',
      ['kind'],
    );
    this.orphansFound = counter(
      'berth_orphan_nodes_found_total',
      'Nodes an external provisioner held that no request recorded, when first seen',
      ['provisioner'],
    );
    this.orphansReleased = counter(
      'berth_orphan_nodes_released_total',
      'Orphan nodes released by the collector after their grace period',
      ['provisioner'],
    );
    this.orphanSweeps = counter(
      'berth_orphan_sweeps_total',
      'Orphan collector sweeps, by result (success, or error when a list or release failed)',
      ['result'],
    );
  }

  queueMetrics(controller: string): QueueMetrics {
    const l = { name: controller, controller };
    return {
      depth: (n) => this.queueDepth.set(l, n),
      added: () => this.queueAdds.inc(l),
      retried: () => this.queueRetries.inc(l),
      queued: (s) => this.queueDuration.observe(l, s),
      worked: (s) => this.workDuration.observe(l, s),
    };
  }
}
