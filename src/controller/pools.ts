// HostPool and StoragePool status: derived, never decided (src/serving/pool-status.ts builds
// it from the ledger). One controller per kind, keyed by the pool's name. Usage changes are
// heard from the request reconciler (CapacityListener) and coalesced: under a burst of bindings
// a pool's status is written at most once per `coalesceMs`, not once per binding.
import type { HostPool, StoragePool } from '../api/index.js';
import { HOST_POOLS, STORAGE_POOLS } from '../api/index.js';
import type { Informer } from '../kube/informer.js';
import { pathOf } from '../kube/paths.js';
import type { Metrics } from '../observability/metrics.js';
import { Controller } from '../runtime/controller.js';
import { anyVersion, type StatusWriter } from '../runtime/status-writer.js';
import { hostPoolStatus, storagePoolStatus, type PoolView } from '../serving/pool-status.js';
import type { Clock } from '../support/time.js';
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
  /** Sees every pool's usage (metrics): amounts as Kubernetes quantities, per resource. */
  observe?(
    kind: 'HostPool' | 'StoragePool',
    name: string,
    capacity: Record<string, string | number>,
    allocated: Record<string, string | number>,
  ): void;
  /** The controllers' clock (coalescing, backoff); the real one when omitted. */
  clock?: Clock;
}

export class PoolControllers {
  readonly hostPool: Controller;
  readonly storagePool: Controller;

  constructor(private readonly d: PoolControllersDeps) {
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
    // Its own watches: any change of a pool (ours included: a status another writer changed
    // is put right) is a reason to look at its status again.
    d.hostPools.addHandlers(enqueueAll((name) => this.hostPool.queue.add(name)));
    d.storagePools.addHandlers(enqueueAll((name) => this.storagePool.queue.add(name)));
  }

  /** The usage of these pools changed (CapacityListener.poolsChanged). */
  usageChanged(pools: { hostPools: readonly string[]; storagePools: readonly string[] }): void {
    for (const name of pools.hostPools) this.hostPool.queue.addAfter(name, this.d.coalesceMs);
    for (const name of pools.storagePools) this.storagePool.queue.addAfter(name, this.d.coalesceMs);
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
    if ('refused' in r) this.refused('HostPool', name, r.refused);
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
    if ('refused' in r) this.refused('StoragePool', name, r.refused);
    return {};
  }

  private refused(kind: 'HostPool' | 'StoragePool', name: string, err: Error): void {
    this.d.metrics.statusWriteRefused.inc({ kind });
    this.d.log.error('status write refused', { kind, name, error: err.message });
  }
}

const enqueueAll = (add: (name: string) => void) => ({
  add: (p: { metadata: { name: string } }) => add(p.metadata.name),
  update: (_: unknown, p: { metadata: { name: string } }) => add(p.metadata.name),
  resync: (p: { metadata: { name: string } }) => add(p.metadata.name),
});
