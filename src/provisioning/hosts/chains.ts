// A profile's allocator chains, made ready for one planning call of the `hosts` provisioner.
// The engine is synchronous, so `module`/`webhook` extenders are asked here first (at the edge,
// concurrently) and their answers go into the chain as `fixedOrder` allocators in the same
// positions; engine-native module allocators go in as they are, behind a guard so that a faulty
// one costs its own answer, never the plan. Whatever any of them returns, the engine still applies
// every fit rule.
import type { BuiltinHostAllocatorType, BuiltinStorageAllocatorType } from '../../api/index.js';
import {
  defaultRegistry,
  formatQuantity,
  isNativeAllocator,
  formatResources,
  type AllocatorChains,
  type AllocatorConfig,
  type CompiledRequest,
  type DeploymentPlan,
  type Engine,
  type ExcludeList,
  type FixedOrderConfig,
  type HostAllocator,
  type HostAllocatorType,
  type HostInfo,
  type PoolInfo,
  type StorageAllocator,
  type StorageAllocatorType,
  type StoragePoolInfo,
  type VolumeAsk,
} from '../../allocation/index.js';
import { describeError } from '../errors.js';
import type { Entry } from '../fields.js';
import type { RequestRef } from '../types.js';
import type { AllocatorChainExtensions, FilterCandidate, FixedOrderEntry } from './extenders.js';

const REGISTRY = defaultRegistry();

// The schema (src/api) and the engine (src/allocation) each declare the built-in allocator types,
// since neither may import the other; this bridge does not compile if the two lists drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _hostTypesAgree: Same<BuiltinHostAllocatorType, HostAllocatorType> = true;
const _storageTypesAgree: Same<BuiltinStorageAllocatorType, StorageAllocatorType> = true;

type Resolved = Entry | FixedOrderEntry | { readonly [member: string]: unknown };

function isFixedOrder(e: Resolved): e is FixedOrderEntry {
  return e.type === 'fixedOrder' && Array.isArray((e as { order?: unknown }).order);
}

/** A built-in entry as the engine's registry reads it (types were checked by buildProfile). */
export function builtinConfig(e: Entry): AllocatorConfig {
  return {
    type: String(e.type),
    ...(typeof e.name === 'string' && e.name ? { name: e.name } : {}),
    ...(e.seed !== undefined ? { seed: e.seed as number } : {}),
  };
}

function fixedOrderConfig(e: FixedOrderEntry): FixedOrderConfig {
  return {
    type: 'fixedOrder',
    name: e.name,
    source: e.source,
    order: e.order,
    failed: e.failed,
    ...(e.error !== undefined ? { error: e.error } : {}),
  };
}

/** A module's native host allocator, kept from throwing into the engine or returning junk. */
class GuardedHostAllocator implements HostAllocator {
  readonly name: string;
  readonly type: string;
  private failure: string | undefined;

  constructor(private readonly inner: Partial<HostAllocator> & { readonly name: string }) {
    this.name = inner.name;
    this.type = typeof inner.type === 'string' ? inner.type : 'module';
    if (typeof inner.allocate !== 'function') this.failure = 'not a host allocator (no allocate())';
  }

  get error(): string | undefined {
    return this.failure ?? this.inner.error;
  }

  allocate(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): HostInfo[] {
    if (this.failure !== undefined) return [];
    // Only the inventory's own host objects: the planner reads their pool and index.
    const byKey = plan.view.inventory.hostByKey;
    const r = callGuarded(
      'allocate',
      () => this.inner.allocate!(request, plan, avoid, returnUpTo),
      (h): h is HostInfo =>
        typeof h === 'object' && h !== null && byKey.get((h as HostInfo).key) === h,
    );
    if ('failure' in r) this.failure = r.failure;
    return 'failure' in r ? [] : r.items;
  }
}

/**
 * Calls an allocator someone else wrote: its answer kept only where `known` recognises it; a
 * throw or an answer that is not a list is its failure (it then answers nothing from then on).
 */
