// The allocator contracts (docs/design.md#semantics), shared by the built-ins and by custom
// allocators (a `module` entry of the operator configuration). Both are synchronous and pure:
// everything they may look at comes in through the plan's view.
//
//   host allocator    allocate(request, plan, avoid, returnUpTo) → hosts, in order
//   storage allocator allocateToPool(volume, request, plan, avoid, returnUpTo) → pools, in order
//
// `returnUpTo` −1 means all. An allocator adds every candidate it turns down to `avoid` with its
// reason. Whatever an allocator returns is checked again against the fit rules before a node is
// placed, so a custom allocator can reorder or narrow, never break an invariant.
import type { ExcludeList } from './exclude.js';
import type { HostCursor } from './indexes/host-index.js';
import type { HostInfo, Inventory, StoragePoolInfo } from './inventory.js';
import type { Ledger } from './ledger.js';
import type { Rejection } from './reasons.js';
import type { CompiledRequest, VolumeAsk } from './request.js';

/** Read-only access to the engine's state, for allocators. */
export interface PlanningView {
  readonly inventory: Inventory;
  readonly ledger: Ledger;
  /** Whether the host belongs to the pools this plan may use (the provisioner's selector). */
  inScope(host: HostInfo): boolean;
  /** The fit rules for one host; null when it fits. */
  checkHost(host: HostInfo, request: CompiledRequest, avoid: ExcludeList): Rejection | null;
  /** The storage fit rules for one pool from one host; null when it fits. */
  checkStoragePool(
    sp: StoragePoolInfo,
    volume: VolumeAsk,
    request: CompiledRequest,
    host: HostInfo,
    avoid: ExcludeList,
    pending?: ReadonlyMap<string, bigint>,
  ): Rejection | null;
  /** Index-backed orders for the built-ins (host indices into inventory.hosts). */
  queries(request: CompiledRequest): HostQueries;
}

export interface HostQueries {
  /** Declared order (pools by name, hosts as declared), skipping hosts that cannot fit. */
  declared(skip?: (hostIndex: number) => boolean): HostCursor;
  /** By free amount of the request's primary resource; equal amounts in declared order. */
  byFree(direction: 'asc' | 'desc'): Iterable<number>;
}

/** CloudStack's DeploymentPlan: where the request wants to go, and what is being placed. */
export interface DeploymentPlan {
  readonly view: PlanningView;
  /** Name of the node being placed, and its position among the nodes of this planning call. */
  readonly nodeName: string;
  readonly nodeIndex: number;
  readonly zone: string | undefined;
  readonly pod: string | undefined;
  readonly hostPool: string | undefined;
  readonly storagePool: string | undefined;
  /** Storage allocation only: the host the volumes are being placed for. */
  readonly host?: HostInfo;
  /** Storage allocation only: what this node's earlier volumes take, per storage pool. */
  readonly pending?: ReadonlyMap<string, bigint>;
}

export interface HostAllocator {
  /** Name in explanations: the config entry's `name`, else its type. */
  readonly name: string;
  readonly type: string;
  /** Why it has no answer (a failed extender), shown with its attempt in the explanation. */
  readonly error?: string;
  allocate(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): HostInfo[];
  /**
   * Optional lazy form of `allocate(…, −1)`: the planner takes hosts one at a time and stops at
   * the first where the volumes fit, so an allocator that can produce its order lazily (the
   * built-ins, from the index) never looks at more hosts than needed.
   */
  candidates?(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
  ): Iterable<HostInfo>;
}

export interface StorageAllocator {
  readonly name: string;
  readonly type: string;
  readonly error?: string;
  allocateToPool(
    volume: VolumeAsk,
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): StoragePoolInfo[];
}

/** A profile's allocators: each list is a chain (the first non-empty answer wins). */
export interface AllocatorChains {
  readonly host: readonly HostAllocator[];
  readonly storage: readonly StorageAllocator[];
}
