// HostPool: a group of hosts sharing location and policy (CloudStack's cluster). Cluster-scoped.
import { Type, type Static } from '@sinclair/typebox';
import { Conditions, OPERATOR_WRITTEN_LIST, ObservedGeneration, kindSchema } from './common.js';
import {
  LIMITS,
  enumOf,
  fraction,
  int,
  mapOf,
  name,
  object,
  ratio,
  resourceMap,
  str,
  tags,
  withRules,
} from './kit.js';

export const PoolState = enumOf(
  ['Enabled', 'Disabled'] as const,
  'Enabled takes new nodes; Disabled keeps what it has and takes nothing new. Default: Enabled.',
);

export const HostState = enumOf(
  ['Enabled', 'Disabled', 'Maintenance'] as const,
  'Enabled takes nodes; Disabled and Maintenance take none and mark the requests of nodes already there Degraded. Default: Enabled.',
);

export const PortRange = withRules(
  object(
    {
      base: int('First port.', 1, 65535),
      count: int('Number of ports from base; one node per port.', 1, 65535),
    },
    { description: 'Ports nodes on this host are numbered from.' },
  ),
  [
    {
      rule: 'self.base + self.count - 1 <= 65535',
      message: 'base + count - 1 must not exceed 65535',
      fieldPath: '.count',
    },
  ],
);

export const Host = object(
  {
    name: name('Name of the host, unique within the pool.'),
    address: str('Address nodes on this host are reached at (IP or DNS name).', LIMITS.address, {
      minLength: 1,
    }),
    capacity: resourceMap(
      'What the host has, e.g. {cpu: "64", memory: 256Gi, nvidia.com/gpu: 4}.',
      LIMITS.hostResources,
    ),
    tags: Type.Optional(tags('Tags of this host, in addition to the pool tags.', LIMITS.hostTags)),
    state: Type.Optional(HostState),
    maxNodes: Type.Optional(int('At most this many nodes on the host.', 1, 100000)),
    ports: Type.Optional(PortRange),
  },
  { description: 'A machine nodes are placed on.' },
);

export const HostPoolSpec = object(
  {
    zone: name('Zone of the pool (the top of the zone > pod > hostPool > host hierarchy).'),
    pod: Type.Optional(name('Pod within the zone (a rack or a room).')),
    state: Type.Optional(PoolState),
    tags: Type.Optional(tags('Tags every host of the pool carries.')),
    overprovisioning: Type.Optional(
      mapOf(
        ratio(
          'Factor by which this resource may be overcommitted, > 0 (CloudStack cpu.overprovisioning.factor).',
        ),
        'Overprovisioning ratio per resource; resources not listed have ratio 1.',
      ),
    ),
    reserved: Type.Optional(resourceMap('Amount per resource kept back on every host.')),
    disableThreshold: Type.Optional(
      mapOf(
        fraction('Allocated share of the pool, in (0, 1], past which no placement is made.'),
        'Per resource, the allocated share of the pool that no placement may push it past (CloudStack cluster.*.allocated.capacity.disablethreshold).',
      ),
    ),
    // A list map keyed by name: the API server refuses a duplicate host name natively, in
    // linear time, and server-side apply merges hosts by name. (A CEL rule for the same check
    // is quadratic and ran on every status write of the pool.)
    hosts: Type.Array(Host, {
      description: 'The hosts of the pool; names are unique.',
      maxItems: LIMITS.hosts,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
  },
  { description: 'The pool: where it is, its policy, its hosts.' },
);

// The status is bounded with the spec (docs/api.md, "Bounded objects"): the largest pool the
// schema allows, 200 hosts with every field at its maximum, and the status the operator writes for
// it stay within what the API server stores (etcd's 1.5 MiB). So per host only what the spec does
// not say already: its usage, and only for hosts that hold nodes or are not Enabled.
export const HostStatus = object(
  {
    name: name('Name of the host.'),
    state: Type.Optional(HostState),
    allocated: Type.Optional(
      resourceMap(
        'Allocated to nodes, per resource; only what is allocated.',
        LIMITS.hostResources,
      ),
    ),
    nodes: Type.Optional(int('Nodes on the host.', 0, Number.MAX_SAFE_INTEGER)),
  },
  {
    description:
      'Usage of one host. Allocatable is not repeated: it is (capacity - reserved) x overprovisioning, from the spec.',
  },
);

export const HostPoolStatus = object(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    conditions: Type.Optional(Conditions),
    hostCount: Type.Optional(int('Hosts in the pool.', 0, LIMITS.hosts)),
    nodes: Type.Optional(int('Nodes on the pool.', 0, Number.MAX_SAFE_INTEGER)),
    capacity: Type.Optional(
      resourceMap(
        'Allocatable across the pool, per resource (at most 32 resources: cpu, memory, then by name).',
      ),
    ),
    allocated: Type.Optional(
      resourceMap('Allocated across the pool, per resource (the resources of capacity).'),
    ),
    cpu: Type.Optional(str('CPU allocated/allocatable, for display.', 64)),
    memory: Type.Optional(str('Memory allocated/allocatable, for display.', 64)),
    hosts: Type.Optional(
      Type.Array(HostStatus, {
        description:
          'Usage of the hosts that hold nodes or are not Enabled; a host not listed is Enabled and empty.',
        maxItems: LIMITS.hosts,
        ...OPERATOR_WRITTEN_LIST,
      }),
    ),
  },
  { description: 'Aggregates derived from the requests placed on the pool.' },
);

export const HostPool = kindSchema(
  'HostPool',
  HostPoolSpec,
  HostPoolStatus,
  'A group of hosts that share location and policy (CloudStack cluster).',
);

export type HostPool = Static<typeof HostPool>;
export type HostPoolSpec = Static<typeof HostPoolSpec>;
export type HostPoolStatus = Static<typeof HostPoolStatus>;
export type Host = Static<typeof Host>;
