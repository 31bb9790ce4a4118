// The inventory: HostPools and StoragePools compiled once into what the fit rules read —
// exact allocatable capacity per host, the union of host and pool tags, resolved locations and
// exact ratios. It is immutable; an edited or removed pool means a new Inventory, while usage
// lives in the Ledger and survives the swap (Engine.setInventory).
//
// One invalid pool never hides the others: it is left out and reported in `problems`, so the
// operator keeps allocating on everything else (invariant 5 of docs/design.md#invariants).
import { AllocationError, InvalidSpecError } from './errors.js';
import type {
  HostPool,
  HostState,
  PoolState,
  PortRange,
  StoragePool,
  StorageScope,
} from './model.js';
import { parseNonNegativeQuantity } from './quantity.js';
import { ONE, isPositive, ratioOf, scaleFloor, type Ratio } from './rational.js';
import { parseResources, sortResourceNames, type Resources } from './resources.js';

export interface PoolInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly zone: string;
  readonly pod: string | undefined;
  readonly state: PoolState;
  readonly tags: readonly string[];
  readonly overprovisioning: ReadonlyMap<string, Ratio>;
  readonly reserved: Resources;
  readonly disableThreshold: ReadonlyMap<string, Ratio>;
  readonly hosts: readonly HostInfo[];
  /** Position among pools (pools are ordered by name). */
  readonly index: number;
  /** The pool's hosts occupy global host indices [start, end). */
  readonly start: number;
  readonly end: number;
  /** Σ allocatable of its hosts: the denominator of the disable threshold. */
  readonly allocatable: Resources;
  readonly source: HostPool;
}

export interface HostInfo {
  /** `<hostPool>/<host>`: the identity used by the ledger, avoid lists and explanations. */
  readonly key: string;
  readonly name: string;
  readonly pool: PoolInfo;
  readonly address: string;
  /** Global declared order: pools by name, hosts as declared. firstFit walks this order. */
  readonly index: number;
  /** Host tags ∪ pool tags. */
  readonly tags: ReadonlySet<string>;
  readonly state: HostState;
  readonly capacity: Resources;
  /**
   * What nodes may take, per resource: (capacity − reserved) × ratio, floored, never below zero.
   * For ratios below 1 it is also capped at capacity × ratio − reserved, so both forms
   * docs/design.md#fit-rules gives (the fit rule and invariant 1) hold for every ratio.
   */
  readonly allocatable: Resources;
  readonly maxNodes: number | undefined;
  readonly ports: PortRange | undefined;
}

export interface StoragePoolInfo {
  readonly name: string;
  readonly index: number;
  readonly scope: StorageScope;
  /** Host scope: `<hostPool>/<host>`. */
  readonly host: string | undefined;
  /** Cluster scope: the HostPool; Host scope: the host's pool. */
  readonly hostPool: string | undefined;
  /** Where the pool is, resolved through its host or HostPool, for hierarchical avoid. */
  readonly zone: string | undefined;
  readonly pod: string | undefined;
  readonly state: PoolState;
  readonly tags: ReadonlySet<string>;
  readonly capacity: bigint;
  readonly overprovisioning: Ratio;
  /** floor(capacity × overprovisioning). */
  readonly allocatable: bigint;
  readonly disableThreshold: Ratio | undefined;
  readonly source: StoragePool;
}

export interface InventoryProblem {
  readonly kind: 'HostPool' | 'StoragePool';
  readonly name: string;
  readonly message: string;
}

export interface Inventory {
  readonly pools: readonly PoolInfo[];
  readonly poolByName: ReadonlyMap<string, PoolInfo>;
  readonly hosts: readonly HostInfo[];
  readonly hostByKey: ReadonlyMap<string, HostInfo>;
  /** Every resource name some host declares, in resource order. */
  readonly resources: readonly string[];
  readonly storagePools: readonly StoragePoolInfo[];
  readonly storageByName: ReadonlyMap<string, StoragePoolInfo>;
  /** Host-scope pools per host key, Cluster-scope per HostPool, Zone-scope per zone; by name. */
  readonly storageByHost: ReadonlyMap<string, readonly StoragePoolInfo[]>;
  readonly storageByHostPool: ReadonlyMap<string, readonly StoragePoolInfo[]>;
  readonly storageByZone: ReadonlyMap<string, readonly StoragePoolInfo[]>;
  readonly problems: readonly InventoryProblem[];
}

