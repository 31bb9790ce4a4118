// OperatorConfig: the operator's file of named profiles (kube-scheduler profiles, CloudStack
// adapter lists). Not a CRD; validated by the same ajv + CEL machinery as the resources.
import { Type, type Static, type TSchema, type TUnion } from '@sinclair/typebox';
import { LIMITS, enumOf, int, name, object, str, withRules } from './kit.js';

const uniqueNames = (what: string) => ({
  rule: 'self.all(x, self.exists_one(y, y.name == x.name))',
  message: `${what} names must be unique`,
  reason: 'FieldValueDuplicate' as const,
});

const configTemplate = str(
  'Template of the node line; placeholders {name}, {address}, {port}, {host}, {hostPool}, {request}, {namespace}. Default: NodeName={name} NodeHostname={address} Port={port}.',
  LIMITS.configEntry,
);

export const LabelSelector = object(
  {
    matchLabels: Type.Optional(
      Type.Unsafe<Record<string, string>>({
        type: 'object',
        description: 'Labels a HostPool must have.',
        additionalProperties: { type: 'string', maxLength: 63 },
      }),
    ),
    matchExpressions: Type.Optional(
      Type.Array(
        object(
          {
            key: str('Label key.', 317),
            operator: enumOf(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const, 'Operator.'),
            values: Type.Optional(
              Type.Array(str('A value.', 63), { description: 'Values for In and NotIn.' }),
            ),
          },
          { description: 'A label selector requirement.' },
        ),
        { description: 'Requirements, all of which must hold.' },
      ),
    ),
  },
  { description: 'A metav1.LabelSelector over HostPool labels.' },
);

export const SecretKeyRef = object(
  {
    namespace: Type.Optional(name("Namespace of the Secret; default: the operator's namespace.")),
    name: name('Name of the Secret.'),
    key: str('Key in the Secret.', 253),
  },
  { description: 'A key of a Secret.' },
);

/** How Berth talks to an external HTTP(S) service: provisioner or allocator webhook. */
const webhookTransport = {
  url: str('URL of the service, http:// or https://.', LIMITS.url, {
    pattern: '^https?://[^\\s]+$',
  }),
  caFile: Type.Optional(str('PEM file of the CA that signs the service certificate.', LIMITS.path)),
  caBundle: Type.Optional(str('PEM CA bundle, inline.', 65536)),
  tokenFile: Type.Optional(
    str('File with a bearer token (read at every call, so rotation works).', LIMITS.path),
  ),
  tokenSecretRef: Type.Optional(SecretKeyRef),
  timeoutSeconds: Type.Optional(int('Per-attempt timeout. Default 10.', 1, 300)),
  retries: Type.Optional(int('Retries after a failed attempt. Default 3.', 0, 10)),
  retryBackoffMillis: Type.Optional(
    int('First retry delay, doubled each retry. Default 200.', 1, 60000),
  ),
  failureThreshold: Type.Optional(
    int('Consecutive failed calls after which the service is skipped. Default 3.', 1, 100),
  ),
  cooldownSeconds: Type.Optional(
    int('How long a failing service is skipped. Default 60.', 0, 86400),
  ),
};

const moduleFields = {
  path: str(
    'Path of the ES module (absolute, or relative to the configuration file).',
    LIMITS.path,
    { minLength: 1 },
  ),
  options: Type.Optional(
    Type.Unsafe<Record<string, unknown>>({
      type: 'object',
      description: 'Passed to the module as is.',
    }),
  ),
};

const typeTag = <const T extends readonly string[]>(values: T, description: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });

export const HostsProvisioner = object(
  {
    name: name('Name of the provisioner, unique in the profile.'),
    type: typeTag(
      ['hosts'] as const,
      'hosts: nodes on HostPool hosts chosen by the allocator chains.',
    ),
    hostPoolSelector: Type.Optional(LabelSelector),
    configTemplate: Type.Optional(configTemplate),
  },
  { description: 'Nodes on HostPool hosts.' },
);

