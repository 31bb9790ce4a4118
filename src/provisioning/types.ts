// The provisioner contract (docs/design.md#provisioners). Every provisioner, built-in or
// external, is seen by the stack through these types only, so the stack, the controller and the
// simulator never care where a node comes from.

/** A resource amount as written in a spec: a Kubernetes quantity string or a plain integer. */
export type Quantity = string | number;

/** Life of a node as written to `status.nodes[].state`. */
export type NodeState = 'Provisioned' | 'Running' | 'Releasing' | 'Released' | 'Failed';
export const NODE_STATES: readonly NodeState[] = [
  'Provisioned',
  'Running',
  'Releasing',
  'Released',
  'Failed',
];

export interface VolumeRecord {
  name: string;
  storagePool: string;
  size: Quantity;
}

/**
 * One entry of a ResourceRequest's `status.nodes`: the record of an allocation. Everything a
 * provisioner needs to release a node after an operator restart must be derivable from this record
 * plus the request's identity.
 */
export interface NodeRecord {
  name: string;
  provisioner: string;
  hostPool?: string;
  host?: string;
  address: string;
  port?: number;
  volumes?: VolumeRecord[];
  configEntry: string;
  state: NodeState;
  /** Provisioner facts (a webhook's `attributes`); at most 32, values up to 1024 characters. */
  attributes?: Record<string, string>;
}

export interface VolumeSpec {
  name: string;
  size: Quantity;
  tags?: string[];
  scope?: string;
}

/** The parts of a ResourceRequest the provisioning layer reads. Other fields pass through. */
export interface RequestSpec {
  count: number;
  minCount?: number;
  profile?: string;
  resources?: Record<string, Quantity>;
  tags?: string[];
  volumes?: VolumeSpec[];
  [field: string]: unknown;
}

export interface RequestIdentity {
  namespace: string;
  name: string;
  uid?: string;
}

/** A request's identity as provisioners see it (one place: the reconciler, restore, release). */
export const identityOf = (o: {
  metadata: { namespace?: string; name: string; uid?: string };
}): RequestIdentity => ({
  namespace: o.metadata.namespace ?? '',
  name: o.metadata.name,
  uid: o.metadata.uid,
});

export interface RequestRef {
  metadata: RequestIdentity;
  spec: RequestSpec;
}

/** What one allocator of a chain did (status.explanation.provisioners[].allocators[]). */
export interface AllocatorReport {
  allocator: string;
  considered: number;
  /** Nodes this allocator placed in the call. */
  chosen: number;
  reasons?: Record<string, number>;
  /** Why it had no answer (a failed webhook or module extender). */
  error?: string;
}

/** Why a provisioner returned fewer nodes than asked. */
export interface ProvisionerReport {
  /** Reason code → how many nodes (or candidates) it cost. */
  reasons?: Record<string, number>;
  /** One line, e.g. the allocator's "0/12 hosts fit: 7 Insufficient memory, …". */
  summary?: string;
  /** Allocators tried, in order (the `hosts` provisioner). */
  allocators?: AllocatorReport[];
  /** Hosts not used and why (`<hostPool>/<host>` → reason code); the stack caps the list. */
  hosts?: Array<{ host: string; reason: string }>;
}

export interface ProvisionContext {
  readonly request: RequestRef;
  /**
   * The names the new nodes must carry, in order; `names.length` is the count asked. The stack
   * owns naming (`<request>-<index>`) so that names stay stable and unique across provisioners.
   */
  readonly names: readonly string[];
  readonly signal: AbortSignal;
  /** Explains a shortfall; the last report wins. */
  report(report: ProvisionerReport): void;
}

export interface ProvisionedNode {
  readonly name: string;
  readonly provisioner: string;
  readonly address: string;
  readonly port?: number;
  readonly hostPool?: string;
  readonly host?: string;
  readonly volumes?: readonly VolumeRecord[];
  /** Free-form facts from the provisioner (e.g. a webhook's `attributes`); not persisted. */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly state: NodeState;
  /** The line a workload manager needs to use this node (VURM's slurm.conf entry). */
  configEntry(): string;
  /** Starts the node. Idempotent. */
  spawn(signal?: AbortSignal): Promise<void>;
  /** Gives the capacity back. Idempotent: a second call after success does nothing. */
  release(signal?: AbortSignal): Promise<void>;
  toRecord(): NodeRecord;
}

export interface Availability {
  available: boolean;
  /** Why not, e.g. "cooling down after 3 consecutive failures until 2026-01-01T00:00:00Z". */
  reason?: string;
}

/**
 * A node an external service holds for this operator, as its `list` answers (orphan collection,
 * docs/webhook-contract.md#orphan-collection). `generation` is the provision call that made it.
 */
export interface HeldNode {
  name: string;
  idempotencyKey: string;
  request: RequestIdentity;
  generation?: number;
}

export interface Provisioner {
  readonly name: string;
  readonly type: string;
  /**
   * Returns up to `count` nodes named from `ctx.names`, each holding its capacity but not started.
   * Fewer (even none) is a normal answer when capacity runs out; say why through `ctx.report`.
   */
  getNodes(count: number, ctx: ProvisionContext): Promise<ProvisionedNode[]>;
  /**
   * Rebuilds a node from its record (after an operator restart or a config reload) so it can
   * be released, and marks its capacity as taken again in this instance.
   */
  restore(record: NodeRecord, request: RequestIdentity): ProvisionedNode;
  /** When absent the provisioner is always available. */
  availability?(): Availability;
  /**
   * What the provisioner's service holds for this operator through this provisioner, when it can
   * say (the webhook `list` call). Present only on provisioners that keep state outside
   * Kubernetes; the orphan collector compares it with what requests record.
   */
  list?(signal?: AbortSignal): Promise<HeldNode[]>;
  /**
   * Releases by key whatever the service may hold for `request` under these node names, made or
   * still being made, known or not (legal by the webhook contract): the finalizer of a request
   * deleted while a stack may have been running for it, when no record says what was made.
   */
  releaseKeys?(request: RequestIdentity, names: readonly string[]): Promise<void>;
  /** Frees timers, sockets or anything else the instance holds. */
  close?(): Promise<void>;
}

import type { Clock } from '../support/time.js';
export { realClock as systemClock, type Clock } from '../support/time.js';

/** The subset of a winston logger the provisioning layer uses. */
export interface Logger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export interface SecretKeyRef {
  namespace: string;
  name: string;
  key: string;
}

/** Reads one key of a Secret (decoded). Injected so this layer never imports the kube client. */
export type SecretReader = (ref: SecretKeyRef) => Promise<string>;

/**
 * The services the operator hands whatever it builds from the configuration: provisioners, webhook
 * clients, extender adapters. All optional: tests pass what they need. ProvisionerDeps (provisioner-registry.ts)
 * adds the profile being built, which only provisioners read.
 */
export interface ServiceDeps {
  clock?: Clock;
  logger?: Logger;
  /** Reads `tokenSecretRef`; the operator passes one that reads Secrets through the API server. */
  secretReader?: SecretReader;
  /** Namespace of a `tokenSecretRef` that names none: the operator's own. */
  operatorNamespace?: string;
  /** Relative `path`, `caFile`, `tokenFile` are resolved against it (the config file's folder). */
  baseDir?: string;
  /**
   * Who this operator is to an external service (every webhook provisioner call carries it, and
   * `list` answers only this owner's nodes): the uid of the operator's namespace, learned when it
   * starts leading; undefined until then, or when it cannot be read.
   */
  owner?: () => string | undefined;
}
