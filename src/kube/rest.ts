// The thin facade over the Kubernetes API that the controller uses: plain JSON over HTTP/1.1,
// so every call the operator makes is visible in one place (and in the RBAC role, docs/rbac.md).
// Where the server is and how to authenticate come from kube/kubeconfig.ts (no client-node on the
// common paths). One undici Agent, built once, carries the requests over keep-alive connections
// (up to `connections` at once, for bursts); watches, which hold a connection for minutes, get an
// Agent of their own so they never take a slot from the requests. Every request but a watch
// takes a token from the client-side rate limiter (`--kube-api-qps`, `--kube-api-burst`).
import { STATUS_CODES } from 'node:http';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import {
  KubeError,
  WatchIdleError,
  type KubeClient,
  type Query,
  type WatchEvent,
} from './client.js';
import {
  loadRestConfig,
  type Credentials,
  type RestConfig,
  type TlsOptions,
} from './kubeconfig.js';
import type { ObjectList } from './objects.js';
import {
  apiRateLimiter,
  DEFAULT_API_BURST,
  DEFAULT_API_QPS,
  type TokenBucket,
} from './ratelimit.js';
import type { Clock } from '../support/time.js';

export { KubeError, isAlreadyExists, isConflict, isGone, isNotFound } from './client.js';
export type { KubeClient, Query, WatchEvent } from './client.js';
export type { RestConfig } from './kubeconfig.js';

interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** The API server's Status answer (or whatever text came) as a KubeError. */
function kubeError(status: number, text: string, what: string): KubeError {
  const statusText = STATUS_CODES[status] ?? String(status);
  let answer: KubeStatus;
  try {
    answer = JSON.parse(text) as KubeStatus;
  } catch {
    answer = { message: text };
  }
  if (typeof answer !== 'object' || answer === null) answer = { message: text };
  const message = answer.message || statusText;
  return new KubeError(status, answer.reason || statusText, `${what}: ${message} (${status})`);
}

export interface KubeRestOptions {
  /** User-Agent header; default berth-operator. */
  userAgent?: string;
  /** Connections to the API server for requests (watches have their own); default 32. */
  connections?: number;
  /** Requests per second, refilled into a bucket of `burst`; negative: unthrottled. */
  qps?: number;
  burst?: number;
  /** How long an idle connection is kept; default 30 s (kube-apiserver closes at 90 s). */
  keepAliveTimeoutMs?: number;
  /** Clock of the rate limiter (tests). */
  clock?: Clock;
  /** A request waited this long for the rate limiter. */
  onThrottle?(waitedMs: number, method: string, path: string): void;
}

