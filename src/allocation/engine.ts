// The engine: an inventory, a ledger and the indexes that join them, behind the one call the
// provisioning layer makes — plan nodes for a request. It is pure and deterministic: no I/O, no
// clock, randomness only from configured seeds.
//
// planNodes reserves as it goes: each placed node is in the ledger before the next node is
// planned (so node 2 sees node 1), and stays there when the call returns. The caller gives a node
// back with `ledger.release(owner, node)` (the provisioning layer's `node.release()`, or the stack
// dropping a shortfall below minCount). `dryRun` plans the same way and releases before returning.
import type { AllocatorChains, DeploymentPlan, HostQueries, PlanningView } from './allocator.js';
import { ExcludeList } from './exclude.js';
import {
  DEFAULT_MAX_HOST_REASONS,
  hostReasons,
  summaryLine,
  type Explanation,
} from './explanation.js';
import { checkHost, checkStoragePool, lowestFreePort, poolPlacementRejection } from './fit.js';
import { HostIndex, type IndexQuery } from './indexes/host-index.js';
import type { HostInfo, Inventory, PoolInfo, StoragePoolInfo } from './inventory.js';
import { Ledger, type LedgerChange } from './ledger.js';
import type { Quantity, ResourceRequest } from './model.js';
import { planNode } from './planner.js';
import type { Rejection } from './reasons.js';
import { compileRequest, type CompiledRequest, type VolumeAsk } from './request.js';

export interface PlanOptions {
  /**
   * Names of the nodes to place, in order; their number is the count asked. The provisioning
   * stack names nodes (`<request>-<index>`); without names, `count` nodes are named that way here.
   */
  readonly names?: readonly string[];
  /** How many nodes to place when `names` is absent; default: what the request still lacks. */
  readonly count?: number;
  /** Which HostPools this plan may use (a provisioner's hostPoolSelector); default: all. */
  readonly scope?: (pool: PoolInfo) => boolean;
  /** Plan without keeping the reservations (`berth explain`, the simulator's what-ifs). */
  readonly dryRun?: boolean;
  /** Cap of the host → reason list (default 20). */
  readonly maxHostReasons?: number;
}

export interface PlacedVolume {
  readonly name: string;
  readonly storagePool: string;
  readonly size: Quantity;
}

/** One node placed on a host: the fields of a `status.nodes` entry the engine decides. */
export interface Placement {
  /** `<namespace>/<name>` of the request: with `name`, the ledger key to release it by. */
  readonly owner: string;
  readonly name: string;
  readonly hostPool: string;
  readonly host: string;
  readonly address: string;
  readonly port?: number;
  readonly zone: string;
  readonly pod?: string;
  readonly volumes: readonly PlacedVolume[];
  /** The host allocator that chose the host. */
  readonly allocator: string;
}

export interface PlanResult {
  readonly placements: readonly Placement[];
  /** True when every node asked for was placed. */
  readonly complete: boolean;
  readonly explanation: Explanation;
}

export class Engine implements PlanningView {
  private current: Inventory;
  private index: HostIndex;
  private readonly detach: () => void;
  // Per planning call: which pools are in scope, and the prepared index query.
  private scopeFlags: Uint8Array | undefined;
  private queryCache: { request: CompiledRequest; query: IndexQuery } | undefined;

  constructor(
    inventory: Inventory,
    readonly ledger: Ledger = new Ledger(),
  ) {
    this.current = inventory;
    this.index = new HostIndex(inventory, ledger);
    this.detach = ledger.subscribe((c) => this.onLedgerChange(c));
  }

  get inventory(): Inventory {
    return this.current;
  }

  /**
   * Swaps in an edited inventory (pools added, edited, removed). Usage stays in the ledger, so
   * nodes on a host that disappeared are still accounted until they are released, and come back
   * into view if the host returns.
   */
  setInventory(inventory: Inventory): void {
    this.current = inventory;
    this.index = new HostIndex(inventory, this.ledger);
    this.queryCache = undefined;
  }

  /** Stops following the ledger (an engine replaced by another one on the same ledger). */
  dispose(): void {
    this.detach();
  }

