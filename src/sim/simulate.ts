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
import { hostPoolStatus, storagePoolStatus } from '../controller/pools.js';
import {
  allocatedStatus,
  buildStatus,
  degradedCondition,
  isLive,
  requestRef,
  toExplanation,
  unservedReason,
  unservedStatus,
} from '../controller/requeststatus.js';
import { DEFAULT_PROFILE } from '../controller/resourcerequest.js';
import { AssembledRuntime } from '../provisioning/assemble.js';
import { HostsBackend } from '../provisioning/hosts.js';
import { runStack } from '../provisioning/stack.js';

export interface SimulationInput {
  hostPools: HostPool[];
  storagePools: StoragePool[];
  requests: ResourceRequest[];
  config: OperatorConfig;
  /** Folder relative module paths and CA/token files are resolved against. */
  baseDir?: string;
}

export interface SimulationOutput {
  requests: Array<{ namespace: string; name: string; status: ResourceRequestStatus }>;
  hostPools: Array<{ name: string; status: HostPoolStatus }>;
  storagePools: Array<{ name: string; status: StoragePoolStatus }>;
}

/** Objects read from files have no generation yet; the API server would give them 1. */
function asCreated<T extends { metadata: { generation?: number } }>(obj: T): T {
  return obj.metadata.generation === undefined
    ? { ...obj, metadata: { ...obj.metadata, generation: 1 } }
    : obj;
}

export async function simulate(input: SimulationInput, now: Date): Promise<SimulationOutput> {
  const hostPools = input.hostPools.map(asCreated);
  const storagePools = input.storagePools.map(asCreated);
  const requests = input.requests.map(asCreated);
  const backend = new HostsBackend();
  backend.setInventory(hostPools, storagePools);
  const runtime = AssembledRuntime.build(input.config, backend, { baseDir: input.baseDir ?? '.' });
  try {
    runtime.restore(requests);
    const availability = (pool: string, host: string) => runtime.hostAvailability(pool, host);
    const out: SimulationOutput = { requests: [], hostPools: [], storagePools: [] };
    for (const rr of requests) {
      out.requests.push({
        namespace: rr.metadata.namespace ?? '',
        name: rr.metadata.name,
        status: await serve(rr),
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

    async function serve(rr: ResourceRequest): Promise<ResourceRequestStatus> {
      const nodes = rr.status?.nodes ?? [];
      if (nodes.some(isLive)) {
        const phase = rr.status?.phase ?? 'Ready';
        return buildStatus(
          rr,
          {
            phase,
            nodes,
            explanation: rr.status?.explanation,
            conditions: [degradedCondition(nodes, availability)],
          },
          now,
        );
      }
      const profileName = rr.spec.profile ?? DEFAULT_PROFILE;
      const profile = runtime.profile(profileName);
      if (!profile) {
        const message = `profile "${profileName}" is not in the operator configuration (profiles: ${runtime.profileNames().join(', ')})`;
        return unservedStatus(rr, 'Failed', { summary: message }, 'UnknownProfile', message, now);
      }
      const result = await runStack(profile.provisioners, requestRef(rr));
      if (result.outcome === 'Provisioned')
        return allocatedStatus(rr, result, availability, now).status;
      const explanation = toExplanation(result);
      return unservedStatus(
        rr,
        'Pending',
        explanation,
        unservedReason(result),
        explanation.summary,
        now,
      );
    }
  } finally {
    await runtime.close();
  }
}
