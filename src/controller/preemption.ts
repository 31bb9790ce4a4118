// Preemption for a request the stack could not serve: which bound requests of lower priority
// would make room (the pure choice, src/serving/preemption.ts, over the engine's what-if), and
// marking them. The victims are released by their own reconciles (serialized per request like
// every other step); the preemptor waits for their capacity, set aside for it by its nomination.
// Only capacity the engine owns is taken: candidates hold nodes on HostPool hosts only, and the
// what-if runs through the preemptor's `hosts` provisioners (docs/design.md, Preemption).
import type { ResourceRequest } from '../api/index.js';
import { keyOf } from '../kube/objects.js';
import type { Metrics } from '../observability/metrics.js';
import { minCountOf } from '../provisioning/index.js';
import type { Runtime } from '../provisioning/runtime.js';
import { candidatesFor, chooseVictims } from '../serving/preemption.js';
import { profileOf, type ServingView } from '../serving/request-lifecycle.js';
import { requestRef } from '../serving/request-status.js';
import type { Scheduling } from './scheduling.js';

export interface PreemptionDeps {
  scheduling: Scheduling;
  requests(): readonly ResourceRequest[];
  runtime(): Runtime;
  /** The runtime with the queues, as the decisions see it. */
  view: ServingView;
  metrics: Metrics;
}

/**
 * Victims for `rr` after its stack came back short: the ones chosen now (`chosenNow`), or the
 * ones chosen before whose nodes are still going. Undefined: preemption cannot serve it (its
 * class says Never, nothing of lower priority would make room, no hosts provisioner).
 */
export async function preemptFor(
  d: PreemptionDeps,
  rr: ResourceRequest,
  signal: AbortSignal,
): Promise<{ victims: string[]; chosenNow: boolean } | { backoffMs: number } | undefined> {
  const key = keyOf(rr);
  const going = d.scheduling.nominated(key);
  if (going && going.length > 0) return { victims: [...going], chosenNow: false };
  const resolved = d.scheduling.priority(rr);
  if (!resolved.ok || resolved.preemptionPolicy === 'Never') return undefined;
  // A what-if that found nothing is not run again on every capacity event for a while; the
  // caller looks again when it may.
  const backoffMs = d.scheduling.preemptionBackoff(key);
  if (backoffMs !== undefined) return { backoffMs };
  const ref = requestRef(rr);
  const profile = profileOf(rr);
  const probe = await d.runtime().preemptionProbe?.(profile, ref, minCountOf(ref), signal);
  if (!probe || signal.aborted) return undefined;
  // Synchronous from the list to the marks: nothing changes the ledger in between.
  const candidates = candidatesFor(d.requests(), rr, resolved.priority, d.view);
  // Nobody of lower priority: no what-if to run, nothing to back off from.
  const victims =
    candidates.length > 0
      ? chooseVictims(resolved.priority, candidates, (v) => probe(v.map((c) => c.key)))
      : undefined;
  if (!victims || victims.length === 0) {
    d.scheduling.withdraw(key); // a nomination whose victims are gone holds nobody back now
    if (!victims && candidates.length > 0) d.scheduling.preemptionFailed(key);
    return undefined;
  }
  const keys = victims.map((v) => v.key);
  d.scheduling.nominate(
    key,
    resolved.priority,
    keys,
    `preempted by ${key} (priority ${resolved.priority}) to make room for it`,
  );
  d.metrics.preemptions.inc({ profile }, keys.length);
  return { victims: keys, chosenNow: true };
}
