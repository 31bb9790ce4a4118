// TenantQuota: how much a namespace's bound requests may hold together (CloudStack's account
// resource limits, Kueue's ClusterQueue quotas, per namespace like a ResourceQuota). Every
// TenantQuota of a namespace applies; a request that would exceed one waits (QuotaExceeded).
import { Type, type Static } from '@sinclair/typebox';
import { Conditions, ObservedGeneration, kindSchema } from './common.js';
import { DNS_SUBDOMAIN_PATTERN, LIMITS, nameList, object, resourceMap, str } from './kit.js';

/** Quota names that are not per-node resources of the request's spec. */
export const QUOTA_NODES = 'nodes';
export const QUOTA_STORAGE = 'storage';

export const TenantQuotaSpec = object(
  {
    hard: resourceMap(
      "Limits on the sum of what the namespace's bound requests hold: nodes (a count), storage (the sizes of their volumes), cpu, memory and any other resource of spec.resources (e.g. nvidia.com/gpu), each a quantity ≥ 0. A resource not named is not limited.",
    ),
    profiles: Type.Optional(
      nameList('Only requests of these profiles count against this quota. Absent: every profile.'),
    ),
    priorityClasses: Type.Optional(
      nameList(
        'Only requests of these PriorityClasses (spec.priorityClassName) count against this quota. Absent: every class, and none.',
        LIMITS.avoid,
        DNS_SUBDOMAIN_PATTERN,
        LIMITS.subdomain,
      ),
    ),
  },
  { description: 'What the namespace may hold, and which of its requests it covers.' },
);

export const TenantQuotaStatus = object(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    hard: Type.Optional(resourceMap('The limits in force (spec.hard, as last observed).')),
    used: Type.Optional(
      resourceMap('What the covered bound requests hold now, per limited resource.'),
    ),
    summary: Type.Optional(
      str('Used/hard per resource, for display, e.g. "cpu: 6/8, nodes: 3/4".', LIMITS.message),
    ),
    conditions: Type.Optional(Conditions),
  },
  { description: 'What the quota counts now.' },
);

export const TenantQuota = kindSchema(
  'TenantQuota',
  TenantQuotaSpec,
  TenantQuotaStatus,
  "A limit on what a namespace's bound ResourceRequests hold together: nodes, cpu, memory, storage and extended resources.",
);

export type TenantQuota = Static<typeof TenantQuota>;
export type TenantQuotaSpec = Static<typeof TenantQuotaSpec>;
export type TenantQuotaStatus = Static<typeof TenantQuotaStatus>;
