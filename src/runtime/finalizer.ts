// Adding and removing a finalizer, in one place (kube-rs's `finalizer` helper, controller-runtime's
// controllerutil.AddFinalizer/RemoveFinalizer). Both are merge patches that carry the object's
// resourceVersion, so a stale copy gets a conflict instead of overwriting someone else's list.
// Each returns the object as the server now has it, so the caller goes on without waiting for
// the watch to bring the change back.
import { isNotFound, type KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/objects.js';

export const holds = (obj: KubeObject, finalizer: string): boolean =>
  (obj.metadata.finalizers ?? []).includes(finalizer);

export async function addFinalizer<T extends KubeObject>(
  client: KubeClient,
  path: string,
  obj: T,
  finalizer: string,
): Promise<T> {
  if (holds(obj, finalizer)) return obj;
  return client.mergePatch<T>(path, {
    metadata: {
      finalizers: [...(obj.metadata.finalizers ?? []), finalizer],
      resourceVersion: obj.metadata.resourceVersion,
    },
  });
}

/** Removes `finalizer`; an object already gone is fine (returns undefined). */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  path: string,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  if (!holds(obj, finalizer)) return obj;
  try {
    return await client.mergePatch<T>(path, {
      metadata: {
        finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer),
        resourceVersion: obj.metadata.resourceVersion,
      },
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
