// What a HostPool's and a StoragePool's status say: derived, never decided — usage aggregates
// read from the ledger and a Ready condition. Pure, so `berth simulate` prints exactly what the
// operator writes.
import type { HostPool, HostPoolStatus, StoragePool, StoragePoolStatus } from '../api/index.js';
import type { HostPoolUsageStatus, StoragePoolUsageStatus } from '../allocation/index.js';
import { setConditions, type Condition, type ConditionUpdate } from '../runtime/conditions.js';
import { timestamp } from './request-status.js';

export interface PoolView {
  hostPoolUsage(name: string): HostPoolUsageStatus | undefined;
  storagePoolUsage(name: string): StoragePoolUsageStatus | undefined;
  /** Why the engine could not use the pool (a bad quantity, a dangling reference), if it could not. */
  problem(kind: 'HostPool' | 'StoragePool', name: string): string | undefined;
}

const display = (allocated: string | undefined, capacity: string | undefined) =>
  `${allocated ?? '0'}/${capacity ?? '0'}`;

function readyCondition(
  enabled: boolean,
  problem: string | undefined,
  what: string,
): ConditionUpdate {
  if (problem) return { type: 'Ready', status: 'False', reason: 'Invalid', message: problem };
  if (!enabled)
    return {
      type: 'Ready',
      status: 'False',
      reason: 'Disabled',
      message: `${what} is Disabled: it takes no new nodes`,
    };
  return { type: 'Ready', status: 'True', reason: 'Available', message: `${what} takes new nodes` };
}

function conditionsFor(
  obj: { metadata: { generation?: number }; status?: { conditions?: unknown[] } },
  ready: ConditionUpdate,
  now: Date,
): Condition[] {
  const generation = obj.metadata.generation;
  return setConditions(
    (obj.status?.conditions ?? []) as Condition[],
    [generation === undefined ? ready : { ...ready, observedGeneration: generation }],
    timestamp(now),
  );
}

export function hostPoolStatus(hp: HostPool, view: PoolView, now: Date): HostPoolStatus {
  const name = hp.metadata.name;
  const usage = view.hostPoolUsage(name);
  const ready = readyCondition(
    hp.spec.state !== 'Disabled',
    view.problem('HostPool', name),
    'the pool',
  );
  const status: HostPoolStatus = {
    conditions: conditionsFor(hp, ready, now),
    hostCount: hp.spec.hosts.length,
  };
  if (hp.metadata.generation !== undefined) status.observedGeneration = hp.metadata.generation;
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
  return status;
}

export function storagePoolStatus(sp: StoragePool, view: PoolView, now: Date): StoragePoolStatus {
  const name = sp.metadata.name;
  const usage = view.storagePoolUsage(name);
  const ready = readyCondition(
    sp.spec.state !== 'Disabled',
    view.problem('StoragePool', name),
    'the storage pool',
  );
  const status: StoragePoolStatus = { conditions: conditionsFor(sp, ready, now) };
  if (sp.metadata.generation !== undefined) status.observedGeneration = sp.metadata.generation;
  if (usage) {
    status.capacity = usage.allocatable;
    status.allocated = usage.allocated;
    status.volumes = usage.volumes;
  }
  return status;
}
