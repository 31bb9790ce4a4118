// Cache transforms (controller-runtime's cache.TransformFunc): what the informers keep of an
// object. The controller never reads managedFields or kubectl's last-applied copy of the object,
// and together they are often most of its size, so the caches drop them.
import type { KubeObject } from './objects.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops metadata.managedFields and the last-applied-configuration annotation, in place (the
 * object was just decoded for the cache). Safe for the writes the operator makes from cached
 * objects: a PUT without managedFields keeps the server's, and a PUT to /status ignores metadata;
 * a PUT of a whole object taken from the cache would drop the annotation, so do not do that.
 */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  if (!meta) return obj;
  if (meta.managedFields !== undefined) delete meta.managedFields;
  const annotations = meta.annotations;
  if (annotations && LAST_APPLIED_ANNOTATION in annotations) {
    delete annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(annotations).length === 0) delete meta.annotations;
  }
  return obj;
}
