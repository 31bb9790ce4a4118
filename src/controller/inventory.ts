// The engine's inventory follows the HostPools and StoragePools: a change of a pool's spec (not
// of its status, which we write ourselves) rebuilds it. Rebuilds are batched: a burst of pool
// events costs one rebuild, done before any request reconcile can run on the new state.
import type { Logger } from 'winston';
import type { HostPool, StoragePool } from '../api/index.js';
import type { Informer } from '../kube/informer.js';
import { statusOnlyChange } from '../runtime/predicates.js';

export interface InventoryOwner {
  /** Replaces the inventory; returns what it could not use, per pool. */
  setInventory(
    hostPools: readonly HostPool[],
    storagePools: readonly StoragePool[],
  ): Array<{ kind: string; name: string; message: string }>;
}

export type PoolSpecChanged = (kind: 'HostPool' | 'StoragePool', name: string) => void;

export class InventoryWatch {
  private dirty = false;
  /** Last problem logged per pool: a problem is logged when it appears or changes, not per rebuild. */
  private readonly logged = new Map<string, string>();
  private readonly listeners: PoolSpecChanged[] = [];

  constructor(
    private readonly owner: InventoryOwner,
    private readonly hostPools: Informer<HostPool>,
    private readonly storagePools: Informer<StoragePool>,
    private readonly log: Logger,
  ) {
    const changed = (kind: 'HostPool' | 'StoragePool') => ({
      add: (p: { metadata: { name: string } }) => this.changed(kind, p.metadata.name),
      update: (a: HostPool | StoragePool, b: HostPool | StoragePool) => {
        if (!statusOnlyChange(a, b)) this.changed(kind, b.metadata.name);
      },
      delete: (p: { metadata: { name: string } }) => this.changed(kind, p.metadata.name),
    });
    hostPools.addHandlers(changed('HostPool'));
    storagePools.addHandlers(changed('StoragePool'));
  }

  /** Called after the inventory was rebuilt for a change of this pool's spec. */
  onChange(listener: PoolSpecChanged): void {
    this.listeners.push(listener);
  }

  /** Rebuilds now from the caches. */
  refresh(): void {
    this.dirty = false;
    const problems = this.owner.setInventory(this.hostPools.list(), this.storagePools.list());
    const seen = new Set<string>();
    for (const p of problems) {
      const key = `${p.kind}/${p.name}`;
      seen.add(key);
      if (this.logged.get(key) === p.message) continue;
      this.logged.set(key, p.message);
      this.log.warn('inventory problem', { kind: p.kind, name: p.name, problem: p.message });
    }
    for (const key of [...this.logged.keys()]) if (!seen.has(key)) this.logged.delete(key);
  }

  private changed(kind: 'HostPool' | 'StoragePool', name: string): void {
    if (!this.dirty) {
      this.dirty = true;
      queueMicrotask(() => this.refresh());
    }
    // After the rebuild (queued above, so it runs first).
    queueMicrotask(() => {
      for (const l of this.listeners) l(kind, name);
    });
  }
}
