// The ResourceRequest reconciler: level-triggered and idempotent. It asks the pure lifecycle
// (src/serving/request-lifecycle.ts) for the next step, does that step's I/O — run the
// provisioner stack, release nodes, add or drop the finalizer — and applies the outcome through
// one status-write door (src/runtime/status-writer.ts) with the guard the plan names.
//
// Memory it keeps, and why:
//  - `unwritten`: nodes the stack gave whose status write has not succeeded yet (karpenter's
//    launch cache). They are written (or released) on the next pass, so a failed write neither
//    loses nor double-books them.
//  - `tombstones`: the last state of requests that were deleted without our finalizer still on
//    them (the normal case for local profiles). The delete event leaves the object here and
//    queues its key, so its capacity comes back in a reconcile like any other step: serialized
//    per key by the work queue, retried with backoff, released exactly once.
//  - `finalized`: uids whose nodes our finalizer released; their delete event releases nothing.
import type { Logger } from 'winston';
import type { ResourceRequest } from '../api/index.js';
import { RESOURCE_REQUESTS } from '../api/index.js';
import type { KubeClient } from '../kube/client.js';
import { keyOf } from '../kube/objects.js';
import { pathOf } from '../kube/paths.js';
import type { Metrics } from '../observability/metrics.js';
import {
  releaseRecords,
  runStack,
  type NodeRecord,
  type ReleaseFailure,
  type StackResult,
} from '../provisioning/index.js';
import type { Runtime } from '../provisioning/runtime.js';
import type { EventRecorder } from '../runtime/events.js';
import { addFinalizer, removeFinalizer } from '../runtime/finalizer.js';
import { latest, type StatusWriter, type WriteGuard } from '../runtime/status-writer.js';
import {
  FINALIZER,
  allocated,
  profileOf,
  decide,
  preempting,
  quotaExceeded,
  released,
  waitingForCapacity,
  type GuardName,
  type Outcome,
  type PlannedEvent,
  type ServingView,
  type Step,
  type StatusWrite,
} from '../serving/request-lifecycle.js';
import { msUntilExpiry } from '../serving/expiry.js';
import type { QuotaBook } from '../serving/quota.js';
import { queueEntry, queueOrder, type QueueEntry } from '../serving/queue.js';
import { OrderedLock } from '../runtime/ordered-lock.js';
import { preemptFor } from './preemption.js';
import type { Scheduling } from './scheduling.js';
import { requestIdentity, requestRef, toRecord } from '../serving/request-status.js';

export interface ReconcileResult {
  /** Reconcile this key again after this long (a poll, not an error). */
  requeueAfterMs?: number;
}

/** What other controllers hear from this one (Kueue's typed watchers, not a result side channel). */
export interface CapacityListener {
  /** The usage of these pools changed: their status is due. */
  poolsChanged(pools: { hostPools: string[]; storagePools: string[] }): void;
  /** Capacity came back: pending requests may fit now. */
  capacityFreed(): void;
}

export interface RequestReconcilerDeps {
  client: KubeClient;
  writer: StatusWriter;
  get(key: string): ResourceRequest | undefined;
  runtime(): Runtime;
  recorder: EventRecorder;
  metrics: Metrics;
  log: Logger;
  now(): Date;
  listener: CapacityListener;
  /** Drops every engine reservation of a request that is gone (a safety net after a release). */
  forgetRequest(namespace: string, name: string): void;
  /** Retry period of a Pending request whose profile has remote provisioners (no capacity events). */
  pendingRecheckMs: number;
  /** Priorities, queues, preemption marks; absent: every request equal, nothing preempted. */
  scheduling?: Scheduling;
  /** TenantQuota checks; absent: no quotas. */
  quotas?: QuotaBook;
  /** Every request as cached (preemption's candidates). */
  list?(): readonly ResourceRequest[];
}

const path = (rr: ResourceRequest) => pathOf(RESOURCE_REQUESTS, rr);

const sameNodes = (a: ResourceRequest, b: ResourceRequest) => {
  const x = a.status?.nodes ?? [];
  const y = b.status?.nodes ?? [];
  return (
    x.length === y.length && x.every((n, i) => n.name === y[i]!.name && n.state === y[i]!.state)
  );
};

