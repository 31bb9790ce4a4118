// The four custom resource kinds: their schemas plus everything a CRD needs beyond a schema.
import type { TObject } from '@sinclair/typebox';
import { GROUP, VERSION } from './common.js';
import { HostPool } from './hostpool.js';
import { ResourceRequest } from './resourcerequest.js';
import { StoragePool } from './storagepool.js';
import { TenantQuota } from './tenantquota.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindDefinition {
  kind: 'ResourceRequest' | 'HostPool' | 'StoragePool' | 'TenantQuota';
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
  schema: TObject;
  printerColumns: PrinterColumn[];
  /**
   * The scale subresource (`kubectl scale`, HPA, KEDA): which spec field is the replica count
   * and which status field the running count.
   */
  scale?: { specReplicasPath: string; statusReplicasPath: string };
}

const age: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};

export const KINDS: readonly KindDefinition[] = [
  {
    kind: 'ResourceRequest',
    plural: 'resourcerequests',
    singular: 'resourcerequest',
    shortNames: ['rr'],
    scope: 'Namespaced',
    schema: ResourceRequest,
    // No labelSelectorPath: a request's nodes are not Pods, so there is no selector an HPA could
    // read Pod metrics through; KEDA and an HPA on external or object metrics work without one.
    scale: { specReplicasPath: '.spec.count', statusReplicasPath: '.status.readyNodes' },
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase.' },
      {
        name: 'Ready',
        type: 'string',
        jsonPath: '.status.ready',
        description: 'Running nodes / requested count.',
      },
      {
        name: 'Profile',
        type: 'string',
        jsonPath: '.spec.profile',
        description: 'Operator profile serving the request.',
      },
      {
        name: 'Priority',
        type: 'integer',
        jsonPath: '.status.priority',
        description: 'Priority from the PriorityClass.',
      },
      age,
      {
        name: 'Queue',
        type: 'integer',
        jsonPath: '.status.queuePosition',
        description: 'Position in the profile queue while Pending.',
        priority: 1,
      },
      {
        name: 'Reason',
        type: 'string',
        jsonPath: '.status.explanation.summary',
        description: 'Why it is not (fully) placed.',
        priority: 1,
      },
    ],
  },
  {
    kind: 'HostPool',
    plural: 'hostpools',
    singular: 'hostpool',
    shortNames: ['hp'],
    scope: 'Cluster',
    schema: HostPool,
    printerColumns: [
      { name: 'Zone', type: 'string', jsonPath: '.spec.zone', description: 'Zone of the pool.' },
      {
        name: 'Hosts',
        type: 'integer',
        jsonPath: '.status.hostCount',
        description: 'Hosts in the pool.',
      },
      {
        name: 'CPU',
        type: 'string',
        jsonPath: '.status.cpu',
        description: 'CPU allocated/allocatable.',
      },
      {
        name: 'Memory',
        type: 'string',
        jsonPath: '.status.memory',
        description: 'Memory allocated/allocatable.',
      },
      age,
      {
        name: 'State',
        type: 'string',
        jsonPath: '.spec.state',
        description: 'Enabled or Disabled.',
        priority: 1,
      },
    ],
  },
  {
    kind: 'StoragePool',
    plural: 'storagepools',
    singular: 'storagepool',
    shortNames: ['sp'],
    scope: 'Cluster',
    schema: StoragePool,
    printerColumns: [
      {
        name: 'Scope',
        type: 'string',
        jsonPath: '.spec.scope',
        description: 'Host, Cluster or Zone.',
      },
      {
        name: 'Allocated',
        type: 'string',
        jsonPath: '.status.allocated',
        description: 'Allocated to volumes.',
      },
      {
        name: 'Capacity',
        type: 'string',
        jsonPath: '.status.capacity',
        description: 'Capacity x overprovisioning.',
      },
      age,
      {
        name: 'State',
        type: 'string',
        jsonPath: '.spec.state',
        description: 'Enabled or Disabled.',
        priority: 1,
      },
    ],
  },
  {
    kind: 'TenantQuota',
    plural: 'tenantquotas',
    singular: 'tenantquota',
    shortNames: ['tq'],
    scope: 'Namespaced',
    schema: TenantQuota,
    printerColumns: [
      age,
      {
        name: 'Used',
        type: 'string',
        jsonPath: '.status.summary',
        description: 'Used/hard per resource (like a ResourceQuota).',
      },
    ],
  },
];

export const CATEGORY = 'berth';
export { GROUP, VERSION };

/** The API resource of a kind (group, version, plural), for building its paths (kube/paths.ts). */
export function resourceOf(kind: KindDefinition['kind']) {
  const def = KINDS.find((k) => k.kind === kind)!;
  return {
    group: GROUP,
    version: VERSION,
    plural: def.plural,
    namespaced: def.scope === 'Namespaced',
  };
}
export const RESOURCE_REQUESTS = resourceOf('ResourceRequest');
export const HOST_POOLS = resourceOf('HostPool');
export const STORAGE_POOLS = resourceOf('StoragePool');
export const TENANT_QUOTAS = resourceOf('TenantQuota');
