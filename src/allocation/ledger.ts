// The ledger: how much of every host and storage pool is taken, and by which node.
// docs/design.md#the-status-is-the-ledger: Berth
// keeps the durable record in each request's `status.nodes`; this is its in-memory index, rebuilt
// from those records at start-up and updated as placements are reserved and released, so the
// engine answers from it instead of re-reading every request.
//
// Entries are keyed by owner (`<namespace>/<name>`) and node name. Usage is keyed by host key and
// pool name, not by inventory objects, so a host that disappears from its HostPool keeps its usage
// until its nodes are released (docs/allocation.md#ledger).
import { AllocationError, LedgerError } from './errors.js';
import type { PlacedNode, ResourceMap, ResourceRequest } from './model.js';
import { parseNonNegativeQuantity } from './quantity.js';
import { ownerKey } from './request.js';
import { accumulate, parseResources, type Resources, NO_RESOURCES } from './resources.js';

export interface LedgerVolume {
  readonly name: string;
  readonly storagePool: string;
  readonly size: bigint;
}

export interface LedgerEntry {
  readonly owner: string;
  readonly namespace: string;
  readonly node: string;
  readonly hostPool: string | undefined;
  readonly host: string | undefined;
  /** `<hostPool>/<host>` when the node sits on a HostPool host; such nodes hold `resources`. */
  readonly hostKey: string | undefined;
  readonly resources: Resources;
  readonly port: number | undefined;
  readonly volumes: readonly LedgerVolume[];
}

export interface ReserveInput {
  readonly namespace: string;
  readonly name: string;
  readonly node: string;
  readonly hostPool?: string;
  readonly host?: string;
  readonly resources?: Resources;
  readonly port?: number;
  readonly volumes?: readonly LedgerVolume[];
}

export interface HostUsage {
  readonly allocated: ReadonlyMap<string, bigint>;
  readonly nodes: number;
  /** Port → how many nodes hold it (more than one only in a corrupt record set). */
  readonly ports: ReadonlyMap<number, number>;
  /** Nodes per namespace (userDispersing, userConcentrated). */
  readonly namespaces: ReadonlyMap<string, number>;
  /** Nodes per owner (maxNodesPerHost). */
  readonly owners: ReadonlyMap<string, number>;
}

export interface StorageUsage {
  readonly allocated: bigint;
  readonly volumes: number;
}

/** What one reserve or release touched; the Engine re-indexes exactly these. */
export interface LedgerChange {
  readonly hostKey: string | undefined;
  readonly hostPool: string | undefined;
  readonly storagePools: readonly string[];
}

export type LedgerListener = (change: LedgerChange) => void;

interface MutableHostUsage {
  allocated: Map<string, bigint>;
  nodes: number;
  ports: Map<number, number>;
  namespaces: Map<string, number>;
  owners: Map<string, number>;
}

function bump<K>(map: Map<K, number>, key: K, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}

const EMPTY_HOST: HostUsage = {
  allocated: new Map(),
  nodes: 0,
  ports: new Map(),
  namespaces: new Map(),
  owners: new Map(),
};

export class Ledger {
  private readonly byOwner = new Map<string, Map<string, LedgerEntry>>();
  private readonly hosts = new Map<string, MutableHostUsage>();
  private readonly hostPools = new Map<string, Map<string, bigint>>();
  private readonly storage = new Map<string, { allocated: bigint; volumes: number }>();
  private readonly namespaceHosts = new Map<string, Map<string, number>>();
  private readonly listeners = new Set<LedgerListener>();
  /** Records that could not be accounted while loading, one line each. */
  readonly problems: string[] = [];

  /** A ledger holding every node recorded in the requests' `status.nodes`. */
  static fromRequests(requests: Iterable<ResourceRequest>): Ledger {
    const ledger = new Ledger();
    for (const r of requests) ledger.loadRequest(r);
    return ledger;
  }

