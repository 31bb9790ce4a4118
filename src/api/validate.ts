// ajv validators compiled from the same schemas the CRDs are rendered from, with the Kubernetes
// extensions given meaning: CEL rules (cel.ts), list-type set/map uniqueness, int-or-string.
// Messages name the field the way the API server does: `spec.hosts[1].capacity: ...`.
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import type { DataValidateFunction } from 'ajv/dist/types/index.js';
import { QUANTITY_PATTERN, type CelRule } from './kit.js';
import { evaluateRules } from './cel.js';
import { KINDS } from './kinds.js';
import { OperatorConfig } from './operatorconfig.js';
import { API_VERSION } from './common.js';
import { ValidationError, formatIssue, type ValidationIssue } from './issues.js';

export { ValidationError, formatIssue, type ValidationIssue } from './issues.js';

type Schema = Record<string, unknown>;

function duplicateIndex(items: unknown[], key: (item: unknown) => string): number {
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const k = key(items[i]);
    if (seen.has(k)) return i;
    seen.add(k);
  }
  return -1;
}

/** Wraps a check returning errors (none: valid) as an ajv keyword validator. */
function keywordCheck(check: (data: unknown) => Partial<ErrorObject>[]): DataValidateFunction {
  const validate: DataValidateFunction = (data: unknown) => {
    const errors = check(data);
    validate.errors = errors;
    return errors.length === 0;
  };
  return validate;
}

function createAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: true,
    strictTypes: false,
    discriminator: true,
  });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addKeyword({ keyword: 'x-kubernetes-int-or-string' });
  ajv.addKeyword({ keyword: 'x-kubernetes-preserve-unknown-fields' });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-type',
    type: 'array',
    errors: true,
    compile: (listType: string) =>
      keywordCheck((data) => {
        const items = data as unknown[];
        if (listType !== 'set') return [];
        const dup = duplicateIndex(items, (v) => JSON.stringify(v));
        return dup < 0
          ? []
          : [
              {
                keyword: 'x-kubernetes-list-type',
                message: `Duplicate value: ${JSON.stringify(items[dup])}`,
                params: { index: dup },
              },
            ];
      }),
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-map-keys',
    type: 'array',
    errors: true,
    compile: (keys: string[]) =>
      keywordCheck((data) => {
        const items = data as Record<string, unknown>[];
        const dup = duplicateIndex(items, (v) =>
          JSON.stringify(keys.map((k) => (v as Record<string, unknown> | undefined)?.[k])),
        );
        if (dup < 0) return [];
        const value = keys.map((k) => `${k}=${JSON.stringify(items[dup]?.[k])}`).join(',');
        return [
          {
            keyword: 'x-kubernetes-list-map-keys',
            message: `Duplicate value: ${value}`,
            params: { index: dup },
          },
        ];
      }),
  });
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    errors: true,
    compile: (rules: CelRule[], parentSchema: AnySchemaObject) =>
      keywordCheck((data) =>
        evaluateRules(rules, parentSchema as Schema, data).map((f) => ({
          keyword: 'x-kubernetes-validations',
          message: f.evaluationError
            ? `rule "${f.rule.rule}" could not be evaluated: ${f.evaluationError}`
            : f.rule.message,
          params: { fieldPath: f.rule.fieldPath ?? '', rule: f.rule.rule },
        })),
      ),
  });
  return ajv;
}

// Compiled on first use, one schema at a time: the operator validates only its OperatorConfig
// (the API server validates the four kinds), and every compiled schema costs memory.
let ajvInstance: Ajv | undefined;
const ajv = (): Ajv => (ajvInstance ??= createAjv());

/** Segments of an ajv instancePath (`/spec/hosts/1`) plus a relative CEL fieldPath (`.minCount`). */
function segmentsOf(instancePath: string, extra = ''): Array<string | number> {
  const decode = (p: string) => p.replace(/~1/g, '/').replace(/~0/g, '~');
  const segments: Array<string | number> = instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : decode(p)));
  for (const m of extra.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g))
    segments.push(m[2] !== undefined ? Number(m[2]) : (m[1] as string));
  return segments;
}

/** `['spec', 'hosts', 1, 'name']` → `spec.hosts[1].name`, as the API server prints paths. */
export function renderPath(segments: Array<string | number>): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

function at(instancePath: string, extra: string, message: string): ValidationIssue {
  const segments = segmentsOf(instancePath, extra);
  return { path: renderPath(segments), message, segments };
}

