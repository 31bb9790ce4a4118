// Usage aggregates for HostPool and StoragePool statuses (docs/design.md#pool-status: derived
// from all requests). Read from the ledger, printed as canonical quantities.
import type { Engine } from './engine.js';
import { portsInUse } from './fit.js';
import { formatQuantity } from './quantity.js';
import { add, formatResources } from './resources.js';

export interface HostUsageStatus {
  name: string;
  state: string;
  allocatable: Record<string, string>;
  allocated: Record<string, string>;
  nodes: number;
  portsInUse?: number;
}

export interface HostPoolUsageStatus {
  hostCount: number;
  nodes: number;
  capacity: Record<string, string>;
  allocated: Record<string, string>;
  hosts: HostUsageStatus[];
}

export interface StoragePoolUsageStatus {
  capacity: string;
  allocatable: string;
  allocated: string;
  volumes: number;
}

/** Usage of one HostPool of the engine's inventory; undefined when the pool is not in it. */
export function hostPoolUsage(engine: Engine, name: string): HostPoolUsageStatus | undefined {
  const pool = engine.inventory.poolByName.get(name);
  if (!pool) return undefined;
  let nodes = 0;
  let allocated: ReadonlyMap<string, bigint> = new Map();
  const hosts = pool.hosts.map((h) => {
    const u = engine.ledger.hostUsage(h.key);
    nodes += u.nodes;
    allocated = add(allocated, u.allocated);
    const status: HostUsageStatus = {
      name: h.name,
      state: h.state,
      allocatable: formatResources(h.allocatable),
      allocated: formatResources(u.allocated),
      nodes: u.nodes,
    };
    if (h.ports) status.portsInUse = portsInUse(h, u.ports);
    return status;
  });
  return {
    hostCount: pool.hosts.length,
    nodes,
    capacity: formatResources(pool.allocatable),
    allocated: formatResources(allocated),
    hosts,
  };
}

/** Usage of one StoragePool; undefined when the pool is not in the inventory. */
export function storagePoolUsage(engine: Engine, name: string): StoragePoolUsageStatus | undefined {
  const sp = engine.inventory.storageByName.get(name);
  if (!sp) return undefined;
  const u = engine.ledger.storageUsage(name);
  return {
    capacity: formatQuantity(sp.capacity, 'BinarySI'),
    allocatable: formatQuantity(sp.allocatable, 'BinarySI'),
    allocated: formatQuantity(u.allocated, 'BinarySI'),
    volumes: u.volumes,
  };
}

export interface AffectedNode {
  readonly owner: string;
  readonly node: string;
  /** `<hostPool>/<host>`. */
  readonly host: string;
  readonly why: 'HostDisabled' | 'HostMaintenance' | 'HostMissing';
}

/**
 * Nodes sitting on a host that is Disabled, in Maintenance or gone from the inventory
 * (docs/design.md#degraded:
 * their requests become Degraded). A Disabled pool only stops new placements, so it is not listed.
 */
export function affectedNodes(engine: Engine): AffectedNode[] {
  const out: AffectedNode[] = [];
  for (const e of engine.ledger.entries()) {
    if (e.hostKey === undefined) continue;
    const host = engine.inventory.hostByKey.get(e.hostKey);
    const why = !host
      ? 'HostMissing'
      : host.state === 'Disabled'
        ? 'HostDisabled'
        : host.state === 'Maintenance'
          ? 'HostMaintenance'
          : undefined;
    if (why) out.push({ owner: e.owner, node: e.node, host: e.hostKey, why });
  }
  return out;
}
