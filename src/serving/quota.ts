// TenantQuota arithmetic, pure: what a request holds against a quota, whether a quota covers a
// request, and the first limit an allocation would pass. `QuotaBook` adds the one piece of state
// the check needs to be atomic across workers: allocations in flight. A check and its
// reservation happen in one synchronous call, so two workers can never both pass a limit that
// only one of them fits (JavaScript runs one call at a time); the reservation is dropped once the
// allocation is on record (or did not happen).
import {
  QUOTA_NODES,
  QUOTA_STORAGE,
  profileOf,
  type ResourceRequest,
  type TenantQuota,
} from '../api/index.js';
import { formatFor, formatQuantity, NANOS_PER_UNIT, parseQuantity } from '../allocation/index.js';

export interface QuotaInfo {
  namespace: string;
  name: string;
  hard: Readonly<Record<string, string | number>>;
  profiles?: readonly string[];
  priorityClasses?: readonly string[];
}

export const quotaInfo = (q: TenantQuota): QuotaInfo => ({
  namespace: q.metadata.namespace ?? '',
  name: q.metadata.name,
  hard: q.spec.hard,
  ...(q.spec.profiles ? { profiles: q.spec.profiles } : {}),
  ...(q.spec.priorityClasses ? { priorityClasses: q.spec.priorityClasses } : {}),
});

export interface Violation {
  quota: string;
  resource: string;
  used: string;
  asked: string;
  hard: string;
  message: string;
}

/** Whether `q` counts `rr`: same namespace, and within its profile and class scopes. */
export function covers(q: QuotaInfo, rr: ResourceRequest): boolean {
  if ((rr.metadata.namespace ?? '') !== q.namespace) return false;
  if (q.profiles && !q.profiles.includes(profileOf(rr))) return false;
  if (q.priorityClasses) {
    const cls = rr.spec.priorityClassName;
    if (!cls || !q.priorityClasses.includes(cls)) return false;
  }
  return true;
}

/** Nodes of `rr` that still hold something: everything on record but what is Released. */
export const heldNodes = (rr: ResourceRequest): number =>
  (rr.status?.nodes ?? []).filter((n) => n.state !== 'Released').length;

/** What `nodes` nodes of `rr` hold, in nanos, for the resources `names` only. */
export function usageOf(
  rr: ResourceRequest,
  nodes: number,
  names: Iterable<string>,
): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const n = BigInt(nodes);
  for (const name of names) {
    let per = 0n;
    if (name === QUOTA_NODES) per = NANOS_PER_UNIT;
    else if (name === QUOTA_STORAGE)
      for (const v of rr.spec.volumes ?? []) per += parseQuantity(v.size);
    else {
      const asked = rr.spec.resources?.[name];
      if (asked !== undefined) per = parseQuantity(asked);
    }
    out.set(name, per * n);
  }
  return out;
}

const show = (name: string, nanos: bigint) => formatQuantity(nanos, formatFor(name));

/**
 * The first limit of `quotas` that `adding` more nodes of `rr` would pass, given what each quota
 * counts now (`used`). Quotas and resources are checked in name order, so the answer is stable.
 * A limit already passed (a quota lowered below usage) blocks only what would add to it.
 */
export function firstViolation(
  quotas: readonly QuotaInfo[],
  used: (q: QuotaInfo) => ReadonlyMap<string, bigint>,
  rr: ResourceRequest,
  adding: number,
): Violation | undefined {
  const sorted = [...quotas]
    .filter((q) => covers(q, rr))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const q of sorted) {
    const names = Object.keys(q.hard).sort();
    const ask = usageOf(rr, adding, names);
    const now = used(q);
    for (const name of names) {
      const asked = ask.get(name) ?? 0n;
      if (asked === 0n) continue;
      const hard = parseQuantity(q.hard[name]!);
      const u = now.get(name) ?? 0n;
      if (u + asked <= hard) continue;
      const v = {
        quota: `${q.namespace}/${q.name}`,
        resource: name,
        used: show(name, u),
        asked: show(name, asked),
        hard: show(name, hard),
      };
      return {
        ...v,
        message: `TenantQuota ${v.quota}: ${name} used ${v.used} + asked ${v.asked} would exceed hard ${v.hard}`,
      };
    }
  }
  return undefined;
}

/** What `q` counts over `requests` (with what is in flight for them added by the caller). */
export function usedBy(q: QuotaInfo, requests: Iterable<ResourceRequest>): Map<string, bigint> {
  const names = Object.keys(q.hard);
  const total = new Map<string, bigint>(names.map((n) => [n, 0n]));
  for (const rr of requests) {
    if (!covers(q, rr)) continue;
    const nodes = heldNodes(rr);
    if (nodes === 0) continue;
    for (const [name, v] of usageOf(rr, nodes, names)) total.set(name, total.get(name)! + v);
  }
  return total;
}

/** `cpu: 6/8, nodes: 3/4`: used over hard, in name order, for the printer column. */
export function quotaSummary(q: QuotaInfo, used: ReadonlyMap<string, bigint>): string {
  return Object.keys(q.hard)
    .sort()
    .map(
      (name) =>
        `${name}: ${show(name, used.get(name) ?? 0n)}/${show(name, parseQuantity(q.hard[name]!))}`,
    )
    .join(', ');
}

export const formatUsage = (used: ReadonlyMap<string, bigint>): Record<string, string> =>
  Object.fromEntries([...used.keys()].sort().map((name) => [name, show(name, used.get(name)!)]));

export interface QuotaSource {
  /** The quotas of a namespace. */
  quotas(namespace: string): readonly QuotaInfo[];
  /** The requests of a namespace as they now are (our own writes included). */
  requests(namespace: string): Iterable<ResourceRequest>;
}

/**
 * Quota checks with the allocations in flight counted: `reserve` checks and, when nothing is
 * passed, holds the ask until `release` (call it once the nodes are on record, or were not made).
 */
export class QuotaBook {
  private readonly inflight = new Map<number, { rr: ResourceRequest; adding: number }>();
  private next = 0;

  constructor(private readonly source: QuotaSource) {}

  reserve(
    rr: ResourceRequest,
    adding: number,
  ):
    | { ok: true; release: () => void }
    | { ok: false; violation: Violation }
    | { ok: false; contended: true } {
    const ns = rr.metadata.namespace ?? '';
    const quotas = this.source.quotas(ns);
    if (quotas.length === 0 || adding <= 0) return { ok: true, release: () => {} };
    const violation = firstViolation(quotas, (q) => this.used(q), rr, adding);
    if (violation) {
      // Only allocations in flight stand in the way, and they may come to nothing: not a
      // verdict to write on the request (it would stay until usage drops), but a wait.
      const recorded = firstViolation(
        quotas,
        (q) => usedBy(q, this.source.requests(q.namespace)),
        rr,
        adding,
      );
      return recorded ? { ok: false, violation: recorded } : { ok: false, contended: true };
    }
    const id = this.next++;
    this.inflight.set(id, { rr, adding });
    return { ok: true, release: () => void this.inflight.delete(id) };
  }

  /** What `q` counts now: the namespace's requests on record plus the allocations in flight. */
  used(q: QuotaInfo): Map<string, bigint> {
    const total = usedBy(q, this.source.requests(q.namespace));
    const names = Object.keys(q.hard);
    for (const { rr, adding } of this.inflight.values()) {
      if (!covers(q, rr)) continue;
      for (const [name, v] of usageOf(rr, adding, names)) total.set(name, total.get(name)! + v);
    }
    return total;
  }

  /** Allocations in flight (for tests). */
  inFlight(): number {
    return this.inflight.size;
  }
}