const byName = (a: { metadata: { name: string } }, b: { metadata: { name: string } }): number =>
  a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;

function exactRatio(value: unknown, object: string, field: string): Ratio {
  const r = typeof value === 'number' ? ratioOf(value) : undefined;
  if (!r || !isPositive(r))
    throw new InvalidSpecError(object, field, `must be a number > 0, got ${String(value)}`);
  return r;
}

function fraction(value: unknown, object: string, field: string): Ratio {
  const r = exactRatio(value, object, field);
  if (r.num > r.den)
    throw new InvalidSpecError(object, field, `must be in (0, 1], got ${String(value)}`);
  return r;
}

function tagList(value: unknown, object: string, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) {
    throw new InvalidSpecError(object, field, 'must be a list of strings');
  }
  return [...new Set(value as string[])];
}

function poolState(value: unknown, object: string, field: string): PoolState {
  if (value === undefined || value === 'Enabled') return 'Enabled';
  if (value === 'Disabled') return 'Disabled';
  throw new InvalidSpecError(object, field, `must be Enabled or Disabled, got ${String(value)}`);
}

function hostState(value: unknown, object: string, field: string): HostState {
  if (value === undefined || value === 'Enabled') return 'Enabled';
  if (value === 'Disabled' || value === 'Maintenance') return value;
  throw new InvalidSpecError(
    object,
    field,
    `must be Enabled, Disabled or Maintenance, got ${String(value)}`,
  );
}

function nonNegativeInt(value: unknown, object: string, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidSpecError(object, field, `must be a whole number ≥ 0, got ${String(value)}`);
  }
  return value;
}

function portRange(value: unknown, object: string, field: string): PortRange | undefined {
  if (value === undefined || value === null) return undefined;
  const p = value as Partial<PortRange>;
  const ok =
    typeof p.base === 'number' &&
    typeof p.count === 'number' &&
    Number.isSafeInteger(p.base) &&
    Number.isSafeInteger(p.count) &&
    p.base >= 1 &&
    p.count >= 1 &&
    p.base + p.count - 1 <= 65535;
  if (!ok)
    throw new InvalidSpecError(
      object,
      field,
      'needs base ≥ 1, count ≥ 1 and base + count - 1 ≤ 65535',
    );
  return { base: p.base!, count: p.count! };
}

/** Allocatable per resource; see HostInfo.allocatable. */
function allocatableOf(
  capacity: Resources,
  reserved: Resources,
  ratios: ReadonlyMap<string, Ratio>,
): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const name of sortResourceNames(new Set([...capacity.keys(), ...reserved.keys()]))) {
    const c = capacity.get(name) ?? 0n;
    const r = reserved.get(name) ?? 0n;
    const ratio = ratios.get(name) ?? ONE;
    let a = scaleFloor(c - r, ratio);
    if (ratio.num < ratio.den) {
      const alt = scaleFloor(c, ratio) - r;
      if (alt < a) a = alt;
    }
    out.set(name, a > 0n ? a : 0n);
  }
  return out;
}

interface PoolDraft {
  info: Omit<PoolInfo, 'hosts' | 'index' | 'start' | 'end' | 'allocatable'>;
  hosts: Array<Omit<HostInfo, 'pool' | 'index'>>;
}

