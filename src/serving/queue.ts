// The queue of each profile: its Pending requests by priority (higher first), then creation time,
// then key — Kueue's order, and kube-scheduler's. Pure data: the controller feeds it from the
// cache and its own writes; `berth simulate` from its run. Kept sorted as entries come and go
// (binary search), so a position is a lookup, not a sort of every pending request.

import { profileOf, type ResourceRequest } from '../api/index.js';

export type Queueing = 'BestEffortFIFO' | 'StrictFIFO';

export interface QueueEntry {
  key: string;
  profile: string;
  priority: number;
  /** creationTimestamp (RFC 3339: compares as text). */
  created: string;
}

/** `rr`'s place in line at `priority`; `created` defaults to its creationTimestamp. */
export const queueEntry = (
  rr: ResourceRequest,
  priority: number,
  created: string = rr.metadata.creationTimestamp ?? '',
): QueueEntry => ({
  key: `${rr.metadata.namespace ?? ''}/${rr.metadata.name}`,
  profile: profileOf(rr),
  priority,
  created,
});

export const queueOrder = (a: QueueEntry, b: QueueEntry): number =>
  b.priority - a.priority ||
  (a.created < b.created ? -1 : a.created > b.created ? 1 : 0) ||
  (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export class ProfileQueues {
  private readonly queues = new Map<string, QueueEntry[]>();
  private readonly byKey = new Map<string, QueueEntry>();
  /** Moves every time an entry comes, goes or moves: positions may have changed. */
  private changes = 0;

  /**
   * Puts `key` in its profile's queue as `entry`, or takes it out (`undefined`). Returns the
   * profiles whose head changed (under StrictFIFO, the new head may go now).
   */
  set(key: string, entry: QueueEntry | undefined): string[] {
    const old = this.byKey.get(key);
    if (old && entry && queueOrder(old, entry) === 0 && old.profile === entry.profile) return [];
    const changed = new Set<string>();
    if (old || entry) this.changes++;
    if (old) {
      const q = this.queues.get(old.profile)!;
      const i = this.indexOf(q, old);
      q.splice(i, 1);
      if (i === 0) changed.add(old.profile);
      if (q.length === 0) this.queues.delete(old.profile);
      this.byKey.delete(key);
    }
    if (entry) {
      let q = this.queues.get(entry.profile);
      if (!q) this.queues.set(entry.profile, (q = []));
      const i = this.insertionPoint(q, entry);
      q.splice(i, 0, entry);
      if (i === 0) changed.add(entry.profile);
      this.byKey.set(key, entry);
    }
    return [...changed];
  }

  /** 1-based place of `key` in its queue; undefined when it is not queued. */
  position(key: string): number | undefined {
    const e = this.byKey.get(key);
    return e ? this.indexOf(this.queues.get(e.profile)!, e) + 1 : undefined;
  }

  head(profile: string): QueueEntry | undefined {
    return this.queues.get(profile)?.[0];
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Every queued entry of `profile`, in order. */
  entries(profile: string): readonly QueueEntry[] {
    return this.queues.get(profile) ?? [];
  }

  profiles(): string[] {
    return [...this.queues.keys()];
  }

  /** A counter of changes: equal twice, and no position moved in between. */
  version(): number {
    return this.changes;
  }

  size(): number {
    return this.byKey.size;
  }

  private insertionPoint(q: readonly QueueEntry[], e: QueueEntry): number {
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (queueOrder(q[mid]!, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(q: readonly QueueEntry[], e: QueueEntry): number {
    const i = this.insertionPoint(q, e);
    if (q[i]?.key !== e.key) throw new Error(`queue out of order at ${e.key}`);
    return i;
  }
}

/**
 * Whether a move in the queue is worth a status write: always near the head (the first 10
 * places), else only when it moved by at least a tenth. A request 4,000th in line does not
 * rewrite its status every time the one before it is served.
 */
export function positionWorthWriting(recorded: number | undefined, now: number): boolean {
  if (recorded === undefined) return true;
  if (recorded === now) return false;
  if (now <= 10 || recorded <= 10) return true;
  return Math.abs(now - recorded) * 10 >= recorded;
}

/** The position a status should show: the current one when worth writing, else as recorded. */
export const shownPosition = (recorded: number | undefined, now: number | undefined) =>
  now === undefined ? undefined : positionWorthWriting(recorded, now) ? now : recorded;
