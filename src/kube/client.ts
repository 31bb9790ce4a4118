// The Kubernetes API as the controller uses it: a small interface, so reconcilers, the informer,
// the status writer, the event recorder and the leader elector run against the real API server
// (KubeRest) or an in-memory fake in unit tests (test/support/fakekube.ts). Paths are built by
// kube/paths.ts; errors are KubeError with the server's code and reason.
import type { ObjectList } from './objects.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface KubeClient {
  get<T>(path: string, query?: Query): Promise<T>;
  /** One page of a collection (`limit`/`continue` in the query). */
  list<T>(path: string, query?: Query, signal?: AbortSignal): Promise<ObjectList<T>>;
  create<T>(path: string, body: unknown): Promise<T>;
  /** PUT: the body's metadata.resourceVersion makes it optimistic (409 on a stale one). */
  replace<T>(path: string, body: unknown): Promise<T>;
  mergePatch<T>(path: string, patch: unknown): Promise<T>;
  jsonPatch<T>(path: string, ops: unknown[]): Promise<T>;
  delete<T>(path: string): Promise<T>;
  /**
   * Starts a watch; `onEvent` gets every event, `onDone` exactly once with the error (a
   * WatchIdleError when the stream was silent for `idleMs`), or null when the server ends the
   * stream. Returns a stop function.
   */
  watch<T>(
    path: string,
    query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    onDone: (err: unknown) => void,
    idleMs: number,
  ): Promise<() => void>;
}

/** An error answer of the API server, with its HTTP code and Status reason. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

/** A watch that went silent (no event, no bookmark) and was closed by its watchdog. */
export class WatchIdleError extends Error {
  constructor(path: string, idleMs: number) {
    super(`watch ${path} silent for ${idleMs}ms`);
    this.name = 'WatchIdleError';
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeError && e.code === 409;
export const isGone = (e: unknown): boolean => e instanceof KubeError && e.code === 410;
export const isAlreadyExists = (e: unknown): boolean =>
  e instanceof KubeError && e.code === 409 && e.reason === 'AlreadyExists';
/** A refusal that the same request will get again (validation, size, forbidden): not a retry. */
export const isPermanent = (e: unknown): boolean =>
  e instanceof KubeError && e.code >= 400 && e.code < 500 && ![404, 409, 410, 429].includes(e.code);
