// The offline simulator: the operator's engine, stack and status builders run over files
// instead of a cluster. Requests are served in input order; the statuses are exactly what the
// operator would write (with `now` as the clock, so the same input gives the same output).
import type {
  HostPool,
  HostPoolStatus,
  OperatorConfig,
  ResourceRequest,
  ResourceRequestStatus,
  StoragePool,
  StoragePoolStatus,
} from '../api/index.js';
import { HostsBackend } from '../allocation/service.js';
import { AssembledRuntime } from '../provisioning/assemble.js';
import { releaseRecords } from '../provisioning/records.js';
import { runStack } from '../provisioning/stack.js';
import { hostPoolStatus, storagePoolStatus } from '../serving/pool-status.js';
import { allocated, decide, profileOf, released } from '../serving/request-lifecycle.js';
import { requestIdentity, requestRef } from '../serving/request-status.js';

export interface SimulationInput {
  hostPools: HostPool[];
  storagePools: StoragePool[];
  requests: ResourceRequest[];
  config: OperatorConfig;
  /** Folder relative module paths and CA/token files are resolved against. */
  baseDir?: string;
  /**
   * Requests as the cluster holds them (`--from-cluster`): taken as they are (no change applied
   * on top) and served before `requests`, oldest first, as the operator would serve them.
   */
  current?: ResourceRequest[];
  /**
   * Never call a provisioner outside the process (webhook, module): a request of such a profile
   * is reported, not served. `--from-cluster` sets it: a what-if must not make machines.
   */
  localOnly?: boolean;
}

export interface SimulationOutput {
  requests: Array<{ namespace: string; name: string; status: ResourceRequestStatus }>;
  hostPools: Array<{ name: string; status: HostPoolStatus }>;
  storagePools: Array<{ name: string; status: StoragePoolStatus }>;
}

/** A request whose profile calls out of the process, in a what-if that must not. */
function notSimulated(rr: ResourceRequest, profile: string, now: Date): ResourceRequestStatus {
  const message = `not simulated: profile "${profile}" has external provisioners (webhook or module), which a what-if does not call`;
  return {
    ...(rr.status ?? {}),
    phase: rr.status?.phase ?? 'Pending',
    explanation: { summary: message },
    conditions: [
      {
        type: 'Ready',
        status: 'Unknown',
        reason: 'NotSimulated',
        message,
        lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    ],
  };
}

/** Objects read from files have no generation yet; the API server would give them 1. */
function asCreated<T extends { metadata: { generation?: number } }>(obj: T): T {
  return obj.metadata.generation === undefined
    ? { ...obj, metadata: { ...obj.metadata, generation: 1 } }
    : obj;
}

/**
 * A request given with a status (`kubectl get rr x -o yaml`, its spec then edited) is that status
 * with the file's spec applied on top: one generation later than the status observed, as the API
 * server would make it. So a changed count is simulated as the scale it is.
 */
function asApplied(rr: ResourceRequest): ResourceRequest {
  const observed = rr.status?.observedGeneration;
  if (observed === undefined) return asCreated(rr);
  return { ...rr, metadata: { ...rr.metadata, generation: observed + 1 } };
}

export async function simulate(input: SimulationInput, now: Date): Promise<SimulationOutput> {
  const hostPools = input.hostPools.map(asCreated);
  const storagePools = input.storagePools.map(asCreated);
  const current = [...(input.current ?? [])]
    .map(asCreated)
    .sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace}/${b.metadata.name}`,
        ),
    );
  const requests = [...current, ...input.requests.map(asApplied)];
  const backend = new HostsBackend();
  backend.setInventory(hostPools, storagePools);
  const runtime = AssembledRuntime.build(input.config, backend, { baseDir: input.baseDir ?? '.' });
  try {
    runtime.restore(requests);
    const out: SimulationOutput = { requests: [], hostPools: [], storagePools: [] };
    for (const rr of requests) {
      out.requests.push({
        namespace: rr.metadata.namespace ?? '',
        name: rr.metadata.name,
        status: (await serve(rr)) ?? {},
      });
    }
    for (const hp of hostPools)
      out.hostPools.push({ name: hp.metadata.name, status: hostPoolStatus(hp, backend, now) });
    for (const sp of storagePools)
      out.storagePools.push({
        name: sp.metadata.name,
        status: storagePoolStatus(sp, backend, now),
      });
    return out;

    /** What the operator would write for `rr`: the same decisions (serving/request-lifecycle.ts). */
    async function serve(rr: ResourceRequest): Promise<ResourceRequestStatus | undefined> {
      const step = decide(rr, runtime, now);
      if (step.kind === 'update') return step.write?.status ?? rr.status;
      if (step.kind === 'release' && step.resize) {
        if (input.localOnly && runtime.profile(profileOf(rr))?.remote)
          return notSimulated(rr, profileOf(rr), now);
        // A scale-down: the newest nodes go back, as the operator would give them.
        const releasers = runtime.releasers(profileOf(rr), step.records);
        const out = await releaseRecords(step.records, requestIdentity(rr), releasers);
        return released(rr, step, out.released, out.failures, runtime, now).write?.status;
      }
      if (step.kind !== 'allocate') return rr.status;
      const profile = runtime.profile(step.profile)!;
      if (profile.remote && input.localOnly) return notSimulated(rr, step.profile, now);
      const result = await runStack(profile.provisioners, requestRef(rr), {
        ...(step.resize ? { names: step.resize.names, minCount: step.resize.minCount } : {}),
      });
      return allocated(rr, result, runtime, now, profile.remote, 0).write?.status ?? rr.status;
    }
  } finally {
    await runtime.close();
  }
}
