// Which bound requests a Pending one may preempt, as a pure choice over an oracle. kube-scheduler's
// rules: only requests of strictly lower priority; lowest priority first, then the most recently
// bound; never when the request would not fit even with every candidate gone; and no victim that
// can be spared (after the shortest prefix that fits is found, each victim, highest priority
// first, is given back its place when the request still fits without taking it).
//
// `fits(victims)` answers whether the request would be served with those requests' nodes gone; the
// controller asks the engine with their reservations set aside (a dry run). It must be monotone —
// taking more away never makes a fit fail — which holding capacity is.
import type { ResourceRequest } from '../api/index.js';
import { profileOf, type ServingView } from './request-lifecycle.js';
import { isLive } from './request-status.js';

export interface Candidate {
  key: string;
  priority: number;
  /** When it was bound (its startTime): the most recent goes first among equals. */
  boundAt: string;
  /** Its creationTimestamp: within the same second of binding, the newest goes first. */
  created?: string;
}

const later = (a: string, b: string) => (a > b ? -1 : a < b ? 1 : 0);

/** Beyond this many victims, no reprieve: the what-ifs would cost their square. */
export const MAX_REPRIEVE = 64;

/** The order victims are taken in. */
export const victimOrder = (a: Candidate, b: Candidate): number =>
  a.priority - b.priority ||
  later(a.boundAt, b.boundAt) ||
  later(a.created ?? '', b.created ?? '') ||
  (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The victims for a request of priority `priority`, or undefined when preempting cannot serve
 * it. Candidates not strictly lower are ignored.
 */
export function chooseVictims(
  priority: number,
  candidates: readonly Candidate[],
  fits: (victims: readonly Candidate[]) => boolean,
): Candidate[] | undefined {
  const ordered = candidates.filter((c) => c.priority < priority).sort(victimOrder);
  if (ordered.length === 0 || !fits(ordered)) return undefined;
  // The shortest prefix that fits (fits is monotone, so a binary search finds it).
  let lo = 1;
  let hi = ordered.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (fits(ordered.slice(0, mid))) hi = mid;
    else lo = mid + 1;
  }
  let victims = ordered.slice(0, lo);
  // Reprieve: the last taken (highest priority, least recently bound) first. Each try is a
  // what-if over the whole set, so past MAX_REPRIEVE victims the prefix stands as chosen: in
  // order, though maybe not minimal.
  if (victims.length > MAX_REPRIEVE) return victims;
  for (let i = victims.length - 1; i >= 0; i--) {
    const without = victims.filter((_, j) => j !== i);
    if (fits(without)) victims = without;
  }
  return victims;
}

const onHost = (n: { hostPool?: string; host?: string }) => !!n.hostPool && !!n.host;
const keyOf = (rr: ResourceRequest) => `${rr.metadata.namespace ?? ''}/${rr.metadata.name}`;

/**
 * Bound requests `rr` may preempt: strictly lower priority, of a preemptible profile, not being
 * deleted or preempted already, and holding only capacity the engine owns (nodes on HostPool
 * hosts; a node of an external provisioner cannot be taken back by the engine's what-if).
 */
export function candidatesFor(
  requests: Iterable<ResourceRequest>,
  rr: ResourceRequest,
  priority: number,
  view: ServingView,
): Candidate[] {
  const key = keyOf(rr);
  const q = view.queue;
  const out: Candidate[] = [];
  for (const other of requests) {
    const k = keyOf(other);
    if (k === key || other.metadata.deletionTimestamp || other.status?.phase === 'Expired')
      continue;
    const held = (other.status?.nodes ?? []).filter((n) => n.state !== 'Released');
    if (!held.some(isLive) || !held.every(onHost)) continue;
    if (q?.preemption(other)) continue; // already going
    if (view.profile(profileOf(other))?.preemptible === false) continue;
    const p = q ? q.priority(other) : { ok: true as const, priority: 0 };
    if (!p.ok || p.priority >= priority) continue;
    out.push({
      key: k,
      priority: p.priority,
      boundAt: other.status?.startTime ?? other.metadata.creationTimestamp ?? '',
      created: other.metadata.creationTimestamp ?? '',
    });
  }
  return out;
}
