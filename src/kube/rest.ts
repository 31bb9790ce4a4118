// The thin facade over the Kubernetes API that the controller uses: plain JSON over HTTP/1.1,
// so every call the operator makes is visible in one place (and in the RBAC role, docs/rbac.md).
// Where the server is and how to authenticate come from kube/kubeconfig.ts (no client-node on the
// common paths). One keep-alive node:http(s) Agent (kube/transport.ts), built once, carries the
// requests (up to `connections` connections at once, for bursts); watches, which hold a
// connection for minutes, get an Agent of their own so they never take a slot from the requests.
// Every request but a watch takes a token from the client-side rate limiter (`--kube-api-qps`,
// `--kube-api-burst`).
import type { Agent, ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { http } from '../support/node-http.js';
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
import { makeAgent } from './transport.js';
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
  const statusText = http.STATUS_CODES[status] ?? String(status);
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
  /** How long an idle connection is kept open; default 30 s. */
  keepAliveTimeoutMs?: number;
  /** Clock of the rate limiter (tests). */
  clock?: Clock;
  /** A request waited this long for the rate limiter. */
  onThrottle?(waitedMs: number, method: string, path: string): void;
}

export const DEFAULT_CONNECTIONS = 32;
/**
 * A request whose connection stays silent this long (no answer, or a stalled body) is given up:
 * undici's headersTimeout and bodyTimeout, which this client had before.
 */
const REQUEST_TIMEOUT_MS = 300_000;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The status and the UTF-8 body of an answer. */
interface Answer {
  status: number;
  text: string;
}

export class KubeRest implements KubeClient {
  readonly server: string;
  private readonly url: URL;
  private readonly host: string;
  private readonly port: string;
  private readonly basePath: string;
  private readonly send: typeof http.request;
  private readonly userAgent: string;
  private readonly limiter: TokenBucket | undefined;
  private readonly opts: KubeRestOptions;
  private tls: TlsOptions;
  private agent!: Agent;
  private watchAgent!: Agent;
  private inFlight = 0;
  private onIdle: (() => void) | undefined;
  /** Watches on the wire, for close() (requests are found through their Agent). */
  private readonly watching = new Set<ClientRequest>();
  /** close() began (no new watches) / ended (no new requests). */
  private closing = false;
  private closed = false;
  /** Counts for tests and metrics. */
  readonly stats = { requests: 0, watches: 0, throttled: 0, throttledMs: 0 };

  /** `options` may be just the User-Agent. */
  constructor(
    readonly config: RestConfig,
    options: KubeRestOptions | string = {},
  ) {
    this.opts = typeof options === 'string' ? { userAgent: options } : options;
    this.url = new URL(config.server);
    this.server = config.server;
    this.host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = this.url.port;
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.send = this.url.protocol === 'https:' ? httpsRequest : http.request;
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
    const idleMs = this.opts.keepAliveTimeoutMs ?? 30_000;
    const { proxyUrl } = this.config;
    this.agent = makeAgent(
      this.url,
      this.tls,
      { idleMs, maxSockets: this.opts.connections ?? DEFAULT_CONNECTIONS },
      proxyUrl,
    );
    // Watches: one connection each, no timeout but the idle watchdog of watch() below.
    this.watchAgent = makeAgent(this.url, this.tls, { idleMs }, proxyUrl);
  }

