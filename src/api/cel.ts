// Evaluates a schema's `x-kubernetes-validations` CEL rules offline, so `berth validate`, the
// simulator and the tests reject what the API server would reject, from the same rule text.
import { parse } from '@marcbachmann/cel-js';
import type { CelRule } from './kit.js';

type Schema = Record<string, unknown>;
type Program = ReturnType<typeof parse>;

const programs = new Map<string, Program>();

function program(rule: string): Program {
  let p = programs.get(rule);
  if (!p) {
    p = parse(rule);
    programs.set(rule, p);
  }
  return p;
}

/**
 * CEL in Kubernetes types `integer` fields as int and `number` fields as double; JSON gives JS
 * numbers for both. Converting by the schema keeps `self.base + self.count - 1` an int sum.
 */
export function toCel(schema: Schema | undefined, value: unknown): unknown {
  if (!schema || value === null || value === undefined) return value;
  if (schema.type === 'integer' && typeof value === 'number' && Number.isInteger(value))
    return BigInt(value);
  if (Array.isArray(value)) {
    const items = schema.items as Schema | undefined;
    return value.map((v) => toCel(items, v));
  }
  if (typeof value === 'object') {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const extra =
      typeof schema.additionalProperties === 'object'
        ? (schema.additionalProperties as Schema)
        : undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      out[k] = toCel(props[k] ?? extra, v);
    return out;
  }
  return value;
}

export interface RuleFailure {
  rule: CelRule;
  /** Set when the rule could not be evaluated at all (a bug in a rule, not in the input). */
  evaluationError?: string;
}

/** Rules that compare with `oldSelf` are transition rules: they only apply to updates. */
export function isTransitionRule(rule: CelRule): boolean {
  return /\boldSelf\b/.test(rule.rule);
}

export function evaluateRules(
  rules: CelRule[],
  schema: Schema,
  self: unknown,
  oldSelf?: unknown,
): RuleFailure[] {
  const failures: RuleFailure[] = [];
  for (const rule of rules) {
    const transition = isTransitionRule(rule);
    if (transition && oldSelf === undefined) continue;
    const vars: Record<string, unknown> = { self: toCel(schema, self) };
    if (transition) vars.oldSelf = toCel(schema, oldSelf);
    try {
      if (program(rule.rule)(vars) !== true) failures.push({ rule });
    } catch (err) {
      failures.push({ rule, evaluationError: err instanceof Error ? err.message : String(err) });
    }
  }
  return failures;
}
