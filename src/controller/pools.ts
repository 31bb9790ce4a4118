// HostPool and StoragePool reconcilers: their status is derived, never decided — usage
// aggregates read from the ledger and a Ready condition. Written only when it changed.
import type { HostPool, HostPoolStatus, StoragePool, StoragePoolStatus } from '../api/index.js';
import { API_VERSION } from '../api/index.js';
import type { HostPoolUsageStatus, StoragePoolUsageStatus } from '../allocation/index.js';
import type { KubeRest } from '../kube/rest.js';
import { setConditions, type Condition, type ConditionUpdate } from './conditions.js';
import { sameStatus, writeStatus } from './status.js';

export interface PoolView {
  hostPoolUsage(name: string): HostPoolUsageStatus | undefined;
  storagePoolUsage(name: string): StoragePoolUsageStatus | undefined;
  /** Why the engine could not use the pool (a bad quantity, a dangling reference), if it could not. */
  problem(kind: 'HostPool' | 'StoragePool', name: string): string | undefined;
}

export interface PoolReconcilerDeps {
  rest: KubeRest;
  getHostPool(name: string): HostPool | undefined;
  getStoragePool(name: string): StoragePool | undefined;
  view(): PoolView;
  now(): Date;
}

const display = (allocated: string | undefined, capacity: string | undefined) =>
  `${allocated ?? '0'}/${capacity ?? '0'}`;
const stamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class PoolReconciler {
  constructor(private readonly d: PoolReconcilerDeps) {}

  /** Keys are `HostPool/<name>` or `StoragePool/<name>`. */
  async reconcile(key: string): Promise<Record<string, never>> {
    const [kind, name] = key.split('/') as ['HostPool' | 'StoragePool', string];
    if (kind === 'HostPool') await this.hostPool(name);
    else await this.storagePool(name);
    return {};
  }

  private ready(enabled: boolean, problem: string | undefined, what: string): ConditionUpdate {
    if (problem) return { type: 'Ready', status: 'False', reason: 'Invalid', message: problem };
    if (!enabled)
      return {
        type: 'Ready',
        status: 'False',
        reason: 'Disabled',
        message: `${what} is Disabled: it takes no new nodes`,
      };
    return {
      type: 'Ready',
      status: 'True',
      reason: 'Available',
      message: `${what} takes new nodes`,
    };
  }

  private async hostPool(name: string): Promise<void> {
    const hp = this.d.getHostPool(name);
    if (!hp) return;
    const view = this.d.view();
    const usage = view.hostPoolUsage(name);
    const generation = hp.metadata.generation;
    const conditions = setConditions(
      (hp.status?.conditions ?? []) as Condition[],
      [
        {
          ...this.ready(hp.spec.state !== 'Disabled', view.problem('HostPool', name), 'the pool'),
          observedGeneration: generation,
        },
      ],
      stamp(this.d.now()),
    );
    const status: HostPoolStatus = {
      observedGeneration: generation,
      conditions,
      hostCount: hp.spec.hosts.length,
    };
    if (usage) {
      status.nodes = usage.nodes;
      status.capacity = usage.capacity;
      status.allocated = usage.allocated;
      status.cpu = display(usage.allocated.cpu, usage.capacity.cpu);
      status.memory = display(usage.allocated.memory, usage.capacity.memory);
      status.hosts = usage.hosts.map((h) => ({
        name: h.name,
        state: h.state as 'Enabled' | 'Disabled' | 'Maintenance',
        allocatable: h.allocatable,
        allocated: h.allocated,
        nodes: h.nodes,
      }));
    }
    if (sameStatus(status, hp.status)) return;
    await writeStatus(this.d.rest, `/apis/${API_VERSION}/hostpools/${name}`, hp, status);
  }

  private async storagePool(name: string): Promise<void> {
    const sp = this.d.getStoragePool(name);
    if (!sp) return;
    const view = this.d.view();
    const usage = view.storagePoolUsage(name);
    const generation = sp.metadata.generation;
    const conditions = setConditions(
      (sp.status?.conditions ?? []) as Condition[],
      [
        {
          ...this.ready(
            sp.spec.state !== 'Disabled',
            view.problem('StoragePool', name),
            'the storage pool',
          ),
          observedGeneration: generation,
        },
      ],
      stamp(this.d.now()),
    );
    const status: StoragePoolStatus = { observedGeneration: generation, conditions };
    if (usage) {
      status.capacity = usage.allocatable;
      status.allocated = usage.allocated;
      status.volumes = usage.volumes;
    }
    if (sameStatus(status, sp.status)) return;
    await writeStatus(this.d.rest, `/apis/${API_VERSION}/storagepools/${name}`, sp, status);
  }
}
