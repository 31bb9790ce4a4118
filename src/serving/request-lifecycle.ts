// A ResourceRequest's life as pure decisions. `decide` looks at the request (as cached), the
// nodes obtained but not yet written, and the runtime's view, and names the one step to take
// next; after the step's I/O (running the provisioner stack, releasing nodes), `allocated` and
// `released` say what the status becomes, which events to emit and what is left to do. The
// reconciler (src/controller/request-reconciler.ts) applies these plans; `berth simulate`
// (src/sim/simulate.ts) calls the same functions, so the two cannot drift.
//
// Finalizer rule (docs/design.md, "The status is the ledger"): a profile whose provisioners keep
// no state outside Kubernetes needs no finalizer — its capacity comes back on the delete event,
// or is simply absent from the list a new leader rebuilds from. A profile with an external
// provisioner (`remote`) holds `berth.dev/release` before anything is provisioned.
import {
  FINALIZER,
  profileOf,
  type NodeStatus,
  type ResourceRequest,
  type ResourceRequestStatus,
} from '../api/index.js';
import {
  freeNodeNames,
  minCountOf,
  nameIndex,
  nodeName,
  type NodeRecord,
  type ReleaseFailure,
  type StackResult,
} from '../provisioning/index.js';
import type { HostAvailability, ProfilePolicy } from '../provisioning/runtime.js';
import { findCondition, type ConditionUpdate } from '../runtime/conditions.js';
import { expiredBecause } from './expiry.js';
import type { Resolved } from './priority.js';
import { shownPosition } from './queue.js';
import type { Violation } from './quota.js';
import {
  allocatedStatus,
  buildStatus,
  degradedCondition,
  isLive,
  requestRef,
  toExplanation,
  toNodeStatus,
  toRecord,
  unservedReason,
  unservedStatus,
} from './request-status.js';

export { DEFAULT_PROFILE, FINALIZER, profileOf } from '../api/index.js';

export const hasFinalizer = (rr: ResourceRequest): boolean =>
  (rr.metadata.finalizers ?? []).includes(FINALIZER);

/** What the decisions need to know of the configured operator. */
export interface ServingView {
  profile(name: string): ProfilePolicy | undefined;
  profileNames(): string[];
  hostAvailability(hostPool: string, host: string): HostAvailability;
  /** Priorities, queues and preemption; absent: every request priority 0, served as it comes. */
  queue?: QueueView;
}

/** What the decisions need to know of the queues (src/controller/scheduling.ts keeps them). */
export interface QueueView {
  /** The request's priority and whether it may preempt; `ok: false` when its class is unknown. */
  priority(rr: ResourceRequest): Resolved;
  /** Its 1-based place in its profile's queue while it waits, else undefined. */
  position(rr: ResourceRequest): number | undefined;
  /**
   * Why it must not try now, whatever capacity there is: it is behind the head of a StrictFIFO
   * queue, or capacity is being freed by preemption for a request of higher priority.
   */
  waitFor(rr: ResourceRequest, priority: number): string | undefined;
  /** This bound request was chosen to make room for another: what to say on it. */
  preemption(rr: ResourceRequest): { by: string; message: string } | undefined;
}

/**
 * Waiting for capacity: no live node, or lost nodes to replace, or a scale-up not done yet
 * (`observedGeneration` behind the spec). Not when it is deleted or Expired.
 */
export function waitingForCapacity(rr: ResourceRequest): boolean {
  if (rr.metadata.deletionTimestamp || rr.status?.phase === 'Expired') return false;
  const live = (rr.status?.nodes ?? []).filter(isLive).length;
  return (
    live === 0 ||
    (rr.status?.replacing ?? 0) > 0 ||
    (live < rr.spec.count && rr.status?.observedGeneration !== rr.metadata.generation)
  );
}

/**
 * In its profile's queue: waiting for capacity, and not held back by its namespace's quota (a
 * new request or a scale-up: it waits for the quota, takes no place in line and heads no
 * StrictFIFO queue, so one namespace at its limit never holds up the others).
 */
export function queuedForCapacity(rr: ResourceRequest): boolean {
  return (
    waitingForCapacity(rr) &&
    findCondition(rr.status?.conditions, 'Allocated')?.reason !== 'QuotaExceeded'
  );
}

/**
 * The request with what the queues say of it folded into its status, so every status built
 * from it carries them: its priority, resolved once, and its place in the queue when that moved
 * enough to be worth a write (src/serving/queue.ts).
 */
export function withQueueFields(rr: ResourceRequest, view: ServingView): ResourceRequest {
  const q = view.queue;
  if (!q || rr.metadata.deletionTimestamp) return rr;
  const resolved = rr.status?.priority === undefined ? q.priority(rr) : undefined;
  const priority = resolved?.ok ? resolved.priority : rr.status?.priority;
  const position = shownPosition(rr.status?.queuePosition, q.position(rr));
  if (priority === rr.status?.priority && position === rr.status?.queuePosition) return rr;
  const status: ResourceRequestStatus = { ...(rr.status ?? {}) };
  if (priority === undefined) delete status.priority;
  else status.priority = priority;
  if (position === undefined) delete status.queuePosition;
  else status.queuePosition = position;
  return { ...rr, status };
}

