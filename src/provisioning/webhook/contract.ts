// The JSON contract between Berth and an external provisioner or allocator (docs/webhook-contract.md).
// One URL per endpoint; every call is a POST whose `kind` says what is asked, as Kubernetes does
// with AdmissionReview. Answers are checked here, never trusted.
import type { RequestIdentity, RequestRef, VolumeSpec } from '../types.js';

export const WEBHOOK_API_VERSION = 'berth.dev/v1alpha1';

export interface WireRequest {
  namespace: string;
  name: string;
  uid?: string;
  count: number;
  minCount: number;
  resources: Record<string, string>;
  tags: string[];
  volumes: Array<{ name: string; size: string; tags: string[]; scope?: string }>;
}

export interface NodeRef {
  name: string;
  idempotencyKey: string;
}

/**
 * Fields every provisioner call carries besides its kind:
 *  - `owner`: who is asking (the operator's namespace uid); a service keeps it with every node it
 *    makes and `list` answers only that owner's nodes, so two clusters sharing a service never
 *    collect each other's machines;
 *  - `generation`: a number that grows with every call this operator makes (milliseconds of its
 *    clock, made strictly increasing). A release with generation G fences the keys it names: a
 *    provision of one of them with a generation ≤ G, still in flight or arriving late, must not
 *    leave a node held.
 */
export interface CallStamp {
  owner?: string;
  generation: number;
}

export interface ProvisionRequest extends CallStamp {
  apiVersion: string;
  kind: 'ProvisionRequest';
  provisioner: string;
  request: WireRequest;
  /** Exactly the nodes wanted; the service provisions up to all of them, never others. */
  nodes: NodeRef[];
}

export interface WireNode {
  name: string;
  idempotencyKey?: string;
  address: string;
  port?: number;
  host?: string;
  attributes?: Record<string, string>;
}

export interface ProvisionResponse {
  apiVersion?: string;
  kind?: 'ProvisionResponse';
  nodes: WireNode[];
  reasons?: Record<string, number>;
  message?: string;
}

export interface SpawnRequest extends CallStamp {
  apiVersion: string;
  kind: 'SpawnRequest';
  provisioner: string;
  request: Pick<WireRequest, 'namespace' | 'name' | 'uid'>;
  nodes: NodeRef[];
}

export interface ReleaseRequest extends CallStamp {
  apiVersion: string;
  kind: 'ReleaseRequest';
  provisioner: string;
  request: Pick<WireRequest, 'namespace' | 'name' | 'uid'>;
  nodes: NodeRef[];
}

/** What the service holds for `owner` through `provisioner` (orphan collection). */
export interface ListRequest extends CallStamp {
  apiVersion: string;
  kind: 'ListRequest';
  provisioner: string;
}

export interface ListedNode {
  name: string;
  idempotencyKey: string;
  request: Pick<WireRequest, 'namespace' | 'name' | 'uid'>;
  /** The generation of the provision call that made the node. */
  generation?: number;
}

export interface ListResponse {
  apiVersion?: string;
  kind?: 'ListResponse';
  nodes: ListedNode[];
}

/** What a filter call ranks: hosts (host allocator chain) or storage pools (storage chain). */
export type FilterTarget = 'hosts' | 'storagePools';

