// The ResourceRequest reconciler: level-triggered and idempotent. From the cached object it
// decides what the status must say and does the least to get there:
//  - no finalizer: add berth.dev/release (nothing is allocated before it is there);
//  - deleting: release every node through its provisioner, then drop the finalizer;
//  - no nodes yet: run the profile's provisioner stack; keep the nodes and write them down,
//    or stay Pending with the explanation until capacity changes;
//  - nodes: watch their hosts; a host gone Disabled/Maintenance/missing makes it Degraded.
// Nodes obtained but not yet written are kept in memory and written (or released) on the next
// pass, so a failed status write neither loses nor double-books anything.
import type { Logger } from 'winston';
import type {
  ResourceRequest,
  ResourceRequestStatus,
  NodeStatus,
  Explanation,
} from '../api/index.js';
import { API_VERSION } from '../api/index.js';
import { keyOf } from '../kube/objects.js';
import type { KubeRest } from '../kube/rest.js';
import { isNotFound } from '../kube/rest.js';
import {
  minCountOf,
  releaseRecords,
  runStack,
  type NodeRecord,
  type StackResult,
  type ReleaseFailure,
  type RequestRef,
} from '../provisioning/index.js';
import {
  setConditions,
  findCondition,
  type Condition,
  type ConditionUpdate,
} from './conditions.js';
import type { EventRecorder } from './events.js';
import type { Runtime, HostAvailability } from '../provisioning/runtime.js';
import { sameStatus, writeStatus } from './status.js';
import type { Metrics } from '../observability/metrics.js';

export const FINALIZER = 'berth.dev/release';
export const DEFAULT_PROFILE = 'default';

export interface ReconcileResult {
  /** Reconcile this key again after this long (a poll, not an error). */
  requeueAfterMs?: number;
  /** Capacity came back: pending requests should be tried again. */
  capacityFreed?: boolean;
  /** Pools whose usage changed: their status needs recomputing. */
  poolsTouched?: string[];
}

export interface RequestReconcilerDeps {
  rest: KubeRest;
  get(key: string): ResourceRequest | undefined;
  runtime(): Runtime;
  recorder: EventRecorder;
  metrics: Metrics;
  log: Logger;
  now(): Date;
  /** Retry period of a Pending request whose profile has remote provisioners (no capacity events). */
  pendingRecheckMs: number;
}

const collectionPath = (ns: string) => `/apis/${API_VERSION}/namespaces/${ns}/resourcerequests`;
const objectPath = (rr: ResourceRequest) =>
  `${collectionPath(rr.metadata.namespace ?? '')}/${rr.metadata.name}`;

const liveState = (n: NodeStatus) => n.state !== 'Releasing' && n.state !== 'Released';

function poolsOf(
  nodes: readonly { hostPool?: string; volumes?: readonly { storagePool: string }[] }[],
): string[] {
  const pools = new Set<string>();
  for (const n of nodes) {
    if (n.hostPool) pools.add(`HostPool/${n.hostPool}`);
    for (const v of n.volumes ?? []) pools.add(`StoragePool/${v.storagePool}`);
  }
  return [...pools];
}

export class ResourceRequestReconciler {
  /** uid → nodes obtained whose status write has not succeeded yet. */
  private readonly unwritten = new Map<string, StackResult>();
  /** uids whose nodes the finalizer released: their final delete event must not release again. */
  private readonly finalized = new Set<string>();

  constructor(private readonly d: RequestReconcilerDeps) {}

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const rr = this.d.get(key);
    if (!rr) return {};
    const uid = rr.metadata.uid ?? key;
    if (rr.metadata.deletionTimestamp) return this.finalize(rr, uid);
    if (!(rr.metadata.finalizers ?? []).includes(FINALIZER)) {
      await this.d.rest.mergePatch(objectPath(rr), {
        metadata: {
          finalizers: [...(rr.metadata.finalizers ?? []), FINALIZER],
          resourceVersion: rr.metadata.resourceVersion,
        },
      });
      return {}; // the update event brings the key back
    }
    const pending = this.unwritten.get(uid);
    if (pending) return this.record(rr, uid, pending);