export const GUARDS: Record<GuardName, WriteGuard<ResourceRequest>> = {
  unlessNodesRecorded: {
    name: 'unlessNodesRecorded',
    allows: (fresh) =>
      (fresh.status?.nodes ?? []).length === 0 && !fresh.metadata.deletionTimestamp,
  },
  onSameNodes: {
    name: 'onSameNodes',
    allows: (fresh, basis) =>
      sameNodes(fresh, basis) &&
      !fresh.metadata.deletionTimestamp === !basis.metadata.deletionTimestamp,
  },
};

function poolsOf(
  nodes: readonly { hostPool?: string; volumes?: readonly { storagePool: string }[] }[],
) {
  const hostPools = new Set<string>();
  const storagePools = new Set<string>();
  for (const n of nodes) {
    if (n.hostPool) hostPools.add(n.hostPool);
    for (const v of n.volumes ?? []) storagePools.add(v.storagePool);
  }
  return { hostPools: [...hostPools], storagePools: [...storagePools] };
}

/**
 * How soon a request looks again when only allocations in flight in its namespace stand between
 * it and its quota: they end in milliseconds (a webhook's in seconds, or more), bound or not.
 */
const QUOTA_CONTENDED_MS = 1000;

/** Bounded so a long-running operator does not grow with every request it ever finalized. */
const MAX_FINALIZED = 100_000;

export class RequestReconciler {
  private readonly unwritten = new Map<string, StackResult>();
  /**
   * Stacks of local profiles (hosts, multilocal: no I/O but the engine's) run one at a time, by
   * priority then age: requests that compete for capacity just freed plan in queue order, not
   * in the order their reconciles happen to reach the engine (a request with volumes takes a
   * few more turns to get there). Remote stacks wait on services, so they are not held in line.
   */
  private readonly lane = new OrderedLock<QueueEntry>(queueOrder);
  /** Quota reservations of `unwritten` nodes: counted until the nodes are on record or gone. */
  private readonly holds = new Map<string, () => void>();
  private readonly tombstones = new Map<string, ResourceRequest>();
  private readonly finalized = new Set<string>();
  /** Uids whose provisioner stack is running now. */
  private readonly running = new Set<string>();
  /**
   * Our own last write per key, until the cache shows it: the watch can lag our writes, and a
   * pass that decided from the older copy would run the stack again for a request it already
   * bound. `stale`: the resourceVersions our writes replaced.
   */
  private readonly ours = new Map<string, { obj: ResourceRequest; stale: Set<string> }>();

  constructor(private readonly d: RequestReconcilerDeps) {}

  /**
   * Forgets everything held in memory: a new leader rebuilds from a fresh list, and a tombstone
   * a standby saw may name a request the old leader has since bound again under the same name.
   */
  reset(): void {
    this.ours.clear();
    for (const release of this.holds.values()) release();
    this.holds.clear();
    this.unwritten.clear();
    this.tombstones.clear();
    this.finalized.clear();
  }

  /**
   * The request is gone from the API. Returns true when something is left to release (its key
   * must be queued): the object went without our finalizer running.
   */
  deleted(rr: ResourceRequest): boolean {
    const uid = rr.metadata.uid ?? keyOf(rr);
    if (this.ours.get(keyOf(rr))?.obj.metadata.uid === rr.metadata.uid) this.ours.delete(keyOf(rr));
    if (this.finalized.delete(uid)) {
      this.unwritten.delete(uid);
      return false;
    }
    const live = (rr.status?.nodes ?? []).some((n) => n.state !== 'Released');
    if (!live && !this.unwritten.has(uid)) return false;
    this.tombstones.set(keyOf(rr), rr);
    return true;
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const result = await this.step(key, signal);
    // Expiry is a timer derived from the object (as we last wrote it), not a poll: wake at the
    // deadline. After a restart, the first pass of every request arms it again.
    const after = this.current(key);
    const due = after ? msUntilExpiry(after, this.d.now()) : undefined;
    // Due now means this pass was the expiry: if its write did not land (refused, superseded),
    // the next event decides again; an immediate requeue would only spin.
    if (!due) return result;
    return { requeueAfterMs: Math.min(due, result.requeueAfterMs ?? due) };
  }

  private async step(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const tomb = this.tombstones.get(key);
    if (tomb) await this.bury(key, tomb);
    const rr = this.current(key);
    if (!rr) return {};
    const uid = rr.metadata.uid ?? key;
    const step = decide(rr, this.view(), this.d.now(), this.unwritten.get(uid));
    switch (step.kind) {
      case 'idle':
        return {};
      case 'update':
        if (step.failure) this.failed(rr, step.failure);
        await this.write(rr, step.write);
        this.emit(rr, step.events);
        return step.requeueAfterMs !== undefined ? { requeueAfterMs: step.requeueAfterMs } : {};
      case 'allocate':
        return this.allocate(rr, uid, step, signal);
      case 'record':
        return this.record(rr, uid, step.result);
      case 'release':
        return this.release(rr, uid, step);
    }
  }