export const MultilocalProvisioner = object(
  {
    name: name('Name of the provisioner, unique in the profile.'),
    type: typeTag(
      ['multilocal'] as const,
      'multilocal: nodes on one address, ports counted from basePort (VURM).',
    ),
    address: str('Address of every node.', LIMITS.address, { minLength: 1 }),
    basePort: int('Port of the first node.', 1, 65535),
    maxNodes: Type.Optional(int('At most this many nodes in all.', 1, 65535)),
    configTemplate: Type.Optional(configTemplate),
  },
  { description: 'Nodes on one address.' },
);

export const WebhookProvisioner = object(
  {
    name: name('Name of the provisioner, unique in the profile.'),
    type: typeTag(
      ['webhook'] as const,
      'webhook: an external service provisions and releases nodes.',
    ),
    ...webhookTransport,
    configTemplate: Type.Optional(configTemplate),
  },
  { description: 'Nodes from an external HTTP(S) service (docs/webhook-contract.md).' },
);

export const ModuleProvisioner = object(
  {
    name: name('Name of the provisioner, unique in the profile.'),
    type: typeTag(
      ['module'] as const,
      'module: an ES module implementing the Provisioner interface.',
    ),
    ...moduleFields,
    configTemplate: Type.Optional(configTemplate),
  },
  { description: 'Nodes from an ES module (docs/extending.md).' },
);

/** oneOf tagged by `type`, so ajv reports the branch the tag names instead of every branch. */
const discriminated = <T extends TSchema[]>(schemas: [...T], description: string) =>
  Type.Unsafe<Static<TUnion<T>>>({
    oneOf: schemas,
    description,
    discriminator: { propertyName: 'type' },
  });

export const ProvisionerConfig = discriminated(
  [HostsProvisioner, MultilocalProvisioner, WebhookProvisioner, ModuleProvisioner],
  'A provisioner: hosts, multilocal, webhook or module.',
);

/**
 * The built-in allocator types a profile may name. The engine (src/allocation) declares the same
 * types as `HostAllocatorType`/`StorageAllocatorType`; api and allocation import nothing of each
 * other, so src/provisioning/hosts/chains.ts fails to compile if the two drift apart.
 */
export const HOST_ALLOCATOR_TYPES = [
  'firstFit',
  'firstFitLeastConsumed',
  'bestFit',
  'random',
  'userDispersing',
  'userConcentrated',
] as const;
export const STORAGE_ALLOCATOR_TYPES = [
  'localStorage',
  'clusterScope',
  'zoneWide',
  'random',
] as const;
export type BuiltinHostAllocatorType = (typeof HOST_ALLOCATOR_TYPES)[number];
export type BuiltinStorageAllocatorType = (typeof STORAGE_ALLOCATOR_TYPES)[number];

const builtinAllocator = <const T extends readonly string[]>(types: T, description: string) =>
  object(
    {
      type: typeTag(types, description),
      name: Type.Optional(name('Name shown in explanations; default: the type.')),
      seed: Type.Optional(
        int('Seed of random (the same inputs give the same answer).', 0, 2147483647),
      ),
    },
    { description: 'A built-in allocator.' },
  );

const moduleAllocator = object(
  {
    type: typeTag(
      ['module'] as const,
      'module: an ES module implementing the allocator interface.',
    ),
    name: Type.Optional(name('Name shown in explanations.')),
    ...moduleFields,
  },
  { description: 'An allocator from an ES module.' },
);

const webhookAllocator = object(
  {
    type: typeTag(
      ['webhook'] as const,
      'webhook: an external service filters and orders candidates (extender).',
    ),
    name: Type.Optional(name('Name shown in explanations.')),
    ...webhookTransport,
  },
  { description: 'An allocator extender over HTTP(S).' },
);

export const HostAllocatorConfig = discriminated(
  [
    builtinAllocator(HOST_ALLOCATOR_TYPES, 'A built-in host allocator.'),
    moduleAllocator,
    webhookAllocator,
  ],
  'A host allocator.',
);

