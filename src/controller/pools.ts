// HostPool and StoragePool status: derived, never decided (src/serving/pool-status.ts builds
// it from the ledger). One controller per kind, keyed by the pool's name. Usage changes are
// heard from the request reconciler (CapacityListener) and coalesced: a change waits
// `coalesceMs`, and under a stream of bindings a pool's status is written at most once per
// `minIntervalMs`, not once per binding.
import type { HostPool, StoragePool } from '../api/index.js';
import { HOST_POOLS, STORAGE_POOLS } from '../api/index.js';
import type { Informer } from '../kube/informer.js';
import { pathOf } from '../kube/paths.js';
import type { Metrics } from '../observability/metrics.js';
import { Controller } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { statusOnlyChange } from '../runtime/predicates.js';
import { anyVersion, type StatusWriter } from '../runtime/status-writer.js';
import { hostPoolStatus, storagePoolStatus, type PoolView } from '../serving/pool-status.js';
import { realClock, type Clock } from '../support/time.js';
import type { Logger } from 'winston';

export interface PoolControllersDeps {
  writer: StatusWriter;
  hostPools: Informer<HostPool>;
  storagePools: Informer<StoragePool>;
  view(): PoolView;
  now(): Date;
  metrics: Metrics;
  log: Logger;
  /** Longest a usage change waits before the pool's status is written. */
  coalesceMs: number;
  /**
   * Under a steady stream of bindings, a pool's status is written at most once per this long
   * (its usage is an aggregate people read, not a record): one write per pool per interval
   * instead of one per `coalesceMs`. 0: no limit beyond the coalescing.
   */
  minIntervalMs?: number;
  /** Sees every pool's usage (metrics): amounts as Kubernetes quantities, per resource. */
  observe?(
    kind: 'HostPool' | 'StoragePool',
    name: string,
    capacity: Record<string, string | number>,
    allocated: Record<string, string | number>,
  ): void;
  /** The controllers' clock (coalescing, backoff); the real one when omitted. */
  clock?: Clock;
  /** Says on the pool when its status cannot be written. */
  recorder?: EventRecorder;
}

export class PoolControllers {
  readonly hostPool: Controller;
  readonly storagePool: Controller;
  private readonly clock: Clock;
  /** When each pool's status was last written (`HostPool/<name>`, `StoragePool/<name>`). */
  private readonly lastWrite = new Map<string, number>();

  constructor(private readonly d: PoolControllersDeps) {
    this.clock = d.clock ?? realClock;
    this.hostPool = new Controller(
      'hostpool',
      (name) => this.reconcileHostPool(name),
      d.metrics,
      d.log,
      d.clock,
    );
    this.storagePool = new Controller(
      'storagepool',
      (name) => this.reconcileStoragePool(name),
      d.metrics,
      d.log,
      d.clock,
    );
    // Its own watches: a pool created or its spec changed is looked at again at once. A change
    // of status alone (our own writes coming back) is not: reacting to it would write again as
    // soon as usage moved, around the coalescing; a status someone else changed is put right on
    // the next usage change or resync.
    d.hostPools.addHandlers(watchPools((name) => this.hostPool.queue.add(name)));
    d.storagePools.addHandlers(watchPools((name) => this.storagePool.queue.add(name)));
  }

  /** The usage of these pools changed (CapacityListener.poolsChanged). */
  usageChanged(pools: { hostPools: readonly string[]; storagePools: readonly string[] }): void {
    for (const name of pools.hostPools)
      this.hostPool.queue.addAfter(name, this.delay(`HostPool/${name}`));
    for (const name of pools.storagePools)
      this.storagePool.queue.addAfter(name, this.delay(`StoragePool/${name}`));
  }

  /** How long a usage change of this pool waits: the coalescing, or what is left of the interval. */
  private delay(pool: string): number {
    const last = this.lastWrite.get(pool);
    const since = last === undefined ? Infinity : this.clock.now() - last;
    return Math.max(this.d.coalesceMs, (this.d.minIntervalMs ?? 0) - since);
  }

  /**
   * The inventory was rebuilt for a change of this pool's spec (InventoryWatch.onChange). A
   * StoragePool's Ready condition depends on the HostPools it names (its HostPool, its host, its
   * zone): a HostPool that appears, goes or moves re-derives every StoragePool's status. They are
   * few, and an unchanged status is not written.
   */
  inventoryChanged(kind: 'HostPool' | 'StoragePool'): void {
    if (kind !== 'HostPool') return;
    for (const p of this.d.storagePools.list()) this.storagePool.queue.add(p.metadata.name);
  }

  /** Every pool, once (a new leader). */
  enqueueAll(): void {
    for (const p of this.d.hostPools.list()) this.hostPool.queue.add(p.metadata.name);
    for (const p of this.d.storagePools.list()) this.storagePool.queue.add(p.metadata.name);
  }

  start(signal: AbortSignal): void {
    this.hostPool.start(1, signal);
    this.storagePool.start(1, signal);
  }

  async stop(): Promise<void> {
    await Promise.all([this.hostPool.stop(), this.storagePool.stop()]);
  }

  async reconcileHostPool(name: string): Promise<object> {
    const hp = this.d.hostPools.get(name);
    if (!hp) return {};
    const status = hostPoolStatus(hp, this.d.view(), this.d.now());
    this.d.observe?.('HostPool', name, status.capacity ?? {}, status.allocated ?? {});
    const r = await this.d.writer.write(pathOf(HOST_POOLS, hp), hp, status, anyVersion);
    if ('written' in r) this.lastWrite.set(`HostPool/${name}`, this.clock.now());
    if ('refused' in r) this.refused(hp, r.refused);
    return {};
  }

  async reconcileStoragePool(name: string): Promise<object> {
    const sp = this.d.storagePools.get(name);
    if (!sp) return {};
    const status = storagePoolStatus(sp, this.d.view(), this.d.now());
    this.d.observe?.(
      'StoragePool',
      name,
      { storage: String(status.capacity ?? '0') },
      { storage: String(status.allocated ?? '0') },
    );
    const r = await this.d.writer.write(pathOf(STORAGE_POOLS, sp), sp, status, anyVersion);
    if ('written' in r) this.lastWrite.set(`StoragePool/${name}`, this.clock.now());
    if ('refused' in r) this.refused(sp, r.refused);
    return {};
  }

  /** A status the API server will never take: counted, logged and said on the pool, not retried. */
  private refused(pool: HostPool | StoragePool, err: Error): void {
    const kind = pool.kind === 'StoragePool' ? 'StoragePool' : 'HostPool';
    const name = pool.metadata.name;
    this.d.metrics.statusWriteRefused.inc({ kind });
    this.d.log.error('status write refused', { kind, name, error: err.message });
    this.d.recorder?.event(
      pool,
      'Warning',
      'StatusWriteRefused',
      'Observe',
      `the API server refused the pool's status: ${err.message}`,
    );
  }
}

type Pool = HostPool | StoragePool;
const watchPools = (add: (name: string) => void) => ({
  add: (p: Pool) => add(p.metadata.name),
  update: (old: Pool, p: Pool) => {
    if (!statusOnlyChange(old, p)) add(p.metadata.name);
  },
  resync: (p: Pool) => add(p.metadata.name),
});