  /**
   * Accounts every node of `request.status.nodes` (except `Released` ones) with the per-node
   * resources of its spec. Never throws on bad data: what cannot be used goes to `problems`.
   */
  loadRequest(request: ResourceRequest): void {
    const ns = request?.metadata?.namespace;
    const name = request?.metadata?.name;
    if (typeof ns !== 'string' || typeof name !== 'string') {
      this.problems.push('ResourceRequest without namespace/name skipped');
      return;
    }
    let resources: Resources = NO_RESOURCES;
    try {
      resources = parseResources(
        request.spec?.resources,
        `ResourceRequest ${ns}/${name}`,
        'spec.resources',
      );
    } catch (err) {
      if (!(err instanceof AllocationError)) throw err;
      this.problems.push(`${err.message} (its nodes are counted without resources)`);
    }
    for (const node of request.status?.nodes ?? []) {
      if (node?.state === 'Released') continue;
      try {
        this.restoreNode(ns, name, node, resources);
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        this.problems.push(
          `ResourceRequest ${ns}/${name}: node ${String(node?.name)}: ${err.message}`,
        );
      }
    }
  }

  /**
   * Accounts one recorded node; `resources` are the request's per-node resources (spec.resources).
   * Idempotent: a node the owner already holds is returned as it is, so restoring the records
   * again after a configuration reload does not count them twice.
   */
  restoreNode(
    namespace: string,
    name: string,
    node: PlacedNode,
    resources: Resources | ResourceMap,
  ): LedgerEntry {
    if (!node || typeof node.name !== 'string') throw new LedgerError('node without a name');
    const held = this.entry(ownerKey(namespace, name), node.name);
    if (held) return held;
    const parsed =
      resources instanceof Map
        ? resources
        : parseResources(
            resources as ResourceMap,
            `ResourceRequest ${namespace}/${name}`,
            'spec.resources',
          );
    const volumes: LedgerVolume[] = (node.volumes ?? []).map((v) => ({
      name: v.name,
      storagePool: v.storagePool,
      size: parseNonNegativeQuantity(v.size),
    }));
    const onHost = typeof node.hostPool === 'string' && typeof node.host === 'string';
    return this.reserve({
      namespace,
      name,
      node: node.name,
      hostPool: onHost ? node.hostPool : undefined,
      host: onHost ? node.host : undefined,
      // Nodes from other provisioners hold no HostPool capacity (docs/allocation.md#ledger).
      resources: onHost ? parsed : NO_RESOURCES,
      port: onHost && typeof node.port === 'number' ? node.port : undefined,
      volumes,
    });
  }

  /** Takes capacity for one node. Throws LedgerError when the owner already has that node. */
  reserve(input: ReserveInput): LedgerEntry {
    const owner = ownerKey(input.namespace, input.name);
    let nodes = this.byOwner.get(owner);
    if (nodes?.has(input.node))
      throw new LedgerError(`${owner} already holds node "${input.node}"`);
    const hostKey =
      input.hostPool !== undefined && input.host !== undefined
        ? `${input.hostPool}/${input.host}`
        : undefined;
    const entry: LedgerEntry = {
      owner,
      namespace: input.namespace,
      node: input.node,
      hostPool: hostKey ? input.hostPool : undefined,
      host: hostKey ? input.host : undefined,
      hostKey,
      resources: hostKey ? (input.resources ?? NO_RESOURCES) : NO_RESOURCES,
      port: hostKey ? input.port : undefined,
      volumes: input.volumes ?? [],
    };
    if (!nodes) {
      nodes = new Map();
      this.byOwner.set(owner, nodes);
    }
    nodes.set(entry.node, entry);
    this.apply(entry, 1);
    return entry;
  }

  /**
   * Puts back an entry `release` or `releaseOwner` returned, the same object: node handles
   * release only the entry they were made for (by identity), so a what-if that sets entries aside
   * must return these, not copies.
   */
  reinstate(entry: LedgerEntry): void {
    let nodes = this.byOwner.get(entry.owner);
    if (nodes?.has(entry.node))
      throw new LedgerError(`${entry.owner} already holds node "${entry.node}"`);
    if (!nodes) {
      nodes = new Map();
      this.byOwner.set(entry.owner, nodes);
    }
    nodes.set(entry.node, entry);
    this.apply(entry, 1);
  }

  /** Gives back one node's capacity; undefined when the ledger does not hold it. */
  release(owner: string, node: string): LedgerEntry | undefined {
    const nodes = this.byOwner.get(owner);
    const entry = nodes?.get(node);
    if (!nodes || !entry) return undefined;
    nodes.delete(node);
    if (nodes.size === 0) this.byOwner.delete(owner);
    this.apply(entry, -1);
    return entry;
  }