/**
 * Named guards of the status write: on a conflict, may a status computed from the cached copy
 * replace what the fresh copy says?
 *  - `unlessNodesRecorded`: only while the fresh copy records no nodes and is not being deleted
 *    (an allocation must never overwrite another one, nor a deletion);
 *  - `onSameNodes`: only while the fresh copy records the same nodes and the same deletion state.
 */
export type GuardName = 'unlessNodesRecorded' | 'onSameNodes';

export interface StatusWrite {
  status: ResourceRequestStatus;
  guard: GuardName;
}

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

/** The next step for a request. */
export type Step =
  /** Nothing to do until something changes. */
  | { kind: 'idle' }
  /** Write a status (maybe) and emit events; nothing else. */
  | {
      kind: 'update';
      write?: StatusWrite;
      events: PlannedEvent[];
      failure?: string;
      /** Look again after this long (a lost host's grace period). */
      requeueAfterMs?: number;
    }
  /**
   * Run the profile's stack. `addFinalizer`: the profile is remote and the request does not hold
   * the finalizer yet — add it before anything is provisioned. `announce`: a status to write
   * first (a remote stack may take a while: say Provisioning).
   */
  | {
      kind: 'allocate';
      profile: string;
      addFinalizer: boolean;
      announce?: StatusWrite;
      /**
       * A scale-up of a request that holds nodes: run the stack for these names only; the run
       * keeps its nodes when it reaches `minCount` (the request's less what it holds).
       */
      resize?: { names: string[]; minCount: number };
    }
  /** Nodes were obtained earlier but their status write has not succeeded: write them now. */
  | { kind: 'record'; result: StackResult }
  /**
   * Give nodes back through their provisioners. `finalize`: the request is being deleted and the
   * finalizer goes once everything is released; otherwise these are zombies (nodes a failed run
   * could not give back, kept in status as Releasing).
   */
  | {
      kind: 'release';
      records: NodeRecord[];
      finalize: boolean;
      announce?: StatusWrite;
      /**
       * Names to release by key through the profile's external provisioners before the finalizer
       * goes, known or not: the request is deleted while a stack may have been running for it
       * (phase Provisioning), so a provision may have made nodes no record names — a leader
       * killed mid-provision, an answer still on its way.
       */
      sweep: string[];
      /** A scale-down: these are the newest nodes beyond spec.count; the rest stay Ready. */
      resize?: boolean;
      /** The request's deadline passed (the reason): every live node goes, it ends Expired. */
      expire?: string;
      /** onHostLoss Replace: these nodes' hosts are lost; replacements follow on the next pass. */
      replace?: boolean;
      /** Preempted (what to say on it): every live node goes, it waits again as Pending. */
      preempt?: string;
    };

/** What to do after a step's I/O. */
export interface Outcome {
  write?: StatusWrite;
  events: PlannedEvent[];
  /** Failed releases to say (an Event each), kept in status for the retry. */
  releaseFailures: ReleaseFailure[];
  /** Drop the finalizer (everything is released). */
  dropFinalizer?: boolean;
  /** Not done: back off and try again (the reason goes to the log). */
  retry?: string;
  /** Try again after this long even without an event (remote profiles: no capacity events). */
  requeueAfterMs?: number;
  /** Why the request is not served, for the failures metric. */
  failure?: string;
}

const availabilityOf = (view: ServingView) => (hostPool: string, host: string) =>
  view.hostAvailability(hostPool, host);

