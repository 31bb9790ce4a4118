// `berth simulate -f PATH… [-o json|yaml|table]`: what the operator would do with these files.
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import {
  formatIssue,
  validateDocument,
  type HostPool,
  type OperatorConfig,
  type ResourceRequest,
  type StoragePool,
  type TenantQuota,
} from '../api/index.js';
import { lineOf, readDocuments } from '../config/documents.js';
import { DEFAULT_CONFIG } from '../deploy/manifests.js';
import type { PriorityClassInfo } from '../serving/priority.js';
import { simulate } from '../sim/simulate.js';
import { render } from './table.js';

export const SIMULATE_USAGE = `Usage: berth simulate -f PATH [-f PATH...] [-o json|yaml|table] [--now RFC3339]
       berth simulate --from-cluster -f CHANGES [--config FILE | --config-map NS/NAME]
                      [--fail-on-pending] [--kubeconfig PATH] [-o json|yaml|table]

Reads HostPools, StoragePools, ResourceRequests, TenantQuotas, PriorityClasses
(scheduling.k8s.io/v1) and one OperatorConfig (default: one profile "default" with the hosts
provisioner and firstFit) from files or folders, serves the requests as the operator's queues
would (by priority, then input order; StrictFIFO, quotas and preemption included) with the
operator's engine and provisioner stack, and prints the statuses the operator would write. Pending requests are results (exit 0); invalid input exits 1. --now fixes the clock
of condition timestamps (default 1970-01-01T00:00:00Z, so the same input prints the same output).
Requests of profiles with external provisioners (webhook, module) are reported, not simulated:
a simulation never calls them.

--from-cluster: what the operator would do with CHANGES on the live cluster, writing nothing. The
current HostPools, StoragePools and ResourceRequests are read from the API; the objects in CHANGES
are added, or replace those of the same kind and name (a changed request keeps its live status, so
a new count is simulated as the scale it is). Requests already in the cluster are served first,
oldest first, as the operator would; the output shows the pools and the requests of CHANGES. The
OperatorConfig comes from CHANGES, else --config, else --config-map (the chart's ConfigMap, key
config.yaml), else the default. --fail-on-pending exits 3 when a request of CHANGES would not be
Ready, so a pipeline can run this on a pull request.`;

export async function simulateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      output: { type: 'string', short: 'o' },
      now: { type: 'string' },
      'from-cluster': { type: 'boolean' },
      config: { type: 'string' },
      'config-map': { type: 'string' },
      'fail-on-pending': { type: 'boolean' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.filename?.length) {
    console.log(SIMULATE_USAGE);
    return values.help ? 0 : 2;
  }
  const format = values.output ?? 'json';
  if (!['json', 'yaml', 'table'].includes(format)) {
    console.error(`berth simulate: -o must be json, yaml or table, got ${JSON.stringify(format)}`);
    return 2;
  }
  const fromCluster = values['from-cluster'] ?? false;
  const now = new Date(
    values.now ?? (fromCluster ? new Date().toISOString() : '1970-01-01T00:00:00Z'),
  );
  if (Number.isNaN(now.getTime())) {
    console.error(`berth simulate: --now: invalid time ${JSON.stringify(values.now)}`);
    return 2;
  }
  const { documents, errors: parseErrors } = readDocuments(values.filename);
  const errors = parseErrors.map((e) => `${e.file}:${e.line}: ${e.message}`);
  const hostPools: HostPool[] = [];
  const storagePools: StoragePool[] = [];
  const requests: ResourceRequest[] = [];
  const tenantQuotas: TenantQuota[] = [];
  const priorityClasses: PriorityClassInfo[] = [];
  const configs: Array<{ config: OperatorConfig; file: string }> = [];
  for (const doc of documents) {
    const value = doc.value as { apiVersion?: unknown; kind?: unknown };
    if (value.apiVersion === 'scheduling.k8s.io/v1' && value.kind === 'PriorityClass') {
      const pc = priorityClassOf(doc.value);
      if (typeof pc === 'string') errors.push(`${doc.file}:${lineOf(doc, [])}: ${pc}`);
      else priorityClasses.push(pc);
      continue;
    }
    if (typeof value.apiVersion !== 'string' || !value.apiVersion.startsWith('berth.dev/'))
      continue;
    const issues = validateDocument(doc.value);
    if (issues.length > 0) {
      for (const i of issues)
        errors.push(`${doc.file}:${lineOf(doc, i.segments)}: ${formatIssue(i)}`);
      continue;
    }
    if (value.kind === 'HostPool') hostPools.push(doc.value as HostPool);
    else if (value.kind === 'StoragePool') storagePools.push(doc.value as StoragePool);
    else if (value.kind === 'ResourceRequest') requests.push(doc.value as ResourceRequest);
    else if (value.kind === 'TenantQuota') tenantQuotas.push(doc.value as TenantQuota);
    else if (value.kind === 'OperatorConfig')
      configs.push({ config: doc.value as OperatorConfig, file: doc.file });
  }
  if (configs.length > 1)
    errors.push(`more than one OperatorConfig: ${configs.map((c) => c.file).join(', ')}`);
  if (errors.length > 0) {
    for (const e of errors) console.error(e);
    return 1;
  }
  if (fromCluster) {
    const { whatIf } = await import('./what-if.js');
    return whatIf(
      { hostPools, storagePools, requests, configs, tenantQuotas, priorityClasses },
      {
        format: format as 'json' | 'yaml' | 'table',
        now,
        ...(values.config ? { configFile: values.config } : {}),
        ...(values['config-map'] ? { configMap: values['config-map'] } : {}),
        ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
        failOnPending: values['fail-on-pending'] ?? false,
      },
    );
  }
  const chosen = configs[0];
  if (!chosen) console.error('berth simulate: no OperatorConfig given; using the default profile');
  const config = chosen?.config ?? (parseYaml(DEFAULT_CONFIG) as OperatorConfig);
  const baseDir = chosen ? dirname(resolve(chosen.file)) : process.cwd();
  // A simulation never makes machines: profiles with a webhook or module are reported, not run.
  const result = await simulate(
    {
      hostPools,
      storagePools,
      requests,
      config,
      baseDir,
      localOnly: true,
      tenantQuotas,
      priorityClasses,
    },
    now,
  );
  process.stdout.write(render(result, format as 'json' | 'yaml' | 'table', requests));
  return 0;
}

/** The part of a PriorityClass the simulation reads, or why the document is not one. */
export function priorityClassOf(doc: unknown): PriorityClassInfo | string {
  const pc = doc as {
    metadata?: { name?: unknown };
    value?: unknown;
    globalDefault?: unknown;
    preemptionPolicy?: unknown;
  };
  const name = pc.metadata?.name;
  if (typeof name !== 'string' || name === '') return 'PriorityClass: metadata.name is required';
  if (typeof pc.value !== 'number' || !Number.isInteger(pc.value))
    return `PriorityClass ${name}: value must be an integer`;
  if (
    pc.preemptionPolicy !== undefined &&
    pc.preemptionPolicy !== 'Never' &&
    pc.preemptionPolicy !== 'PreemptLowerPriority'
  )
    return `PriorityClass ${name}: preemptionPolicy must be Never or PreemptLowerPriority`;
  return {
    name,
    value: pc.value,
    ...(pc.globalDefault === true ? { globalDefault: true } : {}),
    ...(pc.preemptionPolicy
      ? { preemptionPolicy: pc.preemptionPolicy as 'Never' | 'PreemptLowerPriority' }
      : {}),
  };
}
