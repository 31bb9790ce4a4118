// Where the API server is and how to authenticate to it, without @kubernetes/client-node (whose
// import alone costs ~125 MiB of RSS). Reads kubeconfig files the way kubectl does and the
// in-cluster service account the way client-go's rest.InClusterConfig does:
//  - `--kubeconfig PATH`: that file only (it must exist);
//  - else `$KUBECONFIG`, a ':'-separated list merged like kubectl: missing files are skipped, the
//    first file that defines a cluster, user or context by a name wins, and so does the first
//    `current-context`;
//  - else `~/.kube/config`;
//  - else in-cluster: KUBERNETES_SERVICE_HOST/PORT and the service account's token (re-read every
//    minute, since bound tokens rotate), ca.crt and namespace.
// Relative file references are relative to the folder of the file that names them. `*-data`
// fields win over the file they stand for. A user with `exec` or `auth-provider` is handed to
// client-node, loaded only then (a dynamic import), for its credentials only.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import type { RequestOptions } from 'node:https';
import type { KubeConfig as ClientNodeKubeConfig } from '@kubernetes/client-node';
import { realClock, type Clock } from '../support/time.js';

/** TLS towards the API server (node:tls names). */
export interface TlsOptions {
  /** PEM roots; undefined: the system's. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  /** SNI and the name the server certificate is checked against (`tls-server-name`). */
  servername?: string;
}

