// The thin facade over the Kubernetes API that the controller uses. Authentication and TLS come
// from @kubernetes/client-node's KubeConfig; requests are plain JSON over its dispatcher, so
// every call the operator makes is visible in one place (and in the RBAC role, docs/rbac.md).
import { KubeConfig } from '@kubernetes/client-node';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { RequestContext, HttpMethod } from '@kubernetes/client-node/dist/gen/http/http.js';
import { fetch, type Dispatcher } from 'undici';
import {
  KubeError,
  WatchIdleError,
  type KubeClient,
  type Query,
  type WatchEvent,
} from './client.js';
import type { ObjectList } from './objects.js';

export { KubeError, isAlreadyExists, isConflict, isGone, isNotFound } from './client.js';
export type { KubeClient, Query, WatchEvent } from './client.js';

interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** The API server's Status answer (or whatever text came) as a KubeError. */
function kubeError(
  response: { status: number; statusText: string },
  text: string,
  what: string,
): KubeError {
  let status: KubeStatus;
  try {
    status = JSON.parse(text) as KubeStatus;
  } catch {
    status = { message: text };
  }
  const message = status.message ?? response.statusText;
  return new KubeError(
    response.status,
    status.reason ?? response.statusText,
    `${what}: ${message} (${response.status})`,
  );
}

export class KubeRest implements KubeClient {
  constructor(
    readonly config: KubeConfig,
    private readonly userAgent = 'berth-operator',
  ) {}

  get server(): string {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    return cluster.server;
  }

  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: { query?: Query; body?: unknown; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const url = new URL(this.server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), HttpMethod[method]);
    await this.config.applySecurityAuthentication(ctx);
    const headers = ctx.getHeaders() as Record<string, string>;
    headers['Accept'] = 'application/json';
    headers['User-Agent'] = this.userAgent;
    if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    const response = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      dispatcher: ctx.getDispatcher() as Dispatcher | undefined,
      signal: opts.signal,
    });
    const text = await response.text();
    if (!response.ok) throw kubeError(response, text, `${method} ${path}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }
  list<T>(path: string, query?: Query, signal?: AbortSignal): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>('GET', path, { query, signal });
  }
  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }
  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }
  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }
  jsonPatch<T>(path: string, ops: unknown[]): Promise<T> {
    return this.request<T>('PATCH', path, {
      body: ops,
      contentType: 'application/json-patch+json',
    });
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /**
   * Starts a watch; `onEvent` gets every event, `onDone` exactly once with the error, or null
   * when the server ends the stream. A stream silent for `idleMs` is closed with an error, so a
   * watch that died without a FIN (a cut connection) is noticed. Returns a stop function.
   */
  async watch<T>(
    path: string,
    query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    onDone: (err: unknown) => void,
    idleMs: number,
  ): Promise<() => void> {
    const controller = new AbortController();
    let finished = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(idle);
      controller.abort();
      onDone(err);
    };
    const resetIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(new WatchIdleError(path, idleMs)), idleMs);
      idle.unref();
    };
    const url = new URL(this.server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries({ ...query, watch: true }))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    await this.config.applySecurityAuthentication(ctx);
    const headers = ctx.getHeaders() as Record<string, string>;
    headers['User-Agent'] = this.userAgent;
    resetIdle();
    fetch(url, {
      headers,
      dispatcher: ctx.getDispatcher() as Dispatcher | undefined,
      signal: controller.signal,
    })
      .then(async (response) => {
        if (!response.ok || !response.body) {
          throw kubeError(response, await response.text().catch(() => ''), `watch ${path}`);
        }
        const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
        body.on('data', resetIdle);
        body.on('error', finish);
        const lines = createInterface({ input: body, crlfDelay: Infinity });
        // An abort (ours) surfaces as an error on the stream and on readline: already finished.
        lines.on('error', finish);
        lines.on('line', (line) => {
          if (finished || !line.trim()) return;
          let event: WatchEvent<T>;
          try {
            event = JSON.parse(line) as WatchEvent<T>;
          } catch (err) {
            finish(new Error(`watch ${path}: malformed event: ${(err as Error).message}`));
            return;
          }
          onEvent(event);
        });
        lines.on('close', () => finish(null));
      })
      .catch((err: unknown) => finish(err));
    return () => finish(null);
  }
}

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