function compilePool(hp: HostPool, problems: InventoryProblem[]): PoolDraft {
  const name = hp.metadata.name;
  const object = `HostPool ${name}`;
  const spec = hp.spec;
  if (!spec || typeof spec !== 'object') throw new InvalidSpecError(object, 'spec', 'missing');
  if (typeof spec.zone !== 'string' || spec.zone === '')
    throw new InvalidSpecError(object, 'spec.zone', 'required');
  const tags = tagList(spec.tags, object, 'spec.tags');
  const overprovisioning = new Map<string, Ratio>();
  for (const [res, v] of Object.entries(spec.overprovisioning ?? {})) {
    overprovisioning.set(res, exactRatio(v, object, `spec.overprovisioning.${res}`));
  }
  const disableThreshold = new Map<string, Ratio>();
  for (const [res, v] of Object.entries(spec.disableThreshold ?? {})) {
    disableThreshold.set(res, fraction(v, object, `spec.disableThreshold.${res}`));
  }
  const reserved = parseResources(spec.reserved, object, 'spec.reserved');
  if (!Array.isArray(spec.hosts))
    throw new InvalidSpecError(object, 'spec.hosts', 'must be a list');

  const hosts: PoolDraft['hosts'] = [];
  const seen = new Set<string>();
  spec.hosts.forEach((h, i) => {
    const field = `spec.hosts[${i}]`;
    try {
      if (!h || typeof h.name !== 'string' || h.name === '')
        throw new InvalidSpecError(object, `${field}.name`, 'required');
      if (seen.has(h.name))
        throw new InvalidSpecError(object, `${field}.name`, `duplicate host "${h.name}"`);
      seen.add(h.name);
      const capacity = parseResources(h.capacity, object, `${field}.capacity`);
      const hostTags = tagList(h.tags, object, `${field}.tags`);
      hosts.push({
        key: `${name}/${h.name}`,
        name: h.name,
        address: typeof h.address === 'string' ? h.address : '',
        tags: new Set([...tags, ...hostTags]),
        state: hostState(h.state, object, `${field}.state`),
        capacity,
        allocatable: allocatableOf(capacity, reserved, overprovisioning),
        maxNodes: nonNegativeInt(h.maxNodes, object, `${field}.maxNodes`),
        ports: portRange(h.ports, object, `${field}.ports`),
      });
    } catch (err) {
      // A bad host is left out; its pool and siblings stay usable.
      if (!(err instanceof AllocationError)) throw err;
      problems.push({ kind: 'HostPool', name, message: err.message });
    }
  });
  return {
    info: {
      name,
      labels: hp.metadata.labels ?? {},
      zone: spec.zone,
      pod: typeof spec.pod === 'string' && spec.pod !== '' ? spec.pod : undefined,
      state: poolState(spec.state, object, 'spec.state'),
      tags,
      overprovisioning,
      reserved,
      disableThreshold,
      source: hp,
    },
    hosts,
  };
}