export interface FilterCandidate {
  /** How the answer refers to it: `<hostPool>/<host>` for a host, the pool's name for a pool. */
  name: string;
  hostPool?: string;
  host?: string;
  /** Storage pools: `Host`, `Cluster` or `Zone`. */
  scope?: string;
  address?: string;
  zone?: string;
  pod?: string;
  tags?: string[];
  capacity?: Record<string, string>;
  allocated?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface FilterRequest {
  apiVersion: string;
  kind: 'FilterRequest';
  allocator: string;
  target: FilterTarget;
  request: WireRequest;
  /** Storage pools only: the volume being placed. */
  volume?: WireRequest['volumes'][number];
  candidates: FilterCandidate[];
}

export interface FilterResponse {
  apiVersion?: string;
  kind?: 'FilterResponse';
  /** Names of the candidates that fit, best first; a subset of those sent. */
  candidates: string[];
  /** Candidate name → reason code, for the explanation. */
  failed?: Record<string, string>;
}

/** `<request uid, or namespace/name>/<node>`: the same node of the same request, always the same key. */
export function idempotencyKey(request: RequestIdentity, node: string): string {
  return `${request.uid ?? `${request.namespace}/${request.name}`}/${node}`;
}

export function wireIdentity(r: RequestIdentity): Pick<WireRequest, 'namespace' | 'name' | 'uid'> {
  return { namespace: r.namespace, name: r.name, ...(r.uid ? { uid: r.uid } : {}) };
}

export function wireVolume(v: VolumeSpec): WireRequest['volumes'][number] {
  return {
    name: v.name,
    size: String(v.size),
    tags: [...(v.tags ?? [])],
    ...(v.scope ? { scope: v.scope } : {}),
  };
}

export function wireRequest(request: RequestRef): WireRequest {
  const spec = request.spec;
  return {
    ...wireIdentity(request.metadata),
    count: spec.count,
    minCount: spec.minCount ?? spec.count,
    resources: Object.fromEntries(
      Object.entries(spec.resources ?? {}).map(([k, v]) => [k, String(v)]),
    ),
    tags: [...(spec.tags ?? [])],
    volumes: (spec.volumes ?? []).map(wireVolume),
  };
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown): v is Record<string, string> {
  return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** Attributes are written to status: the API caps them at 32 entries of up to 1024 characters. */
export const MAX_ATTRIBUTES = 32;
export const MAX_ATTRIBUTE_VALUE = 1024;

export function checkAttributes(v: unknown): string | undefined {
  if (!stringMap(v)) return 'attributes that are not a string map';
  const entries = Object.entries(v);
  if (entries.length > MAX_ATTRIBUTES)
    return `${entries.length} attributes, more than ${MAX_ATTRIBUTES}`;
  const long = entries.find(([, x]) => x.length > MAX_ATTRIBUTE_VALUE);
  if (long) return `attribute "${long[0]}" longer than ${MAX_ATTRIBUTE_VALUE} characters`;
  return undefined;
}

function countMap(v: unknown): v is Record<string, number> {
  return (
    isRecord(v) &&
    Object.values(v).every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)
  );
}

/**
 * Checks a provision answer against what was asked. Also returns every node name the answer
 * mentions, valid or not, so a rejected answer can still be released in full.
 */
export function checkProvisionResponse(
  json: unknown,
  asked: readonly string[],
): Checked<ProvisionResponse> & { mentioned: string[] } {
  const mentioned: string[] = [];
  const bad = (problem: string) => ({ ok: false as const, problem, mentioned });
  if (!isRecord(json) || !Array.isArray(json.nodes)) return bad('answer has no "nodes" array');
  for (const n of json.nodes as unknown[]) {
    if (isRecord(n) && typeof n.name === 'string' && n.name) mentioned.push(n.name);
  }
  const nodes = json.nodes as unknown[];
  if (nodes.length > asked.length) {
    return bad(`answer has ${nodes.length} nodes, ${asked.length} were asked`);
  }
  const wanted = new Set(asked);
  const seen = new Set<string>();
  const out: WireNode[] = [];
  for (const [i, n] of nodes.entries()) {
    if (!isRecord(n)) return bad(`nodes[${i}] is not an object`);
    if (typeof n.name !== 'string' || n.name === '') return bad(`nodes[${i}] has an empty name`);
    if (seen.has(n.name)) return bad(`node name "${n.name}" appears twice`);
    seen.add(n.name);
    if (!wanted.has(n.name)) return bad(`node "${n.name}" was not asked for`);
    if (typeof n.address !== 'string' || n.address === '') {
      return bad(`node "${n.name}" has no address`);
    }
    if (
      n.port !== undefined &&
      !(Number.isInteger(n.port) && (n.port as number) >= 1 && (n.port as number) <= 65535)
    ) {
      return bad(`node "${n.name}" has port ${JSON.stringify(n.port)}, not 1..65535`);
    }
    if (n.host !== undefined && typeof n.host !== 'string')
      return bad(`node "${n.name}" has a non-string host`);
    if (n.attributes !== undefined) {
      const problem = checkAttributes(n.attributes);
      if (problem) return bad(`node "${n.name}" has ${problem}`);
    }
    out.push({
      name: n.name,
      address: n.address,
      ...(typeof n.port === 'number' ? { port: n.port } : {}),
      ...(typeof n.host === 'string' && n.host ? { host: n.host } : {}),
      ...(n.attributes !== undefined ? { attributes: n.attributes as Record<string, string> } : {}),
    });
  }
  if (json.reasons !== undefined && !countMap(json.reasons)) {
    return bad('"reasons" must map reason codes to non-negative integers');
  }
  return {
    ok: true,
    mentioned,
    value: {
      nodes: out,
      ...(json.reasons !== undefined ? { reasons: json.reasons as Record<string, number> } : {}),
      ...(typeof json.message === 'string' ? { message: json.message } : {}),
    },
  };
}

/** Checks a list answer: every node named, keyed and tied to a request; each key once. */
export function checkListResponse(json: unknown): Checked<ListResponse> {
  const bad = (problem: string) => ({ ok: false as const, problem });
  if (!isRecord(json) || !Array.isArray(json.nodes)) return bad('answer has no "nodes" array');
  const seen = new Set<string>();
  const out: ListedNode[] = [];
  for (const [i, n] of (json.nodes as unknown[]).entries()) {
    if (!isRecord(n)) return bad(`nodes[${i}] is not an object`);
    if (typeof n.name !== 'string' || !n.name) return bad(`nodes[${i}] has an empty name`);
    const key = n.idempotencyKey;
    if (typeof key !== 'string' || !key) return bad(`nodes[${i}] has no idempotencyKey`);
    if (seen.has(key)) return bad(`idempotencyKey "${key}" appears twice`);
    seen.add(key);
    const r = n.request;
    if (!isRecord(r) || typeof r.namespace !== 'string' || typeof r.name !== 'string' || !r.name)
      return bad(`nodes[${i}] has no request {namespace, name}`);
    if (r.uid !== undefined && typeof r.uid !== 'string')
      return bad(`nodes[${i}] has a non-string request uid`);
    if (n.generation !== undefined && !Number.isSafeInteger(n.generation))
      return bad(`nodes[${i}] has a generation that is not an integer`);
    const identity = wireIdentity({
      namespace: r.namespace,
      name: r.name,
      ...(typeof r.uid === 'string' ? { uid: r.uid } : {}),
    });
    if (key !== idempotencyKey(identity, n.name))
      return bad(`nodes[${i}] has idempotencyKey "${key}", not the key of its request and name`);
    out.push({
      name: n.name,
      idempotencyKey: key,
      request: identity,
      ...(typeof n.generation === 'number' ? { generation: n.generation } : {}),
    });
  }
  return { ok: true, value: { nodes: out } };
}

/** Checks a filter answer: a subset of the candidates sent, each once. */
export function checkFilterResponse(
  json: unknown,
  sent: readonly string[],
): Checked<FilterResponse> {
  const bad = (problem: string) => ({ ok: false as const, problem });
  if (!isRecord(json) || !Array.isArray(json.candidates))
    return bad('answer has no "candidates" array');
  const known = new Set(sent);
  const seen = new Set<string>();
  for (const c of json.candidates as unknown[]) {
    if (typeof c !== 'string' || !c) return bad('"candidates" must hold non-empty names');
    if (!known.has(c)) return bad(`candidate "${c}" was not sent`);
    if (seen.has(c)) return bad(`candidate "${c}" appears twice`);
    seen.add(c);
  }
  if (json.failed !== undefined && !stringMap(json.failed))
    return bad('"failed" must map names to reasons');
  return {
    ok: true,
    value: {
      candidates: json.candidates as string[],
      ...(json.failed !== undefined ? { failed: json.failed as Record<string, string> } : {}),
    },
  };
}
