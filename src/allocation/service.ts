// The owner of the engine: one Engine, its inventory and its ledger per operator process. Hosts are
// physical, so every profile's `hosts` provisioners share one HostsBackend and can never book the
// same capacity twice; the controller and the simulator read pool usage and host availability from
// it. The `hosts` provisioner (src/provisioning/hosts/) puts it behind the provisioner contract;
// this file knows nothing of provisioners (allocation is a leaf: docs/layers.md).
import { Engine } from './engine.js';
import { buildInventory, type InventoryProblem } from './inventory.js';
import type { HostPool, ResourceRequest, StoragePool } from './model.js';
import { ownerKey } from './request.js';
import {
  affectedNodes,
  hostPoolUsage,
  storagePoolUsage,
  type AffectedNode,
  type HostPoolUsageStatus,
  type StoragePoolUsageStatus,
} from './usage.js';

/** Where a host stands for new placements and for the nodes already on it. */
export type HostAvailability =
  'Available' | 'Disabled' | 'Maintenance' | 'Missing' | 'PoolDisabled';

/** Only nodes that sit on a HostPool host hold HostPool capacity (docs/allocation.md, Ledger). */
export const onHost = (n: { hostPool?: unknown; host?: unknown }): boolean =>
  typeof n.hostPool === 'string' &&
  n.hostPool !== '' &&
  typeof n.host === 'string' &&
  n.host !== '';

export class HostsBackend {
  private readonly current: Engine;

  constructor() {
    this.current = new Engine(buildInventory([], []));
  }

  get engine(): Engine {
    return this.current;
  }

  /**
   * Swaps in the HostPools and StoragePools as they are now. Usage lives in the ledger and survives
   * (nodes on a host that vanished stay accounted until released). Returns the objects the engine
   * could not use, each left out while everything else stays usable.
   */
  setInventory(
    hostPools: readonly HostPool[],
    storagePools: readonly StoragePool[] = [],
  ): InventoryProblem[] {
    const inventory = buildInventory(hostPools, storagePools);
    this.current.setInventory(inventory);
    return [...inventory.problems];
  }

  /** Why the engine could not (fully) use that pool, for its Ready condition; undefined if fine. */
  problem(kind: 'HostPool' | 'StoragePool', name: string): string | undefined {
    const messages = this.current.inventory.problems
      .filter((p) => p.kind === kind && p.name === name)
      .map((p) => p.message);
    return messages.length ? messages.join('; ') : undefined;
  }

  /**
   * What a StoragePool names that the inventory lacks, for its Ready condition: the HostPool of a
   * Cluster- or Host-scope pool, the host of a Host-scope pool, the zone of a Zone-scope pool (a
   * zone exists while some HostPool is in it). A pool that names something invalid (left out of
   * the inventory, see its own status) is missing too. Undefined when everything is there, or
   * when the StoragePool itself is not in the inventory (`problem` says why).
   */
  /** Every StoragePool of the inventory that names something missing, by name. */
  danglingStoragePools(): Array<{ name: string; missing: string }> {
    const out: Array<{ name: string; missing: string }> = [];
    for (const name of [...this.current.inventory.storageByName.keys()].sort()) {
      const missing = this.missingReference(name);
      if (missing) out.push({ name, missing });
    }
    return out;
  }

  missingReference(storagePool: string): string | undefined {
    const inventory = this.current.inventory;
    const sp = inventory.storageByName.get(storagePool);
    if (!sp) return undefined;
    const hostPool = (name: string): string | undefined => {
      if (inventory.poolByName.has(name)) return undefined;
      const invalid = inventory.problems.some((p) => p.kind === 'HostPool' && p.name === name);
      return invalid
        ? `hostPool ${name} is invalid (see its Ready condition)`
        : `hostPool ${name} does not exist`;
    };
    if (sp.scope === 'Cluster') return hostPool(sp.hostPool!);
    if (sp.scope === 'Host') {
      const key = sp.host!;
      const slash = key.indexOf('/');
      const poolName = key.slice(0, slash);
      const hostName = key.slice(slash + 1);
      const missingPool = hostPool(poolName);
      if (missingPool) return missingPool;
      if (inventory.hostByKey.has(key)) return undefined;
      const declared = inventory.poolByName
        .get(poolName)!
        .source.spec.hosts.some((h) => h?.name === hostName);
      return declared
        ? `host ${hostName} of hostPool ${poolName} is invalid (see the HostPool's Ready condition)`
        : `host ${hostName} does not exist in hostPool ${poolName}`;
    }
    return inventory.pools.some((p) => p.zone === sp.zone)
      ? undefined
      : `zone ${sp.zone} does not exist: no HostPool is in it`;
  }

  /** A host's own state comes first: it is what makes the nodes on it Degraded. */
  hostAvailability(hostPool: string, host: string): HostAvailability {
    const info = this.current.inventory.hostByKey.get(`${hostPool}/${host}`);
    if (!info) return 'Missing';
    if (info.state === 'Disabled') return 'Disabled';
    if (info.state === 'Maintenance') return 'Maintenance';
    if (info.pool.state !== 'Enabled') return 'PoolDisabled';
    return 'Available';
  }

  /**
   * Accounts the request's `status.nodes` that sit on hosts (at start-up or on becoming leader).
   * Idempotent: nodes already held are left as they are. Returns records it could not account.
   */
  loadRequest(request: ResourceRequest): string[] {
    const ledger = this.current.ledger;
    const before = ledger.problems.length;
    const nodes = request?.status?.nodes;
    if (Array.isArray(nodes)) {
      ledger.loadRequest({
        ...request,
        status: { ...request.status, nodes: nodes.filter(onHost) },
      });
    } else {
      ledger.loadRequest({ ...request, status: { nodes: [] } });
    }
    return ledger.problems.slice(before);
  }

  /** Drops every reservation of a request (it vanished without its finalizer running). */
  releaseRequest(namespace: string, name: string): number {
    return this.current.ledger.releaseOwner(ownerKey(namespace, name)).length;
  }

  /**
   * Runs `fn` as if `owners` (`<namespace>/<name>`) held nothing, then gives them back exactly
   * what they held. Synchronous, so nothing else sees the ledger in between: a preemption's
   * what-if (which requests' removal would let another fit) costs no real release.
   */
  withoutOwners<T>(owners: readonly string[], fn: () => T): T {
    const ledger = this.current.ledger;
    const aside = owners.flatMap((o) => ledger.releaseOwner(o));
    try {
      return fn();
    } finally {
      // The same objects: a stack running for one of these owners releases its nodes by them.
      for (const e of aside) ledger.reinstate(e);
    }
  }

  hostPoolUsage(name: string): HostPoolUsageStatus | undefined {
    return hostPoolUsage(this.current, name);
  }

  storagePoolUsage(name: string): StoragePoolUsageStatus | undefined {
    return storagePoolUsage(this.current, name);
  }

  /** Nodes on Disabled, Maintenance or vanished hosts: their requests are Degraded. */
  affectedNodes(): AffectedNode[] {
    return affectedNodes(this.current);
  }
}
