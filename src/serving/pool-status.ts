// What a HostPool's and a StoragePool's status say: derived, never decided — usage aggregates
// read from the ledger and a Ready condition. Pure, so `berth simulate` prints exactly what the
// operator writes.
import type { HostPool, HostPoolStatus, StoragePool, StoragePoolStatus } from '../api/index.js';
import { LIMITS } from '../api/kit.js';
import {
  compareResourceNames,
  type HostPoolUsageStatus,
  type StoragePoolUsageStatus,
} from '../allocation/index.js';
import { setConditions, type Condition, type ConditionUpdate } from '../runtime/conditions.js';
import { timestamp } from './request-status.js';

export interface PoolView {
  hostPoolUsage(name: string): HostPoolUsageStatus | undefined;
  storagePoolUsage(name: string): StoragePoolUsageStatus | undefined;
  /** Why the engine could not use the pool (a bad quantity, a bad host), if it could not. */
  problem(kind: 'HostPool' | 'StoragePool', name: string): string | undefined;
  /**
   * What a StoragePool names that the inventory lacks (its HostPool, its host, its zone), e.g.
   * `hostPool rack-x does not exist`; undefined when everything it names is there.
   */
  missingReference(storagePool: string): string | undefined;
}

const display = (allocated: string | undefined, capacity: string | undefined) =>
  `${allocated ?? '0'}/${capacity ?? '0'}`;

/** A condition message the API server takes (metav1 allows 32768) and a person reads. */
const capMessage = (m: string) =>
  m.length <= LIMITS.message ? m : `${m.slice(0, LIMITS.message - 1)}…`;

function readyCondition(
  enabled: boolean,
  problem: string | undefined,
  what: string,
  missing?: string,
): ConditionUpdate {
  if (problem)
    return { type: 'Ready', status: 'False', reason: 'Invalid', message: capMessage(problem) };
  if (missing)
    return {
      type: 'Ready',
      status: 'False',
      reason: 'MissingReference',
      message: capMessage(`${missing}: ${what} takes no new volumes`),
    };
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

/**
 * The pool's resources as the status shows them: at most LIMITS.resources (the status schema's
 * bound), in resource order (cpu, memory, then by name). Hosts may each declare different
 * resources, so their union can be larger; the rest are not summed in the status.
 */
function boundedAggregates(usage: HostPoolUsageStatus): {
  capacity: Record<string, string>;
  allocated: Record<string, string>;
} {
  const names = Object.keys(usage.capacity).sort(compareResourceNames).slice(0, LIMITS.resources);
  const capacity: Record<string, string> = {};
  const allocated: Record<string, string> = {};
  for (const n of names) {
    capacity[n] = usage.capacity[n]!;
    const a = usage.allocated[n];
    if (a !== undefined) allocated[n] = a;
  }
  return { capacity, allocated };
}

/**
 * Per-host detail where it says something the spec does not: hosts that hold nodes or are not
 * Enabled, with their nodes and what is allocated on them (allocatable follows from the spec).
 * Bounded with the spec (docs/api.md, "Bounded objects").
 */
function hostDetail(usage: HostPoolUsageStatus): NonNullable<HostPoolStatus['hosts']> {
  const out: NonNullable<HostPoolStatus['hosts']> = [];
  for (const h of usage.hosts) {
    const enabled = h.state === 'Enabled';
    if (enabled && h.nodes === 0) continue;
    const entry: NonNullable<HostPoolStatus['hosts']>[number] = { name: h.name };
    if (!enabled) entry.state = h.state as 'Disabled' | 'Maintenance';
    if (h.nodes > 0) entry.nodes = h.nodes;
    if (Object.keys(h.allocated).length) entry.allocated = h.allocated;
    out.push(entry);
  }
  return out;
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
    const { capacity, allocated } = boundedAggregates(usage);
    status.nodes = usage.nodes;
    status.capacity = capacity;
    status.allocated = allocated;
    status.cpu = display(allocated.cpu, capacity.cpu);
    status.memory = display(allocated.memory, capacity.memory);
    const hosts = hostDetail(usage);
    if (hosts.length) status.hosts = hosts;
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
    view.missingReference(name),
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