/** The next step for `rr`. `unwritten`: nodes the stack gave whose record is not written yet. */
export function decide(
  rr: ResourceRequest,
  view: ServingView,
  now: Date,
  unwritten?: StackResult,
): Step {
  rr = withQueueFields(rr, view);
  if (rr.metadata.deletionTimestamp) {
    if (!hasFinalizer(rr)) return { kind: 'idle' }; // capacity comes back on the delete event
    const records = [
      ...(rr.status?.nodes ?? []).map(toRecord),
      ...(unwritten?.nodes.map((n) => n.toRecord()) ?? []),
    ].filter((r) => r.state !== 'Released');
    const named = new Set([
      ...(rr.status?.nodes ?? []).map((n) => n.name),
      ...(unwritten?.nodes.map((n) => n.name) ?? []),
    ]);
    const sweep =
      rr.status?.phase === 'Provisioning' && view.profile(profileOf(rr))?.remote
        ? Array.from({ length: rr.spec.count }, (_, i) => nodeName(requestRef(rr), i)).filter(
            (n) => !named.has(n),
          )
        : [];
    // The phase says a sweep is due, so it stays Provisioning until the sweep is done.
    const announce =
      records.length > 0 && sweep.length === 0 && rr.status?.phase !== 'Releasing'
        ? {
            guard: 'onSameNodes' as const,
            status: buildStatus(
              rr,
              {
                phase: 'Releasing',
                nodes: rr.status?.nodes ?? [],
                explanation: rr.status?.explanation,
                conditions: [
                  {
                    type: 'Ready',
                    status: 'False',
                    reason: 'Releasing',
                    message: 'the request is being deleted',
                  },
                ],
              },
              now,
            ),
          }
        : undefined;
    return { kind: 'release', records, finalize: true, announce, sweep };
  }

  const profileName = profileOf(rr);
  const profile = view.profile(profileName);
  if (unwritten) return { kind: 'record', result: unwritten };

  const nodes = rr.status?.nodes ?? [];
  const zombies = nodes.filter((n) => !isLive(n) && n.state !== 'Released');
  if (zombies.length > 0)
    return { kind: 'release', records: zombies.map(toRecord), finalize: false, sweep: [] };
  if (rr.status?.phase === 'Expired') return { kind: 'idle' }; // final, until it is deleted
  const ended = expiredBecause(rr, now);
  if (ended) {
    const live = nodes.filter(isLive);
    if (live.length > 0)
      return {
        kind: 'release',
        records: live.map(toRecord),
        finalize: false,
        sweep: [],
        expire: ended,
      };
    return {
      kind: 'update',
      write: { guard: 'onSameNodes', status: expiredStatus(rr, [], ended, now) },
      events: [expiredEvent(0, ended)],
    };
  }
  // Lost nodes were released: their replacements come first, even when none is left live.
  const replacing = rr.status?.replacing ?? 0;
  if (profile && replacing > 0) return replacementStep(rr, profileName, profile.remote, replacing);
  if (nodes.some(isLive)) {
    const preempted = view.queue?.preemption(rr);
    if (preempted) return preemptStep(rr, preempted.message, now);
    if (profile) {
      // A spec change first (healing writes keep observedGeneration behind it, so it is not lost).
      if (rr.status?.observedGeneration !== rr.metadata.generation) {
        const resize = resizeStep(rr, profileName, profile.remote, profile.scaleDownOrder);
        if (resize) return resize;
      }
      const heal = healStep(rr, view, profile, now);
      if (heal) return heal;
    }
    return observe(rr, view, now);
  }

  if (!profile) {
    const message = `profile "${profileName}" is not in the operator configuration (profiles: ${view.profileNames().join(', ')})`;
    return {
      kind: 'update',
      write: {
        guard: 'unlessNodesRecorded',
        status: unservedStatus(rr, 'Failed', { summary: message }, 'UnknownProfile', message, now),
      },
      events:
        rr.status?.phase === 'Failed'
          ? []
          : [{ type: 'Warning', reason: 'UnknownProfile', action: 'Allocate', note: message }],
      failure: 'UnknownProfile',
    };
  }
  const gate = admission(rr, view, now);
  if (gate) return gate;
  const announce =
    profile.remote && rr.status?.phase !== 'Provisioning'
      ? {
          guard: 'unlessNodesRecorded' as const,
          status: buildStatus(
            rr,
            {
              phase: 'Provisioning',
              nodes: [],
              explanation: rr.status?.explanation,
              conditions: [
                {
                  type: 'Ready',
                  status: 'False',
                  reason: 'Provisioning',
                  message: 'the provisioner stack is running',
                },
              ],
            },
            now,
          ),
        }
      : undefined;
  return {
    kind: 'allocate',
    profile: profileName,
    addFinalizer: profile.remote && !hasFinalizer(rr),
    announce,
  };
}

/**
 * Before a request waiting for its first nodes may try: its priority class must exist, and the
 * queue must let it go (StrictFIFO's head first; nothing of lower priority while capacity is
 * being freed for a preemptor). Undefined: it may try.
 */
function admission(rr: ResourceRequest, view: ServingView, now: Date): Step | undefined {
  const q = view.queue;
  if (!q) return undefined;
  const resolved = q.priority(rr);
  if (!resolved.ok)
    return {
      kind: 'update',
      write: {
        guard: 'unlessNodesRecorded',
        status: unservedStatus(
          rr,
          'Pending',
          { summary: resolved.message },
          'UnknownPriorityClass',
          resolved.message,
          now,
        ),
      },
      events: warnOnNews(rr, resolved.message, 'UnknownPriorityClass', 'Admit', resolved.message),
      failure: 'UnknownPriorityClass',
    };
  const wait = q.waitFor(rr, resolved.priority);
  if (!wait) return undefined;
  return {
    kind: 'update',
    write: {
      guard: 'unlessNodesRecorded',
      status: unservedStatus(rr, 'Pending', { summary: wait }, 'Queued', wait, now),
    },
    events: [],
  };
}

/** Chosen to make room for a request of higher priority: say so, then release every live node. */
function preemptStep(rr: ResourceRequest, message: string, now: Date): Step {
  const nodes = rr.status?.nodes ?? [];
  const live = nodes.filter(isLive);
  // Intent first: the nodes are on record as Releasing before any is released, so a restart in
  // between releases them (as zombies) and the request is still said to be preempted.
  const announced = nodes.map((n) => (isLive(n) ? { ...n, state: 'Releasing' as const } : n));
  return {
    kind: 'release',
    records: live.map(toRecord),
    finalize: false,
    sweep: [],
    preempt: message,
    announce: {
      guard: 'onSameNodes',
      status: preemptedStatus(rr, announced, message, now),
    },
  };
}

