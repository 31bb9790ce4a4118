// Writes a status through the /status subresource with optimistic concurrency: a conflict means
// someone changed the object since we read it, so we read it again, re-apply our status and retry.
import { isConflict, isNotFound, type KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/objects.js';

export interface WithStatus<S> extends KubeObject {
  status?: S;
}

export type StatusWriteResult<T> = { written: T } | { gone: true } | { superseded: T };

/**
 * PUTs `status` onto the object at `path` (the object's URL), starting from `current`. Returns
 * the written object, or `{gone: true}` when it no longer exists (or is another incarnation).
 */
export async function writeStatus<S, T extends WithStatus<S>>(
  rest: KubeClient,
  path: string,
  current: T,
  status: S,
  attempts = 5,
  /** On a conflict: may our status replace what the fresh object says? Default: yes. */
  mayOverwrite: (fresh: T) => boolean = () => true,
): Promise<StatusWriteResult<T>> {
  let obj = current;
  for (let i = 0; ; i++) {
    try {
      const written = await rest.replace<T>(`${path}/status`, { ...obj, status });
      return { written };
    } catch (err) {
      if (isNotFound(err)) return { gone: true };
      if (!isConflict(err) || i + 1 >= attempts) throw err;
      let fresh: T;
      try {
        fresh = await rest.get<T>(path);
      } catch (getErr) {
        if (isNotFound(getErr)) return { gone: true };
        throw getErr;
      }
      if (fresh.metadata.uid !== current.metadata.uid) return { gone: true };
      if (!mayOverwrite(fresh)) return { superseded: fresh };
      obj = fresh;
    }
  }
}

/** Status equality ignoring key order, so an unchanged status is never written again. */
export function sameStatus(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : value,
  );
}