/** What one request presents: an Authorization header and/or a client certificate. */
export interface Credentials {
  authorization?: string;
  /** From an exec plugin that hands out client certificates (they may rotate). */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface Authenticator {
  readonly kind: 'none' | 'token' | 'tokenFile' | 'basic' | 'plugin';
  /** The credentials for the next request; synchronous except for plugins. */
  credentials(): Credentials | Promise<Credentials>;
  /** The server answered 401: look again (re-read the token file) before the next request. */
  invalidate?(): void;
}

/** Everything KubeRest needs (client-go's rest.Config). */
export interface RestConfig {
  /** The API server's URL without a trailing slash; it may carry a path prefix. */
  server: string;
  tls: TlsOptions;
  auth: Authenticator;
  /** `proxy-url` of the cluster (http or https proxies). */
  proxyUrl?: string;
  /** The current context's namespace, or the service account's in a cluster. */
  namespace?: string;
  /** The current context's name; undefined in a cluster. */
  context?: string;
  /** The files it came from, or "in-cluster": for messages. */
  source: string;
}

export interface LoadOptions {
  /** `--kubeconfig`: this file only. */
  path?: string;
  /** Use this context instead of `current-context`. */
  context?: string;
  /** Environment (KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT, POD_NAMESPACE); default process.env. */
  env?: Record<string, string | undefined>;
  /** Home folder for ~/.kube/config; default os.homedir(). */
  home?: string;
  /** The service account folder; default /var/run/secrets/kubernetes.io/serviceaccount. */
  inClusterDir?: string;
  /** How often a token file is re-read; default 60 s (client-go's). */
  tokenRefreshMs?: number;
  clock?: Clock;
}

export const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const DEFAULT_TOKEN_REFRESH_MS = 60_000;

// ---- authenticators ----

const NONE: Credentials = Object.freeze({});

export const anonymous: Authenticator = { kind: 'none', credentials: () => NONE };

export class StaticAuth implements Authenticator {
  private readonly creds: Credentials;
  constructor(
    readonly kind: 'token' | 'basic',
    authorization: string,
  ) {
    this.creds = Object.freeze({ authorization });
  }
  credentials(): Credentials {
    return this.creds;
  }
}

export const bearer = (token: string): StaticAuth => new StaticAuth('token', `Bearer ${token}`);
export const basic = (username: string, password: string): StaticAuth =>
  new StaticAuth('basic', `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);

/**
 * A bearer token read from a file, re-read every `refreshMs` (and after a 401), like client-go's
 * cached file token source. When a re-read fails the last token is kept; when the first read
 * fails, `fallback` (the kubeconfig's `token`) is used, or the error is thrown.
 */
export class FileTokenAuth implements Authenticator {
  readonly kind = 'tokenFile';
  private creds: Credentials = NONE;
  private readAt = -Infinity;

  constructor(
    readonly path: string,
    private readonly refreshMs = DEFAULT_TOKEN_REFRESH_MS,
    private readonly clock: Clock = realClock,
    private readonly fallback?: string,
  ) {
    this.credentials(); // a missing file is a configuration error: say so at start
  }

  credentials(): Credentials {
    const now = this.clock.now();
    if (now - this.readAt >= this.refreshMs) this.reload(now);
    return this.creds;
  }

  invalidate(): void {
    this.readAt = -Infinity;
  }

  private reload(now: number): void {
    let token: string | undefined;
    try {
      token = readFileSync(this.path, 'utf8').trim() || undefined;
    } catch (err) {
      if (this.creds === NONE && !this.fallback)
        throw new Error(`token file ${this.path}: ${(err as Error).message}`);
    }
    token ??= this.creds.authorization?.slice('Bearer '.length) ?? this.fallback;
    this.creds = token ? Object.freeze({ authorization: `Bearer ${token}` }) : NONE;
    this.readAt = now;
  }
}

/**
 * `exec` and `auth-provider` users: client-node does the work, loaded on first use. `config` is a
 * kubeconfig holding just this cluster, user and context (file paths already absolute).
 */
export class PluginAuth implements Authenticator {
  readonly kind = 'plugin';
  private kc: Promise<ClientNodeKubeConfig> | undefined;

  constructor(private readonly config: object) {}

  private load(): Promise<ClientNodeKubeConfig> {
    this.kc ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const kc = new KubeConfig();
      kc.loadFromString(JSON.stringify(this.config));
      return kc;
    });
    return this.kc;
  }

  async credentials(): Promise<Credentials> {
    const kc = await this.load();
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const headers = (opts.headers ?? {}) as Record<string, unknown>;
    const authorization = headers['Authorization'] ?? headers['authorization'];
    const one = <V>(v: V | V[] | undefined): V | undefined => (Array.isArray(v) ? v[0] : v);
    const cert = one(opts.cert);
    const key = one(opts.key);
    return {
      authorization: typeof authorization === 'string' ? authorization : undefined,
      cert: typeof cert === 'string' || Buffer.isBuffer(cert) ? cert : undefined,
      key: typeof key === 'string' || Buffer.isBuffer(key) ? key : undefined,
    };
  }
}

// ---- kubeconfig files ----

interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
  [more: string]: unknown;
}

interface RawUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: { command?: string; [more: string]: unknown };
  'auth-provider'?: unknown;
  [more: string]: unknown;
}

interface RawContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

interface Entry<T> {
  value: T;
  /** The folder of the file that defined it: relative paths are relative to it. */
  dir: string;
  file: string;
}

interface Merged {
  clusters: Map<string, Entry<RawCluster>>;
  users: Map<string, Entry<RawUser>>;
  contexts: Map<string, Entry<RawContext>>;
  currentContext?: string;
  files: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Adds one file's entries to `into`; names already there keep their first definition. */
function mergeFile(into: Merged, file: string): void {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`kubeconfig ${file}: ${(err as Error).message}`);
  }
  into.files.push(file);
  if (doc === null || doc === undefined) return; // an empty file is an empty config
  if (!isObject(doc)) throw new Error(`kubeconfig ${file}: not a kubeconfig (expected a mapping)`);
  const dir = dirname(resolve(file));
  const section = <T>(list: string, field: string, map: Map<string, Entry<T>>): void => {
    const items = doc[list];
    if (items === undefined || items === null) return;
    if (!Array.isArray(items)) throw new Error(`kubeconfig ${file}: ${list} is not a list`);
    for (const item of items) {
      if (!isObject(item) || typeof item.name !== 'string')
        throw new Error(`kubeconfig ${file}: an entry of ${list} has no name`);
      const value = item[field] ?? {};
      if (!isObject(value))
        throw new Error(`kubeconfig ${file}: ${list} ${item.name}: ${field} is not a mapping`);
      if (!map.has(item.name)) map.set(item.name, { value: value as T, dir, file });
    }
  };
  section('clusters', 'cluster', into.clusters);
  section('users', 'user', into.users);
  section('contexts', 'context', into.contexts);
  const current = doc['current-context'];
  if (into.currentContext === undefined && typeof current === 'string' && current)
    into.currentContext = current;
}

const absolute = (dir: string, p: string | undefined): string | undefined =>
  p === undefined || p === '' ? undefined : isAbsolute(p) ? p : join(dir, p);

function fileOrData(
  what: string,
  dir: string,
  file: string | undefined,
  data: string | undefined,
): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  const path = absolute(dir, file);
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${what} ${path}: ${(err as Error).message}`);
  }
}

