// ResourceRequest: a namespaced ask for `count` nodes (at least `minCount`), each with the same
// resources, tags and volumes. Its status is the record of the allocation (the ledger's truth).
import { Type, type Static } from '@sinclair/typebox';
import { Conditions, OPERATOR_WRITTEN_LIST, ObservedGeneration, kindSchema } from './common.js';
import {
  DNS_SUBDOMAIN_PATTERN,
  poolName,
  LIMITS,
  enumOf,
  int,
  name,
  nameList,
  object,
  quantity,
  resourceMap,
  str,
  tags,
  withRules,
} from './kit.js';

const HOST_REF_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const VolumeRequest = object(
  {
    name: name('Name of the volume, unique within the request.'),
    size: quantity('Size of the volume, e.g. 100Gi.'),
    tags: Type.Optional(tags('Tags the storage pool must carry (all of them).')),
    scope: Type.Optional(
      enumOf(
        ['Host', 'Cluster', 'Zone'] as const,
        'Only pools of this scope; absent means any scope.',
      ),
    ),
  },
  { description: 'A volume every node of the request gets.' },
);

export const Placement = object(
  {
    zone: Type.Optional(name('Only hosts in this zone.')),
    pod: Type.Optional(name('Only hosts in this pod.')),
    hostPool: Type.Optional(poolName('Only hosts of this HostPool.')),
    storagePool: Type.Optional(poolName('Put every volume on this StoragePool.')),
  },
  {
    description:
      'Where the nodes must go (CloudStack DeploymentPlan); absent fields mean no preference.',
  },
);

export const Avoid = object(
  {
    zones: Type.Optional(nameList('Zones to avoid, and everything in them.')),
    pods: Type.Optional(nameList('Pods to avoid, and everything in them.')),
    hostPools: Type.Optional(
      nameList(
        'HostPools to avoid, and all their hosts.',
        LIMITS.avoid,
        DNS_SUBDOMAIN_PATTERN,
        LIMITS.subdomain,
      ),
    ),
    hosts: Type.Optional(
      nameList(
        'Hosts to avoid, as <hostPool>/<host>.',
        LIMITS.avoid,
        HOST_REF_PATTERN,
        LIMITS.subdomain + 64,
      ),
    ),
    storagePools: Type.Optional(
      nameList('StoragePools to avoid.', LIMITS.avoid, DNS_SUBDOMAIN_PATTERN, LIMITS.subdomain),
    ),
  },
  {
    description:
      'Where the nodes must not go (CloudStack ExcludeList); avoiding a zone avoids what is in it.',
  },
);

/** Every spec field but count, minCount and the expiry: what may not change once accepted. */
export const IMMUTABLE_SPEC_FIELDS = [
  'profile',
  'resources',
  'tags',
  'volumes',
  'placement',
  'avoid',
  'maxNodesPerHost',
  'priorityClassName',
] as const;

export const ResourceRequestSpec = withRules(
  object(
    {
      profile: Type.Optional({
        ...name(
          'Profile of the operator configuration that serves this request. Default: default.',
        ),
        default: 'default',
      }),
      count: int('Number of nodes wanted.', 1, LIMITS.count),
      minCount: Type.Optional(
        int(
          'Fewest nodes that are still useful (VURM minSize). Default: count, i.e. all or nothing.',
          1,
          LIMITS.count,
        ),
      ),
      resources: Type.Optional(resourceMap('Resources per node, e.g. {cpu: "4", memory: 16Gi}.')),
      tags: Type.Optional(tags('Host tags every node needs (all of them).')),
      volumes: Type.Optional(
        Type.Array(VolumeRequest, {
          description: 'Volumes per node.',
          maxItems: LIMITS.volumes,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        }),
      ),
      placement: Type.Optional(Placement),
      avoid: Type.Optional(Avoid),
      maxNodesPerHost: Type.Optional(
        int('At most this many nodes of the request on one host.', 1, LIMITS.count),
      ),
      activeDeadlineSeconds: Type.Optional(
        int(
          "Seconds the request may hold its nodes, counted from when it first became Ready (a Job's activeDeadlineSeconds). Then its nodes are released and it ends in phase Expired. May be changed until it passes.",
          1,
          LIMITS.activeDeadlineSeconds,
        ),
      ),
      expiresAt: Type.Optional(
        str(
          'When the request ends (RFC 3339), Ready or not: its nodes are released and it ends in phase Expired. May be moved until it passes.',
          64,
          { format: 'date-time' },
        ),
      ),
      priorityClassName: Type.Optional(
        str(
          "A scheduling.k8s.io/v1 PriorityClass of the cluster: its value is the request's priority (higher is served first and may preempt lower ones), its preemptionPolicy says whether it may preempt. Absent: the class marked globalDefault, else priority 0.",
          LIMITS.subdomain,
          { pattern: DNS_SUBDOMAIN_PATTERN },
        ),
      ),
    },
    {
      description:
        'What is asked for. count and minCount may change (kubectl scale), and so may activeDeadlineSeconds and expiresAt until they pass; the rest is immutable: delete and recreate to change it.',
    },
  ),
  [
    {
      rule: '!has(self.minCount) || self.minCount <= self.count',
      message: 'minCount must not exceed count',
      fieldPath: '.minCount',
    },
    ...IMMUTABLE_SPEC_FIELDS.map((f) => ({
      rule: `has(self.${f}) == has(oldSelf.${f}) && (!has(self.${f}) || self.${f} == oldSelf.${f})`,
      message: `${f} is immutable; only count, minCount, activeDeadlineSeconds and expiresAt may change (delete and recreate the ResourceRequest to change it)`,
      fieldPath: `.${f}`,
    })),
  ],
);