function preemptedStatus(
  rr: ResourceRequest,
  nodes: NodeStatus[],
  message: string,
  now: Date,
): ResourceRequestStatus {
  return buildStatus(
    rr,
    {
      phase: 'Pending',
      nodes,
      explanation: { summary: message },
      conditions: [
        { type: 'Allocated', status: 'False', reason: 'Preempted', message },
        { type: 'Provisioned', status: 'False', reason: 'Preempted', message: 'no nodes' },
        { type: 'Ready', status: 'False', reason: 'Preempted', message },
        { type: 'Preempted', status: 'True', reason: 'Preempted', message },
        {
          type: 'Degraded',
          status: 'False',
          reason: 'HostsAvailable',
          message: 'no nodes',
        },
      ],
    },
    now,
  );
}

/**
 * A request of a namespace whose TenantQuota it would pass: it waits (Pending, or keeps what it
 * holds when it was scaling up) and says which quota, resource, usage, ask and limit.
 */
export function quotaExceeded(
  rr: ResourceRequest,
  v: Violation,
  view: ServingView,
  now: Date,
): Outcome {
  rr = withQueueFields(rr, view);
  const held = (rr.status?.nodes ?? []).filter(isLive);
  const status =
    held.length === 0
      ? unservedStatus(rr, 'Pending', { summary: v.message }, 'QuotaExceeded', v.message, now)
      : buildStatus(
          rr,
          {
            phase: rr.status?.phase ?? 'Ready',
            nodes: rr.status?.nodes ?? [],
            explanation: { summary: v.message },
            conditions: [
              { type: 'Allocated', status: 'False', reason: 'QuotaExceeded', message: v.message },
            ],
          },
          now,
          true,
        );
  if (held.length === 0) status.nodes = (rr.status?.nodes ?? []).filter((n) => !isLive(n));
  return {
    write: { guard: held.length === 0 ? 'unlessNodesRecorded' : 'onSameNodes', status },
    events: warnOnNews(rr, v.message, 'QuotaExceeded', 'Admit', v.message),
    releaseFailures: [],
    failure: 'QuotaExceeded',
  };
}

/**
 * The stack found no room, and preemption will make it (`victims`, just chosen, with an Event
 * here) or is making it (`victims` still releasing): the request waits for their capacity.
 */
export function preempting(
  rr: ResourceRequest,
  result: StackResult,
  victims: readonly string[],
  chosenNow: boolean,
  view: ServingView,
  now: Date,
): Outcome {
  rr = withQueueFields(rr, view);
  const shown = victims.slice(0, 5).join(', ') + (victims.length > 5 ? ', ...' : '');
  const summary = `preempting ${victims.length} request(s) of lower priority to make room: ${shown} (${result.explanation.summary})`;
  const explanation = { ...toExplanation(result), summary: summary.slice(0, 1024) };
  const status = unservedStatus(rr, 'Pending', explanation, 'Preempting', explanation.summary, now);
  status.nodes = zombiesOf(result);
  return {
    write: { guard: 'unlessNodesRecorded', status },
    events: chosenNow
      ? [{ type: 'Normal', reason: 'Preempting', action: 'Preempt', note: explanation.summary }]
      : [],
    releaseFailures: result.releaseFailures,
  };
}

/** Live nodes whose host is not Available (Maintenance, Disabled, gone from its pool). */
function lostNodes(rr: ResourceRequest, view: ServingView): NodeStatus[] {
  return (rr.status?.nodes ?? []).filter(
    (n) =>
      isLive(n) &&
      n.hostPool &&
      n.host &&
      view.hostAvailability(n.hostPool, n.host) !== 'Available',
  );
}

/**
 * onHostLoss Replace: nodes on a lost host are released once the request has been Degraded for
 * the grace period (counted from the Degraded condition's transition, so it survives restarts and
 * a host that comes back at once costs nothing); until then, the request is observed (Degraded)
 * and looked at again when the grace period ends.
 */
function healStep(
  rr: ResourceRequest,
  view: ServingView,
  profile: { onHostLoss?: 'Keep' | 'Replace'; hostLossGraceMs?: number },
  now: Date,
): Step | undefined {
  if (profile.onHostLoss !== 'Replace') return undefined;
  const lost = lostNodes(rr, view);
  if (lost.length === 0) return undefined;
  const grace = profile.hostLossGraceMs ?? 0;
  const degraded = findCondition(rr.status?.conditions, 'Degraded');
  const since = degraded?.status === 'True' ? Date.parse(degraded.lastTransitionTime) : undefined;
  const wait = since === undefined ? grace : since + grace - now.getTime();
  if (wait > 0) {
    const step = observe(rr, view, now);
    return step.kind === 'update' ? { ...step, requeueAfterMs: wait } : step;
  }
  return {
    kind: 'release',
    records: lost.map(toRecord),
    finalize: false,
    sweep: [],
    replace: true,
  };
}

/** Lost nodes were released: allocate their replacements, under fresh names, through the stack. */
function replacementStep(
  rr: ResourceRequest,
  profile: string,
  remote: boolean,
  replacing: number,
): Step {
  const taken = new Set((rr.status?.nodes ?? []).map((n) => n.name));
  return {
    kind: 'allocate',
    profile,
    addFinalizer: remote && !hasFinalizer(rr),
    resize: { names: freeNodeNames(requestRef(rr), taken, replacing), minCount: 0 },
  };
}

/**
 * The spec changed since the last decision and the count no longer matches what is held: scale.
 * Up, the stack runs for the missing names only; down, the newest nodes (highest index) go, or
 * the oldest when the profile says `scaleDownOrder: OldestFirst`.
 */
