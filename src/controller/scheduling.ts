// Priorities, queues and preemption marks: the QueueView the lifecycle decides with
// (src/serving/request-lifecycle.ts), kept from the cache of PriorityClasses and requests and
// from the reconciler's own writes. State it keeps, and why:
//  - `queues`: each profile's Pending requests in order (src/serving/queue.ts), for positions and
//    StrictFIFO's head;
//  - `victims`: bound requests chosen to make room, until their nodes are gone;
//  - `nominations`: requests that preempted, until they are bound (or gone, or the nomination
//    times out): nothing of lower priority takes the capacity being freed for them, so a
//    preemption is never undone by a smaller request slipping in, and nobody preempts twice.
import type { ResourceRequest } from '../api/index.js';
import { keyOf } from '../kube/objects.js';
import {
  globalDefault,
  resolvePriority,
  type PriorityClassInfo,
  type Resolved,
} from '../serving/priority.js';
import { ProfileQueues, queueEntry, queueOrder, type Queueing } from '../serving/queue.js';
import {
  profileOf,
  queuedForCapacity,
  waitingForCapacity,
  type QueueView,
} from '../serving/request-lifecycle.js';

/** A PriorityClass as the API serves it (scheduling.k8s.io/v1): value and policy at the top. */
export interface PriorityClass {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; resourceVersion?: string };
  value: number;
  globalDefault?: boolean;
  preemptionPolicy?: 'Never' | 'PreemptLowerPriority';
  description?: string;
}

export const classInfo = (c: PriorityClass): PriorityClassInfo => ({
  name: c.metadata.name,
  value: c.value,
  ...(c.globalDefault ? { globalDefault: true } : {}),
  ...(c.preemptionPolicy ? { preemptionPolicy: c.preemptionPolicy } : {}),
});

/**
 * After a what-if found that no preemption would serve a request, how long before it is run
 * again for that request: the what-if sets aside every candidate's reservations, so on a busy
 * fleet it is not repeated on every capacity event (kube-scheduler backs a Pod off likewise).
 */
export const PREEMPTION_BACKOFF_MS = 10_000;

/** How long capacity stays set aside for a preemptor that does not come to take it. */
export const NOMINATION_MS = 60_000;

interface Nomination {
  priority: number;
  until: number;
  /** Victims whose nodes are not all gone yet. */
  victims: Set<string>;
}

export interface SchedulingDeps {
  classes(): Iterable<PriorityClass>;
  priorityClass(name: string): PriorityClass | undefined;
  queueing(profile: string): Queueing | undefined;
  /** Whether the profile places nodes on HostPool hosts (what preemption frees). */
  usesHosts(profile: string): boolean;
  now(): number;
  /** These requests should be reconciled (a victim, the new head of a StrictFIFO queue). */
  wake(keys: readonly string[]): void;
  /** Every waiting request should try again (a nomination ended). */
  retryPending(): void;
}

export class Scheduling implements QueueView {
  readonly queues = new ProfileQueues();
  private readonly victims = new Map<string, { by: string; message: string }>();
  private readonly nominations = new Map<string, Nomination>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Requests whose last what-if found nothing, and until when they are not tried again. */
  private readonly backoff = new Map<string, number>();

  constructor(private readonly d: SchedulingDeps) {}

  priority(rr: ResourceRequest): Resolved {
    let fallback: PriorityClassInfo | undefined;
    return resolvePriority(
      rr,
      (name) => {
        const c = this.d.priorityClass(name);
        return c ? classInfo(c) : undefined;
      },
      rr.spec.priorityClassName
        ? undefined
        : (fallback ??= globalDefault([...this.d.classes()].map(classInfo))),
    );
  }

  /** Where `rr` ranks: its recorded priority, else its class's value, else 0. */
  rank(rr: ResourceRequest): number {
    if (rr.status?.priority !== undefined) return rr.status.priority;
    const p = this.priority(rr);
    return p.ok ? p.priority : 0;
  }

  position(rr: ResourceRequest): number | undefined {
    return this.queues.position(keyOf(rr));
  }