    const nodes = rr.status?.nodes ?? [];
    const zombies = nodes.filter((n) => !liveState(n));
    if (zombies.length > 0) {
      const out = await this.releaseZombies(rr, nodes, zombies);
      if (out) return out;
    }
    if (nodes.some(liveState)) return this.observe(rr);
    return this.allocate(rr, uid, signal);
  }

  /**
   * The object is gone. True when its nodes were already released by the finalizer; false when
   * it went without it (finalizer removed by hand) and the caller must release what it recorded.
   */
  forget(uid: string): boolean {
    this.unwritten.delete(uid);
    return this.finalized.delete(uid);
  }

  private profileName(rr: ResourceRequest): string {
    return rr.spec.profile ?? DEFAULT_PROFILE;
  }

  private async allocate(
    cached: ResourceRequest,
    uid: string,
    signal: AbortSignal,
  ): Promise<ReconcileResult> {
    // The cache may not show our last status write yet; allocating from it could book twice.
    // One live read before every allocation settles it.
    let rr: ResourceRequest;
    try {
      rr = await this.d.rest.get<ResourceRequest>(objectPath(cached));
    } catch (err) {
      if (isNotFound(err)) return {};
      throw err;
    }
    if (rr.metadata.uid !== cached.metadata.uid || rr.metadata.deletionTimestamp) return {};
    if ((rr.status?.nodes ?? []).length > 0) return {};
    const profileName = this.profileName(rr);
    const profile = this.d.runtime().profile(profileName);
    if (!profile) {
      const known = this.d.runtime().profileNames().join(', ');
      const message = `profile "${profileName}" is not in the operator configuration (profiles: ${known})`;
      await this.writePending(rr, 'Failed', { summary: message }, 'UnknownProfile', message);
      this.d.metrics.allocationFailures.inc({ profile: profileName, reason: 'UnknownProfile' });
      return {};
    }
    if (profile.remote && rr.status?.phase !== 'Provisioning') {
      rr = await this.write(
        rr,
        this.statusFor(rr, {
          phase: 'Provisioning',
          nodes: [],
          explanation: rr.status?.explanation,
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'Provisioning',
              message: 'the provisioner stack is running',
            },
          ],
        }),
      );
    }
    const result = await runStack(profile.provisioners, requestRef(rr), {
      signal,
      logger: this.d.log,
    });
    if (result.outcome === 'Aborted') return { requeueAfterMs: 1000 };
    if (result.outcome === 'Provisioned') {
      this.unwritten.set(uid, result);
      for (const n of result.nodes)
        this.d.metrics.allocations.inc({ profile: profileName, provisioner: n.provisioner });
      return this.record(rr, uid, result);
    }
    const explanation = toExplanation(result);
    const reason = result.outcome === 'SpawnFailed' ? 'SpawnFailed' : 'InsufficientCapacity';
    this.d.metrics.allocationFailures.inc({ profile: profileName, reason });
    const message = `${result.explanation.summary}`;
    if (rr.status?.explanation?.summary !== explanation.summary) {
      this.d.recorder.event(rr, 'Warning', 'FailedToAllocate', 'Allocate', message);
    }
    await this.writePending(rr, 'Pending', explanation, reason, message);
    for (const f of result.releaseFailures) this.releaseFailed(rr, f);
    if (result.outcome === 'SpawnFailed') throw new Error(`spawn failed: ${message}`);
    return profile.remote ? { requeueAfterMs: this.d.pendingRecheckMs } : {};
  }

  /** Writes nodes obtained by the stack; on success they are the record, else kept to retry. */
  private async record(
    rr: ResourceRequest,
    uid: string,
    result: StackResult,
  ): Promise<ReconcileResult> {
    const nodes: NodeStatus[] = result.nodes.map((n) => toNodeStatus(n.toRecord()));
    const count = rr.spec.count;
    const where = nodes.map((n) =>
      n.host
        ? `${n.hostPool}/${n.host}`
        : `${n.provisioner}:${n.address}${n.port ? `:${n.port}` : ''}`,
    );
    const partial =
      nodes.length < count
        ? ` (${nodes.length} of ${count}, at least ${minCountOf(requestRef(rr))} wanted)`
        : '';
    const status = this.statusFor(rr, {
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
        ...this.degradedCondition(nodes),
      ],
    });
    const hasNodes = (fresh: ResourceRequest) => (fresh.status?.nodes ?? []).length > 0;
    const out = await writeStatus(
      this.d.rest,
      objectPath(rr),
      rr,
      status,
      5,
      (fresh) => !hasNodes(fresh) && !fresh.metadata.deletionTimestamp,
    );
    if (!('written' in out)) {
      // Deleted (or already recorded) while we provisioned: nothing points at these nodes.
      this.unwritten.delete(uid);
      const released = await releaseRecords(
        nodes.map(toRecord),
        identity(rr),
        this.d.runtime().profile(this.profileName(rr))?.provisioners ?? [],
      );
      for (const f of released.failures)
        this.d.log.error('could not release nodes of a deleted request', {
          object: keyOf(rr),
          node: f.name,
          error: f.error,
        });
      return { capacityFreed: true, poolsTouched: poolsOf(nodes) };
    }
    this.unwritten.delete(uid);
    this.d.recorder.event(
      rr,
      'Normal',
      'Allocated',
      'Allocate',
      `${nodes.length} node(s)${partial}: ${where.slice(0, 10).join(', ')}${where.length > 10 ? ', ...' : ''}`,
    );
    this.d.recorder.event(
      rr,
      'Normal',
      'Provisioned',
      'Provision',
      `${nodes.length}/${count} node(s) running`,
    );
    return { poolsTouched: poolsOf(nodes) };
  }

  /** Nodes exist: keep Degraded up to date with the hosts under them. */
  private async observe(rr: ResourceRequest): Promise<ReconcileResult> {
    const nodes = rr.status?.nodes ?? [];
    const degraded = this.degradedCondition(nodes);
    const before = findCondition(rr.status?.conditions as Condition[] | undefined, 'Degraded');
    const status = this.statusFor(rr, {
      phase: rr.status?.phase ?? 'Ready',
      nodes,
      explanation: rr.status?.explanation,
      conditions: degraded,
    });
    if (sameStatus(status, rr.status)) return {};
    if (degraded[0]?.status === 'True' && before?.status !== 'True') {
      this.d.recorder.event(rr, 'Warning', 'Degraded', 'Observe', degraded[0].message);
    }
    await this.write(rr, status);
    return {};
  }

  private degradedCondition(nodes: readonly NodeStatus[]): ConditionUpdate[] {
    const runtime = this.d.runtime();
    const bad: string[] = [];
    for (const n of nodes) {
      if (!n.hostPool || !n.host || !liveState(n)) continue;
      const a: HostAvailability = runtime.hostAvailability(n.hostPool, n.host);
      if (a !== 'Available') bad.push(`${n.name} on ${n.hostPool}/${n.host} (${a})`);
    }
    return [
      bad.length > 0
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
          },
    ];
  }

  private async finalize(rr: ResourceRequest, uid: string): Promise<ReconcileResult> {
    if (!(rr.metadata.finalizers ?? []).includes(FINALIZER)) return {};
    const unwritten = this.unwritten.get(uid);
    const records = [
      ...(rr.status?.nodes ?? []).map(toRecord),
      ...(unwritten?.nodes.map((n) => n.toRecord()) ?? []),
    ];
    const profile = this.d.runtime().profile(this.profileName(rr));
    const live = records.filter((r) => r.state !== 'Released');
    let latest = rr;
    if (live.length > 0 && rr.status?.phase !== 'Releasing') {
      latest = await this.write(
        rr,
        this.statusFor(rr, {
          phase: 'Releasing',
          nodes: rr.status?.nodes ?? [],
          explanation: rr.status?.explanation,
          conditions: [
            { type: 'Ready', status: 'False', reason: 'Releasing', message: 'the request is being deleted' },
          ],
        }),
      );
    }
    const { released, failures } = await releaseRecords(live, identity(rr), profile?.provisioners ?? []);
    this.unwritten.delete(uid);
    if (failures.length > 0) {
      // Record what is already given back, so the retry releases only the rest (exactly once).
      const done = new Set(released.map((r) => r.name));
      const inStatus = new Set((latest.status?.nodes ?? []).map((n) => n.name));
      const nodes = [
        ...(latest.status?.nodes ?? []).map((n) => (done.has(n.name) ? { ...n, state: 'Released' as const } : n)),
        ...failures.filter((f) => !inStatus.has(f.name)).map((f) => toNodeStatus({ ...f.record, state: 'Releasing' })),
      ];
      await this.write(latest, { ...(latest.status ?? {}), nodes });
      for (const f of failures) this.releaseFailed(rr, f);
      throw new Error(`release failed for ${failures.map((f) => f.name).join(', ')}`);
    }
    this.finalized.add(uid);
    await this.d.rest
      .mergePatch(objectPath(rr), {
        metadata: {
          finalizers: (latest.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
          resourceVersion: latest.metadata.resourceVersion,
        },
      })
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    if (released.length > 0) {
      this.d.recorder.event(rr, 'Normal', 'Released', 'Release', `${released.length} node(s) released`);
    }
    return { capacityFreed: released.length > 0, poolsTouched: poolsOf(live) };
  }

  /** Nodes a failed stack run could not give back, kept in status until they are released. */
  private async releaseZombies(
    rr: ResourceRequest,
    nodes: readonly NodeStatus[],
    zombies: readonly NodeStatus[],
  ): Promise<ReconcileResult | undefined> {
    const profile = this.d.runtime().profile(this.profileName(rr));
    const { released, failures } = await releaseRecords(
      zombies.map(toRecord),
      identity(rr),
      profile?.provisioners ?? [],
    );
    const done = new Set(released.map((r) => r.name));
    const remaining = nodes.filter((n) => !done.has(n.name));
    if (done.size > 0) {
      await this.write(rr, { ...(rr.status ?? {}), nodes: remaining });
      return { capacityFreed: true, poolsTouched: poolsOf(zombies) };
    }
    if (failures.length > 0)
      throw new Error(`release failed for ${failures.map((f) => f.name).join(', ')}`);
    return undefined;
  }

  private releaseFailed(rr: ResourceRequest, f: ReleaseFailure): void {
    this.d.log.error('release failed', {
      object: keyOf(rr),
      node: f.name,
      provisioner: f.provisioner,
      error: f.error,
    });
    this.d.recorder.event(
      rr,
      'Warning',
      'ReleaseFailed',
      'Release',
      `${f.name} (${f.provisioner}): ${f.error}`,
    );
  }

  private async writePending(
    rr: ResourceRequest,
    phase: 'Pending' | 'Failed',
    explanation: Explanation,
    reason: string,
    message: string,
  ): Promise<void> {
    await this.write(
      rr,
      this.statusFor(rr, {
        phase,
        nodes: [],
        explanation,
        conditions: [
          { type: 'Allocated', status: 'False', reason, message },
          { type: 'Provisioned', status: 'False', reason, message: 'no nodes' },
          { type: 'Ready', status: 'False', reason, message },
        ],
      }),
    );
  }

  private statusFor(
    rr: ResourceRequest,
    s: {
      phase: NonNullable<ResourceRequestStatus['phase']>;
      nodes: NodeStatus[];
      explanation?: Explanation;
      conditions: ConditionUpdate[];
    },
  ): ResourceRequestStatus {
    const generation = rr.metadata.generation;
    const running = s.nodes.filter((n) => n.state === 'Running').length;
    const conditions = setConditions(
      (rr.status?.conditions ?? []) as Condition[],
      s.conditions.map((c) => ({ ...c, observedGeneration: generation })),
      this.d
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
    );
    const status: ResourceRequestStatus = {
      observedGeneration: generation,
      phase: s.phase,
      ready: `${running}/${rr.spec.count}`,
      readyNodes: running,
      conditions,
      nodes: s.nodes,
    };
    if (s.explanation) status.explanation = s.explanation;
    return status;
  }

  /** Writes the status when it changed; returns the object as it now is on the server. */
  private async write(rr: ResourceRequest, status: ResourceRequestStatus): Promise<ResourceRequest> {
    if (sameStatus(status, rr.status)) return rr;
    const out = await writeStatus(this.d.rest, objectPath(rr), rr, status);
    return 'written' in out ? out.written : 'superseded' in out ? out.superseded : rr;
  }

}

const identity = (rr: ResourceRequest) => ({
  namespace: rr.metadata.namespace ?? '',
  name: rr.metadata.name,
  uid: rr.metadata.uid,
});
const requestRef = (rr: ResourceRequest): RequestRef => ({ metadata: identity(rr), spec: rr.spec });

function toNodeStatus(r: NodeRecord): NodeStatus {
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
  return n;
}

function toRecord(n: NodeStatus): NodeRecord {
  return {
    name: n.name,
    provisioner: n.provisioner,
    hostPool: n.hostPool,
    host: n.host,
    address: n.address,
    port: n.port,
    volumes: n.volumes,
    configEntry: n.configEntry ?? '',
    state: n.state ?? 'Running',
  };
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
  return e;
}

export { toRecord as nodeStatusToRecord };