export const StorageAllocatorConfig = discriminated(
  [
    builtinAllocator(STORAGE_ALLOCATOR_TYPES, 'A built-in storage allocator.'),
    moduleAllocator,
    webhookAllocator,
  ],
  'A storage allocator.',
);

export const Profile = object(
  {
    name: name('Name of the profile; requests choose it with spec.profile.'),
    provisioners: withRules(
      Type.Array(ProvisionerConfig, {
        description: 'Tried in order; later ones are fallbacks.',
        minItems: 1,
        maxItems: 16,
      }),
      [uniqueNames('provisioner')],
    ),
    hostAllocators: Type.Optional(
      Type.Array(HostAllocatorConfig, {
        description: 'Host allocator chain; the first returning hosts wins. Default: [firstFit].',
        maxItems: 16,
      }),
    ),
    storageAllocators: Type.Optional(
      Type.Array(StorageAllocatorConfig, {
        description: 'Storage allocator chain. Default: [localStorage, clusterScope, zoneWide].',
        maxItems: 16,
      }),
    ),
    scaleDownOrder: Type.Optional(
      enumOf(
        ['NewestFirst', 'OldestFirst'] as const,
        'Which nodes a scale-down releases first: NewestFirst (default: the highest index, the last added) or OldestFirst (the lowest index).',
      ),
    ),
    onHostLoss: Type.Optional(
      enumOf(
        ['Keep', 'Replace'] as const,
        'When a host holding nodes goes to Maintenance or Disabled, or leaves its pool: Keep (default: the request is Degraded) or Replace (each lost node is released and a replacement allocated through the same stack, away from the lost host).',
      ),
    ),
    hostLossGraceSeconds: Type.Optional(
      int(
        'Replace: how long a request stays Degraded before its lost nodes are replaced, so a host that comes back at once causes no churn. Default 60.',
        0,
        86_400,
      ),
    ),
    queueing: Type.Optional(
      enumOf(
        ['BestEffortFIFO', 'StrictFIFO'] as const,
        "How the profile's queue of Pending requests (by priority, then creation time) is served: BestEffortFIFO (default: a request that does not fit does not block the ones behind it) or StrictFIFO (the head blocks the rest, so a big request is never starved by a stream of small ones). Kueue's meaning.",
      ),
    ),
    preemptible: Type.Optional(
      Type.Boolean({
        description:
          'Whether requests of this profile may be preempted by requests of strictly higher priority. Default true.',
      }),
    ),
  },
  { description: 'A named profile: a provisioner stack and its allocator chains.' },
);

export const OperatorConfig = object(
  {
    apiVersion: Type.Literal('berth.dev/v1alpha1', { description: 'berth.dev/v1alpha1' }),
    kind: Type.Literal('OperatorConfig', { description: 'OperatorConfig' }),
    profiles: withRules(
      Type.Array(Profile, { description: 'Named profiles.', minItems: 1, maxItems: 64 }),
      [uniqueNames('profile')],
    ),
  },
  { description: 'Configuration of the Berth operator.' },
);

export type OperatorConfig = Static<typeof OperatorConfig>;
export type Profile = Static<typeof Profile>;
export type ProvisionerConfig = Static<typeof ProvisionerConfig>;
export type HostAllocatorConfig = Static<typeof HostAllocatorConfig>;
export type StorageAllocatorConfig = Static<typeof StorageAllocatorConfig>;
export type LabelSelector = Static<typeof LabelSelector>;

/**
 * Provisioner types that keep no state outside Kubernetes: their nodes are fully described by
 * the request's status, so a profile made only of them needs no finalizer (docs/design.md).
 */
export const LOCAL_PROVISIONER_TYPES: ReadonlySet<string> = new Set(['hosts', 'multilocal']);

/** Profiles with an external provisioner (webhook, module): their requests hold the finalizer. */
export const remoteProfiles = (config: Pick<OperatorConfig, 'profiles'>): string[] =>
  config.profiles
    .filter((p) => p.provisioners.some((e) => !LOCAL_PROVISIONER_TYPES.has(e.type)))
    .map((p) => p.name);