  /** Gives back every node of an owner (the `berth.dev/release` finalizer). */
  releaseOwner(owner: string): LedgerEntry[] {
    const nodes = [...(this.byOwner.get(owner)?.values() ?? [])];
    for (const e of nodes) this.release(owner, e.node);
    return nodes;
  }

  entry(owner: string, node: string): LedgerEntry | undefined {
    return this.byOwner.get(owner)?.get(node);
  }

  entriesOf(owner: string): LedgerEntry[] {
    return [...(this.byOwner.get(owner)?.values() ?? [])];
  }

  nodeCount(owner: string): number {
    return this.byOwner.get(owner)?.size ?? 0;
  }

  owners(): string[] {
    return [...this.byOwner.keys()];
  }

  *entries(): IterableIterator<LedgerEntry> {
    for (const nodes of this.byOwner.values()) yield* nodes.values();
  }

  hostUsage(hostKey: string): HostUsage {
    return this.hosts.get(hostKey) ?? EMPTY_HOST;
  }

  /** Hosts with any usage, including hosts no longer in the inventory. */
  usedHosts(): string[] {
    return [...this.hosts.keys()];
  }

  /** Σ allocated over the hosts of a HostPool (threshold numerator). */
  poolAllocated(hostPool: string): ReadonlyMap<string, bigint> {
    return this.hostPools.get(hostPool) ?? NO_RESOURCES;
  }

  storageUsage(storagePool: string): StorageUsage {
    return this.storage.get(storagePool) ?? { allocated: 0n, volumes: 0 };
  }

  usedStoragePools(): string[] {
    return [...this.storage.keys()];
  }

  /** Host key → nodes of that namespace on it. */
  namespaceUsage(namespace: string): ReadonlyMap<string, number> {
    return this.namespaceHosts.get(namespace) ?? new Map();
  }

  /** True when no node is held and every usage is zero. */
  isEmpty(): boolean {
    return (
      this.byOwner.size === 0 &&
      this.hosts.size === 0 &&
      this.hostPools.size === 0 &&
      this.storage.size === 0
    );
  }

  /** Called after every reserve and release; returns the unsubscribe function. */
  subscribe(listener: LedgerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(entry: LedgerEntry, sign: 1 | -1): void {
    const big = sign === 1 ? 1n : -1n;
    if (entry.hostKey !== undefined) {
      let u = this.hosts.get(entry.hostKey);
      if (!u) {
        u = {
          allocated: new Map(),
          nodes: 0,
          ports: new Map(),
          namespaces: new Map(),
          owners: new Map(),
        };
        this.hosts.set(entry.hostKey, u);
      }
      accumulate(u.allocated, entry.resources, big);
      u.nodes += sign;
      if (entry.port !== undefined) bump(u.ports, entry.port, sign);
      bump(u.namespaces, entry.namespace, sign);
      bump(u.owners, entry.owner, sign);
      // Usage that is back to nothing is dropped, so "release everything" leaves no entry at all.
      if (u.nodes === 0 && u.allocated.size === 0 && u.ports.size === 0)
        this.hosts.delete(entry.hostKey);

      let pool = this.hostPools.get(entry.hostPool!);
      if (!pool) {
        pool = new Map();
        this.hostPools.set(entry.hostPool!, pool);
      }
      accumulate(pool, entry.resources, big);
      if (pool.size === 0) this.hostPools.delete(entry.hostPool!);

      let ns = this.namespaceHosts.get(entry.namespace);
      if (!ns) {
        ns = new Map();
        this.namespaceHosts.set(entry.namespace, ns);
      }
      bump(ns, entry.hostKey, sign);
      if (ns.size === 0) this.namespaceHosts.delete(entry.namespace);
    }
    const touched: string[] = [];
    for (const v of entry.volumes) {
      const s = this.storage.get(v.storagePool) ?? { allocated: 0n, volumes: 0 };
      s.allocated += v.size * big;
      s.volumes += sign;
      if (s.allocated === 0n && s.volumes === 0) this.storage.delete(v.storagePool);
      else this.storage.set(v.storagePool, s);
      touched.push(v.storagePool);
    }
    if (this.listeners.size > 0) {
      const change: LedgerChange = {
        hostKey: entry.hostKey,
        hostPool: entry.hostPool,
        storagePools: touched,
      };
      for (const l of this.listeners) l(change);
    }
  }
}