function resizeStep(
  rr: ResourceRequest,
  profile: string,
  remote: boolean,
  order: 'NewestFirst' | 'OldestFirst' = 'NewestFirst',
): Step | undefined {
  const live = (rr.status?.nodes ?? []).filter(isLive);
  const count = rr.spec.count;
  const ref = requestRef(rr);
  // A partial fill is not topped up by a change of another field (an extended deadline): only
  // when the count changed since the last decision (its `ready` says N of which count), the held
  // nodes no longer reach minCount, or the last scale-up failed (Allocated=False).
  const decidedFor = Number(rr.status?.ready?.split('/')[1]);
  const countChanged = !Number.isInteger(decidedFor) || decidedFor !== count;
  const lastFailed = findCondition(rr.status?.conditions, 'Allocated')?.status === 'False';
  if (live.length < count && (countChanged || lastFailed || live.length < minCountOf(ref))) {
    const taken = new Set((rr.status?.nodes ?? []).map((n) => n.name));
    return {
      kind: 'allocate',
      profile,
      addFinalizer: remote && !hasFinalizer(rr),
      resize: {
        names: freeNodeNames(ref, taken, count - live.length),
        minCount: Math.max(0, minCountOf(ref) - live.length),
      },
    };
  }
  if (live.length > count) {
    const sign = order === 'OldestFirst' ? 1 : -1;
    const first = [...live].sort((a, b) => sign * (nameIndex(a.name) - nameIndex(b.name)));
    return {
      kind: 'release',
      records: first.slice(0, live.length - count).map(toRecord),
      finalize: false,
      sweep: [],
      resize: true,
    };
  }
  return undefined;
}

/** Nodes exist: keep Degraded up to date with the hosts under them. */
function observe(rr: ResourceRequest, view: ServingView, now: Date): Step {
  const nodes = rr.status?.nodes ?? [];
  const degraded = degradedCondition(nodes, availabilityOf(view));
  const before = findCondition(rr.status?.conditions, 'Degraded');
  const status = buildStatus(
    rr,
    {
      phase: rr.status?.phase ?? 'Ready',
      nodes,
      explanation: rr.status?.explanation,
      conditions: [degraded],
    },
    now,
  );
  const events: PlannedEvent[] =
    degraded.status === 'True' && before?.status !== 'True'
      ? [{ type: 'Warning', reason: 'Degraded', action: 'Observe', note: degraded.message }]
      : [];
  return { kind: 'update', write: { guard: 'onSameNodes', status }, events };
}

/**
 * The stack ran. Provisioned: the nodes become the record (Ready) with one Normal event.
 * Otherwise Pending (or still Pending) with the explanation; nodes the stack could not give back
 * stay on record as Releasing until they are released.
 */
export function allocated(
  rr: ResourceRequest,
  result: StackResult,
  view: ServingView,
  now: Date,
  remote: boolean,
  pendingRecheckMs: number,
): Outcome {
  rr = withQueueFields(rr, view);
  const held = (rr.status?.nodes ?? []).filter(isLive);
  if ((rr.status?.replacing ?? 0) > 0)
    return replaced(rr, held, result, view, now, remote, pendingRecheckMs);
  if (held.length > 0) return scaledUp(rr, held, result, view, now, remote, pendingRecheckMs);
  if (result.outcome === 'Provisioned') {
    const { status, nodes, partial, where } = allocatedStatus(
      rr,
      result,
      availabilityOf(view),
      now,
    );
    const shown = where.slice(0, 10).join(', ') + (where.length > 10 ? ', ...' : '');
    return {
      write: { guard: 'unlessNodesRecorded', status },
      events: [
        {
          type: 'Normal',
          reason: 'Allocated',
          action: 'Allocate',
          note: `${nodes.length}/${rr.spec.count} node(s)${partial}: ${shown}`,
        },
      ],
      releaseFailures: [],
    };
  }
  const explanation = toExplanation(result);
  const reason = unservedReason(result);
  const status = unservedStatus(rr, 'Pending', explanation, reason, explanation.summary, now);
  status.nodes = zombiesOf(result);
  return {
    write: { guard: 'unlessNodesRecorded', status },
    events: warnOnNews(
      rr,
      explanation.summary,
      'FailedToAllocate',
      'Allocate',
      explanation.summary,
    ),
    releaseFailures: result.releaseFailures,
    failure: reason,
    ...afterShortfall(result, explanation.summary, remote, pendingRecheckMs),
  };
}

const byIndex = (a: { name: string }, b: { name: string }) => nameIndex(a.name) - nameIndex(b.name);

/** A Warning only when the explanation changed: a retry that learns nothing new stays quiet. */
const warnOnNews = (
  rr: ResourceRequest,
  summary: string,
  reason: string,
  action: string,
  note: string,
): PlannedEvent[] =>
  rr.status?.explanation?.summary === summary ? [] : [{ type: 'Warning', reason, action, note }];

/**
 * After a run that did not serve: back off and retry after a failed spawn; otherwise a remote
 * profile (no capacity events tell it) looks again after `pendingRecheckMs`.
 */
