// Which watch events are worth a reconcile. Our own status writes come back as updates; the
// reconciler would find nothing to do, but skipping them saves a pass per write.
import type { KubeObject } from '../kube/objects.js';

type WithSpec = KubeObject & { spec?: unknown; status?: unknown };

/** True when only status (and bookkeeping metadata) changed between two versions. */
export function statusOnlyChange(oldObj: WithSpec, newObj: WithSpec): boolean {
  const o = oldObj.metadata;
  const n = newObj.metadata;
  return (
    o.generation === n.generation &&
    o.deletionTimestamp === n.deletionTimestamp &&
    JSON.stringify(o.finalizers ?? []) === JSON.stringify(n.finalizers ?? []) &&
    JSON.stringify(o.labels ?? {}) === JSON.stringify(n.labels ?? {}) &&
    JSON.stringify(oldObj.spec) === JSON.stringify(newObj.spec)
  );
}
