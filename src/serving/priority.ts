// A request's priority, from the cluster's own PriorityClasses (scheduling.k8s.io/v1), as
// kube-scheduler resolves a Pod's: the named class's value, else the class marked globalDefault,
// else 0. Resolved once, when the request is first served, and kept in status.priority (a Pod's
// spec.priority is likewise fixed at admission): a class deleted or re-created later changes
// nothing for requests already resolved.
import type { ResourceRequest } from '../api/index.js';

export type PreemptionPolicy = 'Never' | 'PreemptLowerPriority';

/** The part of a PriorityClass Berth reads. */
export interface PriorityClassInfo {
  name: string;
  value: number;
  globalDefault?: boolean;
  preemptionPolicy?: PreemptionPolicy;
}

export type Resolved =
  | { ok: true; priority: number; preemptionPolicy: PreemptionPolicy; className?: string }
  | { ok: false; message: string };

/** The class a request without a name gets: the globalDefault one (the highest, if several). */
export function globalDefault(classes: Iterable<PriorityClassInfo>): PriorityClassInfo | undefined {
  let best: PriorityClassInfo | undefined;
  for (const c of classes)
    if (
      c.globalDefault &&
      (!best || c.value > best.value || (c.value === best.value && c.name < best.name))
    )
      best = c;
  return best;
}

export function resolvePriority(
  rr: ResourceRequest,
  lookup: (name: string) => PriorityClassInfo | undefined,
  fallback: PriorityClassInfo | undefined,
): Resolved {
  const name = rr.spec.priorityClassName;
  const cls = name ? lookup(name) : fallback;
  const recorded = rr.status?.priority;
  if (recorded !== undefined)
    // Resolved before: the value stays; the class, if still there, says whether it may preempt.
    return {
      ok: true,
      priority: recorded,
      preemptionPolicy: cls
        ? (cls.preemptionPolicy ?? 'PreemptLowerPriority')
        : name
          ? 'Never'
          : 'PreemptLowerPriority',
      ...(cls ? { className: cls.name } : {}),
    };
  if (name && !cls)
    return {
      ok: false,
      message: `PriorityClass "${name}" does not exist; create it or name another class (kubectl get priorityclasses)`,
    };
  return {
    ok: true,
    priority: cls?.value ?? 0,
    preemptionPolicy: cls?.preemptionPolicy ?? 'PreemptLowerPriority',
    ...(cls ? { className: cls.name } : {}),
  };
}