const afterShortfall = (
  result: StackResult,
  summary: string,
  remote: boolean,
  pendingRecheckMs: number,
): Pick<Outcome, 'retry' | 'requeueAfterMs'> => ({
  retry: result.outcome === 'SpawnFailed' ? `spawn failed: ${summary}` : undefined,
  requeueAfterMs: remote && result.outcome !== 'SpawnFailed' ? pendingRecheckMs : undefined,
});

/** Nodes a run could not give back: on record as Releasing, released on the next pass. */
const zombiesOf = (result: StackResult): NodeStatus[] =>
  result.releaseFailures.map((f) => toNodeStatus({ ...f.record, state: 'Releasing' }));

/** Why to back off and come again, when a release failed. */
const retryAfter = (failures: readonly ReleaseFailure[]): string | undefined =>
  failures.length ? `release failed for ${failures.map((f) => f.name).join(', ')}` : undefined;

/** The record after a release: what went leaves it, what failed stays as Releasing. */
function keptAfter(
  current: readonly NodeStatus[],
  released: ReadonlySet<string>,
  failures: readonly ReleaseFailure[],
): NodeStatus[] {
  const failed = new Set(failures.map((f) => f.name));
  return current
    .filter((n) => !released.has(n.name) && n.state !== 'Released')
    .map((n) => (failed.has(n.name) ? { ...n, state: 'Releasing' as const } : n));
}

const where = (n: NodeStatus) =>
  n.host ? `${n.hostPool}/${n.host}` : `${n.provisioner}:${n.address}${n.port ? `:${n.port}` : ''}`;

/** Ready conditions for `live` running nodes of a request that asks `count`. */
function readyConditions(
  live: readonly NodeStatus[],
  count: number,
  view: ServingView,
  allocatedMessage: string,
) {
  return [
    { type: 'Allocated', status: 'True', reason: 'Allocated', message: allocatedMessage } as const,
    {
      type: 'Provisioned',
      status: 'True',
      reason: 'Spawned',
      message: `${live.length} node(s) running`,
    } as const,
    {
      type: 'Ready',
      status: 'True',
      reason: 'NodesRunning',
      message: `${live.length}/${count} node(s) running`,
    } as const,
    degradedCondition(live, availabilityOf(view)),
  ];
}

/**
 * Replacements ran for lost nodes (their own minCount is 0: each one found is kept). What was not
 * replaced stays counted in `replacing`, the request stays Degraded and says why, and capacity
 * coming back tries again.
 */
function replaced(
  rr: ResourceRequest,
  held: readonly NodeStatus[],
  result: StackResult,
  view: ServingView,
  now: Date,
  remote: boolean,
  pendingRecheckMs: number,
): Outcome {
  const count = rr.spec.count;
  const replacing = rr.status?.replacing ?? 0;
  const zombies = zombiesOf(result);
  const added =
    result.outcome === 'Provisioned' ? result.nodes.map((n) => toNodeStatus(n.toRecord())) : [];
  const nodes = [...held, ...added].sort(byIndex);
  const left = replacing - added.length;
  const explanation = toExplanation(result);
  const pendingDegraded = {
    type: 'Degraded',
    status: 'True',
    reason: 'ReplacementPending',
    message: `${left} node(s) lost with their host not replaced yet: ${explanation.summary}`,
  } as const;
  const reason = unservedReason(result);
  const conditions: ConditionUpdate[] =
    nodes.length > 0
      ? readyConditions(nodes, count, view, `${nodes.length} node(s) allocated`)
      : [
          { type: 'Allocated', status: 'False', reason, message: explanation.summary },
          { type: 'Provisioned', status: 'False', reason, message: 'no nodes' },
          { type: 'Ready', status: 'False', reason, message: explanation.summary },
        ];
  if (left > 0) conditions.splice(3, 1, pendingDegraded);
  const status = buildStatus(
    rr,
    {
      phase: nodes.length > 0 ? 'Ready' : 'Pending',
      nodes: [...nodes, ...zombies],
      explanation: left > 0 ? explanation : undefined,
      conditions,
      replacing: left,
      replacements: (rr.status?.replacements ?? 0) + added.length,
    },
    now,
    true,
  );
  const events: PlannedEvent[] = added.map((n) => ({
    type: 'Normal',
    reason: 'Replaced',
    action: 'Replace',
    note: `replacement ${n.name} on ${where(n)}`,
  }));
  if (left > 0)
    events.push(
      ...warnOnNews(
        rr,
        explanation.summary,
        'FailedToReplace',
        'Replace',
        `${left} node(s) not replaced: ${explanation.summary}`,
      ),
    );
  return {
    write: { guard: 'onSameNodes', status },
    events,
    releaseFailures: result.releaseFailures,
    ...(left > 0 ? { failure: reason } : {}),
    retry: result.outcome === 'SpawnFailed' ? `spawn failed: ${explanation.summary}` : undefined,
    requeueAfterMs: remote && left > 0 ? pendingRecheckMs : undefined,
  };
}

/**
 * A scale-up ran for the missing names of a request that holds `held`. Its nodes join the record
 * when the run reached its minCount (the total is then at least the request's minCount, and a
 * total below count is a partial fill, as at creation: not topped up later). Otherwise the held
 * nodes stay Ready, `observedGeneration` stays behind the spec (so capacity coming back retries
 * it), and the explanation says why.
 */