  private onLedgerChange(change: LedgerChange): void {
    if (change.hostKey === undefined) return;
    const host = this.current.hostByKey.get(change.hostKey);
    if (host) this.index.refresh(host);
  }

  // --- PlanningView -------------------------------------------------------------------------

  inScope(host: HostInfo): boolean {
    return !this.scopeFlags || this.scopeFlags[host.pool.index] === 1;
  }

  checkHost(host: HostInfo, request: CompiledRequest, avoid: ExcludeList): Rejection | null {
    return checkHost(host, request, avoid, this.ledger);
  }

  checkStoragePool(
    sp: StoragePoolInfo,
    volume: VolumeAsk,
    request: CompiledRequest,
    host: HostInfo,
    avoid: ExcludeList,
    pending: ReadonlyMap<string, bigint> = new Map(),
  ): Rejection | null {
    return checkStoragePool(sp, volume, request, host, avoid, this.ledger, pending);
  }

  queries(request: CompiledRequest): HostQueries {
    let cached = this.queryCache;
    if (!cached || cached.request !== request) {
      cached = { request, query: this.prepare(request) };
      this.queryCache = cached;
    }
    const query = cached.query;
    const index = this.index;
    return {
      declared: (skip) => index.declared(query, skip),
      byFree: (direction) => index.byFree(query, direction),
    };
  }

  /** The index query for a request: its tags, asks, and the pools it may use at all. */
  private prepare(request: CompiledRequest): IndexQuery {
    const restricted =
      this.scopeFlags !== undefined ||
      request.placement.zone !== undefined ||
      request.placement.pod !== undefined ||
      request.placement.hostPool !== undefined ||
      request.avoid.zones.size > 0 ||
      request.avoid.pods.size > 0 ||
      request.avoid.hostPools.size > 0;
    let allowed: PoolInfo[] | undefined;
    if (restricted) {
      allowed = this.current.pools.filter(
        (p) =>
          (!this.scopeFlags || this.scopeFlags[p.index] === 1) &&
          p.state === 'Enabled' &&
          !poolPlacementRejection(p, request) &&
          !request.avoid.zones.has(p.zone) &&
          !(p.pod !== undefined && request.avoid.pods.has(p.pod)) &&
          !request.avoid.hostPools.has(p.name),
      );
    }
    return this.index.prepare(request.tags, request.resources, request.primary, allowed);
  }

  // --- Planning ---------------------------------------------------------------------------

  /**
   * The arguments an allocator is called with for one node of `request`, for calling allocators
   * directly (tests, `berth explain`, custom allocator development). Nothing is reserved.
   */
  planContext(
    request: ResourceRequest | CompiledRequest,
    nodeName = 'node-0',
  ): { request: CompiledRequest; plan: DeploymentPlan; avoid: ExcludeList } {
    const req = 'owner' in request ? request : compileRequest(request);
    this.scopeFlags = undefined;
    this.queryCache = undefined;
    return {
      request: req,
      plan: {
        view: this,
        nodeName,
        nodeIndex: 0,
        zone: req.placement.zone,
        pod: req.placement.pod,
        hostPool: req.placement.hostPool,
        storagePool: req.placement.storagePool,
      },
      avoid: new ExcludeList(req.avoid),
    };
  }

