// Schemas shared by the four kinds: object metadata and metav1.Condition.
import { Type, type TSchema } from '@sinclair/typebox';
import { DNS_SUBDOMAIN_PATTERN, LIMITS, enumOf, int, object, str } from './kit.js';

export const GROUP = 'berth.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/**
 * The part of ObjectMeta Berth reads. The API server owns metadata's schema, so a CRD only says
 * `type: object` here (crd.ts); ajv checks the name so offline validation catches it too.
 */
export const ObjectMeta = Type.Object(
  {
    name: str(
      'Name of the object, unique within its namespace (or the cluster).',
      LIMITS.subdomain,
      {
        pattern: DNS_SUBDOMAIN_PATTERN,
      },
    ),
    namespace: Type.Optional(str('Namespace of a namespaced object.', LIMITS.name)),
    uid: Type.Optional(Type.String()),
    generation: Type.Optional(Type.Integer()),
    resourceVersion: Type.Optional(Type.String()),
    creationTimestamp: Type.Optional(Type.String()),
    deletionTimestamp: Type.Optional(Type.String()),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
    finalizers: Type.Optional(Type.Array(Type.String())),
  },
  { description: 'Standard object metadata.' },
);

export const ConditionStatus = enumOf(
  ['True', 'False', 'Unknown'] as const,
  'Status of the condition.',
);

/** metav1.Condition, field for field, so kubectl and tooling read it as they read any condition. */
export const Condition = object(
  {
    type: str('Type of condition in CamelCase, e.g. Ready.', 316, {
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: ConditionStatus,
    observedGeneration: Type.Optional(
      int('The .metadata.generation the condition was set from.', 0, Number.MAX_SAFE_INTEGER),
    ),
    lastTransitionTime: str('Last time the condition changed from one status to another.', 64, {
      format: 'date-time',
    }),
    reason: str('Machine-readable CamelCase reason for the last transition.', 1024, {
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      minLength: 1,
    }),
    message: str('Human-readable message about the transition.', 32768),
  },
  { description: 'A metav1.Condition.' },
);

/**
 * Lists in a status that only the operator writes (it replaces the whole status on each write)
 * are atomic: the API server then tracks one managed field for the list instead of one per
 * entry and per entry's field: its CPU per binding fell by 10-20 % (docs/benchmarks.md). A list
 * map would only help several writers share the list.
 */
export const OPERATOR_WRITTEN_LIST = { 'x-kubernetes-list-type': 'atomic' } as const;

export const Conditions = Type.Array(Condition, {
  description: 'Current state as metav1.Conditions, one per type.',
  maxItems: LIMITS.conditions,
  ...OPERATOR_WRITTEN_LIST,
});

export const ObservedGeneration = int(
  'The .metadata.generation of the spec this status was computed from.',
  0,
  Number.MAX_SAFE_INTEGER,
);

/** A Berth kind: apiVersion, kind, metadata, spec and an optional status. */
export function kindSchema<K extends string, S extends TSchema, T extends TSchema>(
  kind: K,
  spec: S,
  status: T,
  description: string,
) {
  return object(
    {
      apiVersion: Type.Literal(API_VERSION, { description: API_VERSION }),
      kind: Type.Literal(kind, { description: kind }),
      metadata: ObjectMeta,
      spec,
      status: Type.Optional(status),
    },
    { description },
  );
}