function callGuarded<T>(
  method: string,
  call: () => unknown,
  known: (x: unknown) => x is T,
): { items: T[] } | { failure: string } {
  try {
    const out = call();
    if (!Array.isArray(out)) return { failure: `${method}() did not return a list` };
    return { items: (out as unknown[]).filter(known) };
  } catch (err) {
    return { failure: `${method}() threw: ${describeError(err)}` };
  }
}

/** The storage counterpart of GuardedHostAllocator. */
class GuardedStorageAllocator implements StorageAllocator {
  readonly name: string;
  readonly type: string;
  private failure: string | undefined;

  constructor(private readonly inner: Partial<StorageAllocator> & { readonly name: string }) {
    this.name = inner.name;
    this.type = typeof inner.type === 'string' ? inner.type : 'module';
    if (typeof inner.allocateToPool !== 'function')
      this.failure = 'not a storage allocator (no allocateToPool())';
  }

  get error(): string | undefined {
    return this.failure ?? this.inner.error;
  }

  allocateToPool(
    volume: VolumeAsk,
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): StoragePoolInfo[] {
    if (this.failure !== undefined) return [];
    const byName = plan.view.inventory.storageByName;
    const r = callGuarded(
      'allocateToPool',
      () => this.inner.allocateToPool!(volume, request, plan, avoid, returnUpTo),
      (p): p is StoragePoolInfo =>
        typeof p === 'object' && p !== null && byName.get((p as StoragePoolInfo).name) === p,
    );
    if ('failure' in r) this.failure = r.failure;
    return 'failure' in r ? [] : r.items;
  }
}

/**
 * A storage extender answers per volume (it is asked once per volume), but a chain position holds
 * one allocator: this one hands each volume to the answer given for it.
 */
class PerVolumeStorageAllocator implements StorageAllocator {
  readonly type = 'fixedOrder';

  constructor(
    readonly name: string,
    private readonly byVolume: ReadonlyMap<string, StorageAllocator>,
  ) {}

  get error(): string | undefined {
    for (const a of this.byVolume.values()) if (a.error !== undefined) return a.error;
    return undefined;
  }

  allocateToPool(
    volume: VolumeAsk,
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): StoragePoolInfo[] {
    return (
      this.byVolume.get(volume.name)?.allocateToPool(volume, request, plan, avoid, returnUpTo) ?? []
    );
  }
}

function hostAllocatorOf(e: Resolved): HostAllocator | AllocatorConfig {
  if (isFixedOrder(e)) return fixedOrderConfig(e);
  if (isNativeAllocator(e)) return new GuardedHostAllocator(e as unknown as HostAllocator);
  return builtinConfig(e as Entry);
}

/** Per chain position, the allocator built from every volume's answer. */
function buildStorageChain(perVolume: ReadonlyArray<[string, Resolved[]]>): StorageAllocator[] {
  const first = perVolume[0]?.[1] ?? [];
  return first.map((e, i) => {
    if (isNativeAllocator(e)) return new GuardedStorageAllocator(e as unknown as StorageAllocator);
    if (!isFixedOrder(e)) return REGISTRY.storageAllocator(builtinConfig(e as Entry));
    const byVolume = new Map<string, StorageAllocator>();
    for (const [volume, chain] of perVolume) {
      const answer = chain[i];
      if (answer && isFixedOrder(answer)) {
        byVolume.set(volume, REGISTRY.storageAllocator(fixedOrderConfig(answer)));
      }
    }
    return new PerVolumeStorageAllocator(e.name, byVolume);
  });
}

/** Hosts offered to extenders: in scope and fitting one node now (kube-scheduler's filter). */
export function hostCandidates(
  engine: Engine,
  request: CompiledRequest,
  inScope: (pool: PoolInfo) => boolean,
): FilterCandidate[] {
  const { avoid } = engine.planContext(request);
  const out: FilterCandidate[] = [];
  for (const h of engine.inventory.hosts) {
    if (!inScope(h.pool) || engine.checkHost(h, request, avoid)) continue;
    out.push({
      name: h.key,
      hostPool: h.pool.name,
      host: h.name,
      address: h.address,
      zone: h.pool.zone,
      ...(h.pool.pod !== undefined ? { pod: h.pool.pod } : {}),
      tags: [...h.tags].sort(),
      labels: { ...h.pool.labels },
      // What nodes may take (reserved and overprovisioning applied), so free = capacity − allocated.
      capacity: formatResources(h.allocatable),
      allocated: formatResources(engine.ledger.hostUsage(h.key).allocated),
    });
  }
  return out;
}

