// Renders a KindDefinition as an apiextensions.k8s.io/v1 CustomResourceDefinition.
// The schema objects are JSON Schema for ajv; a CRD needs a structural OpenAPI v3 subset, so the
// few differences are translated here, in one place:
//  - `additionalProperties: false` is not allowed (the API server prunes and, with strict field
//    validation, rejects unknown fields instead), so it is dropped;
//  - `propertyNames` does not exist in CRD schemas; key patterns become a CEL rule on the map;
//  - `const` (TypeBox literals for apiVersion/kind) is not allowed; those become plain strings;
//  - metadata belongs to the API server: only `type: object` is declared.
import { CATEGORY, GROUP, VERSION, type KindDefinition } from './kinds.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function structural(node: Json): Json {
  if (Array.isArray(node)) return node.map(structural);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  const rules: Json[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'propertyNames' && isObject(value)) {
      if (typeof value.pattern === 'string') {
        rules.push({
          rule: `self.all(k, k.matches(r'${value.pattern}'))`,
          message: 'keys must be qualified resource names such as cpu, memory or nvidia.com/gpu',
        });
      }
      if (typeof value.maxLength === 'number') {
        rules.push({
          rule: `self.all(k, k.size() <= ${value.maxLength})`,
          message: `keys must be at most ${value.maxLength} characters`,
        });
      }
      continue;
    }
    if (key === 'const') {
      out.enum = [value];
      continue;
    }
    out[key] = structural(value);
  }
  if (rules.length > 0) {
    const existing = Array.isArray(out['x-kubernetes-validations'])
      ? out['x-kubernetes-validations']
      : [];
    out['x-kubernetes-validations'] = [...existing, ...rules];
  }
  return out;
}

export function renderCrd(def: KindDefinition): JsonObject {
  const schema = structural(JSON.parse(JSON.stringify(def.schema)) as Json) as JsonObject;
  const properties = schema.properties as JsonObject;
  properties.apiVersion = {
    type: 'string',
    description: 'APIVersion defines the versioned schema of this representation of an object.',
  };
  properties.kind = {
    type: 'string',
    description: 'Kind is a string value representing the REST resource this object represents.',
  };
  properties.metadata = { type: 'object' };
  delete schema.required;
  schema.required = ['spec'];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'berth', 'app.kubernetes.io/part-of': 'berth' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {}, ...(def.scale ? { scale: { ...def.scale } } : {}) },
          additionalPrinterColumns: def.printerColumns.map(
            (c) => ({ ...c }) as unknown as JsonObject,
          ),
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  };
}
