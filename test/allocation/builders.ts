// Test-object builders in the style of Kueue's utiltesting wrappers:
//   makeHostPool('rack-a').zone('z1').tags('ssd').host('h1', { cpu: '8', memory: '32Gi' }).obj()
//   makeRequest('team', 'web').count(2).resources({ cpu: '2' }).tags('ssd').obj()
// Every builder starts from a valid minimal object and each call changes one thing, so a table
// row reads as the difference that matters for its case.
import {
  Engine,
  Ledger,
  buildInventory,
  createChains,
  type AllocatorChains,
  type AllocatorConfig,
  type HostPool,
  type HostSpec,
  type PlacedNode,
  type Quantity,
  type ResourceMap,
  type ResourceRequest,
  type StoragePool,
  type VolumeRequest,
} from '../../src/allocation/index.js';

export class HostPoolWrapper {
  private readonly o: HostPool;

  constructor(name: string) {
    this.o = { metadata: { name }, spec: { zone: 'zone-a', hosts: [] } };
  }

  zone(zone: string): this {
    this.o.spec.zone = zone;
    return this;
  }
  pod(pod: string): this {
    this.o.spec.pod = pod;
    return this;
  }
  state(state: 'Enabled' | 'Disabled'): this {
    this.o.spec.state = state;
    return this;
  }
  labels(labels: Record<string, string>): this {
    this.o.metadata.labels = labels;
    return this;
  }
  tags(...tags: string[]): this {
    this.o.spec.tags = tags;
    return this;
  }
  overprovisioning(resource: string, ratio: number): this {
    (this.o.spec.overprovisioning ??= {})[resource] = ratio;
    return this;
  }
  reserved(reserved: ResourceMap): this {
    this.o.spec.reserved = reserved;
    return this;
  }
  disableThreshold(resource: string, fraction: number): this {
    (this.o.spec.disableThreshold ??= {})[resource] = fraction;
    return this;
  }
  /** Adds a host; the address defaults to a unique made-up one. */
  host(name: string, capacity: ResourceMap, extra: Partial<HostSpec> = {}): this {
    const i = this.o.spec.hosts.length + 1;
    this.o.spec.hosts.push({
      name,
      address: `10.0.${this.o.metadata.name.length}.${i}`,
      capacity,
      ...extra,
    });
    return this;
  }
  /** Adds n identical hosts named `<prefix>-0`…. */
  hosts(n: number, capacity: ResourceMap, extra: Partial<HostSpec> = {}, prefix = 'h'): this {
    for (let i = 0; i < n; i++) this.host(`${prefix}-${i}`, capacity, extra);
    return this;
  }
  obj(): HostPool {
    return structuredClone(this.o);
  }
}

export const makeHostPool = (name: string): HostPoolWrapper => new HostPoolWrapper(name);

export class StoragePoolWrapper {
  private readonly o: StoragePool;

  constructor(name: string) {
    this.o = { metadata: { name }, spec: { scope: 'Zone', zone: 'zone-a', capacity: '1Ti' } };
  }
  /** Host scope: the local disk of `<hostPool>/<host>`. */
  onHost(hostKey: string): this {
    this.o.spec = { ...this.o.spec, scope: 'Host', host: hostKey, zone: undefined };
    return this;
  }
  /** Cluster scope: shared by one HostPool. */
  ofPool(hostPool: string): this {
    this.o.spec = { ...this.o.spec, scope: 'Cluster', hostPool, zone: undefined };
    return this;
  }
  inZone(zone: string): this {
    this.o.spec = { ...this.o.spec, scope: 'Zone', zone };
    return this;
  }
  capacity(q: Quantity): this {
    this.o.spec.capacity = q;
    return this;
  }
  tags(...tags: string[]): this {
    this.o.spec.tags = tags;
    return this;
  }
  overprovisioning(r: number): this {
    this.o.spec.overprovisioning = r;
    return this;
  }
  disableThreshold(f: number): this {
    this.o.spec.disableThreshold = f;
    return this;
  }
  state(state: 'Enabled' | 'Disabled'): this {
    this.o.spec.state = state;
    return this;
  }
  obj(): StoragePool {
    const o = structuredClone(this.o);
    for (const k of Object.keys(o.spec) as Array<keyof StoragePool['spec']>)
      if (o.spec[k] === undefined) delete o.spec[k];
    return o;
  }
}

export const makeStoragePool = (name: string): StoragePoolWrapper => new StoragePoolWrapper(name);

export class RequestWrapper {
  private readonly o: ResourceRequest;

  constructor(namespace: string, name: string) {
    this.o = { metadata: { namespace, name }, spec: { count: 1 } };
  }
  count(n: number): this {
    this.o.spec.count = n;
    return this;
  }
  minCount(n: number): this {
    this.o.spec.minCount = n;
    return this;
  }
  resources(r: ResourceMap): this {
    this.o.spec.resources = r;
    return this;
  }
  tags(...tags: string[]): this {
    this.o.spec.tags = tags;
    return this;
  }
  volume(name: string, size: Quantity, extra: Partial<VolumeRequest> = {}): this {
    (this.o.spec.volumes ??= []).push({ name, size, ...extra });
    return this;
  }
  placement(p: NonNullable<ResourceRequest['spec']['placement']>): this {
    this.o.spec.placement = p;
    return this;
  }
  avoid(a: NonNullable<ResourceRequest['spec']['avoid']>): this {
    this.o.spec.avoid = a;
    return this;
  }
  maxNodesPerHost(n: number): this {
    this.o.spec.maxNodesPerHost = n;
    return this;
  }
  /** Recorded nodes in status (what the ledger is rebuilt from). */
  nodes(...nodes: PlacedNode[]): this {
    this.o.status = { nodes };
    return this;
  }
  obj(): ResourceRequest {
    return structuredClone(this.o);
  }
}

export const makeRequest = (namespace: string, name: string): RequestWrapper =>
  new RequestWrapper(namespace, name);

/** An engine over the given objects, with a ledger rebuilt from the requests' status. */
export function engineOf(
  pools: HostPool[],
  storage: StoragePool[] = [],
  requests: ResourceRequest[] = [],
): Engine {
  return new Engine(buildInventory(pools, storage), Ledger.fromRequests(requests));
}

/** Chains of built-ins by type; storage defaults to CloudStack's local → cluster → zone. */
export function chainsOf(
  host: Array<string | AllocatorConfig>,
  storage?: Array<string | AllocatorConfig>,
): AllocatorChains {
  const entry = (e: string | AllocatorConfig): AllocatorConfig =>
    typeof e === 'string' ? { type: e } : e;
  return createChains({ hostAllocators: host.map(entry), storageAllocators: storage?.map(entry) });
}

/** `pool/host` of each placement, in order. */
export function hostsOf(result: {
  placements: ReadonlyArray<{ hostPool: string; host: string }>;
}): string[] {
  return result.placements.map((p) => `${p.hostPool}/${p.host}`);
}