export const NodeVolume = object(
  {
    name: name('Name of the requested volume.'),
    storagePool: poolName('StoragePool the volume is on.'),
    size: quantity('Size allocated.'),
  },
  { description: 'A volume placed for a node.' },
);

export const NodeState = enumOf(
  ['Provisioned', 'Running', 'Releasing', 'Released', 'Failed'] as const,
  'Lifecycle of a node: Provisioned (capacity held, not started), Running (spawned), Releasing, Released, Failed.',
);

export const NodeStatus = object(
  {
    name: name('Name of the node, stable: <request>-<index>.'),
    provisioner: name('Provisioner of the profile that made the node.'),
    hostPool: Type.Optional(poolName('HostPool of the host, for nodes of a hosts provisioner.')),
    host: Type.Optional(name('Host within the HostPool.')),
    address: str('Address the node is reached at.', LIMITS.address),
    port: Type.Optional(int('Port of the node.', 1, 65535)),
    volumes: Type.Optional(
      Type.Array(NodeVolume, { description: 'Volumes of the node.', maxItems: LIMITS.volumes }),
    ),
    configEntry: Type.Optional(
      str(
        'The node line for a workload manager, from the provisioner template.',
        LIMITS.configEntry,
      ),
    ),
    state: Type.Optional(NodeState),
    attributes: Type.Optional(
      Type.Unsafe<Record<string, string>>({
        type: 'object',
        description: 'Provisioner-specific attributes (e.g. from a webhook).',
        maxProperties: 32,
        additionalProperties: { type: 'string', maxLength: 1024, description: 'Attribute value.' },
      }),
    ),
  },
  { description: 'A node made for the request.' },
);

const ReasonCounts = Type.Unsafe<Record<string, number>>({
  type: 'object',
  description: 'Count of candidates rejected per reason code.',
  maxProperties: 64,
  additionalProperties: { type: 'integer', minimum: 0, description: 'Number of candidates.' },
});

export const AllocatorExplanation = object(
  {
    allocator: str('Allocator that was tried (its name, or its type).', LIMITS.name),
    considered: int('Candidates it looked at.', 0, Number.MAX_SAFE_INTEGER),
    chosen: int('Nodes it placed.', 0, Number.MAX_SAFE_INTEGER),
    reasons: Type.Optional(ReasonCounts),
    error: Type.Optional(
      str('Why it had no answer (a failed webhook or module extender).', LIMITS.message),
    ),
  },
  { description: 'What one allocator of the chain did.' },
);

export const ProvisionerExplanation = object(
  {
    provisioner: name('Name of the provisioner.'),
    type: str('Type of the provisioner.', LIMITS.name),
    asked: int('Nodes asked of it.', 0, LIMITS.count),
    got: int('Nodes it gave.', 0, LIMITS.count),
    summary: Type.Optional(str('One line, kube-scheduler style.', LIMITS.message)),
    error: Type.Optional(str('Why it failed, if it did.', LIMITS.message)),
    reasons: Type.Optional(ReasonCounts),
    allocators: Type.Optional(
      Type.Array(AllocatorExplanation, {
        description: 'Allocators tried, in order.',
        maxItems: 16,
      }),
    ),
  },
  { description: 'What one provisioner of the stack did.' },
);