  /**
   * The cache now holds `rr`: once it is no version our writes replaced, our copy of the request
   * is no longer needed (called for every update event, so the memory does not grow with every
   * request ever written).
   */
  observed(rr: ResourceRequest): void {
    const key = keyOf(rr);
    const mine = this.ours.get(key);
    if (mine && !mine.stale.has(rr.metadata.resourceVersion ?? '')) this.ours.delete(key);
  }

  /**
   * True while this reconciler holds nodes of the request in memory, or may be about to: a stack
   * running, nodes obtained but not written, a deletion being buried. The orphan collector leaves
   * such a request's nodes alone.
   */
  busy(request: { namespace: string; name: string; uid?: string }): boolean {
    const uid = request.uid ?? `${request.namespace}/${request.name}`;
    if (this.running.has(uid) || this.unwritten.has(uid)) return true;
    const key = `${request.namespace}/${request.name}`;
    // Our own write the cache does not show yet: the collector's records lag it.
    if (this.ours.get(key)?.obj.metadata.uid === request.uid && request.uid) return true;
    return this.tombstones.has(key);
  }

  /** How many requests' own writes are remembered (for tests and the memory bound). */
  remembered(): number {
    return this.ours.size;
  }

  /** The request as cached, or as our own later write left it when the cache is behind it. */
  current(key: string): ResourceRequest | undefined {
    const cached = this.d.get(key);
    const mine = this.ours.get(key);
    if (!mine) return cached;
    if (
      cached &&
      cached.metadata.uid === mine.obj.metadata.uid &&
      mine.stale.has(cached.metadata.resourceVersion ?? '')
    )
      return mine.obj;
    this.ours.delete(key); // the cache caught up (or moved on): it is the truth again
    return cached;
  }

  /** Notes that `before` was replaced on the server by `after`; returns `after`. */
  private wrote(before: ResourceRequest, after: ResourceRequest): ResourceRequest {
    const rv = before.metadata.resourceVersion;
    // The same version back is a write that changed nothing — except when it removed the last
    // finalizer: the API server then deletes the object and answers with the version it had,
    // which the cache still shows with the finalizer until the delete event arrives.
    const deleted = !!after.metadata.deletionTimestamp && !after.metadata.finalizers?.length;
    if (!rv || (after.metadata.resourceVersion === rv && !deleted)) return after;
    const key = keyOf(after);
    const mine = this.ours.get(key);
    const stale =
      mine && mine.obj.metadata.uid === after.metadata.uid ? mine.stale : new Set<string>();
    stale.add(rv);
    this.ours.set(key, { obj: after, stale });
    this.d.scheduling?.observe(key, after);
    return after;
  }

  private view(): ServingView {
    const rt = this.d.runtime();
    return {
      profile: (name) => rt.profile(name),
      profileNames: () => rt.profileNames(),
      hostAvailability: (pool, host) => rt.hostAvailability(pool, host),
      ...(this.d.scheduling ? { queue: this.d.scheduling } : {}),
    };
  }

  private async allocate(
    rr: ResourceRequest,
    uid: string,
    step: Extract<Step, { kind: 'allocate' }>,
    signal: AbortSignal,
  ): Promise<ReconcileResult> {
    const profile = this.d.runtime().profile(step.profile);
    if (!profile) return {}; // a reload removed it since decide: the next pass says so
    // In line, by priority: the quota check and the stack of an in-process profile. The line
    // is left as soon as the stack is done; the status write happens outside it.
    const lane = profile.inProcess ? await this.lane.acquire(this.entryOf(rr)) : undefined;
    try {
      // Decided before its turn came: a preemptor may have been nominated meanwhile.
      const q = this.d.scheduling;
      if (q && !step.resize && q.waitFor(rr, q.rank(rr))) return { requeueAfterMs: 0 };
      // Checked and counted in one synchronous call: no other worker passes a limit in between.
      const hold = this.d.quotas?.reserve(rr, step.resize?.names.length ?? rr.spec.count);
      if (hold && !hold.ok) {
        if ('contended' in hold) return { requeueAfterMs: QUOTA_CONTENDED_MS };
        q?.withdraw(keyOf(rr)); // preemption frees capacity, not quota
        return this.apply(rr, quotaExceeded(rr, hold.violation, this.view(), this.d.now()));
      }
      try {
        return await this.allocateHeld(rr, uid, step, profile, signal, hold?.release, lane);
      } finally {
        // Kept while the nodes wait to be written (`holds`); else they are on record, or gone.
        if (hold && this.holds.get(uid) !== hold.release) hold.release();
      }
    } finally {
      lane?.();
    }
  }

