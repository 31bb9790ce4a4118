// The offline simulator: the operator's engine, stack and status builders run over files
// instead of a cluster. Requests are served as the operator's queues serve them — by priority,
// then creation (input order for requests that have none) — with the same decisions on
// priority classes, StrictFIFO, TenantQuotas and preemption; the statuses are exactly what the
// operator would write (with `now` as the clock, so the same input gives the same output).
import type {
  HostPool,
  HostPoolStatus,
  OperatorConfig,
  ResourceRequest,
  ResourceRequestStatus,
  StoragePool,
  StoragePoolStatus,
  TenantQuota,
} from '../api/index.js';
import { HostsBackend } from '../allocation/service.js';
import { AssembledRuntime } from '../provisioning/assemble.js';
import { releaseRecords } from '../provisioning/records.js';
import { runStack } from '../provisioning/stack.js';
import { hostPoolStatus, storagePoolStatus } from '../serving/pool-status.js';
import { candidatesFor, chooseVictims } from '../serving/preemption.js';
import { globalDefault, resolvePriority, type PriorityClassInfo } from '../serving/priority.js';
import { ProfileQueues, queueEntry, queueOrder, type QueueEntry } from '../serving/queue.js';
import { QuotaBook, quotaInfo } from '../serving/quota.js';
import {
  allocated,
  decide,
  preempting,
  profileOf,
  quotaExceeded,
  queuedForCapacity,
  released,
  waitingForCapacity,
  type QueueView,
  type ServingView,
} from '../serving/request-lifecycle.js';
import { requestIdentity, requestRef } from '../serving/request-status.js';
import { minCountOf } from '../provisioning/index.js';

export interface SimulationInput {
  hostPools: HostPool[];
  storagePools: StoragePool[];
  requests: ResourceRequest[];
  config: OperatorConfig;
  /** The cluster's PriorityClasses (spec.priorityClassName). */
  priorityClasses?: PriorityClassInfo[];
  /** TenantQuotas, checked before every allocation. */
  tenantQuotas?: TenantQuota[];
  /** Folder relative module paths and CA/token files are resolved against. */
  baseDir?: string;
  /**
   * Requests as the cluster holds them (`--from-cluster`): taken as they are (no change applied
   * on top) and served before `requests`, oldest first, as the operator would serve them.
   */
  current?: ResourceRequest[];
  /**
   * Never call a provisioner outside the process (webhook, module): a request of such a profile
   * is reported, not served. `--from-cluster` sets it: a what-if must not make machines.
   */
  localOnly?: boolean;
}

export interface SimulationOutput {
  requests: Array<{ namespace: string; name: string; status: ResourceRequestStatus }>;
  hostPools: Array<{ name: string; status: HostPoolStatus }>;
  storagePools: Array<{ name: string; status: StoragePoolStatus }>;
}

/** A request whose profile calls out of the process, in a what-if that must not. */
function notSimulated(rr: ResourceRequest, profile: string, now: Date): ResourceRequestStatus {
  const message = `not simulated: profile "${profile}" has external provisioners (webhook or module), which a what-if does not call`;
  return {
    ...(rr.status ?? {}),
    phase: rr.status?.phase ?? 'Pending',
    explanation: { summary: message },
    conditions: [
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'NotSimulated',
        message,
        lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    ],
  };
}

/** Objects read from files have no generation yet; the API server would give them 1. */
function asCreated<T extends { metadata: { generation?: number } }>(obj: T): T {
  return obj.metadata.generation === undefined
    ? { ...obj, metadata: { ...obj.metadata, generation: 1 } }
    : obj;
}

/**
 * A request given with a status (`kubectl get rr x -o yaml`, its spec then edited) is that status
 * with the file's spec applied on top: one generation later than the status observed, as the API
 * server would make it. So a changed count is simulated as the scale it is.
 */
function asApplied(rr: ResourceRequest): ResourceRequest {
  const observed = rr.status?.observedGeneration;
  if (observed === undefined) return asCreated(rr);
  return { ...rr, metadata: { ...rr.metadata, generation: observed + 1 } };
}

