// From configuration entries to allocator objects. A registry maps a `type` to a factory; the
// built-ins are registered by `defaultRegistry()`, and the configuration layer registers more
// (e.g. `module` allocators it has imported) or passes ready-made allocator objects straight into
// a chain. Registries are plain instances, not a global, so tests and profiles never leak into
// each other.
import type { AllocatorChains, HostAllocator, StorageAllocator } from './allocator.js';
import { InvalidSpecError, UnknownAllocatorError } from './errors.js';
import {
  BestFitAllocator,
  FirstFitAllocator,
  FirstFitLeastConsumedAllocator,
  RandomHostAllocator,
  UserConcentratedAllocator,
  UserDispersingAllocator,
} from './host-allocators.js';
import { FixedOrderHostAllocator, FixedOrderStorageAllocator } from './fixed-order.js';
import type { AllocatorConfig } from './model.js';
import {
  RandomStorageAllocator,
  clusterScopeAllocator,
  localStorageAllocator,
  zoneWideAllocator,
} from './storage-allocators.js';

export type HostAllocatorFactory = (entry: AllocatorConfig) => HostAllocator;
export type StorageAllocatorFactory = (entry: AllocatorConfig) => StorageAllocator;

/** What a profile lists; an absent or empty list means the default chain. */
export interface AllocatorProfile {
  hostAllocators?: readonly (AllocatorConfig | HostAllocator)[];
  storageAllocators?: readonly (AllocatorConfig | StorageAllocator)[];
}

/** CloudStack's defaults: first fit for hosts; local, then cluster, then zone-wide storage. */
export const DEFAULT_HOST_CHAIN: readonly AllocatorConfig[] = [{ type: 'firstFit' }];
export const DEFAULT_STORAGE_CHAIN: readonly AllocatorConfig[] = [
  { type: 'localStorage' },
  { type: 'clusterScope' },
  { type: 'zoneWide' },
];

function seedOf(entry: AllocatorConfig): number {
  const seed = entry.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new InvalidSpecError(
      'OperatorConfig',
      `allocator ${entry.name ?? entry.type}.seed`,
      `must be an integer, got ${String(seed)}`,
    );
  }
  return seed;
}

/**
 * Whether a chain entry is an allocator object (a built one, or one a module returned: it has
 * `allocate` or `allocateToPool`) rather than a config entry to build. The one test of "native".
 */
export function isNativeAllocator(
  x: unknown,
): x is { readonly name: string; readonly type: string } {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as { allocate?: unknown; allocateToPool?: unknown };
  return typeof o.allocate === 'function' || typeof o.allocateToPool === 'function';
}

export class AllocatorRegistry {
  private readonly hostFactories = new Map<string, HostAllocatorFactory>();
  private readonly storageFactories = new Map<string, StorageAllocatorFactory>();

  registerHost(type: string, factory: HostAllocatorFactory): this {
    this.hostFactories.set(type, factory);
    return this;
  }

  registerStorage(type: string, factory: StorageAllocatorFactory): this {
    this.storageFactories.set(type, factory);
    return this;
  }

  hostTypes(): string[] {
    return [...this.hostFactories.keys()];
  }

  storageTypes(): string[] {
    return [...this.storageFactories.keys()];
  }

  /** Builds one host allocator; throws UnknownAllocatorError for an unregistered type. */
  hostAllocator(entry: AllocatorConfig): HostAllocator {
    const f = this.hostFactories.get(entry.type);
    if (!f) throw new UnknownAllocatorError('host', entry.type);
    return f(entry);
  }

  storageAllocator(entry: AllocatorConfig): StorageAllocator {
    const f = this.storageFactories.get(entry.type);
    if (!f) throw new UnknownAllocatorError('storage', entry.type);
    return f(entry);
  }

  /** The chains of a profile; entries may be config entries or ready allocator objects. */
  chains(profile: AllocatorProfile = {}): AllocatorChains {
    const host = profile.hostAllocators?.length ? profile.hostAllocators : DEFAULT_HOST_CHAIN;
    const storage = profile.storageAllocators?.length
      ? profile.storageAllocators
      : DEFAULT_STORAGE_CHAIN;
    return {
      host: host.map((e) =>
        isNativeAllocator(e) ? (e as HostAllocator) : this.hostAllocator(e as AllocatorConfig),
      ),
      storage: storage.map((e) =>
        isNativeAllocator(e)
          ? (e as StorageAllocator)
          : this.storageAllocator(e as AllocatorConfig),
      ),
    };
  }
}

/**
 * A registry holding every built-in allocator type, plus `fixedOrder` (the answer of a webhook or
 * extender allocator asked ahead of time; see fixed-order.ts). `fixedOrder` is not a type users
 * write in a profile, so it is not in HostAllocatorType / StorageAllocatorType.
 */
export function defaultRegistry(): AllocatorRegistry {
  return new AllocatorRegistry()
    .registerHost('firstFit', (e) => new FirstFitAllocator(e.name))
    .registerHost('firstFitLeastConsumed', (e) => new FirstFitLeastConsumedAllocator(e.name))
    .registerHost('bestFit', (e) => new BestFitAllocator(e.name))
    .registerHost('random', (e) => new RandomHostAllocator(seedOf(e), e.name))
    .registerHost('userDispersing', (e) => new UserDispersingAllocator(e.name))
    .registerHost('userConcentrated', (e) => new UserConcentratedAllocator(e.name))
    .registerStorage('localStorage', (e) => localStorageAllocator(e.name))
    .registerStorage('clusterScope', (e) => clusterScopeAllocator(e.name))
    .registerStorage('zoneWide', (e) => zoneWideAllocator(e.name))
    .registerHost('fixedOrder', (e) => new FixedOrderHostAllocator(e))
    .registerStorage('random', (e) => new RandomStorageAllocator(seedOf(e), e.name))
    .registerStorage('fixedOrder', (e) => new FixedOrderStorageAllocator(e));
}

const BUILTINS = defaultRegistry();

/** Builds a built-in host allocator from a config entry. */
export function createHostAllocator(entry: AllocatorConfig): HostAllocator {
  return BUILTINS.hostAllocator(entry);
}

/** Builds a built-in storage allocator from a config entry. */
export function createStorageAllocator(entry: AllocatorConfig): StorageAllocator {
  return BUILTINS.storageAllocator(entry);
}

/** The chains of a profile using only built-ins. */
export function createChains(profile: AllocatorProfile = {}): AllocatorChains {
  return BUILTINS.chains(profile);
}
