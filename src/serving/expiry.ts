// When a request ends, as pure functions of the object (never of memory), so the deadline holds
// across operator restarts and leader changes: the earlier of `status.startTime +
// spec.activeDeadlineSeconds` (a Job's deadline, counted from the first Ready) and
// `spec.expiresAt` (a booking's end). The reconciler asks to be woken at that time.
import type { ResourceRequest } from '../api/index.js';
import { findCondition } from '../runtime/conditions.js';

/** Timers longer than this are re-armed on the way: setTimeout cannot wait ~25 days. */
export const MAX_WAKE_MS = 24 * 3600_000;

/** When the request first became Ready: its startTime, else (older statuses) its Ready condition. */
export function startOf(rr: ResourceRequest): string | undefined {
  if (rr.status?.startTime) return rr.status.startTime;
  const ready = findCondition(rr.status?.conditions, 'Ready');
  return ready?.status === 'True' ? ready.lastTransitionTime : undefined;
}

/** The end of `rr` given when it started, or undefined when nothing bounds it. */
export function expiryOf(rr: ResourceRequest, startTime: string | undefined): Date | undefined {
  const ends: number[] = [];
  const deadline = rr.spec.activeDeadlineSeconds;
  if (deadline !== undefined && startTime) ends.push(Date.parse(startTime) + deadline * 1000);
  if (rr.spec.expiresAt) ends.push(Date.parse(rr.spec.expiresAt));
  const valid = ends.filter((t) => Number.isFinite(t));
  return valid.length ? new Date(Math.min(...valid)) : undefined;
}

/** Why `rr` has ended at `now`, or undefined while it has not. */
export function expiredBecause(rr: ResourceRequest, now: Date): string | undefined {
  const start = startOf(rr);
  const end = expiryOf(rr, start);
  if (!end || end.getTime() > now.getTime()) return undefined;
  const at = end.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const deadline = rr.spec.activeDeadlineSeconds;
  if (deadline !== undefined && start && Date.parse(start) + deadline * 1000 === end.getTime())
    return `activeDeadlineSeconds ${deadline} passed at ${at} (Ready since ${start})`;
  return `expiresAt ${rr.spec.expiresAt} passed`;
}

/** How long until `rr` ends (0 when due), capped at MAX_WAKE_MS; undefined when nothing bounds it. */
export function msUntilExpiry(rr: ResourceRequest, now: Date): number | undefined {
  if (rr.metadata.deletionTimestamp || rr.status?.phase === 'Expired') return undefined;
  const end = expiryOf(rr, startOf(rr));
  if (!end) return undefined;
  return Math.min(MAX_WAKE_MS, Math.max(0, end.getTime() - now.getTime()));
}