  private async allocateHeld(
    rr: ResourceRequest,
    uid: string,
    step: Extract<Step, { kind: 'allocate' }>,
    profile: NonNullable<ReturnType<Runtime['profile']>>,
    signal: AbortSignal,
    hold: (() => void) | undefined,
    lane: (() => void) | undefined,
  ): Promise<ReconcileResult> {
    // Before anything external exists, the request must hold the finalizer that releases it.
    if (step.addFinalizer)
      rr = this.wrote(rr, await addFinalizer(this.d.client, path(rr), rr, FINALIZER));
    if (step.announce) {
      const r = await this.write(rr, step.announce);
      if (!r) return {};
      rr = r;
    }
    this.running.add(uid);
    let result: StackResult;
    try {
      result = await runStack(profile.provisioners, requestRef(rr), {
        signal,
        logger: this.d.log,
        ...(step.resize ? { names: step.resize.names, minCount: step.resize.minCount } : {}),
      });
    } finally {
      lane?.(); // the engine is done: the next in line may plan
      this.running.delete(uid);
    }
    if (result.outcome === 'Aborted') return { requeueAfterMs: 1000 };
    if (result.outcome === 'Provisioned') {
      for (const n of result.nodes)
        this.d.metrics.allocations.inc({ profile: step.profile, provisioner: n.provisioner });
      this.unwritten.set(uid, result);
      if (hold) this.holds.set(uid, hold);
      return this.record(rr, uid, result);
    }
    // No room: a request of higher priority may make some by preempting lower ones.
    let backoffMs: number | undefined;
    if (result.outcome === 'Insufficient' && !step.resize && this.d.scheduling && this.d.list) {
      const plan = await preemptFor(
        {
          scheduling: this.d.scheduling,
          requests: this.d.list,
          runtime: this.d.runtime,
          view: this.view(),
          metrics: this.d.metrics,
        },
        rr,
        signal,
      );
      if (plan && 'victims' in plan)
        return this.apply(
          rr,
          preempting(rr, result, plan.victims, plan.chosenNow, this.view(), this.d.now()),
        );
      // Its what-if is backing off: look again when it may run (an event came meanwhile).
      if (plan) backoffMs = plan.backoffMs;
    }
    const outcome = allocated(
      rr,
      result,
      this.view(),
      this.d.now(),
      profile.remote,
      this.d.pendingRecheckMs,
    );
    if (backoffMs !== undefined)
      outcome.requeueAfterMs = Math.min(outcome.requeueAfterMs ?? backoffMs, backoffMs);
    return this.apply(rr, outcome);
  }

  /** Writes nodes obtained by the stack: on success they are the record, else kept or released. */
  private async record(
    rr: ResourceRequest,
    uid: string,
    result: StackResult,
  ): Promise<ReconcileResult> {
    const remote = this.d.runtime().profile(profileOf(rr))?.remote ?? false;
    const outcome = allocated(
      rr,
      result,
      this.view(),
      this.d.now(),
      remote,
      this.d.pendingRecheckMs,
    );
    const records = result.nodes.map((n) => n.toRecord());
    // From here this pass owns the nodes: on a transient failure they go back for the retry.
    // Busy until the write lands (then `ours` keeps it busy until the cache shows it), so the
    // orphan collector never takes nodes that are being recorded.
    this.unwritten.delete(uid);
    this.running.add(uid);
    let r;
    try {
      // unlessNodesRecorded for a first allocation; onSameNodes for a scale-up or replacement.
      r = await this.d.writer.write(
        path(rr),
        rr,
        outcome.write!.status,
        GUARDS[outcome.write!.guard],
      );
    } catch (err) {
      this.unwritten.set(uid, result);
      throw err;
    } finally {
      this.running.delete(uid);
    }
    this.releaseHold(uid);
    if ('written' in r || 'unchanged' in r) {
      this.wrote(rr, latest(rr, r));
      if (outcome.failure) this.failed(rr, outcome.failure);
      this.emit(rr, outcome.events);
      for (const f of outcome.releaseFailures) this.releaseFailed(rr, f);
      this.d.listener.poolsChanged(poolsOf(records));
      // A replacement that found no room, on a remote profile (no capacity events): look again.
      return outcome.requeueAfterMs !== undefined ? { requeueAfterMs: outcome.requeueAfterMs } : {};
    }
    // Deleted, re-created, recorded by someone else, or refused: nothing points at these nodes.
    if ('refused' in r) this.refused(rr, r.refused, records.length);
    await this.giveBack(rr, records);
    return {};
  }