export const HostReason = object(
  {
    host: str('<hostPool>/<host>.', LIMITS.subdomain + 64),
    reason: str('Reason code.', 256),
  },
  { description: 'Why a host was not used.' },
);

export const Explanation = object(
  {
    summary: str(
      'Why the request is not (fully) placed, e.g. "0/12 hosts fit: 7 Insufficient memory, 3 MissingTags [ssd], 2 Avoided".',
      LIMITS.message,
    ),
    provisioners: Type.Optional(
      Type.Array(ProvisionerExplanation, {
        description: 'Provisioners tried, in order.',
        maxItems: 16,
      }),
    ),
    hosts: Type.Optional(
      Type.Array(HostReason, { description: 'Hosts not used and why (capped).', maxItems: 50 }),
    ),
  },
  { description: 'Why the request is where it is.' },
);

export const RequestPhase = enumOf(
  ['Pending', 'Provisioning', 'Ready', 'Failed', 'Releasing', 'Expired'] as const,
  'Pending (waiting for capacity), Provisioning, Ready, Failed (cannot be served as declared), Releasing (being deleted), Expired (its deadline passed: its nodes were released; final).',
);

export const ResourceRequestStatus = object(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    phase: Type.Optional(RequestPhase),
    ready: Type.Optional(
      str('Running nodes over the requested count, e.g. 3/4 (for display).', 32),
    ),
    readyNodes: Type.Optional(int('Nodes running.', 0, LIMITS.count)),
    conditions: Type.Optional(Conditions),
    nodes: Type.Optional(
      Type.Array(NodeStatus, {
        description: 'Nodes made for the request: the record of its allocation.',
        maxItems: LIMITS.statusNodes,
        ...OPERATOR_WRITTEN_LIST,
      }),
    ),
    explanation: Type.Optional(Explanation),
    replacements: Type.Optional(
      int(
        'Nodes replaced after their host was lost (onHostLoss: Replace), in total.',
        0,
        1_000_000,
      ),
    ),
    replacing: Type.Optional(
      int(
        'Nodes released because their host was lost, whose replacement is not allocated yet.',
        0,
        LIMITS.count,
      ),
    ),
    startTime: Type.Optional(
      str('When the request first became Ready.', 64, { format: 'date-time' }),
    ),
    expiryTime: Type.Optional(
      str(
        'When the request ends: the earlier of startTime + activeDeadlineSeconds and expiresAt.',
        64,
        { format: 'date-time' },
      ),
    ),
    priority: Type.Optional(
      int(
        'The priority resolved from spec.priorityClassName (or the globalDefault class, else 0) when the request was first served; it does not change afterwards.',
        -2_147_483_648,
        2_147_483_647,
      ),
    ),
    queuePosition: Type.Optional(
      int(
        "Place of a Pending request in its profile's queue (1: the next served), by priority then creation time. Refreshed when it changes meaningfully, not on every move.",
        1,
        Number.MAX_SAFE_INTEGER,
      ),
    ),
  },
  { description: 'What Berth made of the request.' },
);

export const ResourceRequest = kindSchema(
  'ResourceRequest',
  ResourceRequestSpec,
  ResourceRequestStatus,
  'A request for nodes on hosts and storage pools, served by a profile of provisioners and allocators.',
);

export type ResourceRequest = Static<typeof ResourceRequest>;
export type ResourceRequestSpec = Static<typeof ResourceRequestSpec>;
export type ResourceRequestStatus = Static<typeof ResourceRequestStatus>;
export type NodeStatus = Static<typeof NodeStatus>;
export type Explanation = Static<typeof Explanation>;
export type RequestPhase = Static<typeof RequestPhase>;

/** The profile of a request that names none. */
export const DEFAULT_PROFILE = 'default';

/** The profile that serves a request. */
export const profileOf = (rr: { spec: { profile?: string } }): string =>
  rr.spec.profile ?? DEFAULT_PROFILE;

/**
 * The finalizer a request of a profile with an external provisioner holds until its nodes are
 * released (docs/design.md, "The status is the ledger").
 */
export const FINALIZER = 'berth.dev/release';