const keyOf = (rr: ResourceRequest) => `${rr.metadata.namespace ?? ''}/${rr.metadata.name}`;

export async function simulate(input: SimulationInput, now: Date): Promise<SimulationOutput> {
  const hostPools = input.hostPools.map(asCreated);
  const storagePools = input.storagePools.map(asCreated);
  const current = (input.current ?? []).map(asCreated);
  const all = [...current, ...input.requests.map(asApplied)];
  const backend = new HostsBackend();
  backend.setInventory(hostPools, storagePools);
  const runtime = AssembledRuntime.build(input.config, backend, { baseDir: input.baseDir ?? '.' });

  // The requests as they now are: each step of the run replaces its request's entry.
  const latest = new Map(all.map((rr) => [keyOf(rr), rr]));
  // Requests from files have no creation time: they come after the cluster's, in input order.
  const created = new Map(
    all.map((rr, i) => [
      keyOf(rr),
      rr.metadata.creationTimestamp ?? `~${String(i).padStart(9, '0')}`,
    ]),
  );
  const classes = new Map((input.priorityClasses ?? []).map((c) => [c.name, c]));
  const fallback = globalDefault(classes.values());
  const queues = new ProfileQueues();
  const victims = new Map<string, string>();
  const preemptors = new Set<string>();
  const queue: QueueView = {
    priority: (rr) =>
      resolvePriority(rr, (n) => classes.get(n), rr.spec.priorityClassName ? undefined : fallback),
    position: (rr) => queues.position(keyOf(rr)),
    waitFor: (rr) => {
      const profile = profileOf(rr);
      if (runtime.profile(profile)?.queueing !== 'StrictFIFO') return undefined;
      const head = queues.head(profile);
      const mine = order(rr);
      return head && head.key !== mine.key && queueOrder(head, mine) < 0
        ? `waiting behind ${head.key}, the head of the StrictFIFO queue of profile ${profile}`
        : undefined;
    },
    preemption: (rr) => {
      const message = victims.get(keyOf(rr));
      return message ? { by: '', message } : undefined;
    },
  };
  const view: ServingView = {
    profile: (n) => runtime.profile(n),
    profileNames: () => runtime.profileNames(),
    hostAvailability: (p, h) => runtime.hostAvailability(p, h),
    queue,
  };
  // Served as the operator's work queue serves them: priority, then creation time.
  const order = (rr: ResourceRequest): QueueEntry => {
    const p = queue.priority(rr);
    return queueEntry(rr, p.ok ? p.priority : 0, created.get(keyOf(rr))!);
  };
  const entryOf = (rr: ResourceRequest): QueueEntry | undefined =>
    queuedForCapacity(rr) && queue.priority(rr).ok ? order(rr) : undefined;
  const update = (rr: ResourceRequest, status: ResourceRequestStatus | undefined) => {
    const next = status ? { ...rr, status } : rr;
    latest.set(keyOf(rr), next);
    queues.set(keyOf(rr), entryOf(next));
    return next;
  };
  for (const rr of all) queues.set(keyOf(rr), entryOf(rr));
  const quotas = new QuotaBook({
    quotas: (ns) =>
      (input.tenantQuotas ?? []).filter((q) => q.metadata.namespace === ns).map(quotaInfo),
    requests: (ns) => [...latest.values()].filter((rr) => rr.metadata.namespace === ns),
  });
  const served = [...all].sort((a, b) => queueOrder(order(a), order(b)));
  try {
    runtime.restore(all);
    let preempted = false;
    for (const rr of served) update(rr, await serve(latest.get(keyOf(rr))!));
    // Capacity moved by preemption: what still waits is tried again, as the operator would,
    // until a pass preempts nothing more (each request preempts at most once in a run).
    for (let pass = 0; preempted && pass < served.length; pass++) {
      preempted = false;
      const waiting = served
        .map((rr) => latest.get(keyOf(rr))!)
        .filter(waitingForCapacity)
        .sort((a, b) => queueOrder(order(a), order(b)));
      for (const now of waiting) update(now, await serve(latest.get(keyOf(now))!));
    }
    const out: SimulationOutput = { requests: [], hostPools: [], storagePools: [] };
    for (const rr of all)
      out.requests.push({
        namespace: rr.metadata.namespace ?? '',
        name: rr.metadata.name,
        status: latest.get(keyOf(rr))!.status ?? {},
      });
    for (const hp of hostPools)
      out.hostPools.push({ name: hp.metadata.name, status: hostPoolStatus(hp, backend, now) });
    for (const sp of storagePools)
      out.storagePools.push({
        name: sp.metadata.name,
        status: storagePoolStatus(sp, backend, now),
      });
    return out;

    /** What the operator would write for `rr`: the same decisions (serving/request-lifecycle.ts). */
    async function serve(rr: ResourceRequest): Promise<ResourceRequestStatus | undefined> {
      const step = decide(rr, view, now);
      if (step.kind === 'update') return step.write?.status ?? rr.status;
      if (step.kind === 'release' && (step.resize || step.preempt)) {
        if (input.localOnly && runtime.profile(profileOf(rr))?.remote)
          return notSimulated(rr, profileOf(rr), now);
        // A scale-down or a preemption: nodes go back, as the operator would give them.
        const releasers = runtime.releasers(profileOf(rr), step.records);
        const out = await releaseRecords(step.records, requestIdentity(rr), releasers);
        const basis = step.announce ? { ...rr, status: step.announce.status } : rr;
        return released(basis, step, out.released, out.failures, view, now).write?.status;
      }
      if (step.kind !== 'allocate') return rr.status;
      const profile = runtime.profile(step.profile)!;
      if (profile.remote && input.localOnly) return notSimulated(rr, step.profile, now);
      const hold = quotas.reserve(rr, step.resize?.names.length ?? rr.spec.count);
      // Served one at a time: nothing is in flight, so a refusal is always a verdict.
      if (!hold.ok)
        return 'violation' in hold
          ? (quotaExceeded(rr, hold.violation, view, now).write?.status ?? rr.status)
          : rr.status;
      try {
        const result = await runStack(profile.provisioners, requestRef(rr), {
          ...(step.resize ? { names: step.resize.names, minCount: step.resize.minCount } : {}),
        });
        if (result.outcome === 'Insufficient' && !step.resize && !preemptors.has(keyOf(rr))) {
          preemptors.add(keyOf(rr)); // once per run: the what-if said the room is there now
          const victims = await preemptFor(rr);
          if (victims) {
            const waiting = preempting(rr, result, victims, true, view, now).write!.status;
            hold.release(); // the next attempt holds its own
            return (await serve(update(rr, waiting))) ?? waiting;
          }
        }
        return allocated(rr, result, view, now, profile.remote, 0).write?.status ?? rr.status;
      } finally {
        hold.release();
      }
    }

    /** Preempts for `rr` when it may (the operator's rules): the victims' keys, released now. */
    async function preemptFor(rr: ResourceRequest): Promise<string[] | undefined> {
      const resolved = queue.priority(rr);
      if (!resolved.ok || resolved.preemptionPolicy === 'Never') return undefined;
      const ref = requestRef(rr);
      const probe = await runtime.preemptionProbe(
        profileOf(rr),
        ref,
        minCountOf(ref),
        new AbortController().signal,
      );
      if (!probe) return undefined;
      const chosen = chooseVictims(
        resolved.priority,
        candidatesFor(latest.values(), rr, resolved.priority, view),
        (v) => probe(v.map((c) => c.key)),
      );
      if (!chosen?.length) return undefined;
      preempted = true;
      const message = `preempted by ${keyOf(rr)} (priority ${resolved.priority}) to make room for it`;
      for (const v of chosen) {
        victims.set(v.key, message);
        const victim = latest.get(v.key)!;
        update(victim, await serve(victim));
        victims.delete(v.key);
      }
      return chosen.map((v) => v.key);
    }
  } finally {
    await runtime.close();
  }
}
