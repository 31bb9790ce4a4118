// `berth simulate --from-cluster`: the simulator on the live cluster's state plus a set of
// changes, writing nothing. It reads what the operator reads (pools, requests, its configuration),
// lays the changes on top, and runs the same simulate() the offline command runs.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  HOST_POOLS,
  RESOURCE_REQUESTS,
  STORAGE_POOLS,
  TENANT_QUOTAS,
  formatIssue,
  validateDocument,
  type HostPool,
  type OperatorConfig,
  type ResourceRequest,
  type StoragePool,
  type TenantQuota,
} from '../api/index.js';
import { DEFAULT_CONFIG } from '../deploy/manifests.js';
import { KubeError } from '../kube/client.js';
import { listAll } from '../kube/list.js';
import { PRIORITY_CLASSES, collectionPath, objectPath } from '../kube/paths.js';
import type { PriorityClassInfo } from '../serving/priority.js';
import { KubeRest, loadKubeConfig } from '../kube/rest.js';
import { simulate, type SimulationOutput } from '../sim/simulate.js';
import { render } from './table.js';

export interface Changes {
  hostPools: HostPool[];
  storagePools: StoragePool[];
  requests: ResourceRequest[];
  configs: Array<{ config: OperatorConfig; file: string }>;
  tenantQuotas: TenantQuota[];
  priorityClasses: PriorityClassInfo[];
}

export interface WhatIfOptions {
  format: 'json' | 'yaml' | 'table';
  now: Date;
  configFile?: string;
  /** `NAMESPACE/NAME` of a ConfigMap holding the OperatorConfig under `config.yaml`. */
  configMap?: string;
  kubeconfig?: string;
  failOnPending: boolean;
}

/** Exit code when a request of the changes would not be Ready (1 is invalid input). */
export const WOULD_NOT_FIT = 3;

const CONFIG_MAPS = { group: '', version: 'v1', plural: 'configmaps', namespaced: true } as const;

const keyOf = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The live objects with the changes laid on top: same kind and name replaces, the rest adds. */
export function overlay<T extends { metadata: { namespace?: string; name: string } }>(
  live: readonly T[],
  changes: readonly T[],
): T[] {
  const changed = new Set(changes.map(keyOf));
  return [...live.filter((o) => !changed.has(keyOf(o))), ...changes];
}

/**
 * A changed request that exists in the cluster keeps its live status and generation (unless the
 * file brings its own), so the simulator sees the change as what it is: a new count is a scale.
 */
export function withLiveStatus(
  changes: readonly ResourceRequest[],
  live: readonly ResourceRequest[],
): ResourceRequest[] {
  const byKey = new Map(live.map((rr) => [keyOf(rr), rr]));
  return changes.map((rr) => {
    const current = byKey.get(keyOf(rr));
    if (!current || rr.status) return rr;
    return {
      ...rr,
      metadata: {
        ...rr.metadata,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
      },
      ...(current.status ? { status: current.status } : {}),
    };
  });
}

async function chooseConfig(
  changes: Changes,
  o: WhatIfOptions,
  rest: KubeRest,
): Promise<{ config: OperatorConfig; baseDir: string; from: string }> {
  const fromChanges = changes.configs[0];
  if (fromChanges)
    return {
      config: fromChanges.config,
      baseDir: dirname(resolve(fromChanges.file)),
      from: fromChanges.file,
    };
  let text: string | undefined;
  let from = 'the default profile';
  if (o.configFile) {
    text = readFileSync(o.configFile, 'utf8');
    from = o.configFile;
  } else if (o.configMap) {
    const [namespace, name] = o.configMap.split('/');
    if (!namespace || !name)
      throw new Error(`--config-map: want NAMESPACE/NAME, got ${o.configMap}`);
    const cm = await rest.get<{ data?: Record<string, string> }>(
      objectPath(CONFIG_MAPS, name, namespace),
    );
    text = cm.data?.['config.yaml'];
    if (text === undefined) throw new Error(`ConfigMap ${o.configMap} has no key config.yaml`);
    from = `ConfigMap ${o.configMap}`;
  }
  const config = parseYaml(text ?? DEFAULT_CONFIG) as OperatorConfig;
  const issues = validateDocument(config);
  if (issues.length > 0)
    throw new Error(`${from}: ${issues.map((i) => formatIssue(i)).join('; ')}`);
  return { config, baseDir: o.configFile ? dirname(resolve(o.configFile)) : process.cwd(), from };
}

export async function whatIf(changes: Changes, o: WhatIfOptions): Promise<number> {
  const rest = new KubeRest(loadKubeConfig(o.kubeconfig), 'berth-cli');
  try {
    const [hostPools, storagePools, requests, quotas, classes] = await Promise.all([
      listAll<HostPool>(rest, collectionPath(HOST_POOLS)),
      listAll<StoragePool>(rest, collectionPath(STORAGE_POOLS)),
      listAll<ResourceRequest>(rest, collectionPath(RESOURCE_REQUESTS)),
      listAll<TenantQuota>(rest, collectionPath(TENANT_QUOTAS)),
      listAll<PriorityClassInfo & { metadata: { name: string } }>(
        rest,
        collectionPath(PRIORITY_CLASSES),
      ),
    ]);
    const { config, baseDir, from } = await chooseConfig(changes, o, rest);
    console.error(`berth simulate: the cluster's state plus the changes, with ${from}`);
    const changed = new Set(changes.requests.map(keyOf));
    const result = await simulate(
      {
        hostPools: overlay(hostPools, changes.hostPools),
        storagePools: overlay(storagePools, changes.storagePools),
        current: requests.filter((rr) => !changed.has(keyOf(rr)) && !rr.metadata.deletionTimestamp),
        requests: withLiveStatus(changes.requests, requests),
        config,
        baseDir,
        localOnly: true,
        tenantQuotas: overlay(quotas, changes.tenantQuotas),
        priorityClasses: overlayClasses(
          classes.map((c) => ({
            name: c.metadata.name,
            value: c.value,
            ...(c.globalDefault ? { globalDefault: true } : {}),
            ...(c.preemptionPolicy ? { preemptionPolicy: c.preemptionPolicy } : {}),
          })),
          changes.priorityClasses,
        ),
      },
      o.now,
    );
    const shown: SimulationOutput = {
      ...result,
      requests: result.requests.filter((r) => changed.has(`${r.namespace}/${r.name}`)),
    };
    process.stdout.write(render(shown, o.format, changes.requests));
    const notReady = shown.requests.filter((r) => r.status.phase !== 'Ready');
    if (o.failOnPending && notReady.length > 0) {
      for (const r of notReady)
        console.error(
          `berth simulate: ${r.namespace}/${r.name} would be ${r.status.phase ?? 'unserved'}: ${r.status.explanation?.summary ?? ''}`,
        );
      return WOULD_NOT_FIT;
    }
    return 0;
  } catch (err) {
    if (err instanceof KubeError && (err.code === 403 || err.code === 401)) {
      console.error(`berth simulate: forbidden: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await rest.close();
  }
}

/** The cluster's classes with those of the changes laid on top (by name). */
function overlayClasses(
  live: PriorityClassInfo[],
  changes: PriorityClassInfo[],
): PriorityClassInfo[] {
  const byName = new Map(live.map((c) => [c.name, c]));
  for (const c of changes) byName.set(c.name, c);
  return [...byName.values()];
}