/** The kubeconfig files to read, in kubectl's order, or undefined: none, try in-cluster. */
export function kubeconfigFiles(opts: LoadOptions = {}): string[] | undefined {
  if (opts.path) return [opts.path];
  const env = opts.env ?? process.env;
  const list = env.KUBECONFIG;
  if (list) {
    const files = [...new Set(list.split(delimiter).filter((f) => f !== ''))];
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) throw new Error(`KUBECONFIG=${list}: none of these files exists`);
    return present;
  }
  const home = opts.home ?? homedir();
  const fallback = join(home, '.kube', 'config');
  return home && existsSync(fallback) ? [fallback] : undefined;
}

/** Reads and merges kubeconfig files; the config of the current (or the given) context. */
export function loadKubeconfigFiles(files: string[], opts: LoadOptions = {}): RestConfig {
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), files: [] };
  for (const file of files) mergeFile(merged, file);
  const source = merged.files.join(delimiter);
  const fail = (msg: string) => new Error(`kubeconfig ${source}: ${msg}`);
  const contextName = opts.context ?? merged.currentContext;
  if (!contextName) throw fail('no current-context');
  const context = merged.contexts.get(contextName)?.value;
  if (!context) throw fail(`context ${JSON.stringify(contextName)} not found`);
  if (!context.cluster) throw fail(`context ${JSON.stringify(contextName)} names no cluster`);
  const clusterEntry = merged.clusters.get(context.cluster);
  if (!clusterEntry) throw fail(`cluster ${JSON.stringify(context.cluster)} not found`);
  const userEntry = context.user ? merged.users.get(context.user) : undefined;
  if (context.user && !userEntry) throw fail(`user ${JSON.stringify(context.user)} not found`);

  const cluster = clusterEntry.value;
  if (!cluster.server) throw fail(`cluster ${JSON.stringify(context.cluster)} has no server`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw fail(`cluster ${JSON.stringify(context.cluster)}: invalid server ${cluster.server}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw fail(
      `cluster ${JSON.stringify(context.cluster)}: server must be http(s): ${cluster.server}`,
    );
  const proxyUrl = cluster['proxy-url'] || undefined;
  if (proxyUrl && !/^https?:\/\//.test(proxyUrl))
    throw fail(`cluster ${JSON.stringify(context.cluster)}: only http(s) proxy-url is supported`);
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  const tls: TlsOptions = {
    ca: insecure
      ? undefined
      : fileOrData(
          'certificate-authority',
          clusterEntry.dir,
          cluster['certificate-authority'],
          cluster['certificate-authority-data'],
        ),
    rejectUnauthorized: !insecure,
    servername: cluster['tls-server-name'] || undefined,
  };

  const user = userEntry?.value ?? {};
  const dir = userEntry?.dir ?? '';
  for (const field of ['as', 'as-groups', 'as-uid', 'as-user-extra'])
    if (user[field] !== undefined)
      throw fail(`user ${JSON.stringify(context.user)}: impersonation (${field}) is not supported`);
  let auth: Authenticator = anonymous;
  if (user.exec || user['auth-provider']) {
    auth = new PluginAuth(pluginConfig(contextName, context, clusterEntry, userEntry!));
  } else if (user.tokenFile) {
    auth = new FileTokenAuth(
      absolute(dir, user.tokenFile)!,
      opts.tokenRefreshMs,
      opts.clock,
      user.token || undefined,
    );
  } else if (user.token) {
    auth = bearer(user.token);
  } else if (user.username !== undefined && user.username !== '') {
    auth = basic(user.username, user.password ?? '');
  }
  tls.cert = fileOrData(
    'client-certificate',
    dir,
    user['client-certificate'],
    user['client-certificate-data'],
  );
  tls.key = fileOrData('client-key', dir, user['client-key'], user['client-key-data']);
  if (!tls.cert !== !tls.key)
    throw fail(`user ${JSON.stringify(context.user)}: a client certificate needs its key`);

  return {
    server: cluster.server.replace(/\/+$/, ''),
    tls,
    auth,
    proxyUrl,
    namespace: context.namespace || undefined,
    context: contextName,
    source,
  };
}

/** A one-context kubeconfig for client-node, with the file references made absolute. */
function pluginConfig(
  contextName: string,
  context: RawContext,
  cluster: Entry<RawCluster>,
  user: Entry<RawUser>,
): object {
  const c = { ...cluster.value };
  for (const k of ['certificate-authority'] as const) c[k] = absolute(cluster.dir, c[k]);
  const u = { ...user.value };
  for (const k of ['client-certificate', 'client-key', 'tokenFile'] as const)
    u[k] = absolute(user.dir, u[k]);
  // kubectl: an exec command with a path separator is relative to the kubeconfig's folder.
  if (u.exec?.command && u.exec.command.includes(sep) && !isAbsolute(u.exec.command))
    u.exec = { ...u.exec, command: join(user.dir, u.exec.command) };
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context.cluster, cluster: c }],
    users: [{ name: context.user, user: u }],
    contexts: [{ name: contextName, context }],
    'current-context': contextName,
  };
}

// ---- in-cluster ----

/** True when KUBERNETES_SERVICE_HOST and _PORT are set (client-go's test). */
export function inCluster(env: Record<string, string | undefined> = process.env): boolean {
  return !!env.KUBERNETES_SERVICE_HOST && !!env.KUBERNETES_SERVICE_PORT;
}

/** The service account's config: token (re-read), CA, namespace. */
export function loadInCluster(opts: LoadOptions = {}): RestConfig {
  const env = opts.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT unset');
  const dir = opts.inClusterDir ?? IN_CLUSTER_DIR;
  const auth = new FileTokenAuth(join(dir, 'token'), opts.tokenRefreshMs, opts.clock);
  let ca: Buffer | undefined;
  try {
    ca = readFileSync(join(dir, 'ca.crt'));
  } catch {
    ca = undefined; // client-go logs and goes on with the system roots
  }
  let namespace = env.POD_NAMESPACE || undefined;
  if (!namespace) {
    try {
      namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
    } catch {
      namespace = undefined;
    }
  }
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tls: { ca, rejectUnauthorized: true },
    auth,
    namespace,
    source: 'in-cluster',
  };
}

/**
 * The config `berth` runs with: `--kubeconfig`, else $KUBECONFIG, else ~/.kube/config, else
 * in-cluster.
 */
export function loadRestConfig(opts: LoadOptions = {}): RestConfig {
  const files = kubeconfigFiles(opts);
  if (files) return loadKubeconfigFiles(files, opts);
  if (inCluster(opts.env ?? process.env)) return loadInCluster(opts);
  throw new Error(
    'no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a cluster',
  );
}
