// The benchmark's own API client: the one that creates the measured objects for both sides
// (kube-scheduler's Pods, Berth's ResourceRequests), watches them, and reads /metrics. Built as
// the operator's client is (src/kube/rest.ts): undici's Agent.request over HTTP/1.1 keep-alive
// connections, TLS from the kubeconfig, one Agent for the whole run, so it costs both sides the
// same. Its own, and not src/kube/rest.ts, so that it does not change when the operator does.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Agent, type Dispatcher } from 'undici';
import { parse } from 'yaml';

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Array<{
    name: string;
    cluster: {
      server: string;
      'certificate-authority-data'?: string;
      'certificate-authority'?: string;
      'insecure-skip-tls-verify'?: boolean;
    };
  }>;
  users?: Array<{
    name: string;
    user: {
      'client-certificate-data'?: string;
      'client-key-data'?: string;
      'client-certificate'?: string;
      'client-key'?: string;
      token?: string;
    };
  }>;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const b64 = (s: string | undefined): string | undefined =>
  s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8');

export class BenchClient {
  readonly server: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly agent: Agent;
  private readonly watchAgent: Agent;
  private readonly headers: Record<string, string>;

  constructor(kubeconfigPath: string, userAgent = 'berth-bench') {
    const file = parse(readFileSync(kubeconfigPath, 'utf8')) as KubeconfigFile;
    const ctxName = file['current-context'];
    const ctx = file.contexts?.find((c) => c.name === ctxName)?.context;
    const cluster = file.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
    const user = file.users?.find((u) => u.name === ctx?.user)?.user;
    if (!cluster) throw new Error(`${kubeconfigPath}: no cluster for context ${ctxName}`);
    this.server = cluster.server.replace(/\/$/, '');
    const url = new URL(this.server);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/$/, '');
    const read = (p: string | undefined) => (p ? readFileSync(p, 'utf8') : undefined);
    const connect = {
      ca: b64(cluster['certificate-authority-data']) ?? read(cluster['certificate-authority']),
      cert: b64(user?.['client-certificate-data']) ?? read(user?.['client-certificate']),
      key: b64(user?.['client-key-data']) ?? read(user?.['client-key']),
      rejectUnauthorized: !cluster['insecure-skip-tls-verify'],
    };
    // HTTP/1.1 keep-alive connections, one request each at a time: a burst of N in flight uses N
    // connections, as the operator's own client does (src/kube/rest.ts). Watches get an Agent of
    // their own, without a body timeout.
    const common = { connect, pipelining: 1, allowH2: false, keepAliveTimeout: 30_000 };
    this.agent = new Agent(common);
    this.watchAgent = new Agent({ ...common, bodyTimeout: 0 });
    this.headers = { 'user-agent': userAgent, accept: 'application/json' };
    if (user?.token) this.headers['authorization'] = `Bearer ${user.token}`;
  }

  async raw(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<string> {
    const headers = { ...this.headers };
    if (body !== undefined) headers['content-type'] = contentType;
    const response = await this.agent.request({
      origin: this.origin,
      path: this.basePath + path,
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode > 299)
      throw new HttpError(response.statusCode, `${method} ${path}: ${response.statusCode} ${text}`);
    return text;
  }

  /** A GET whose answer is binary (a pprof profile). */
  async bytes(path: string): Promise<Buffer> {
    const response = await this.agent.request({
      origin: this.origin,
      path: this.basePath + path,
      method: 'GET',
      headers: this.headers,
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    if (response.statusCode !== 200)
      throw new HttpError(response.statusCode, `GET ${path}: ${response.statusCode} ${body}`);
    return body;
  }

  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<T> {
    const text = await this.raw(method, path, body, contentType);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }
  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, patch, 'application/merge-patch+json');
  }
  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
  /** Creates, and counts "already exists" as done. */
  async ensure(path: string, body: unknown): Promise<void> {
    try {
      await this.create(path, body);
    } catch (err) {
      if (!(err instanceof HttpError && err.status === 409)) throw err;
    }
  }

  /**
   * Watches a collection. Resolves once the server has answered (so events from then on are
   * seen); `done` settles when the stream ends: rejected on an error, resolved on stop().
   */
  async watch<T>(
    path: string,
    onEvent: (e: WatchEvent<T>) => void,
    fieldSelector?: string,
  ): Promise<{ stop: () => void; done: Promise<void> }> {
    const query = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true' });
    if (fieldSelector) query.set('fieldSelector', fieldSelector);
    const controller = new AbortController();
    let stopped = false;
    let response: Dispatcher.ResponseData;
    // 429 with Retry-After while the watch cache of a just-established CRD initializes.
    for (let attempt = 1; ; attempt++) {
      response = await this.watchAgent.request({
        origin: this.origin,
        path: `${this.basePath}${path}?${query}`,
        method: 'GET',
        headers: this.headers,
        signal: controller.signal,
      });
      if (response.statusCode !== 429 || attempt === 30) break;
      await response.body.dump();
      const after = Number(response.headers['retry-after'] ?? 1);
      await new Promise((r) => setTimeout(r, 1000 * Math.min(5, after > 0 ? after : 1)));
    }
    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => '');
      throw new HttpError(response.statusCode, `watch ${path}: ${response.statusCode} ${text}`);
    }
    const input = response.body;
    const done = new Promise<void>((resolve, reject) => {
      const end = (err: unknown) =>
        stopped ? resolve() : reject(new Error(`watch ${path} ended: ${String(err)}`));
      input.on('error', end);
      const lines = createInterface({ input, crlfDelay: Infinity });
      lines.on('error', end); // our own abort surfaces here too
      lines.on('line', (line) => {
        if (stopped || !line.trim()) return;
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') end(JSON.stringify(event.object));
        else onEvent(event);
      });
      lines.on('close', () => end('closed by the server'));
    });
    done.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    return {
      stop: () => {
        stopped = true;
        controller.abort();
      },
      done,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.watchAgent.destroy()]);
  }
}
