// What a ResourceRequest's status says, as pure functions of the request and the stack's result.
// The reconciler writes these; `berth simulate` prints them: the same code, the same statuses.
import type {
  Explanation,
  NodeStatus,
  ResourceRequest,
  ResourceRequestStatus,
} from '../api/index.js';
import {
  identityOf,
  minCountOf,
  type NodeRecord,
  type RequestRef,
  type StackResult,
} from '../provisioning/index.js';
import type { HostAvailability } from '../provisioning/runtime.js';
import {
  findCondition,
  setCondition,
  setConditions,
  type Condition,
  type ConditionUpdate,
} from '../runtime/conditions.js';
import { expiryOf, startOf } from './expiry.js';

type Phase = NonNullable<ResourceRequestStatus['phase']>;

export const timestamp = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export const isLive = (n: { state?: string }) => n.state !== 'Releasing' && n.state !== 'Released';

export const requestIdentity = (rr: ResourceRequest) => identityOf(rr);

export const requestRef = (rr: ResourceRequest): RequestRef => ({
  metadata: requestIdentity(rr),
  spec: rr.spec,
});

export function buildStatus(
  rr: ResourceRequest,
  s: {
    phase: Phase;
    nodes: NodeStatus[];
    explanation?: Explanation;
    conditions: ConditionUpdate[];
    /** Lost nodes awaiting a replacement; only the steps of a replacement set it. */
    replacing?: number;
    /** Replacements in total; kept from the current status unless given. */
    replacements?: number;
  },
  now: Date,
  /** Leave `status.observedGeneration` as it was: the spec's latest change is not done yet. */
  pendingChange = false,
): ResourceRequestStatus {
  const generation = rr.metadata.generation;
  const running = s.nodes.filter((n) => n.state === 'Running').length;
  const conditions = setConditions(
    (rr.status?.conditions ?? []) as Condition[],
    s.conditions.map((c) =>
      generation === undefined ? c : { ...c, observedGeneration: generation },
    ),
    timestamp(now),
  );
  // Served again after a preemption: the condition stays, as history, but says it is over.
  const preempted = findCondition(conditions, 'Preempted');
  const shown =
    s.phase === 'Ready' && preempted?.status === 'True'
      ? setCondition(
          conditions,
          {
            type: 'Preempted',
            status: 'False',
            reason: 'Allocated',
            message: `allocated again after: ${preempted.message}`.slice(0, 1024),
            ...(generation === undefined ? {} : { observedGeneration: generation }),
          },
          timestamp(now),
        )
      : conditions;
  const status: ResourceRequestStatus = {
    phase: s.phase,
    ready: `${running}/${rr.spec.count}`,
    readyNodes: running,
    conditions: shown,
    nodes: s.nodes,
  };
  if (rr.status?.priority !== undefined) status.priority = rr.status.priority;
  if (s.phase === 'Pending' && rr.status?.queuePosition !== undefined)
    status.queuePosition = rr.status.queuePosition;
  const observed = pendingChange ? rr.status?.observedGeneration : generation;
  if (observed !== undefined) status.observedGeneration = observed;
  if (s.explanation) status.explanation = s.explanation;
  const replacements = s.replacements ?? rr.status?.replacements;
  if (replacements) status.replacements = replacements;
  if (s.replacing) status.replacing = s.replacing;
  // The deadline counts from the first Ready and survives everything after it (scales, restarts).
  const startTime = startOf(rr) ?? (s.phase === 'Ready' ? timestamp(now) : undefined);
  if (startTime) status.startTime = startTime;
  const end = expiryOf(rr, startTime);
  if (end) status.expiryTime = timestamp(end);
  return status;
}

export function degradedCondition(
  nodes: readonly NodeStatus[],
  availability: (hostPool: string, host: string) => HostAvailability,
): ConditionUpdate {
  const bad: string[] = [];
  for (const n of nodes) {
    if (!n.hostPool || !n.host || !isLive(n)) continue;
    const a = availability(n.hostPool, n.host);
    if (a !== 'Available') bad.push(`${n.name} on ${n.hostPool}/${n.host} (${a})`);
  }
  return bad.length > 0
    ? {
        type: 'Degraded',
        status: 'True',
        reason: 'HostUnavailable',
        message: `host unavailable under ${bad.length} node(s): ${bad.join(', ')}`,
      }
    : {
        type: 'Degraded',
        status: 'False',
        reason: 'HostsAvailable',
        message: 'every node is on an available host',
      };
}

export interface AllocatedOutcome {
  status: ResourceRequestStatus;
  nodes: NodeStatus[];
  /** `(3 of 5, at least 2 wanted)` when partial, else empty. */
  partial: string;
  /** Where each node is, for the Allocated event. */
  where: string[];
}