function scaledUp(
  rr: ResourceRequest,
  held: readonly NodeStatus[],
  result: StackResult,
  view: ServingView,
  now: Date,
  remote: boolean,
  pendingRecheckMs: number,
): Outcome {
  const count = rr.spec.count;
  const zombies = zombiesOf(result);
  if (result.outcome === 'Provisioned') {
    const added = result.nodes.map((n) => toNodeStatus(n.toRecord()));
    const nodes = [...held, ...added].sort(byIndex);
    const partial =
      nodes.length < count
        ? ` (${nodes.length} of ${count}, at least ${minCountOf(requestRef(rr))} wanted)`
        : '';
    const explanation = toExplanation(result);
    const status = buildStatus(
      rr,
      {
        phase: 'Ready',
        nodes: [...nodes, ...zombies],
        explanation: nodes.length < count ? explanation : undefined,
        conditions: readyConditions(
          nodes,
          count,
          view,
          `${nodes.length} node(s) allocated${partial}`,
        ),
      },
      now,
    );
    const note =
      added.length > 0
        ? `scaled up from ${held.length} to ${nodes.length} node(s)${partial}: ${added.map(where).join(', ')}`
        : `no node added (${explanation.summary}); ${held.length} node(s) kept`;
    return {
      write: { guard: 'onSameNodes', status },
      events: [
        {
          type: added.length > 0 ? 'Normal' : 'Warning',
          reason: added.length > 0 ? 'Scaled' : 'FailedToScale',
          action: 'Scale',
          note,
        },
      ],
      releaseFailures: result.releaseFailures,
    };
  }
  const explanation = toExplanation(result);
  const reason = unservedReason(result);
  const status = buildStatus(
    rr,
    {
      phase: rr.status?.phase ?? 'Ready',
      nodes: [...(rr.status?.nodes ?? []), ...zombies],
      explanation,
      conditions: [
        {
          type: 'Allocated',
          status: 'False',
          reason,
          message: `scaling to ${count}: ${explanation.summary}`,
        },
      ],
    },
    now,
    true,
  );
  return {
    write: { guard: 'onSameNodes', status },
    events: warnOnNews(
      rr,
      explanation.summary,
      'FailedToScale',
      'Scale',
      `${held.length} node(s) kept: ${explanation.summary}`,
    ),
    releaseFailures: result.releaseFailures,
    failure: reason,
    ...afterShortfall(result, explanation.summary, remote, pendingRecheckMs),
  };
}

/**
 * Nodes on lost hosts were released (`released`); their replacements are allocated on the next
 * pass (`replacing` counts them, so a restart in between still replaces them). One that could not
 * be released stays as Releasing and is tried again first.
 */
function lostReleased(
  rr: ResourceRequest,
  current: readonly NodeStatus[],
  records: readonly NodeRecord[],
  releasedNames: ReadonlySet<string>,
  failures: readonly ReleaseFailure[],
  view: ServingView,
  now: Date,
): Outcome {
  const nodes = keptAfter(current, releasedNames, failures);
  const live = nodes.filter(isLive);
  const count = rr.spec.count;
  const lost = records.filter((r) => releasedNames.has(r.name));
  const hosts = [...new Set(lost.map((r) => `${r.hostPool}/${r.host}`))].join(', ');
  const why = `replacing ${lost.length} node(s) lost with ${hosts}`;
  const conditions: ConditionUpdate[] =
    live.length > 0
      ? readyConditions(live, count, view, `${live.length} node(s) allocated`)
      : [
          { type: 'Allocated', status: 'False', reason: 'Replacing', message: why },
          { type: 'Provisioned', status: 'False', reason: 'Replacing', message: 'no nodes' },
          { type: 'Ready', status: 'False', reason: 'Replacing', message: why },
        ];
  conditions.splice(3, 1, { type: 'Degraded', status: 'True', reason: 'Replacing', message: why });
  const status = buildStatus(
    rr,
    {
      phase: live.length > 0 ? 'Ready' : 'Pending',
      nodes,
      conditions,
      // Every lost node, released now or (a failed release) on the next pass, gets a successor.
      replacing: (rr.status?.replacing ?? 0) + records.length,
    },
    now,
    true,
  );
  return {
    write: { guard: 'onSameNodes', status },
    events: lost.map((r) => ({
      type: 'Warning',
      reason: 'HostLost',
      action: 'Replace',
      note: `released ${r.name} on ${r.hostPool}/${r.host} (${view.hostAvailability(r.hostPool!, r.host!)}); a replacement follows`,
    })),
    releaseFailures: [...failures],
    // The replacements are the next step: our own status write wakes nobody, so come back now.
    requeueAfterMs: 0,
    retry: retryAfter(failures),
  };
}

/** Ended: no live node, Ready=False with the reason, and the record of what is still releasing. */
function expiredStatus(
  rr: ResourceRequest,
  nodes: NodeStatus[],
  why: string,
  now: Date,
): ResourceRequestStatus {
  return buildStatus(
    rr,
    {
      phase: 'Expired',
      nodes,
      conditions: [
        { type: 'Allocated', status: 'False', reason: 'Expired', message: why },
        { type: 'Provisioned', status: 'False', reason: 'Expired', message: 'no nodes' },
        { type: 'Ready', status: 'False', reason: 'Expired', message: why },
      ],
    },
    now,
  );
}

