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
import type { ResourceRequest, ResourceRequestStatus, NodeStatus } from '../api/index.js';
import { API_VERSION } from '../api/index.js';
import { keyOf } from '../kube/objects.js';
import { isNotFound, type KubeClient } from '../kube/client.js';
import {
  releaseRecords,
  runStack,
  type StackResult,
  type ReleaseFailure,
  type NodeRecord,
} from '../provisioning/index.js';
import type { Runtime } from '../provisioning/runtime.js';
import type { Metrics } from '../observability/metrics.js';
import { findCondition, type Condition } from '../runtime/conditions.js';
import type { EventRecorder } from '../runtime/events.js';
import {
  allocatedStatus,
  buildStatus,
  degradedCondition,
  isLive,
  requestIdentity,
  requestRef,
  toExplanation,
  toNodeStatus,
  toRecord,
  unservedReason,
  unservedStatus,
} from './requeststatus.js';
import { sameStatus, writeStatus } from '../runtime/status-writer.js';

export const FINALIZER = 'berth.dev/release';
export const DEFAULT_PROFILE = 'default';

export interface ReconcileResult {
  /** Reconcile this key again after this long (a poll, not an error). */
  requeueAfterMs?: number;
  /** Capacity came back: pending requests should be tried again. */
  capacityFreed?: boolean;
  /** Pools whose usage changed (`HostPool/<name>`, `StoragePool/<name>`). */
  poolsTouched?: string[];
}

export interface RequestReconcilerDeps {
  rest: KubeClient;
  get(key: string): ResourceRequest | undefined;
  runtime(): Runtime;
  recorder: EventRecorder;
  metrics: Metrics;
  log: Logger;
  now(): Date;
  /** Retry period of a Pending request whose profile has remote provisioners (no capacity events). */
  pendingRecheckMs: number;
}

const objectPath = (rr: ResourceRequest) =>
  `/apis/${API_VERSION}/namespaces/${rr.metadata.namespace ?? ''}/resourcerequests/${rr.metadata.name}`;

