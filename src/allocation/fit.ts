// The fit rules (docs/allocation.md), in the order that decides which single reason a host is
// counted under when several apply: where it is (placement, avoid), whether it is open (pool and
// host state), what it is (tags), how many nodes it holds (maxNodes, maxNodesPerHost, ports), and
// only then how full it is (capacity, the pool's disable threshold). Location first means a
// request pinned to zone-b reports zone-a's hosts as PlacementMismatch, not as full.
//
// These functions are the single source of truth: allocators, the index's results and custom
// allocators' answers are all checked here before a node is placed.
import type { ExcludeList } from './exclude.js';
import type { HostInfo, PoolInfo, StoragePoolInfo } from './inventory.js';
import type { HostUsage, Ledger } from './ledger.js';
import { formatQuantity } from './quantity.js';
import { exceeds } from './rational.js';
import { insufficient, missingTags, overThreshold, rejection, type Rejection } from './reasons.js';
import type { CompiledRequest, VolumeAsk } from './request.js';
import { formatFor } from './resources.js';

/** Whether the request's placement (zone, pod, hostPool) allows this HostPool. */
export function poolPlacementRejection(pool: PoolInfo, req: CompiledRequest): Rejection | null {
  const p = req.placement;
  if (p.zone !== undefined && pool.zone !== p.zone)
    return rejection('PlacementMismatch', `zone ${pool.zone}`);
  if (p.pod !== undefined && pool.pod !== p.pod)
    return rejection('PlacementMismatch', `pod ${pool.pod ?? '-'}`);
  if (p.hostPool !== undefined && pool.name !== p.hostPool)
    return rejection('PlacementMismatch', `hostPool ${pool.name}`);
  return null;
}

/** Placement of the host's pool; hosts carry no placement of their own. */
export function placementRejection(host: HostInfo, req: CompiledRequest): Rejection | null {
  return poolPlacementRejection(host.pool, req);
}

function amount(resource: string, nanos: bigint): string {
  return formatQuantity(nanos, formatFor(resource));
}

/**
 * Checks one host for one node of `req`; null when it fits. `usage` is the host's ledger usage
 * (including nodes of this request already placed), `poolAllocated` the pool's Σ allocated.
 */
export function checkHost(
  host: HostInfo,
  req: CompiledRequest,
  avoid: ExcludeList,
  ledger: Ledger,
): Rejection | null {
  const placement = placementRejection(host, req);
  if (placement) return placement;
  if (avoid.avoidsHost(host)) return rejection('Avoided');
  if (host.pool.state !== 'Enabled') return rejection('PoolDisabled');
  if (host.state === 'Disabled') return rejection('HostDisabled');
  if (host.state === 'Maintenance') return rejection('HostMaintenance');

  let missing: string[] | undefined;
  for (const t of req.tags) if (!host.tags.has(t)) (missing ??= []).push(t);
  if (missing) return missingTags(missing);

  const usage: HostUsage = ledger.hostUsage(host.key);
  if (host.maxNodes !== undefined && usage.nodes >= host.maxNodes) {
    return rejection('MaxNodes', `maxNodes ${host.maxNodes}`);
  }
  if (
    req.maxNodesPerHost !== undefined &&
    (usage.owners.get(req.owner) ?? 0) >= req.maxNodesPerHost
  ) {
    return rejection('MaxNodes', `maxNodesPerHost ${req.maxNodesPerHost}`);
  }
  if (host.ports && portsInUse(host, usage.ports) >= host.ports.count) {
    return rejection('PortsExhausted', `${host.ports.count} ports from ${host.ports.base}`);
  }

  for (const name of req.asked) {
    const ask = req.resources.get(name)!;
    const free = (host.allocatable.get(name) ?? 0n) - (usage.allocated.get(name) ?? 0n);
    if (ask > free)
      return insufficient(name, () => `asked ${amount(name, ask)}, free ${amount(name, free)}`);
  }

  const thresholds = host.pool.disableThreshold;
  if (thresholds.size > 0) {
    const poolAllocated = ledger.poolAllocated(host.pool.name);
    for (const name of req.asked) {
      const limit = thresholds.get(name);
      if (!limit) continue;
      const after = (poolAllocated.get(name) ?? 0n) + req.resources.get(name)!;
      if (exceeds(after, host.pool.allocatable.get(name) ?? 0n, limit)) {
        return overThreshold(
          name,
          `pool ${host.pool.name} would pass ${Number(limit.num) / Number(limit.den)}`,
        );
      }
    }
  }
  return null;
}

