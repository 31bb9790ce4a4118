// The one door through which a controller writes an object's status: a PUT to the /status
// subresource with optimistic concurrency. An unchanged status is not written. On a conflict the
// object is read again and the write is retried only when the caller's named guard says the fresh
// copy is still one its status may replace; otherwise the fresh copy is handed back
// ("superseded") and the caller decides again from it.
import { isConflict, isNotFound, isPermanent, type KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/objects.js';

export interface WithStatus<S> extends KubeObject {
  status?: S;
}

/** What a status computed from `basis` may overwrite on a conflict. */
export interface WriteGuard<T> {
  /** Said in logs and errors: what the guard protects. */
  readonly name: string;
  allows(fresh: T, basis: T): boolean;
}

/** Any fresh copy: the status is derived from other state, never decided from this object. */
export const anyVersion: WriteGuard<KubeObject> = { name: 'anyVersion', allows: () => true };

export type StatusWriteResult<T> =
  | { written: T }
  | { unchanged: T }
  | { gone: true }
  | { superseded: T }
  /** The server refused the status for good (4xx that is not a conflict): said, not retried. */
  | { refused: Error };

export class StatusWriter {
  constructor(
    private readonly client: KubeClient,
    private readonly attempts = 5,
  ) {}

  /** Writes `status` onto the object at `path` (its URL), read as `current`. */
  async write<S, T extends WithStatus<S>>(
    path: string,
    current: T,
    status: S,
    guard: WriteGuard<T>,
  ): Promise<StatusWriteResult<T>> {
    if (sameStatus(status, current.status)) return { unchanged: current };
    let obj = current;
    for (let i = 0; ; i++) {
      try {
        return { written: await this.client.replace<T>(`${path}/status`, statusBody(obj, status)) };
      } catch (err) {
        if (isNotFound(err)) return { gone: true };
        if (isPermanent(err)) return { refused: err as Error };
        if (!isConflict(err) || i + 1 >= this.attempts) throw err;
      }
      let fresh: T;
      try {
        fresh = await this.client.get<T>(path);
      } catch (err) {
        if (isNotFound(err)) return { gone: true };
        throw err;
      }
      if (fresh.metadata.uid !== current.metadata.uid) return { gone: true };
      if (!guard.allows(fresh, current)) return { superseded: fresh };
      if (sameStatus(status, fresh.status)) return { unchanged: fresh };
      obj = fresh;
    }
  }
}

/**
 * The body of a PUT to /status: the object's identity and version, and the status. The API server
 * takes nothing else from it (spec and the rest of metadata come from the stored object), so
 * sending them would only cost it decoding; the uid makes a write to a namesake made since fail.
 */
export function statusBody<S>(obj: KubeObject, status: S): WithStatus<S> {
  const { name, namespace, uid, resourceVersion } = obj.metadata;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name,
      ...(namespace !== undefined && { namespace }),
      ...(uid !== undefined && { uid }),
      ...(resourceVersion !== undefined && { resourceVersion }),
    },
    status,
  };
}

/** The object as it now is after a write (or as it was when nothing was written). */
export function latest<T>(current: T, r: StatusWriteResult<T>): T {
  if ('written' in r) return r.written;
  if ('unchanged' in r) return r.unchanged;
  if ('superseded' in r) return r.superseded;
  return current;
}

/** Status equality ignoring key order and undefined keys, so an unchanged status is not written. */
export function sameStatus(a: unknown, b: unknown): boolean {
  return equalJson(a, b);
}

function equalJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => equalJson(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => equalJson(ao[k], bo[k]));
}