  waitFor(rr: ResourceRequest, priority: number): string | undefined {
    const key = keyOf(rr);
    const now = this.d.now();
    const profile = profileOf(rr);
    // Preemption frees host capacity: only requests that could take it wait for the preemptor.
    if (this.d.usesHosts(profile))
      for (const [by, n] of this.nominations)
        if (by !== key && n.until > now && n.priority >= priority)
          return `waiting: capacity is being freed by preemption for ${by} (priority ${n.priority})`;
    if (this.d.queueing(profile) !== 'StrictFIFO') return undefined;
    const head = this.queues.head(profile);
    if (!head || head.key === key) return undefined;
    // Compared, not looked up: a request that waited on its quota is out of the queue, and
    // comes back behind whoever is ahead of it.
    if (queueOrder(head, queueEntry(rr, priority)) >= 0) return undefined;
    return `waiting behind ${head.key}, the head of the StrictFIFO queue of profile ${profile}`;
  }

  preemption(rr: ResourceRequest): { by: string; message: string } | undefined {
    return this.victims.get(keyOf(rr));
  }

  /** The request as it now is (cache or our own later write), or gone (`undefined`). */
  observe(key: string, rr: ResourceRequest | undefined): void {
    if (
      rr &&
      this.victims.has(key) &&
      !(rr.status?.nodes ?? []).some((n) => n.state !== 'Released')
    )
      this.victimDone(key);
    if (!rr) {
      if (this.victims.has(key)) this.victimDone(key);
      this.endNomination(key);
    } else if (!waitingForCapacity(rr)) this.endNomination(key);
    if (!rr || !waitingForCapacity(rr)) this.backoff.delete(key);
    // A request held back by its namespace's quota waits for the quota, not for capacity: it is
    // out of the queue, so it neither heads a StrictFIFO queue (blocking other namespaces) nor
    // takes a place in line.
    const queued = rr && queuedForCapacity(rr);
    const resolved = queued ? this.priority(rr) : undefined;
    const changed = this.queues.set(
      key,
      rr && resolved?.ok ? queueEntry(rr, resolved.priority) : undefined,
    );
    // Under StrictFIFO the new head may go now; nobody else was waiting on an event for it.
    const heads = changed
      .filter((p) => this.d.queueing(p) === 'StrictFIFO')
      .map((p) => this.queues.head(p)?.key)
      .filter((k): k is string => k !== undefined);
    if (heads.length > 0) this.d.wake(heads);
  }

  /** The preemptor waiting for victims chosen earlier: their keys, or undefined. */
  nominated(key: string): readonly string[] | undefined {
    const n = this.nominations.get(key);
    if (!n || n.until <= this.d.now()) return undefined;
    return [...n.victims];
  }

  /** `by` preempts `victims`: they are told (reconciled), and the capacity is set aside for it. */
  nominate(by: string, priority: number, victims: readonly string[], message: string): void {
    for (const v of victims) this.victims.set(v, { by, message });
    const until = this.d.now() + NOMINATION_MS;
    this.nominations.set(by, { priority, until, victims: new Set(victims) });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.nominations.get(by)?.until === until) this.endNomination(by);
    }, NOMINATION_MS);
    timer.unref();
    this.timers.add(timer);
    this.d.wake(victims);
  }

  /** Milliseconds until `key` may run a preemption what-if again; undefined: it may now. */
  preemptionBackoff(key: string): number | undefined {
    const until = this.backoff.get(key);
    if (until === undefined) return undefined;
    const left = until - this.d.now();
    if (left > 0) return left;
    this.backoff.delete(key);
    return undefined;
  }

  /** No preemption would serve `key` now: not asked again before the backoff has passed. */
  preemptionFailed(key: string): void {
    this.backoff.set(key, this.d.now() + PREEMPTION_BACKOFF_MS);
  }

  /** `key` gives up waiting for room freed for it (it met its quota, preemption cannot help). */
  withdraw(key: string): void {
    this.endNomination(key);
  }

  /** Victims being preempted now (for tests and the metric). */
  preempting(): string[] {
    return [...this.victims.keys()];
  }

  /** A new leader: marks and nominations of the last term are gone with its memory. */
  reset(): void {
    this.victims.clear();
    this.backoff.clear();
    this.nominations.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private victimDone(key: string): void {
    this.victims.delete(key);
    for (const n of this.nominations.values()) n.victims.delete(key);
  }

  /**
   * The preemptor is served, gone, or gave up: victims it marked that have not started releasing
   * keep their nodes (one that did finishes, its nodes being on record as Releasing).
   */
  private endNomination(key: string): void {
    const n = this.nominations.get(key);
    if (!n) return;
    this.nominations.delete(key);
    for (const v of n.victims) if (this.victims.get(v)?.by === key) this.victims.delete(v);
    this.d.retryPending();
  }
}