  /** Places nodes for `request`; see planNodes. */
  plan(
    request: ResourceRequest | CompiledRequest,
    chains: AllocatorChains,
    options: PlanOptions = {},
  ): PlanResult {
    const req = 'owner' in request ? request : compileRequest(request);
    const held = this.ledger.nodeCount(req.owner);
    // Invariant 3: never more than spec.count nodes for one request, whatever the caller asks.
    const room = Math.max(0, req.count - held);
    const asked = options.names?.length ?? options.count ?? room;
    const count = Math.min(asked, room);
    const names = options.names ? options.names.slice(0, count) : this.defaultNames(req, count);
    const maxReasons = options.maxHostReasons ?? DEFAULT_MAX_HOST_REASONS;

    this.scopeFlags = options.scope
      ? Uint8Array.from(this.current.pools, (p) => (options.scope!(p) ? 1 : 0))
      : undefined;
    this.queryCache = undefined;
    const hostsInScope = this.scopeFlags
      ? this.current.pools.reduce((n, p) => n + (this.scopeFlags![p.index] ? p.hosts.length : 0), 0)
      : this.current.hosts.length;

    const placements: Placement[] = [];
    let explanation: Explanation | undefined;
    try {
      for (let i = 0; i < names.length; i++) {
        const nodeName = names[i]!;
        const outcome = planNode(this, chains, req, nodeName, i, hostsInScope);
        const host = outcome.host;
        if (!host) {
          const { hosts, omitted } = hostReasons(outcome.avoid, maxReasons);
          explanation = {
            requested: asked,
            placed: placements.length,
            summary: summaryLine(
              outcome.hostsFit,
              outcome.hostsTotal,
              outcome.avoid.hostReasonCounts(),
            ),
            hostsFit: outcome.hostsFit,
            hostsTotal: outcome.hostsTotal,
            reasons: outcome.avoid.hostReasonCounts(),
            allocators: outcome.attempts,
            storage: outcome.storageReasons,
            hosts,
            omittedHosts: omitted,
          };
          break;
        }
        const port = lowestFreePort(host, this.ledger.hostUsage(host.key).ports);
        const volumes = outcome.volumes.map((v) => ({
          name: v.volume.name,
          storagePool: v.pool.name,
          size: v.volume.size,
        }));
        this.ledger.reserve({
          namespace: req.namespace,
          name: req.name,
          node: nodeName,
          hostPool: host.pool.name,
          host: host.name,
          resources: req.resources,
          port,
          volumes,
        });
        placements.push({
          owner: req.owner,
          name: nodeName,
          hostPool: host.pool.name,
          host: host.name,
          address: host.address,
          ...(port === undefined ? {} : { port }),
          zone: host.pool.zone,
          ...(host.pool.pod === undefined ? {} : { pod: host.pool.pod }),
          volumes: outcome.volumes.map((v) => ({
            name: v.volume.name,
            storagePool: v.pool.name,
            size: v.volume.sizeText,
          })),
          allocator: outcome.allocator!,
        });
        if (i === names.length - 1) {
          const { hosts, omitted } = hostReasons(outcome.avoid, maxReasons);
          explanation = {
            requested: asked,
            placed: placements.length,
            summary: `${placements.length}/${asked} nodes placed`,
            hostsFit: outcome.hostsFit,
            hostsTotal: outcome.hostsTotal,
            reasons: outcome.avoid.hostReasonCounts(),
            allocators: outcome.attempts,
            storage: outcome.storageReasons,
            hosts,
            omittedHosts: omitted,
          };
        }
      }
    } catch (err) {
      // A plan is all the caller sees or nothing: never leave half a call's reservations behind.
      for (const p of placements) this.ledger.release(req.owner, p.name);
      placements.length = 0;
      throw err;
    } finally {
      if (options.dryRun) for (const p of placements) this.ledger.release(req.owner, p.name);
      this.scopeFlags = undefined;
      this.queryCache = undefined;
    }
    explanation ??= {
      requested: asked,
      placed: 0,
      summary:
        asked > count
          ? `0/${asked} nodes placed: the request already holds ${held}/${req.count}`
          : '0/0 nodes placed',
      hostsFit: 0,
      hostsTotal: hostsInScope,
      reasons: {},
      allocators: [],
      storage: {},
      hosts: [],
      omittedHosts: 0,
    };
    return { placements, complete: placements.length === asked, explanation };
  }

  /** `<request>-<i>` for the lowest indices the owner does not hold yet. */
  private defaultNames(req: CompiledRequest, count: number): string[] {
    const names: string[] = [];
    for (let i = 0; names.length < count; i++) {
      const name = `${req.name}-${i}`;
      if (!this.ledger.entry(req.owner, name)) names.push(name);
    }
    return names;
  }
}

/**
 * Plans (and reserves) up to `names.length` (or `count`) nodes for a request. Throws
 * InvalidSpecError for a request the engine cannot read; everything else — including "nothing
 * fits" — is an answer, with its explanation.
 */
export function planNodes(
  engine: Engine,
  request: ResourceRequest,
  chains: AllocatorChains,
  options: PlanOptions = {},
): PlanResult {
  return engine.plan(request, chains, options);
}
