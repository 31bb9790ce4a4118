// `fixedOrder` allocators: the engine-side stand-in for an allocator that answered ahead of time.
// Webhook and extender-module allocators cannot run inside the engine (it is synchronous and does
// no I/O), so the provisioning layer asks them first and puts their answer into the chain as
//   {type: 'fixedOrder', name, order: [names, best first], failed: {name: reason}, error?}
// (src/provisioning/hosts/extenders.ts). Here that answer becomes an allocator: it offers the named
// hosts (or storage pools) in the given order and records the extender's reasons in avoid. Like
// every allocator's answer, it is checked against the fit rules before anything is placed, so an
// extender can narrow and reorder but never overbook. An answer with `error` is no answer: the
// chain moves on.
import type { DeploymentPlan, HostAllocator, StorageAllocator } from './allocator.js';
import type { ExcludeList } from './exclude.js';
import type { HostInfo, StoragePoolInfo } from './inventory.js';
import type { AllocatorConfig } from './model.js';
import { REASON_CODES, type ReasonCode, type Rejection } from './reasons.js';
import type { CompiledRequest, VolumeAsk } from './request.js';
import { screenPools } from './storage-allocators.js';

export interface FixedOrderConfig extends AllocatorConfig {
  type: 'fixedOrder';
  /** Names that fit, best first: `<hostPool>/<host>` for hosts, pool names for storage. */
  order: readonly string[];
  /** Name → reason given by the extender ("PlacementMismatch", "Insufficient licenses/matlab"). */
  failed?: Readonly<Record<string, string>>;
  /** Set when the extender failed; the entry then answers nothing. */
  error?: string;
  /** `module` or `webhook`: what answered. */
  source?: string;
}

/**
 * The extender's reason as a rejection: counted under its own text; its code is the reason's
 * first word when that is a known code, else `Avoided` (the extender chose to leave it out).
 */
export function extenderRejection(reason: string): Rejection {
  const first = reason.split(' ', 1)[0] ?? '';
  const code = (REASON_CODES as readonly string[]).includes(first)
    ? (first as ReasonCode)
    : 'Avoided';
  return { code, reason };
}

function readConfig(entry: AllocatorConfig): FixedOrderConfig {
  const e = entry as Partial<FixedOrderConfig>;
  return {
    type: 'fixedOrder',
    name: entry.name,
    order: Array.isArray(e.order) ? e.order.filter((x): x is string => typeof x === 'string') : [],
    failed: e.failed && typeof e.failed === 'object' ? e.failed : {},
    error: typeof e.error === 'string' ? e.error : undefined,
    source: typeof e.source === 'string' ? e.source : undefined,
  };
}

export class FixedOrderHostAllocator implements HostAllocator {
  readonly type = 'fixedOrder';
  readonly name: string;
  readonly error: string | undefined;
  private readonly config: FixedOrderConfig;

  constructor(entry: AllocatorConfig) {
    this.config = readConfig(entry);
    this.name = entry.name ?? this.config.source ?? 'fixedOrder';
    this.error = this.config.error;
  }

  allocate(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): HostInfo[] {
    if (this.error !== undefined || returnUpTo === 0) return [];
    const byKey = plan.view.inventory.hostByKey;
    for (const [name, reason] of Object.entries(this.config.failed ?? {})) {
      const host = byKey.get(name);
      if (host && plan.view.inScope(host)) avoid.rejectHost(host, extenderRejection(reason));
    }
    const out: HostInfo[] = [];
    for (const name of this.config.order) {
      const host = byKey.get(name);
      if (!host || !plan.view.inScope(host) || avoid.isHostRejected(host.key)) continue;
      out.push(host);
      if (returnUpTo > 0 && out.length >= returnUpTo) break;
    }
    return out;
  }
}

export class FixedOrderStorageAllocator implements StorageAllocator {
  readonly type = 'fixedOrder';
  readonly name: string;
  readonly error: string | undefined;
  private readonly config: FixedOrderConfig;

  constructor(entry: AllocatorConfig) {
    this.config = readConfig(entry);
    this.name = entry.name ?? this.config.source ?? 'fixedOrder';
    this.error = this.config.error;
  }

  allocateToPool(
    volume: VolumeAsk,
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): StoragePoolInfo[] {
    const host = plan.host;
    if (this.error !== undefined || !host || returnUpTo === 0) return [];
    const byName = plan.view.inventory.storageByName;
    for (const [name, reason] of Object.entries(this.config.failed ?? {})) {
      const sp = byName.get(name);
      if (sp) avoid.rejectStoragePool(sp, extenderRejection(reason));
    }
    const ordered = this.config.order.flatMap((name) => byName.get(name) ?? []);
    return screenPools(ordered, volume, request, plan, avoid, returnUpTo);
  }
}
