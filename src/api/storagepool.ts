// StoragePool: capacity for volumes, reachable from one host, one HostPool or a whole zone.
import { Type, type Static } from '@sinclair/typebox';
import { Conditions, ObservedGeneration, kindSchema } from './common.js';
import {
  LIMITS,
  poolName,
  enumOf,
  fraction,
  int,
  name,
  object,
  quantity,
  ratio,
  str,
  tags,
  withRules,
} from './kit.js';
import { PoolState } from './hostpool.js';

export const StorageScope = enumOf(
  ['Host', 'Cluster', 'Zone'] as const,
  'Host: the local disk of one host; Cluster: shared by the hosts of one HostPool; Zone: shared by every host of a zone.',
);

export const StoragePoolSpec = withRules(
  object(
    {
      scope: StorageScope,
      host: Type.Optional(
        str(
          'The host whose local disk this is, as <hostPool>/<host>. Required for scope Host.',
          LIMITS.subdomain + 64,
          {
            pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
          },
        ),
      ),
      hostPool: Type.Optional(
        poolName('The HostPool whose hosts share this pool. Required for scope Cluster.'),
      ),
      zone: Type.Optional(name('The zone whose hosts share this pool. Required for scope Zone.')),
      capacity: quantity('Size of the pool, e.g. 10Ti.'),
      tags: Type.Optional(
        tags('Tags of the pool; a volume needing tags goes only where all of them are.'),
      ),
      overprovisioning: Type.Optional(
        ratio('Factor by which the capacity may be overcommitted, > 0. Default 1.'),
      ),
      disableThreshold: Type.Optional(
        fraction(
          'Allocated share, in (0, 1], past which no volume is placed (CloudStack pool.storage.allocated.capacity.disablethreshold).',
        ),
      ),
      state: Type.Optional(PoolState),
    },
    { description: 'The storage pool: its reach, size and policy.' },
  ),
  [
    {
      rule: "self.scope != 'Host' || has(self.host)",
      message: 'host is required when scope is Host',
      fieldPath: '.host',
      reason: 'FieldValueRequired',
    },
    {
      rule: "self.scope != 'Cluster' || has(self.hostPool)",
      message: 'hostPool is required when scope is Cluster',
      fieldPath: '.hostPool',
      reason: 'FieldValueRequired',
    },
    {
      rule: "self.scope != 'Zone' || has(self.zone)",
      message: 'zone is required when scope is Zone',
      fieldPath: '.zone',
      reason: 'FieldValueRequired',
    },
  ],
);

export const StoragePoolStatus = object(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    capacity: Type.Optional(quantity('capacity x overprovisioning.')),
    allocated: Type.Optional(quantity('Allocated to volumes.')),
    volumes: Type.Optional(int('Volumes on the pool.', 0, Number.MAX_SAFE_INTEGER)),
  },
  { description: 'Aggregates derived from the requests with volumes on the pool.' },
);

export const StoragePool = kindSchema(
  'StoragePool',
  StoragePoolSpec,
  StoragePoolStatus,
  'Storage for the volumes of nodes, of Host, Cluster or Zone scope.',
);

export type StoragePool = Static<typeof StoragePool>;
export type StoragePoolSpec = Static<typeof StoragePoolSpec>;
export type StoragePoolStatus = Static<typeof StoragePoolStatus>;