export const DEFAULT_CONNECTIONS = 32;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export class KubeRest implements KubeClient {
  readonly server: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly userAgent: string;
  private readonly limiter: TokenBucket | undefined;
  private readonly opts: KubeRestOptions;
  private tls: TlsOptions;
  private agent!: Dispatcher;
  private watchAgent!: Dispatcher;
  private inFlight = 0;
  private onIdle: (() => void) | undefined;
  /** Counts for tests and metrics. */
  readonly stats = { requests: 0, watches: 0, throttled: 0, throttledMs: 0 };

  /** `options` may be just the User-Agent. */
  constructor(
    readonly config: RestConfig,
    options: KubeRestOptions | string = {},
  ) {
    this.opts = typeof options === 'string' ? { userAgent: options } : options;
    const url = new URL(config.server);
    this.server = config.server;
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.userAgent = this.opts.userAgent ?? 'berth-operator';
    this.limiter = apiRateLimiter(
      this.opts.qps ?? DEFAULT_API_QPS,
      this.opts.burst ?? DEFAULT_API_BURST,
      this.opts.clock,
    );
    this.tls = config.tls;
    this.buildAgents();
  }

  private buildAgents(): void {
    const { ca, cert, key, rejectUnauthorized, servername } = this.tls;
    const connect = {
      ...(ca && { ca }),
      ...(cert && { cert }),
      ...(key && { key }),
      ...(servername && { servername }),
      rejectUnauthorized,
    };
    const common = {
      pipelining: 1,
      keepAliveTimeout: this.opts.keepAliveTimeoutMs ?? 30_000,
      // HTTP/1.1: the pool of connections is what carries a burst.
      allowH2: false,
    };
    const make = (o: Record<string, unknown>): Dispatcher =>
      this.config.proxyUrl
        ? new ProxyAgent({ uri: this.config.proxyUrl, requestTls: connect, ...common, ...o })
        : new Agent({ connect, ...common, ...o });
    this.agent = make({ connections: this.opts.connections ?? DEFAULT_CONNECTIONS });
    // Watches: one connection each, no body timeout (the idle watchdog below covers silence).
    this.watchAgent = make({ bodyTimeout: 0 });
  }

  /**
   * Closes the connections: watches are cut, requests in flight get `graceMs` to finish (an API
   * server that does not answer must not hold up a shutdown), then they are cut too.
   */
  async close(graceMs = 5_000): Promise<void> {
    await this.watchAgent.destroy();
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onIdle = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
      this.onIdle = undefined;
    }
    // Not agent.close(): a request still in flight then would never settle (undici 8).
    await this.agent.destroy();
  }

  private path(path: string, query: Query | undefined): string {
    let p = this.basePath + path;
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
      const s = qs.toString();
      if (s) p += (p.includes('?') ? '&' : '?') + s;
    }
    return p;
  }

  /** The Authorization header, if any; an exec plugin's client certificate swaps the agents. */
  private async authorization(): Promise<string | undefined> {
    const pending = this.config.auth.credentials();
    const creds: Credentials = pending instanceof Promise ? await pending : pending;
    if (creds.cert !== undefined && creds.key !== undefined) {
      const cert = Buffer.from(creds.cert);
      const key = Buffer.from(creds.key);
      if (!this.tls.cert?.equals(cert) || !this.tls.key?.equals(key)) {
        const old = [this.agent, this.watchAgent];
        this.tls = { ...this.tls, cert, key };
        this.buildAgents();
        for (const a of old) void a.close().catch(() => undefined);
      }
    }
    return creds.authorization;
  }

  async request<T>(
    method: Method,
    path: string,
    opts: { query?: Query; body?: unknown; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    if (this.limiter) {
      const wait = this.limiter.reserve();
      if (wait > 0) {
        await this.limiter.wait(wait, opts.signal);
        this.stats.throttled++;
        this.stats.throttledMs += wait;
        this.opts.onThrottle?.(wait, method, path);
      }
    }
    this.stats.requests++;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.userAgent,
    };
    const authorization = await this.authorization();
    if (authorization) headers['authorization'] = authorization;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    this.inFlight++;
    let status: number;
    let text: string;
    try {
      const response = await this.agent.request({
        origin: this.origin,
        path: this.path(path, opts.query),
        method,
        headers,
        body,
        signal: opts.signal,
      });
      status = response.statusCode;
      text = await response.body.text();
    } finally {
      if (--this.inFlight === 0) this.onIdle?.();
    }
    if (status < 200 || status > 299) {
      if (status === 401) this.config.auth.invalidate?.();
      throw kubeError(status, text, `${method} ${path}`);
    }
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
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.userAgent,
    };
    const authorization = await this.authorization();
    if (authorization) headers['authorization'] = authorization;
    this.stats.watches++;
    resetIdle();
    const line = (text: string) => {
      if (finished || !text.trim()) return;
      let event: WatchEvent<T>;
      try {
        event = JSON.parse(text) as WatchEvent<T>;
      } catch (err) {
        finish(new Error(`watch ${path}: malformed event: ${(err as Error).message}`));
        return;
      }
      onEvent(event);
    };
    this.watchAgent
      .request({
        origin: this.origin,
        path: this.path(path, { ...query, watch: true }),
        method: 'GET',
        headers,
        signal: controller.signal,
      })
      .then(async (response) => {
        if (response.statusCode !== 200) {
          const text = await response.body.text().catch(() => '');
          if (response.statusCode === 401) this.config.auth.invalidate?.();
          throw kubeError(response.statusCode, text, `watch ${path}`);
        }
        const body = response.body;
        body.setEncoding('utf8');
        // One JSON document a line; a line may span chunks, a chunk may hold many lines.
        let partial = '';
        body.on('data', (chunk: string) => {
          resetIdle();
          let start = 0;
          for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
            const piece = chunk.slice(start, nl);
            line(partial ? partial + piece : piece);
            partial = '';
            start = nl + 1;
            if (finished) return;
          }
          partial += chunk.slice(start);
        });
        // An abort (ours) surfaces as an error on the stream: already finished.
        body.on('error', finish);
        body.on('end', () => {
          line(partial);
          finish(null);
        });
      })
      .catch((err: unknown) => finish(err));
    return () => finish(null);
  }
}

/** `--kubeconfig PATH`, else $KUBECONFIG, ~/.kube/config, in-cluster (kube/kubeconfig.ts). */
export function loadKubeConfig(path?: string): RestConfig {
  return loadRestConfig({ path });
}