function issueOf(e: ErrorObject): ValidationIssue {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return at(e.instancePath, `.${String(params.additionalProperty)}`, 'unknown field');
    case 'required':
      return at(e.instancePath, `.${String(params.missingProperty)}`, 'Required value');
    case 'x-kubernetes-validations':
      return at(e.instancePath, String(params.fieldPath ?? ''), e.message ?? 'invalid');
    case 'x-kubernetes-list-type':
    case 'x-kubernetes-list-map-keys':
      return at(e.instancePath, `[${String(params.index)}]`, e.message ?? 'duplicate');
    case 'discriminator': {
      const tag = String(params.tag);
      const value = params.tagValue;
      const message =
        params.error === 'mapping'
          ? `unknown type ${JSON.stringify(value)}; expected one of ${discriminatorValues(e.parentSchema, tag).join(', ')}`
          : `must have a string ${tag}`;
      return at(e.instancePath, `.${tag}`, message);
    }
    case 'anyOf':
      return at(
        e.instancePath,
        '',
        'must be an integer or a string (a quantity such as 4, 500m or 16Gi)',
      );
    case 'pattern':
      return at(
        e.instancePath,
        '',
        params.pattern === QUANTITY_PATTERN
          ? `invalid quantity ${JSON.stringify(e.data)}: must be a non-negative Kubernetes quantity such as 4, 500m or 16Gi`
          : `invalid value ${JSON.stringify(e.data)}: must match ${String(params.pattern)}`,
      );
    case 'propertyNames':
      return at(
        e.instancePath,
        `.${String(params.propertyName)}`,
        'invalid key: must be a qualified resource name',
      );
    default:
      return at(e.instancePath, '', e.message ?? e.keyword);
  }
}

function discriminatorValues(schema: AnySchemaObject | undefined, tag: string): string[] {
  const branches = (schema?.oneOf ?? []) as AnySchemaObject[];
  return branches.flatMap(
    (b) => ((b.properties as Record<string, AnySchemaObject>)?.[tag]?.enum ?? []) as string[],
  );
}

/** ajv reports a failed anyOf's branches too; the anyOf's own line says it better. */
function toIssues(errors: ErrorObject[]): ValidationIssue[] {
  const anyOf = errors.filter((e) => e.keyword === 'anyOf');
  const isBranch = (e: ErrorObject) =>
    anyOf.some(
      (a) => a.instancePath === e.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`),
    );
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  for (const e of errors) {
    // A bad map key is reported once, by propertyNames, not again by the pattern inside it.
    if (isBranch(e) || e.schemaPath.includes('/propertyNames/')) continue;
    const issue = issueOf(e);
    const key = formatIssue(issue);
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

function run(validate: ValidateFunction, value: unknown): ValidationIssue[] {
  return validate(value) ? [] : toIssues(validate.errors ?? []);
}

const compiled = new Map<string, ValidateFunction>();
function validatorOf(kind: string): ValidateFunction | undefined {
  let v = compiled.get(kind);
  if (v) return v;
  const schema =
    kind === 'OperatorConfig' ? OperatorConfig : KINDS.find((k) => k.kind === kind)?.schema;
  if (!schema) return undefined;
  v = ajv().compile(schema);
  compiled.set(kind, v);
  return v;
}

export const KNOWN_KINDS = [...KINDS.map((k) => k.kind), 'OperatorConfig'] as const;

/** Validates any Berth document (the four kinds or an OperatorConfig), dispatching on kind. */
export function validateDocument(doc: unknown): ValidationIssue[] {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return [{ path: '', message: 'must be a YAML/JSON object', segments: [] }];
  }
  const { apiVersion, kind } = doc as Record<string, unknown>;
  if (apiVersion !== API_VERSION) {
    return [
      {
        path: 'apiVersion',
        message: `must be ${API_VERSION}, got ${JSON.stringify(apiVersion)}`,
        segments: ['apiVersion'],
      },
    ];
  }
  const validator = typeof kind === 'string' ? validatorOf(kind) : undefined;
  if (!validator) {
    const message = `unknown kind ${JSON.stringify(kind)}; expected one of ${KNOWN_KINDS.join(', ')}`;
    return [{ path: 'kind', message, segments: ['kind'] }];
  }
  return run(validator, doc);
}

export function validateOperatorConfig(doc: unknown): ValidationIssue[] {
  return run(validatorOf('OperatorConfig')!, doc);
}

/** Throws a ValidationError naming every bad field, or returns the value typed. */
export function assertValid<T>(doc: unknown, what = 'object'): T {
  const issues = validateDocument(doc);
  if (issues.length > 0) throw new ValidationError(issues, what);
  return doc as T;
}
