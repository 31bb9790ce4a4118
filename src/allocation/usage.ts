// Usage aggregates for HostPool and StoragePool statuses (docs/design.md#pool-status: derived
// from all requests). Read from the ledger, printed as people write quantities (displayQuantity).
import type { Engine } from './engine.js';
import { portsInUse } from './fit.js';
import { NANOS_PER_UNIT, formatQuantity, type QuantityFormat } from './quantity.js';
import { add, formatFor, sortResourceNames, type Resources } from './resources.js';

const NANOS_PER_MILLI = 1_000_000n;

/**
 * A status amount as people write it. Exact when a suffix down to milli keeps it whole (the
 * largest such suffix: `2k`, `2503m`, `1536Mi`); finer amounts (an overprovisioning ratio applied
 * to a capacity, a request in nano units) are rounded to milli, and a byte-like amount (BinarySI:
 * memory, storage) to a whole unit, since a fraction of a byte means nothing. `round` says which
 * way: capacities round down and allocations up, so a status never shows more room than there is.
 * The engine keeps the exact amounts; only what is printed rounds.
 */
export function displayQuantity(
  nanos: bigint,
  format: QuantityFormat,
  round: 'down' | 'up',
): string {
  const step = format === 'BinarySI' ? NANOS_PER_UNIT : NANOS_PER_MILLI;
  const rest = nanos % step;
  if (rest === 0n) return formatQuantity(nanos, format);
  const down = nanos - rest;
  return formatQuantity(round === 'down' ? down : down + step, format);
}

/** A resource map for a status, in resource order, each amount through displayQuantity. */
export function displayResources(r: Resources, round: 'down' | 'up'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of sortResourceNames(r.keys()))
    out[name] = displayQuantity(r.get(name) ?? 0n, formatFor(name), round);
  return out;
}

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
      allocatable: displayResources(h.allocatable, 'down'),
      allocated: displayResources(u.allocated, 'up'),
      nodes: u.nodes,
    };
    if (h.ports) status.portsInUse = portsInUse(h, u.ports);
    return status;
  });
  return {
    hostCount: pool.hosts.length,
    nodes,
    capacity: displayResources(pool.allocatable, 'down'),
    allocated: displayResources(allocated, 'up'),
    hosts,
  };
}

/** Usage of one StoragePool; undefined when the pool is not in the inventory. */
export function storagePoolUsage(engine: Engine, name: string): StoragePoolUsageStatus | undefined {
  const sp = engine.inventory.storageByName.get(name);
  if (!sp) return undefined;
  const u = engine.ledger.storageUsage(name);
  return {
    capacity: displayQuantity(sp.capacity, 'BinarySI', 'down'),
    allocatable: displayQuantity(sp.allocatable, 'BinarySI', 'down'),
    allocated: displayQuantity(u.allocated, 'BinarySI', 'up'),
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
