// CloudStack's ExcludeList: what a plan must not use, and why each candidate was turned down.
// It holds two things:
//   - the avoid sets (zones, pods, hostPools, hosts, storagePools), seeded from the request's
//     `spec.avoid` and hierarchical: avoiding a zone avoids every pod, pool, host and storage pool
//     in it;
//   - every rejection the allocators and the planner made, with its reason, so the explanation is
//     computed from the same data that drove the decision.
// One ExcludeList lives for the planning of one node; a chain's allocators all share it.
import type { HostInfo, PoolInfo, StoragePoolInfo } from './inventory.js';
import { countReason, rejection, type Rejection } from './reasons.js';
import type { AvoidSets } from './request.js';

export interface HostRejectionEntry {
  readonly host: HostInfo;
  readonly rejection: Rejection;
}

const NONE: ReadonlySet<string> = new Set();

export class ExcludeList {
  // The request's avoid sets are shared read-only and copied only when an allocator adds to one:
  // one ExcludeList is made per node planned, and most never grow.
  private zones: ReadonlySet<string>;
  private pods: ReadonlySet<string>;
  private hostPools: ReadonlySet<string>;
  private hostKeys: ReadonlySet<string>;
  private storagePools: ReadonlySet<string>;
  private readonly hostRejections = new Map<string, HostRejectionEntry>();
  private readonly storageRejections = new Map<string, Rejection>();

  constructor(avoid?: AvoidSets) {
    this.zones = avoid?.zones ?? NONE;
    this.pods = avoid?.pods ?? NONE;
    this.hostPools = avoid?.hostPools ?? NONE;
    this.hostKeys = avoid?.hosts ?? NONE;
    this.storagePools = avoid?.storagePools ?? NONE;
  }

  addZone(zone: string): void {
    this.zones = new Set([...this.zones, zone]);
  }
  addPod(pod: string): void {
    this.pods = new Set([...this.pods, pod]);
  }
  addHostPool(name: string): void {
    this.hostPools = new Set([...this.hostPools, name]);
  }
  /** Avoid a host for any reason outside the fit rules (`<hostPool>/<host>`). */
  addHostKey(key: string): void {
    this.hostKeys = new Set([...this.hostKeys, key]);
  }
  addStoragePoolName(name: string): void {
    this.storagePools = new Set([...this.storagePools, name]);
  }

  /** Whether the pool lies in an avoided zone or pod, or is avoided itself. */
  avoidsPool(pool: PoolInfo): boolean {
    return (
      this.zones.has(pool.zone) ||
      (pool.pod !== undefined && this.pods.has(pool.pod)) ||
      this.hostPools.has(pool.name)
    );
  }

  /** Hierarchical: the host's zone, pod, pool or the host itself. */
  avoidsHost(host: HostInfo): boolean {
    return this.hostKeys.has(host.key) || this.avoidsPool(host.pool);
  }

  /** Hierarchical: the storage pool's zone, pod, HostPool, host, or the pool itself. */
  avoidsStoragePool(sp: StoragePoolInfo): boolean {
    return (
      this.storagePools.has(sp.name) ||
      (sp.zone !== undefined && this.zones.has(sp.zone)) ||
      (sp.pod !== undefined && this.pods.has(sp.pod)) ||
      (sp.hostPool !== undefined && this.hostPools.has(sp.hostPool)) ||
      (sp.host !== undefined && this.hostKeys.has(sp.host))
    );
  }

  /** True when any location-level avoid is set (lets the index skip whole pools). */
  hasLocationAvoids(): boolean {
    return this.zones.size > 0 || this.pods.size > 0 || this.hostPools.size > 0;
  }

  /** Records a rejected host. The first reason recorded for a host is kept. */
  rejectHost(host: HostInfo, r: Rejection): void {
    if (!this.hostRejections.has(host.key))
      this.hostRejections.set(host.key, { host, rejection: r });
  }

  /** Records an avoided host (`Avoided`), the CloudStack `avoid.addHost`. */
  addHost(host: HostInfo, r: Rejection = rejection('Avoided')): void {
    this.rejectHost(host, r);
  }

  hostRejection(key: string): Rejection | undefined {
    return this.hostRejections.get(key)?.rejection;
  }

  isHostRejected(key: string): boolean {
    return this.hostRejections.has(key);
  }

  get rejectedHostCount(): number {
    return this.hostRejections.size;
  }

  rejectedHosts(): IterableIterator<HostRejectionEntry> {
    return this.hostRejections.values();
  }

  /** Rejections counted by reason text. */
  hostReasonCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const e of this.hostRejections.values()) countReason(counts, e.rejection);
    return counts;
  }

  rejectStoragePool(sp: StoragePoolInfo, r: Rejection): void {
    if (!this.storageRejections.has(sp.name)) this.storageRejections.set(sp.name, r);
  }

  storageRejection(name: string): Rejection | undefined {
    return this.storageRejections.get(name);
  }

  rejectedStoragePools(): ReadonlyMap<string, Rejection> {
    return this.storageRejections;
  }

  /**
   * The same avoid sets with no recorded rejections. The planner gives each host it tries a fork
   * for storage: a pool too full while trying one host may have room on the next, because this
   * node's other volumes may land elsewhere.
   */
  fork(): ExcludeList {
    return new ExcludeList({
      zones: this.zones,
      pods: this.pods,
      hostPools: this.hostPools,
      hosts: this.hostKeys,
      storagePools: this.storagePools,
    });
  }
}
