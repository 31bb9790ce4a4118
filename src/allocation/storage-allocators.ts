// The built-in storage allocators (CloudStack's LocalStoragePoolAllocator,
// ClusterScopeStoragePoolAllocator, ZoneWideStoragePoolAllocator and the random reordering of
// AbstractStoragePoolAllocator). Each looks only at the pools of its scope that the plan's host
// can reach; a volume that asks for another scope gets an empty answer, so the chain moves on.
// Candidates are checked with the storage fit rules, counting what this node's earlier volumes
// already take (`plan.pending`), and rejections go to `avoid`.
import type { DeploymentPlan, StorageAllocator } from './allocator.js';
import type { ExcludeList } from './exclude.js';
import type { HostInfo, Inventory, StoragePoolInfo } from './inventory.js';
import type { StorageScope } from './model.js';
import type { CompiledRequest, VolumeAsk } from './request.js';
import { hashSeed, lazyPermutation, mulberry32 } from './rng.js';

const NONE: readonly StoragePoolInfo[] = [];

/** The pools that can take `volume` from the plan's host, in the order given; rejects go to avoid. */
export function screenPools(
  pools: Iterable<StoragePoolInfo>,
  volume: VolumeAsk,
  request: CompiledRequest,
  plan: DeploymentPlan,
  avoid: ExcludeList,
  returnUpTo: number,
): StoragePoolInfo[] {
  const out: StoragePoolInfo[] = [];
  const host = plan.host;
  if (!host || returnUpTo === 0) return out;
  for (const sp of pools) {
    if (avoid.storageRejection(sp.name)) continue;
    const r = plan.view.checkStoragePool(sp, volume, request, host, avoid, plan.pending);
    if (r) {
      avoid.rejectStoragePool(sp, r);
      continue;
    }
    out.push(sp);
    if (returnUpTo > 0 && out.length >= returnUpTo) break;
  }
  return out;
}

/** The pools of one scope reachable from a host, by name. */
export function poolsOfScope(
  inventory: Inventory,
  host: HostInfo,
  scope: StorageScope,
): readonly StoragePoolInfo[] {
  switch (scope) {
    case 'Host':
      return inventory.storageByHost.get(host.key) ?? NONE;
    case 'Cluster':
      return inventory.storageByHostPool.get(host.pool.name) ?? NONE;
    case 'Zone':
      return inventory.storageByZone.get(host.pool.zone) ?? NONE;
  }
}

export class ScopedStorageAllocator implements StorageAllocator {
  constructor(
    readonly type: 'localStorage' | 'clusterScope' | 'zoneWide',
    readonly scope: StorageScope,
    readonly name: string = type,
  ) {}

  allocateToPool(
    volume: VolumeAsk,
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): StoragePoolInfo[] {
    if (!plan.host || (volume.scope !== undefined && volume.scope !== this.scope)) return [];
    return screenPools(
      poolsOfScope(plan.view.inventory, plan.host, this.scope),
      volume,
      request,
      plan,
      avoid,
      returnUpTo,
    );
  }
}

export const localStorageAllocator = (name?: string): StorageAllocator =>
  new ScopedStorageAllocator('localStorage', 'Host', name);
export const clusterScopeAllocator = (name?: string): StorageAllocator =>
  new ScopedStorageAllocator('clusterScope', 'Cluster', name);
export const zoneWideAllocator = (name?: string): StorageAllocator =>
  new ScopedStorageAllocator('zoneWide', 'Zone', name);

/** Every reachable pool of any scope (or of the volume's scope), in a seeded random order. */
export class RandomStorageAllocator implements StorageAllocator {
  readonly type = 'random';
  constructor(
    readonly seed = 0,
    readonly name: string = 'random',
  ) {}

  allocateToPool(
    volume: VolumeAsk,
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): StoragePoolInfo[] {
    const host = plan.host;
    if (!host) return [];
    const scopes: readonly StorageScope[] = volume.scope
      ? [volume.scope]
      : ['Host', 'Cluster', 'Zone'];
    const reachable = scopes.flatMap((s) => poolsOfScope(plan.view.inventory, host, s));
    const random = mulberry32(
      hashSeed(this.seed, request.owner, plan.nodeName, host.key, volume.name),
    );
    const order = [...lazyPermutation(reachable.length, random)].map((i) => reachable[i]!);
    return screenPools(order, volume, request, plan, avoid, returnUpTo);
  }
}