/** Whether a storage pool can be reached from a host: its local disk, its HostPool, its zone. */
export function reachable(sp: StoragePoolInfo, host: HostInfo): boolean {
  switch (sp.scope) {
    case 'Host':
      return sp.host === host.key;
    case 'Cluster':
      return sp.hostPool === host.pool.name;
    case 'Zone':
      return sp.zone === host.pool.zone;
  }
}

/**
 * Checks one storage pool for one volume placed from `host`; null when it fits. `pending` holds
 * what this node's earlier volumes already take on each pool in the plan being built.
 */
export function checkStoragePool(
  sp: StoragePoolInfo,
  volume: VolumeAsk,
  req: CompiledRequest,
  host: HostInfo,
  avoid: ExcludeList,
  ledger: Ledger,
  pending: ReadonlyMap<string, bigint>,
): Rejection | null {
  const wanted = req.placement.storagePool;
  if (wanted !== undefined && sp.name !== wanted)
    return rejection('PlacementMismatch', `storagePool ${sp.name}`);
  if (!reachable(sp, host))
    return rejection('PlacementMismatch', `${sp.scope} pool not reachable from ${host.key}`);
  if (volume.scope !== undefined && sp.scope !== volume.scope)
    return rejection('PlacementMismatch', `scope ${sp.scope}`);
  if (avoid.avoidsStoragePool(sp)) return rejection('Avoided');
  if (sp.state !== 'Enabled') return rejection('PoolDisabled');
  let missing: string[] | undefined;
  for (const t of volume.tags) if (!sp.tags.has(t)) (missing ??= []).push(t);
  if (missing) return missingTags(missing);
  const after = ledger.storageUsage(sp.name).allocated + (pending.get(sp.name) ?? 0n) + volume.size;
  if (after > sp.allocatable) {
    const free = sp.allocatable - (after - volume.size);
    return insufficient(
      'storage',
      () => `asked ${amount('storage', volume.size)}, free ${amount('storage', free)}`,
    );
  }
  if (sp.disableThreshold && exceeds(after, sp.allocatable, sp.disableThreshold)) {
    return overThreshold('storage');
  }
  return null;
}

/** Distinct ports of the host's range held by nodes. */
export function portsInUse(host: HostInfo, ports: ReadonlyMap<number, number>): number {
  const range = host.ports;
  if (!range) return 0;
  let n = 0;
  for (const p of ports.keys()) if (p >= range.base && p < range.base + range.count) n++;
  return n;
}

/** The lowest port of the host's range no node holds, or undefined (no range, or all taken). */
export function lowestFreePort(
  host: HostInfo,
  ports: ReadonlyMap<number, number>,
): number | undefined {
  const range = host.ports;
  if (!range) return undefined;
  for (let p = range.base; p < range.base + range.count; p++) if (!ports.has(p)) return p;
  return undefined;
}

/**
 * The request-independent part of the rules: may this host take any node right now? (Pool and
 * host Enabled, maxNodes not reached, a port left.) The index folds it in to skip closed hosts.
 */
export function eligibleHost(
  host: HostInfo,
  nodes: number,
  ports: ReadonlyMap<number, number>,
): boolean {
  if (host.pool.state !== 'Enabled' || host.state !== 'Enabled') return false;
  if (host.maxNodes !== undefined && nodes >= host.maxNodes) return false;
  if (host.ports && portsInUse(host, ports) >= host.ports.count) return false;
  return true;
}
