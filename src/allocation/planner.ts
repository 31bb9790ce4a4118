// The planner for one node (docs/design.md#the-planner): walk the hosts in the chain's
// order; on each, place the volumes largest first, each on the first pool the storage chain
// returns that still has room counting this node's earlier volumes. The first host where every
// volume fits gets the node; a host that fails on storage goes into avoid as NoStorage.
//
// Chains: the first host allocator whose answer is non-empty wins, and the planner stays with it
// even if all of its hosts then fail on storage (CloudStack: the chain falls through only on an
// empty answer). Likewise, per volume, the first storage allocator with a non-empty answer wins.
import type { AllocatorChains, DeploymentPlan, HostAllocator, PlanningView } from './allocator.js';
import { ExcludeList } from './exclude.js';
import type { AllocatorAttempt } from './explanation.js';
import { BuiltinHostAllocator, recordRest } from './host-allocators.js';
import type { HostInfo, StoragePoolInfo } from './inventory.js';
import { formatQuantity } from './quantity.js';
import { countReason, formatReasonCounts, rejection } from './reasons.js';
import type { CompiledRequest, VolumeAsk } from './request.js';

export interface VolumePlacement {
  readonly volume: VolumeAsk;
  readonly pool: StoragePoolInfo;
}

export interface NodeOutcome {
  /** Set when the node was placed. */
  readonly host: HostInfo | undefined;
  readonly volumes: readonly VolumePlacement[];
  readonly allocator: string | undefined;
  readonly attempts: readonly AllocatorAttempt[];
  readonly avoid: ExcludeList;
  readonly storageReasons: Record<string, number>;
  /** On failure: hosts that fit the rules (0 with built-ins) and hosts in scope. */
  readonly hostsFit: number;
  readonly hostsTotal: number;
}

type VolumeResult = { ok: true; volumes: VolumePlacement[] } | { ok: false; detail: string };

/** Places every volume of one node from `host`, largest first (the request keeps them sorted). */
export function placeVolumes(
  host: HostInfo,
  request: CompiledRequest,
  plan: DeploymentPlan,
  chains: AllocatorChains,
  avoid: ExcludeList,
  storageReasons: Record<string, number>,
): VolumeResult {
  const pending = new Map<string, bigint>();
  const placed: VolumePlacement[] = [];
  const hostPlan: DeploymentPlan = { ...plan, host, pending };
  for (const volume of request.volumes) {
    // A fresh rejection record per volume: a pool too small for this volume may take the next.
    const volumeAvoid = avoid.fork();
    let chosen: StoragePoolInfo | undefined;
    for (const allocator of chains.storage) {
      const pools = allocator.allocateToPool(volume, request, hostPlan, volumeAvoid, -1);
      if (pools.length === 0) continue;
      for (const sp of pools) {
        // Re-check: a custom allocator may return a pool the rules refuse.
        const r = plan.view.checkStoragePool(sp, volume, request, host, volumeAvoid, pending);
        if (!r) {
          chosen = sp;
          break;
        }
        volumeAvoid.rejectStoragePool(sp, r);
      }
      break;
    }
    const counts: Record<string, number> = {};
    for (const r of volumeAvoid.rejectedStoragePools().values()) {
      countReason(counts, r);
      countReason(storageReasons, r);
    }
    if (!chosen) {
      const size = formatQuantity(volume.size, 'BinarySI');
      const why = formatReasonCounts(counts) || 'no storage pool offered';
      return { ok: false, detail: `volume ${volume.name} (${size}): ${why}` };
    }
    pending.set(chosen.name, (pending.get(chosen.name) ?? 0n) + volume.size);
    placed.push({ volume, pool: chosen });
  }
  return { ok: true, volumes: placed };
}

function reasonsSince(avoid: ExcludeList, skip: number): Record<string, number> {
  const counts: Record<string, number> = {};
  let i = 0;
  for (const e of avoid.rejectedHosts()) if (i++ >= skip) countReason(counts, e.rejection);
  return counts;
}

/** Plans one node; the caller reserves the outcome in the ledger. */
export function planNode(
  view: PlanningView,
  chains: AllocatorChains,
  request: CompiledRequest,
  nodeName: string,
  nodeIndex: number,
  hostsInScope: number,
): NodeOutcome {
  const avoid = new ExcludeList(request.avoid);
  const plan: DeploymentPlan = {
    view,
    nodeName,
    nodeIndex,
    zone: request.placement.zone,
    pod: request.placement.pod,
    hostPool: request.placement.hostPool,
    storagePool: request.placement.storagePool,
  };
  const storageReasons: Record<string, number> = {};
  const attempts: AllocatorAttempt[] = [];

  for (const allocator of chains.host) {
    const before = avoid.rejectedHostCount;
    const trusted = allocator instanceof BuiltinHostAllocator;
    const source = candidatesOf(allocator, request, plan, avoid);
    let offered = 0;
    let chosen: { host: HostInfo; volumes: VolumePlacement[] } | undefined;
    for (const host of source) {
      if (avoid.isHostRejected(host.key) || !view.inScope(host)) continue;
      offered++;
      if (!trusted) {
        const r = view.checkHost(host, request, avoid);
        if (r) {
          avoid.rejectHost(host, r);
          continue;
        }
      }
      if (request.volumes.length === 0) {
        chosen = { host, volumes: [] };
        break;
      }
      const v = placeVolumes(host, request, plan, chains, avoid, storageReasons);
      if (v.ok) {
        chosen = { host, volumes: v.volumes };
        break;
      }
      avoid.rejectHost(host, rejection('NoStorage', v.detail));
    }
    attempts.push({
      allocator: allocator.name,
      type: allocator.type,
      considered: avoid.rejectedHostCount - before + (chosen ? 1 : 0),
      chosen: chosen?.host.key,
      reasons: reasonsSince(avoid, before),
      ...(allocator.error === undefined ? {} : { error: allocator.error }),
    });
    if (chosen) {
      return {
        host: chosen.host,
        volumes: chosen.volumes,
        allocator: allocator.name,
        attempts,
        avoid,
        storageReasons,
        hostsFit: 1,
        hostsTotal: hostsInScope,
      };
    }
    if (offered > 0) break;
  }

  // No host: make the record complete (every host in scope gets its reason) so the summary
  // covers all of them, and report each allocator against that full picture.
  const hostsFit = recordRest(request, plan, avoid);
  const reasons = avoid.hostReasonCounts();
  return {
    host: undefined,
    volumes: [],
    allocator: undefined,
    attempts: attempts.map((a) => ({ ...a, considered: hostsInScope, reasons: { ...reasons } })),
    avoid,
    storageReasons,
    hostsFit,
    hostsTotal: hostsInScope,
  };
}

function candidatesOf(
  allocator: HostAllocator,
  request: CompiledRequest,
  plan: DeploymentPlan,
  avoid: ExcludeList,
): Iterable<HostInfo> {
  return allocator.candidates
    ? allocator.candidates(request, plan, avoid)
    : allocator.allocate(request, plan, avoid, -1);
}