  private async release(
    rr: ResourceRequest,
    uid: string,
    step: Extract<Step, { kind: 'release' }>,
  ): Promise<ReconcileResult> {
    if (step.announce) {
      const r = await this.write(rr, step.announce);
      if (!r) return {};
      rr = r;
    }
    // Intent before the records: a sweep that fails leaves the records untouched for the retry,
    // so each recorded node is still released once.
    if (step.sweep.length > 0) await this.sweep(rr, step.sweep);
    const { released: done, failures } = await this.releaseThrough(rr, step.records);
    if (step.finalize) {
      this.unwritten.delete(uid);
      this.releaseHold(uid);
    }
    const outcome = released(rr, step, done, failures, this.view(), this.d.now());
    if (done.length > 0) {
      this.d.listener.poolsChanged(poolsOf(done));
      this.d.listener.capacityFreed();
    }
    if (outcome.dropFinalizer) {
      this.rememberFinalized(uid);
      const after = await removeFinalizer(this.d.client, path(rr), rr, FINALIZER);
      if (after) this.wrote(rr, after);
    }
    return this.apply(rr, outcome);
  }

  /**
   * Releases by key, through every external provisioner of the profile, node names a provision
   * may have made without a record (docs/webhook-contract.md: releasing an unknown key succeeds).
   */
  private async sweep(rr: ResourceRequest, names: readonly string[]): Promise<void> {
    const profile = this.d.runtime().profile(profileOf(rr));
    const identity = requestIdentity(rr);
    const errors: string[] = [];
    for (const p of profile?.provisioners ?? []) {
      if (!p.releaseKeys) continue;
      try {
        await p.releaseKeys(identity, names);
      } catch (err) {
        errors.push(`${p.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (errors.length === 0) return;
    const note = `nodes a provision may have made (${names.join(', ')}) could not be released: ${errors.join('; ')}`;
    this.d.recorder.event(rr, 'Warning', 'ReleaseFailed', 'Release', note);
    throw new Error(note);
  }

  /** The request went without our finalizer: give back what its last state recorded. */
  private async bury(key: string, tomb: ResourceRequest): Promise<void> {
    const uid = tomb.metadata.uid ?? key;
    // A later incarnation under the same name (bound by a former leader, restored from the list)
    // owns the ledger entries its status records: the engine keys entries by name, so those
    // names are not the dead incarnation's to give back.
    const next = this.d.get(key);
    const taken = new Set(
      next && next.metadata.uid !== tomb.metadata.uid
        ? (next.status?.nodes ?? []).map((n) => n.name)
        : [],
    );
    const records = [
      ...(tomb.status?.nodes ?? []).filter((n) => n.state !== 'Released').map(toRecord),
      ...(this.unwritten.get(uid)?.nodes.map((n) => n.toRecord()) ?? []),
    ].filter((r) => !taken.has(r.name));
    this.unwritten.delete(uid);
    this.releaseHold(uid);
    const { released: done, failures } = await this.releaseThrough(tomb, records);
    if (failures.length > 0) {
      // Keep what is left for the retry; the object is gone, so the log is where it is said.
      const left = new Set(failures.map((f) => f.name));
      const nodes = records
        .filter((r) => left.has(r.name))
        .map((r) => ({ ...r, state: 'Releasing' as const }));
      this.tombstones.set(key, { ...tomb, status: { ...(tomb.status ?? {}), nodes } });
      for (const f of failures)
        this.d.log.error('release failed', { object: key, node: f.name, error: f.error });
      throw new Error(`release failed for ${failures.map((f) => f.name).join(', ')}`);
    }
    this.tombstones.delete(key);
    if (taken.size === 0) this.d.forgetRequest(tomb.metadata.namespace ?? '', tomb.metadata.name);
    this.d.log.debug('released a deleted request', { object: key, nodes: done.length });
    this.d.listener.poolsChanged(poolsOf(records));
    this.d.listener.capacityFreed();
  }

  /** Applies an outcome: its status write, its events, then a retry or a requeue if it asks. */
  private async apply(rr: ResourceRequest, o: Outcome): Promise<ReconcileResult> {
    if (o.failure) this.failed(rr, o.failure);
    if (o.write) await this.write(rr, o.write);
    this.emit(rr, o.events);
    for (const f of o.releaseFailures) this.releaseFailed(rr, f);
    if (o.retry) throw new Error(o.retry);
    return o.requeueAfterMs !== undefined ? { requeueAfterMs: o.requeueAfterMs } : {};
  }

  /**
   * The one status door of this reconciler. Returns the object as it now is, or undefined when
   * it is gone, superseded (the next pass decides from the fresh copy) or refused.
   */
  private async write(
    rr: ResourceRequest,
    w: StatusWrite | undefined,
  ): Promise<ResourceRequest | undefined> {
    if (!w) return rr;
    const r = await this.d.writer.write(path(rr), rr, w.status, GUARDS[w.guard]);
    if ('gone' in r || 'superseded' in r) return undefined;
    if ('refused' in r) {
      this.refused(rr, r.refused, 0);
      return undefined;
    }
    return this.wrote(rr, latest(rr, r));
  }

  /** Gives `records` of `rr` back through the provisioners that can release them. */
  private releaseThrough(rr: ResourceRequest, records: readonly NodeRecord[]) {
    return releaseRecords(
      records,
      requestIdentity(rr),
      this.d.runtime().releasers(profileOf(rr), records),
    );
  }

  /** Nodes no record points at go back to their provisioners at once. */
  private async giveBack(rr: ResourceRequest, records: NodeRecord[]): Promise<void> {
    const { failures } = await this.releaseThrough(rr, records);
    for (const f of failures)
      this.d.log.error('could not release nodes no request records', {
        object: keyOf(rr),
        node: f.name,
        error: f.error,
      });
    this.d.listener.poolsChanged(poolsOf(records));
    this.d.listener.capacityFreed();
  }

  /** A status the API server will never take: said on the object, counted, never retried. */
  private refused(rr: ResourceRequest, err: Error, nodes: number): void {
    this.d.metrics.statusWriteRefused.inc({ kind: 'ResourceRequest' });
    this.d.log.error('status write refused', { object: keyOf(rr), error: err.message });
    const released = nodes > 0 ? `; ${nodes} node(s) obtained for it were released` : '';
    this.d.recorder.event(
      rr,
      'Warning',
      'StatusWriteRefused',
      'Record',
      `the API server refused the status: ${err.message}${released}`,
    );
  }

  private failed(rr: ResourceRequest, reason: string): void {
    this.d.metrics.allocationFailures.inc({ profile: profileOf(rr), reason });
  }

  private emit(rr: ResourceRequest, events: readonly PlannedEvent[]): void {
    for (const e of events) this.d.recorder.event(rr, e.type, e.reason, e.action, e.note);
  }

  private releaseFailed(rr: ResourceRequest, f: ReleaseFailure): void {
    this.d.log.error('release failed', {
      object: keyOf(rr),
      node: f.name,
      provisioner: f.provisioner,
      error: f.error,
    });
    this.d.recorder.event(
      rr,
      'Warning',
      'ReleaseFailed',
      'Release',
      `${f.name} (${f.provisioner}): ${f.error}`,
    );
  }

  /** Where `rr` stands in line: its priority, then its age. */
  private entryOf(rr: ResourceRequest): QueueEntry {
    return queueEntry(rr, this.d.scheduling?.rank(rr) ?? 0);
  }

  private releaseHold(uid: string): void {
    this.holds.get(uid)?.();
    this.holds.delete(uid);
  }

  private rememberFinalized(uid: string): void {
    if (this.finalized.size >= MAX_FINALIZED) this.finalized.clear();
    this.finalized.add(uid);
  }

  /**
   * Requests waiting for capacity, oldest first: those holding no live node, and those scaled up
   * beyond what they hold whose scale-up has not succeeded yet (`observedGeneration` behind).
   */
  static pending(requests: readonly ResourceRequest[]): ResourceRequest[] {
    return requests
      .filter(waitingForCapacity)
      .sort(
        (a, b) =>
          (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
          keyOf(a).localeCompare(keyOf(b)),
      );
  }
}
