// The ResourceRequest controller: its reconciler, its work queue and the watches it declares
// (karpenter's Register, Kueue's SetupControllers). What wakes a request up:
//  - the request itself changed (spec, metadata; not our own status writes);
//  - it was deleted without our finalizer: its capacity comes back in a reconcile;
//  - capacity came back (a release), or a pool's spec changed: pending requests, oldest first;
//  - a HostPool's spec changed: the requests holding nodes on it (Degraded may change).
import type { ResourceRequest } from '../api/index.js';
import type { Informer } from '../kube/informer.js';
import { keyOf } from '../kube/objects.js';
import { Controller } from '../runtime/controller.js';
import type { Clock } from '../support/time.js';
import { statusOnlyChange } from '../runtime/predicates.js';
import type { InventoryWatch } from './inventory.js';
import type { Scheduling } from './scheduling.js';
import { positionWorthWriting } from '../serving/queue.js';
import {
  RequestReconciler,
  type CapacityListener,
  type RequestReconcilerDeps,
} from './request-reconciler.js';

export class RequestController {
  readonly controller: Controller;
  readonly reconciler: RequestReconciler;
  private pendingScheduled = false;
  private positionsSeen = -1;
  private readonly scheduling: Scheduling | undefined;

  constructor(
    private readonly requests: Informer<ResourceRequest>,
    inventory: InventoryWatch,
    deps: Omit<RequestReconcilerDeps, 'get' | 'listener'> & {
      pools: CapacityListener['poolsChanged'];
      /** For the work queue's delays (tests pass a fake one). */
      clock?: Clock;
    },
  ) {
    const { pools, clock: _clock, ...rest } = deps;
    this.reconciler = new RequestReconciler({
      ...rest,
      get: (key) => requests.get(key),
      list: () => requests.list(),
      listener: { poolsChanged: pools, capacityFreed: () => this.enqueuePending() },
    });
    // Highest priority first, then oldest, whatever order the events (or a relist) came in: a
    // newer request never takes capacity an older one of the same priority is waiting for just
    // because it was listed first.
    const scheduling = deps.scheduling;
    this.scheduling = scheduling;
    const priority = (key: string) => {
      const rr = requests.get(key);
      return rr && scheduling ? scheduling.rank(rr) : 0;
    };
    const age = (key: string) => requests.get(key)?.metadata.creationTimestamp ?? '';
    this.controller = new Controller(
      'resourcerequest',
      (key, signal) => this.reconciler.reconcile(key, signal),
      deps.metrics,
      deps.log,
      deps.clock,
      (a, b) =>
        priority(b) - priority(a) || age(a).localeCompare(age(b)) || (a < b ? -1 : a > b ? 1 : 0),
    );
    const queue = this.controller.queue;
    // The queues follow the request as the reconciler now sees it (our own later write wins
    // over a cache that lags it).
    const observe = (key: string) => scheduling?.observe(key, this.reconciler.current(key));
    requests.addHandlers({
      add: (rr) => {
        observe(keyOf(rr));
        queue.add(keyOf(rr));
      },
      update: (old, rr) => {
        this.reconciler.observed(rr);
        observe(keyOf(rr));
        if (!statusOnlyChange(old, rr)) queue.add(keyOf(rr));
      },
      delete: (rr) => {
        scheduling?.observe(keyOf(rr), undefined);
        if (this.reconciler.deleted(rr)) queue.add(keyOf(rr));
      },
      resync: (rr) => queue.add(keyOf(rr)),
    });
    inventory.onChange((kind, name) => {
      this.enqueuePending();
      if (kind !== 'HostPool') return;
      for (const rr of requests.list())
        if ((rr.status?.nodes ?? []).some((n) => n.hostPool === name)) queue.add(keyOf(rr));
    });
  }

  /**
   * Requests waiting for capacity, oldest first. Coalesced: many releases in one turn of the
   * event loop cost one scan of the cache.
   */
  enqueuePending(): void {
    if (this.pendingScheduled) return;
    this.pendingScheduled = true;
    setImmediate(() => {
      this.pendingScheduled = false;
      for (const rr of RequestReconciler.pending(this.requests.list()))
        this.controller.queue.add(keyOf(rr));
    });
  }

  /**
   * Queue positions that moved enough to be worth a write (src/serving/queue.ts) are rewritten
   * by reconciling their requests; one scan per call, and none when no position moved since the
   * last one. The manager calls it every few seconds: positions are coalesced, not a write per
   * move.
   */
  refreshPositions(): void {
    const scheduling = this.scheduling;
    if (!scheduling) return;
    const version = scheduling.queues.version();
    if (version === this.positionsSeen) return;
    this.positionsSeen = version;
    for (const profile of scheduling.queues.profiles()) {
      scheduling.queues.entries(profile).forEach((e, i) => {
        const rr = this.requests.get(e.key);
        if (rr?.status?.phase !== 'Pending') return; // not tried yet: its first write says it
        if (positionWorthWriting(rr.status.queuePosition, i + 1)) this.controller.queue.add(e.key);
      });
    }
  }

  /** These requests, now (a preemption's victims, a new StrictFIFO head). */
  wake(keys: readonly string[]): void {
    for (const k of keys) this.controller.queue.add(k);
  }

  /** Every request (a new leader, a new configuration); the queue serves them by priority, then age. */
  enqueueAll(requests: readonly ResourceRequest[]): void {
    for (const rr of requests) this.controller.queue.add(keyOf(rr));
  }
}