/** Enabled storage pools reachable from some HostPool in scope. */
export function storageCandidates(
  engine: Engine,
  inScope: (pool: PoolInfo) => boolean,
): FilterCandidate[] {
  const inv = engine.inventory;
  const pools = inv.pools.filter(inScope);
  const poolNames = new Set(pools.map((p) => p.name));
  const zones = new Set(pools.map((p) => p.zone));
  const out: FilterCandidate[] = [];
  for (const sp of inv.storagePools) {
    if (sp.state !== 'Enabled') continue;
    const reachable =
      sp.scope === 'Zone'
        ? sp.zone !== undefined && zones.has(sp.zone)
        : sp.hostPool !== undefined && poolNames.has(sp.hostPool);
    if (!reachable) continue;
    out.push({
      name: sp.name,
      scope: sp.scope,
      ...(sp.hostPool !== undefined ? { hostPool: sp.hostPool } : {}),
      ...(sp.host !== undefined ? { host: sp.host } : {}),
      ...(sp.zone !== undefined ? { zone: sp.zone } : {}),
      ...(sp.pod !== undefined ? { pod: sp.pod } : {}),
      tags: [...sp.tags].sort(),
      capacity: { storage: formatQuantity(sp.allocatable, 'BinarySI') },
      allocated: {
        storage: formatQuantity(engine.ledger.storageUsage(sp.name).allocated, 'BinarySI'),
      },
    });
  }
  return out;
}

export interface ChainSources {
  hostAllocators: AllocatorChainExtensions;
  storageAllocators: AllocatorChainExtensions;
}

/**
 * The engine chains for one planning call. Without a profile (a provisioner built outside
 * buildProfile) the engine's defaults apply: firstFit; local, cluster, then zone-wide storage.
 */
export async function resolveChains(
  sources: ChainSources | undefined,
  engine: Engine,
  ref: RequestRef,
  request: CompiledRequest,
  inScope: (pool: PoolInfo) => boolean,
  signal?: AbortSignal,
): Promise<AllocatorChains> {
  if (!sources) return REGISTRY.chains();
  const { hostAllocators: hosts, storageAllocators: storage } = sources;
  const [hostChain, storageChain] = await Promise.all([
    hosts.resolve(
      {
        request: ref,
        target: 'hosts',
        candidates: hosts.hasExternal ? hostCandidates(engine, request, inScope) : [],
      },
      signal,
    ),
    resolveStorage(storage, engine, ref, inScope, signal),
  ]);
  return {
    host: REGISTRY.chains({ hostAllocators: hostChain.map(hostAllocatorOf) }).host,
    storage: storageChain,
  };
}

/** Storage extenders are asked once per volume; without volumes the storage chain never runs. */
async function resolveStorage(
  storage: AllocatorChainExtensions,
  engine: Engine,
  ref: RequestRef,
  inScope: (pool: PoolInfo) => boolean,
  signal?: AbortSignal,
): Promise<StorageAllocator[]> {
  const volumes = ref.spec.volumes ?? [];
  if (volumes.length === 0) return [...REGISTRY.chains().storage];
  let perVolume: Array<[string, Resolved[]]>;
  if (storage.hasExternal) {
    const candidates = storageCandidates(engine, inScope);
    perVolume = await Promise.all(
      volumes.map(async (volume): Promise<[string, Resolved[]]> => [
        volume.name,
        await storage.resolve({ request: ref, target: 'storagePools', volume, candidates }, signal),
      ]),
    );
  } else {
    const chain = await storage.resolve({ request: ref, target: 'storagePools', candidates: [] });
    perVolume = [['', chain]];
  }
  const chain = buildStorageChain(perVolume);
  return chain.length ? chain : [...REGISTRY.chains().storage];
}