/** Ready with the nodes the stack kept (VURM: at least minCount, maybe fewer than count). */
export function allocatedStatus(
  rr: ResourceRequest,
  result: StackResult,
  availability: (hostPool: string, host: string) => HostAvailability,
  now: Date,
): AllocatedOutcome {
  const nodes = result.nodes.map((n) => toNodeStatus(n.toRecord()));
  const count = rr.spec.count;
  const partial =
    nodes.length < count
      ? ` (${nodes.length} of ${count}, at least ${minCountOf(requestRef(rr))} wanted)`
      : '';
  const where = nodes.map((n) =>
    n.host
      ? `${n.hostPool}/${n.host}`
      : `${n.provisioner}:${n.address}${n.port ? `:${n.port}` : ''}`,
  );
  const status = buildStatus(
    rr,
    {
      phase: 'Ready',
      nodes,
      explanation: nodes.length < count ? toExplanation(result) : undefined,
      conditions: [
        {
          type: 'Allocated',
          status: 'True',
          reason: 'Allocated',
          message: `${nodes.length} node(s) allocated${partial}`,
        },
        {
          type: 'Provisioned',
          status: 'True',
          reason: 'Spawned',
          message: `${nodes.length} node(s) running`,
        },
        {
          type: 'Ready',
          status: 'True',
          reason: 'NodesRunning',
          message: `${nodes.length}/${count} node(s) running`,
        },
        degradedCondition(nodes, availability),
      ],
    },
    now,
  );
  return { status, nodes, partial, where };
}

/** Not served (yet): no nodes, and why. */
export function unservedStatus(
  rr: ResourceRequest,
  phase: 'Pending' | 'Failed',
  explanation: Explanation,
  reason: string,
  message: string,
  now: Date,
): ResourceRequestStatus {
  return buildStatus(
    rr,
    {
      phase,
      nodes: [],
      explanation,
      conditions: [
        { type: 'Allocated', status: 'False', reason, message },
        { type: 'Provisioned', status: 'False', reason, message: 'no nodes' },
        { type: 'Ready', status: 'False', reason, message },
      ],
    },
    now,
  );
}

export const unservedReason = (result: StackResult) =>
  result.outcome === 'SpawnFailed' ? 'SpawnFailed' : 'InsufficientCapacity';

export function toNodeStatus(r: NodeRecord): NodeStatus {
  const n: NodeStatus = {
    name: r.name,
    provisioner: r.provisioner,
    address: r.address,
    configEntry: r.configEntry,
    state: r.state,
  };
  if (r.hostPool) n.hostPool = r.hostPool;
  if (r.host) n.host = r.host;
  if (r.port !== undefined) n.port = r.port;
  if (r.volumes?.length)
    n.volumes = r.volumes.map((v) => ({ name: v.name, storagePool: v.storagePool, size: v.size }));
  if (r.attributes && Object.keys(r.attributes).length > 0) n.attributes = { ...r.attributes };
  return n;
}

export function toRecord(n: NodeStatus): NodeRecord {
  const r: NodeRecord = {
    name: n.name,
    provisioner: n.provisioner,
    address: n.address,
    configEntry: n.configEntry ?? '',
    state: n.state ?? 'Running',
  };
  if (n.hostPool) r.hostPool = n.hostPool;
  if (n.host) r.host = n.host;
  if (n.port !== undefined) r.port = n.port;
  if (n.volumes) r.volumes = n.volumes;
  if (n.attributes) r.attributes = n.attributes;
  return r;
}

/** The stack's explanation in the API's shape (bounded as the CRD requires). */
export function toExplanation(result: StackResult): Explanation {
  const e: Explanation = { summary: result.explanation.summary.slice(0, 1024) };
  e.provisioners = result.explanation.provisioners.slice(0, 16).map((p) => {
    const out: NonNullable<Explanation['provisioners']>[number] = {
      provisioner: p.provisioner,
      type: p.type,
      asked: p.asked,
      got: p.got,
    };
    if (p.summary) out.summary = p.summary.slice(0, 1024);
    if (p.error) out.error = p.error.slice(0, 1024);
    if (p.reasons && Object.keys(p.reasons).length > 0) out.reasons = p.reasons;
    if (p.allocators?.length) out.allocators = p.allocators.slice(0, 16).map((a) => ({ ...a }));
    return out;
  });
  const hosts = result.explanation.hosts;
  if (hosts?.length)
    e.hosts = hosts.slice(0, 50).map((h) => ({ host: h.host, reason: h.reason.slice(0, 256) }));
  return e;
}
