// Building blocks for the API schemas. Every schema in src/api is written once with these
// helpers; the CRDs, the TypeScript types (TypeBox's Static) and the ajv validators all come
// from the same objects. Helpers only emit constructs that a Kubernetes structural schema
// accepts; the few JSON-Schema-only keywords (additionalProperties: false) are stripped when
// a CRD is rendered (see crd.ts).
import { Type, type TSchema, type Static, type TObject, type TProperties } from '@sinclair/typebox';

/** A CEL rule as a CRD's `x-kubernetes-validations` entry. */
export interface CelRule {
  rule: string;
  message: string;
  /** Relative path (".minCount") the API server reports the error under. */
  fieldPath?: string;
  reason?:
    'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueDuplicate';
}

/** Kubernetes' quantity grammar (resource.Quantity), without a sign: Berth has no use for negatives. */
export const QUANTITY_PATTERN =
  '^(\\+)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** DNS-1123 label: names of hosts, pools, zones, pods, profiles, provisioners. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** DNS-1123 subdomain: metadata.name of cluster-scoped objects. */
export const DNS_SUBDOMAIN_PATTERN =
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A qualified resource name as in a ResourceList: `cpu`, `nvidia.com/gpu`, `licenses/matlab`. */
export const RESOURCE_NAME_PATTERN =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';
/** Tags are free-form but short and printable; they are compared exactly. */
export const TAG_PATTERN = '^[A-Za-z0-9]([-A-Za-z0-9_.:/]*[A-Za-z0-9])?$';

export const LIMITS = {
  /** Ten years: a deadline beyond that is a mistake, not a reservation. */
  activeDeadlineSeconds: 315_360_000,
  name: 63,
  subdomain: 253,
  tag: 63,
  tags: 32,
  // 63, not the 253 (+ 63) of a Kubernetes qualified name: every byte of a resource name is
  // repeated per host in a HostPool and its status, which must fit the API server's object limit
  // (docs/api.md, "Bounded objects"). `nvidia.com/gpu`, `licenses/matlab` are far below it.
  resourceName: 63,
  resources: 32,
  /** Resources one host declares (its capacity); a pool holds 200 hosts. */
  hostResources: 16,
  /** Tags of one host (the pool's own tags are `tags`). */
  hostTags: 16,
  quantity: 64,
  address: 253,
  hosts: 200,
  volumes: 16,
  avoid: 256,
  count: 1000,
  message: 1024,
  conditions: 16,
  statusNodes: 1000,
  configEntry: 1024,
  url: 2048,
  path: 4096,
} as const;

type Opts = { description: string; [key: string]: unknown };

export function str(description: string, maxLength: number, extra: Record<string, unknown> = {}) {
  return Type.String({ description, maxLength, ...extra });
}

export function name(description: string) {
  return Type.String({ description, maxLength: LIMITS.name, pattern: DNS_LABEL_PATTERN });
}

/**
 * The name of a HostPool or StoragePool: an object name (DNS-1123 subdomain, up to 253), so every
 * pool the API server accepts can be named wherever a pool is referred to, status included.
 */
export function poolName(description: string) {
  return Type.String({ description, maxLength: LIMITS.subdomain, pattern: DNS_SUBDOMAIN_PATTERN });
}

export function int(
  description: string,
  minimum: number,
  maximum: number,
  extra: Record<string, unknown> = {},
) {
  return Type.Integer({ description, minimum, maximum, ...extra });
}

export function enumOf<const T extends readonly string[]>(values: T, description: string) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
}

/** A Kubernetes quantity: an integer or a string such as "500m", "16Gi", "1.5". */
export function quantity(description: string) {
  return Type.Unsafe<string | number>({
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
    maxLength: LIMITS.quantity,
    minimum: 0,
    description,
  });
}

/** An open map of resource name → value, like a Kubernetes ResourceList. */
export function mapOf<T extends TSchema>(
  value: T,
  description: string,
  maxProperties: number = LIMITS.resources,
) {
  return Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    description,
    maxProperties,
    additionalProperties: value,
    propertyNames: { pattern: RESOURCE_NAME_PATTERN, maxLength: LIMITS.resourceName },
  });
}

export function resourceMap(description: string, maxProperties: number = LIMITS.resources) {
  return mapOf(
    quantity('Amount of this resource, a Kubernetes quantity.'),
    description,
    maxProperties,
  );
}

export function tags(description: string, maxItems: number = LIMITS.tags) {
  return Type.Array(
    Type.String({ maxLength: LIMITS.tag, pattern: TAG_PATTERN, description: 'A tag.' }),
    {
      description,
      maxItems,
      'x-kubernetes-list-type': 'set',
    },
  );
}

export function nameList(
  description: string,
  maxItems: number = LIMITS.avoid,
  pattern = DNS_LABEL_PATTERN,
  maxLength: number = LIMITS.name,
) {
  return Type.Array(Type.String({ maxLength, pattern, description: 'A name.' }), {
    description,
    maxItems,
    'x-kubernetes-list-type': 'set',
  });
}

/** A ratio > 0 (CloudStack's overprovisioning factor). CEL enforces the open bound. */
export function ratio(description: string) {
  return Type.Number({
    description,
    maximum: 1000,
    'x-kubernetes-validations': [{ rule: 'self > 0.0', message: 'must be greater than 0' }],
  });
}

/** A fraction in (0, 1] (CloudStack's disable threshold). */
export function fraction(description: string) {
  return Type.Number({
    description,
    'x-kubernetes-validations': [
      { rule: 'self > 0.0 && self <= 1.0', message: 'must be in (0, 1]' },
    ],
  });
}

/** A closed object: unknown fields are errors for ajv and pruned/rejected by the API server. */
export function object<T extends TProperties>(properties: T, opts: Opts): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...opts });
}

export function withRules<T extends TSchema>(schema: T, rules: CelRule[]): T {
  return { ...schema, 'x-kubernetes-validations': rules } as T;
}

export const Optional = Type.Optional;