const expiredEvent = (released: number, why: string): PlannedEvent => ({
  type: 'Normal',
  reason: 'Expired',
  action: 'Expire',
  note: released > 0 ? `${why}: released ${released} node(s)` : why,
});

/**
 * The newest nodes beyond the count were released (`released`), or not (`failures`: they stay as
 * Releasing, the next pass releases them, and only then is the change observed).
 */
function scaledDown(
  rr: ResourceRequest,
  current: readonly NodeStatus[],
  releasedNames: ReadonlySet<string>,
  failures: readonly ReleaseFailure[],
  view: ServingView,
  now: Date,
): Outcome {
  const nodes = keptAfter(current, releasedNames, failures);
  const live = nodes.filter(isLive);
  const count = rr.spec.count;
  const status = buildStatus(
    rr,
    {
      phase: 'Ready',
      nodes,
      conditions: readyConditions(live, count, view, `${live.length} node(s) allocated`),
    },
    now,
    failures.length > 0,
  );
  const before = current.filter(isLive).length;
  return {
    write: { guard: 'onSameNodes', status },
    events:
      releasedNames.size > 0
        ? [
            {
              type: 'Normal',
              reason: 'Scaled',
              action: 'Scale',
              note: `scaled down from ${before} to ${before - releasedNames.size} node(s): released ${[...releasedNames].join(', ')}`,
            },
          ]
        : [],
    releaseFailures: [...failures],
    retry: retryAfter(failures),
  };
}

/**
 * Nodes were given back (`released`) or not (`failures`). What is released is recorded, so a
 * retry releases only the rest (each node exactly once). When the request is being deleted and
 * nothing failed, the finalizer goes.
 */
export function released(
  rr: ResourceRequest,
  step: {
    records: readonly NodeRecord[];
    finalize: boolean;
    resize?: boolean;
    expire?: string;
    replace?: boolean;
    preempt?: string;
  },
  done: readonly NodeRecord[],
  failures: readonly ReleaseFailure[],
  view: ServingView,
  now: Date,
): Outcome {
  rr = withQueueFields(rr, view);
  const releasedNames = new Set(done.map((r) => r.name));
  const current = rr.status?.nodes ?? [];
  const events: PlannedEvent[] = [];
  if (step.resize) return scaledDown(rr, current, releasedNames, failures, view, now);
  if (step.replace)
    return lostReleased(rr, current, step.records, releasedNames, failures, view, now);
  if (step.preempt) {
    // Pending again whatever the releases did: what failed stays as Releasing for the retry.
    const left = keptAfter(current, releasedNames, failures).map((n) => ({
      ...n,
      state: 'Releasing' as const,
    }));
    return {
      write: { guard: 'onSameNodes', status: preemptedStatus(rr, left, step.preempt, now) },
      events: [
        {
          type: 'Warning',
          reason: 'Preempted',
          action: 'Preempt',
          note: `${step.preempt}: released ${releasedNames.size} node(s)`,
        },
      ],
      releaseFailures: [...failures],
      retry: retryAfter(failures),
    };
  }
  if (step.expire) {
    // Ended whatever the releases did: a node that could not be released stays as Releasing
    // (the next pass releases it); the request does not come back.
    const left = keptAfter(current, releasedNames, failures);
    return {
      write: { guard: 'onSameNodes', status: expiredStatus(rr, left, step.expire, now) },
      events: [expiredEvent(releasedNames.size, step.expire)],
      releaseFailures: [...failures],
      retry: retryAfter(failures),
    };
  }
  if (failures.length === 0) {
    if (step.finalize) {
      if (done.length > 0)
        events.push({
          type: 'Normal',
          reason: 'Released',
          action: 'Release',
          note: `${done.length} node(s) released`,
        });
      return { events, releaseFailures: [], dropFinalizer: true };
    }
    // Zombies gone: they leave the record. A spec change still to act on (a scale-down whose
    // release failed once) is next; our own status write wakes nobody, so come back now.
    const nodes = current.filter((n) => !releasedNames.has(n.name) && n.state !== 'Released');
    return {
      write:
        releasedNames.size > 0
          ? { guard: 'onSameNodes', status: { ...(rr.status ?? {}), nodes } }
          : undefined,
      events,
      releaseFailures: [],
      ...(rr.status?.observedGeneration !== rr.metadata.generation ? { requeueAfterMs: 0 } : {}),
    };
  }
  const inStatus = new Set(current.map((n) => n.name));
  const nodes: NodeStatus[] = [
    ...(step.finalize
      ? current.map((n) => (releasedNames.has(n.name) ? { ...n, state: 'Released' as const } : n))
      : current.filter((n) => !releasedNames.has(n.name))),
    ...failures
      .filter((f) => !inStatus.has(f.name))
      .map((f) => toNodeStatus({ ...f.record, state: 'Releasing' })),
  ];
  return {
    write: { guard: 'onSameNodes', status: { ...(rr.status ?? {}), nodes } },
    events,
    releaseFailures: [...failures],
    retry: retryAfter(failures),
  };
}