/** A fresh copy we may still write an allocation onto: no nodes recorded, not being deleted. */
const unrecorded = (fresh: ResourceRequest) =>
  (fresh.status?.nodes ?? []).length === 0 && !fresh.metadata.deletionTimestamp;

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
    const zombies = nodes.filter((n) => !isLive(n));
    if (zombies.length > 0) {
      const out = await this.releaseZombies(rr, nodes, zombies);
      if (out) return out;
    }
    if (nodes.some(isLive)) return this.observe(rr);
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

  private releasers(rr: ResourceRequest, records: readonly NodeRecord[]) {
    return this.d.runtime().releasers(this.profileName(rr), records);
  }

  private availability() {
    const runtime = this.d.runtime();
    return (hostPool: string, host: string) => runtime.hostAvailability(hostPool, host);
  }

  /**
   * Runs the stack from what the cache shows. The cache may lag our own last write; that can
   * cost a wasted stack run but never a double booking: every write below is guarded, and nodes
   * whose record lost the race are released at once.
   */
  private async allocate(
    rr: ResourceRequest,
    uid: string,
    signal: AbortSignal,
  ): Promise<ReconcileResult> {
    const profileName = this.profileName(rr);
    const profile = this.d.runtime().profile(profileName);
    const now = this.d.now();
    if (!profile) {
      const known = this.d.runtime().profileNames().join(', ');
      const message = `profile "${profileName}" is not in the operator configuration (profiles: ${known})`;
      if (rr.status?.phase !== 'Failed')
        this.d.recorder.event(rr, 'Warning', 'UnknownProfile', 'Allocate', message);
      await this.guardedWrite(
        rr,
        unservedStatus(rr, 'Failed', { summary: message }, 'UnknownProfile', message, now),
      );
      this.d.metrics.allocationFailures.inc({ profile: profileName, reason: 'UnknownProfile' });
      return {};
    }
    if (profile.remote && rr.status?.phase !== 'Provisioning') {
      rr = await this.guardedWrite(
        rr,
        buildStatus(
          rr,
          {
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
          },
          now,
        ),
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
    const reason = unservedReason(result);
    this.d.metrics.allocationFailures.inc({ profile: profileName, reason });
    if (rr.status?.explanation?.summary !== explanation.summary) {
      this.d.recorder.event(rr, 'Warning', 'FailedToAllocate', 'Allocate', explanation.summary);
    }
    const status = unservedStatus(
      rr,
      'Pending',
      explanation,
      reason,
      explanation.summary,
      this.d.now(),
    );
    // Nodes the stack could not give back stay on record (Releasing) until they are released.
    status.nodes = result.releaseFailures.map((f) =>
      toNodeStatus({ ...f.record, state: 'Releasing' }),
    );
    await this.guardedWrite(rr, status);
    for (const f of result.releaseFailures) this.releaseFailed(rr, f);
    if (result.outcome === 'SpawnFailed') throw new Error(`spawn failed: ${explanation.summary}`);
    return profile.remote ? { requeueAfterMs: this.d.pendingRecheckMs } : {};
  }

  /** Writes nodes obtained by the stack; on success they are the record, else kept to retry. */
  private async record(
    rr: ResourceRequest,
    uid: string,
    result: StackResult,
  ): Promise<ReconcileResult> {
    const { status, nodes, partial, where } = allocatedStatus(
      rr,
      result,
      this.availability(),
      this.d.now(),
    );
    const out = await writeStatus(this.d.rest, objectPath(rr), rr, status, 5, unrecorded);
    this.unwritten.delete(uid);
    if (!('written' in out)) {
      // Deleted (or already recorded) while we provisioned: nothing points at these nodes.
      const records = nodes.map(toRecord);
      const released = await releaseRecords(
        records,
        requestIdentity(rr),
        this.releasers(rr, records),
      );
      for (const f of released.failures) {
        this.d.log.error('could not release nodes of a request that went away', {
          object: keyOf(rr),
          node: f.name,
          error: f.error,
        });
      }
      return { capacityFreed: true, poolsTouched: poolsOf(nodes) };
    }
    const shown = where.slice(0, 10).join(', ') + (where.length > 10 ? ', ...' : '');
    this.d.recorder.event(
      rr,
      'Normal',
      'Allocated',
      'Allocate',
      `${nodes.length} node(s)${partial}: ${shown}`,
    );
    this.d.recorder.event(
      rr,
      'Normal',
      'Provisioned',
      'Provision',
      `${nodes.length}/${rr.spec.count} node(s) running`,
    );
    return { poolsTouched: poolsOf(nodes) };
  }

  /** Nodes exist: keep Degraded up to date with the hosts under them. */
  private async observe(rr: ResourceRequest): Promise<ReconcileResult> {
    const nodes = rr.status?.nodes ?? [];
    const degraded = degradedCondition(nodes, this.availability());
    const before = findCondition(rr.status?.conditions as Condition[] | undefined, 'Degraded');
    const status = buildStatus(
      rr,
      {
        phase: rr.status?.phase ?? 'Ready',
        nodes,
        explanation: rr.status?.explanation,
        conditions: [degraded],
      },
      this.d.now(),
    );
    if (sameStatus(status, rr.status)) return {};
    if (degraded.status === 'True' && before?.status !== 'True') {
      this.d.recorder.event(rr, 'Warning', 'Degraded', 'Observe', degraded.message);
    }
    await this.write(rr, status);
    return {};
  }

  private async finalize(rr: ResourceRequest, uid: string): Promise<ReconcileResult> {
    if (!(rr.metadata.finalizers ?? []).includes(FINALIZER)) return {};
    const unwritten = this.unwritten.get(uid);
    const records = [
      ...(rr.status?.nodes ?? []).map(toRecord),
      ...(unwritten?.nodes.map((n) => n.toRecord()) ?? []),
    ];
    const live = records.filter((r) => r.state !== 'Released');
    let latest = rr;
    if (live.length > 0 && rr.status?.phase !== 'Releasing') {
      latest = await this.write(
        rr,
        buildStatus(
          rr,
          {
            phase: 'Releasing',
            nodes: rr.status?.nodes ?? [],
            explanation: rr.status?.explanation,
            conditions: [
              {
                type: 'Ready',
                status: 'False',
                reason: 'Releasing',
                message: 'the request is being deleted',
              },
            ],
          },
          this.d.now(),
        ),
      );
    }
    const { released, failures } = await releaseRecords(
      live,
      requestIdentity(rr),
      this.releasers(rr, live),
    );
    this.unwritten.delete(uid);
    if (failures.length > 0) {
      // Record what is already given back, so the retry releases only the rest (exactly once).
      const done = new Set(released.map((r) => r.name));
      const inStatus = new Set((latest.status?.nodes ?? []).map((n) => n.name));
      const nodes: NodeStatus[] = [
        ...(latest.status?.nodes ?? []).map((n) =>
          done.has(n.name) ? { ...n, state: 'Released' as const } : n,
        ),
        ...failures
          .filter((f) => !inStatus.has(f.name))
          .map((f) => toNodeStatus({ ...f.record, state: 'Releasing' })),
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
    if (released.length > 0)
      this.d.recorder.event(
        rr,
        'Normal',
        'Released',
        'Release',
        `${released.length} node(s) released`,
      );
    return { capacityFreed: released.length > 0, poolsTouched: poolsOf(live) };
  }

  /** Nodes a failed stack run could not give back, kept in status until they are released. */
  private async releaseZombies(
    rr: ResourceRequest,
    nodes: readonly NodeStatus[],
    zombies: readonly NodeStatus[],
  ): Promise<ReconcileResult | undefined> {
    const records = zombies.map(toRecord);
    const { released, failures } = await releaseRecords(
      records,
      requestIdentity(rr),
      this.releasers(rr, records),
    );
    const done = new Set(released.map((r) => r.name));
    if (done.size > 0) {
      await this.write(rr, { ...(rr.status ?? {}), nodes: nodes.filter((n) => !done.has(n.name)) });
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

  /** Like write, but never over a status that (on the server) already records nodes. */
  private async guardedWrite(
    rr: ResourceRequest,
    status: ResourceRequestStatus,
  ): Promise<ResourceRequest> {
    if (sameStatus(status, rr.status)) return rr;
    const out = await writeStatus(this.d.rest, objectPath(rr), rr, status, 5, unrecorded);
    return 'written' in out ? out.written : 'superseded' in out ? out.superseded : rr;
  }

  /**
   * Writes the status when it changed; returns the object as it now is on the server. On a
   * conflict it re-applies onto the fresh copy only if that copy records the same nodes and the
   * same deletion state our status was computed from; otherwise the next pass decides again.
   */
  private async write(
    rr: ResourceRequest,
    status: ResourceRequestStatus,
  ): Promise<ResourceRequest> {
    if (sameStatus(status, rr.status)) return rr;
    const sameBasis = (fresh: ResourceRequest) =>
      sameStatus(fresh.status?.nodes ?? [], rr.status?.nodes ?? []) &&
      !fresh.metadata.deletionTimestamp === !rr.metadata.deletionTimestamp;
    const out = await writeStatus(this.d.rest, objectPath(rr), rr, status, 5, sameBasis);
    return 'written' in out ? out.written : 'superseded' in out ? out.superseded : rr;
  }
}

export { toRecord as nodeStatusToRecord };