function compileStoragePool(
  sp: StoragePool,
  index: number,
  pools: ReadonlyMap<string, PoolInfo>,
): StoragePoolInfo {
  const name = sp.metadata.name;
  const object = `StoragePool ${name}`;
  const spec = sp.spec;
  if (!spec || typeof spec !== 'object') throw new InvalidSpecError(object, 'spec', 'missing');
  let capacity: bigint;
  try {
    capacity = parseNonNegativeQuantity(spec.capacity);
  } catch (err) {
    if (err instanceof AllocationError)
      throw new InvalidSpecError(object, 'spec.capacity', err.message);
    throw err;
  }
  const overprovisioning =
    spec.overprovisioning === undefined
      ? ONE
      : exactRatio(spec.overprovisioning, object, 'spec.overprovisioning');
  const disableThreshold =
    spec.disableThreshold === undefined
      ? undefined
      : fraction(spec.disableThreshold, object, 'spec.disableThreshold');
  let host: string | undefined;
  let hostPool: string | undefined;
  let zone: string | undefined;
  let pod: string | undefined;
  const scope = spec.scope;
  if (scope === 'Host') {
    const m = typeof spec.host === 'string' ? /^([^/]+)\/([^/]+)$/.exec(spec.host) : null;
    if (!m)
      throw new InvalidSpecError(object, 'spec.host', 'Host scope needs host: <hostPool>/<host>');
    host = spec.host;
    hostPool = m[1];
  } else if (scope === 'Cluster') {
    if (typeof spec.hostPool !== 'string' || spec.hostPool === '') {
      throw new InvalidSpecError(object, 'spec.hostPool', 'Cluster scope needs hostPool');
    }
    hostPool = spec.hostPool;
  } else if (scope === 'Zone') {
    if (typeof spec.zone !== 'string' || spec.zone === '')
      throw new InvalidSpecError(object, 'spec.zone', 'Zone scope needs zone');
    zone = spec.zone;
  } else {
    throw new InvalidSpecError(
      object,
      'spec.scope',
      `must be Host, Cluster or Zone, got ${String(scope)}`,
    );
  }
  if (hostPool !== undefined) {
    const p = pools.get(hostPool);
    zone = p?.zone;
    pod = p?.pod;
  }
  return {
    name,
    index,
    scope,
    host,
    hostPool,
    zone,
    pod,
    state: poolState(spec.state, object, 'spec.state'),
    tags: new Set(tagList(spec.tags, object, 'spec.tags')),
    capacity,
    overprovisioning,
    allocatable: scaleFloor(capacity, overprovisioning),
    disableThreshold,
    source: sp,
  };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Compiles the inventory. Never throws for bad objects: they land in `problems`. */
export function buildInventory(
  hostPools: readonly HostPool[],
  storagePools: readonly StoragePool[] = [],
): Inventory {
  const problems: InventoryProblem[] = [];
  const pools: PoolInfo[] = [];
  const hosts: HostInfo[] = [];
  const poolByName = new Map<string, PoolInfo>();
  const hostByKey = new Map<string, HostInfo>();
  const resourceNames = new Set<string>();

  for (const hp of [...hostPools].sort(byName)) {
    const name = hp?.metadata?.name;
    if (typeof name !== 'string' || poolByName.has(name)) {
      problems.push({ kind: 'HostPool', name: String(name), message: 'missing or duplicate name' });
      continue;
    }
    let draft: PoolDraft;
    try {
      draft = compilePool(hp, problems);
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      problems.push({ kind: 'HostPool', name, message: err.message });
      continue;
    }
    const start = hosts.length;
    const poolHosts: HostInfo[] = [];
    const allocatable = new Map<string, bigint>();
    const pool: PoolInfo = {
      ...draft.info,
      hosts: poolHosts,
      index: pools.length,
      start,
      end: start + draft.hosts.length,
      allocatable,
    };
    for (const h of draft.hosts) {
      const host: HostInfo = { ...h, pool, index: hosts.length };
      poolHosts.push(host);
      hosts.push(host);
      hostByKey.set(host.key, host);
      for (const [res, v] of host.allocatable) {
        allocatable.set(res, (allocatable.get(res) ?? 0n) + v);
        resourceNames.add(res);
      }
    }
    pools.push(pool);
    poolByName.set(name, pool);
  }

  const storage: StoragePoolInfo[] = [];
  const storageByName = new Map<string, StoragePoolInfo>();
  const storageByHost = new Map<string, StoragePoolInfo[]>();
  const storageByHostPool = new Map<string, StoragePoolInfo[]>();
  const storageByZone = new Map<string, StoragePoolInfo[]>();
  for (const sp of [...storagePools].sort(byName)) {
    const name = sp?.metadata?.name;
    if (typeof name !== 'string' || storageByName.has(name)) {
      problems.push({
        kind: 'StoragePool',
        name: String(name),
        message: 'missing or duplicate name',
      });
      continue;
    }
    try {
      const info = compileStoragePool(sp, storage.length, poolByName);
      storage.push(info);
      storageByName.set(name, info);
      if (info.scope === 'Host') pushTo(storageByHost, info.host!, info);
      else if (info.scope === 'Cluster') pushTo(storageByHostPool, info.hostPool!, info);
      else pushTo(storageByZone, info.zone!, info);
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      problems.push({ kind: 'StoragePool', name, message: err.message });
    }
  }

  return {
    pools,
    poolByName,
    hosts,
    hostByKey,
    resources: sortResourceNames(resourceNames),
    storagePools: storage,
    storageByName,
    storageByHost,
    storageByHostPool,
    storageByZone,
    problems,
  };
}