  /**
   * Closes the connections: watches are cut, requests in flight get `graceMs` to finish (an API
   * server that does not answer must not hold up a shutdown), then they are cut too.
   */
  async close(graceMs = 5_000): Promise<void> {
    this.closing = true;
    for (const req of this.watching) req.destroy(new Error('KubeRest closed'));
    this.watchAgent.destroy();
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onIdle = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
      this.onIdle = undefined;
    }
    this.closed = true;
    cut(this.agent, new Error('KubeRest closed with the request in flight'));
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
        for (const a of old) retire(a);
      }
    }
    return creds.authorization;
  }

  /**
   * One request on the wire; the answer read whole. Lean on purpose: what a request allocates and
   * keeps alive while in flight decides how far V8 grows its young generation under load, and so
   * the operator's peak RSS (issue 11): no per-request bookkeeping beyond these listeners.
   */
  private exchange(
    method: Method,
    path: string,
    headers: OutgoingHttpHeaders,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    if (this.closed) return Promise.reject(new Error(`${method} ${path}: KubeRest closed`));
    return new Promise<Answer>((resolve, reject) => {
      const req = this.send({
        agent: this.agent,
        host: this.host,
        port: this.port,
        method,
        path,
        headers,
        signal,
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`${method} ${path}: no answer for ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8'),
          }),
        );
        // Cut while the body came: 'error' (aborted).
        res.on('error', reject);
      });
      req.end(body);
    });
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
    const headers: OutgoingHttpHeaders = {
      accept: 'application/json',
      'user-agent': this.userAgent,
    };
    const authorization = await this.authorization();
    if (authorization) headers['authorization'] = authorization;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    this.inFlight++;
    let answer: Answer;
    try {
      answer = await this.exchange(method, this.path(path, opts.query), headers, body, opts.signal);
    } finally {
      if (--this.inFlight === 0) this.onIdle?.();
    }
    const { status, text } = answer;
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
    // The request on the wire, once sent (finish() cuts it).
    let req: ClientRequest | undefined = undefined;
    let finished = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      clearTimeout(idle);
      req?.destroy();
      onDone(err);
    };
    const resetIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(new WatchIdleError(path, idleMs)), idleMs);
      idle.unref();
    };
    const headers: OutgoingHttpHeaders = {
      accept: 'application/json',
      'user-agent': this.userAgent,
    };
    const authorization = await this.authorization();
    if (authorization) headers['authorization'] = authorization;
    if (this.closing) {
      finish(new Error(`watch ${path}: KubeRest closed`));
      return () => undefined;
    }
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
    const watch = this.send({
      agent: this.watchAgent,
      host: this.host,
      port: this.port,
      method: 'GET',
      path: this.path(path, { ...query, watch: true }),
      headers,
    });
    req = watch;
    this.watching.add(watch);
    watch.on('close', () => this.watching.delete(watch));
    // A stop (ours) surfaces as an error here or on the answer: already finished.
    watch.on('error', finish);
    watch.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        const refuse = () => {
          if (status === 401) this.config.auth.invalidate?.();
          finish(kubeError(status, Buffer.concat(chunks).toString('utf8'), `watch ${path}`));
        };
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', refuse);
        // A refusal cut short is still the refusal, with what came of its text.
        res.on('error', refuse);
        res.on('close', refuse);
        return;
      }
      res.on('error', finish);
      // One JSON document a line; a line may span chunks, a chunk may hold many lines. The
      // decoder (setEncoding) keeps a UTF-8 character split across chunks together.
      res.setEncoding('utf8');
      let partial = '';
      res.on('data', (chunk: string) => {
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
      res.on('end', () => {
        line(partial);
        finish(null);
      });
      // Cut without an 'end' (and without an 'error'): not the server ending the stream.
      res.on('close', () => finish(new Error(`watch ${path}: the connection was cut`)));
    });
    watch.end();
    return () => finish(null);
  }
}

/**
 * Cuts what `agent` carries: the requests waiting for a connection, then the connections (the
 * requests on them fail). Node's Agent still makes a connection for a waiting request to fail on
 * (nothing is sent on it); with no free sockets allowed, it is closed at once.
 */
function cut(agent: Agent, err: Error): void {
  agent.maxFreeSockets = 0;
  for (const queue of Object.values(agent.requests))
    for (const req of (queue ?? []) as unknown[]) (req as ClientRequest).destroy(err);
  agent.destroy();
}

/**
 * An Agent replaced by a new one (a rotated client certificate): what it carries finishes, then
 * its connections close instead of waiting for the next request.
 */
function retire(agent: Agent): void {
  agent.maxFreeSockets = 0;
  for (const sockets of Object.values(agent.freeSockets))
    for (const s of sockets ?? []) s.destroy();
}

/** `--kubeconfig PATH`, else $KUBECONFIG, ~/.kube/config, in-cluster (kube/kubeconfig.ts). */
export function loadKubeConfig(path?: string): RestConfig {
  return loadRestConfig({ path });
}
