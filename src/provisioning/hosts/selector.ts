// A `hosts` provisioner's `hostPoolSelector`: a metav1.LabelSelector over HostPool
// `metadata.labels`, with Kubernetes semantics. It is checked once when the provisioner is built,
// so a malformed selector is a configuration error with its path, never a surprise at run time.
import type { ConfigIssue } from '../errors.js';

export type LabelMatcher = (labels: Readonly<Record<string, string>>) => boolean;

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
type Operator = (typeof OPERATORS)[number];

interface Requirement {
  key: string;
  operator: Operator;
  values: ReadonlySet<string>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Compiles a selector found at `path`. Absent (and `{}`, as in Kubernetes) selects every pool.
 * Problems are appended to `issues`; the matcher returned then selects nothing.
 */
export function compileSelector(raw: unknown, path: string, issues: ConfigIssue[]): LabelMatcher {
  if (raw === undefined || raw === null) return () => true;
  const before = issues.length;
  if (!isObject(raw)) {
    issues.push({ path, message: 'must be an object (a LabelSelector)' });
    return () => false;
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'matchLabels' && key !== 'matchExpressions')
      issues.push({ path: `${path}.${key}`, message: 'unknown field' });
  }
  const requirements: Requirement[] = [];

  const labels = raw.matchLabels;
  if (labels !== undefined) {
    if (!isObject(labels)) {
      issues.push({ path: `${path}.matchLabels`, message: 'must be a map of strings' });
    } else {
      for (const [key, value] of Object.entries(labels)) {
        if (typeof value !== 'string') {
          issues.push({ path: `${path}.matchLabels.${key}`, message: 'must be a string' });
        } else {
          requirements.push({ key, operator: 'In', values: new Set([value]) });
        }
      }
    }
  }

  const expressions = raw.matchExpressions;
  if (expressions !== undefined) {
    if (!Array.isArray(expressions)) {
      issues.push({ path: `${path}.matchExpressions`, message: 'must be a list' });
    } else {
      expressions.forEach((e: unknown, i) => {
        const r = requirement(e, `${path}.matchExpressions[${i}]`, issues);
        if (r) requirements.push(r);
      });
    }
  }

  if (issues.length > before) return () => false;
  return (poolLabels) => requirements.every((r) => matches(r, poolLabels));
}

function requirement(e: unknown, at: string, issues: ConfigIssue[]): Requirement | undefined {
  if (!isObject(e)) {
    issues.push({ path: at, message: 'must be an object' });
    return undefined;
  }
  const before = issues.length;
  for (const key of Object.keys(e)) {
    if (key !== 'key' && key !== 'operator' && key !== 'values')
      issues.push({ path: `${at}.${key}`, message: 'unknown field' });
  }
  const { key, operator, values } = e;
  if (typeof key !== 'string' || key === '') {
    issues.push({ path: `${at}.key`, message: 'required, a non-empty string' });
  }
  if (!(OPERATORS as readonly unknown[]).includes(operator)) {
    issues.push({
      path: `${at}.operator`,
      message: `must be one of ${OPERATORS.join(', ')}, got ${JSON.stringify(operator)}`,
    });
  }
  let list: string[] = [];
  if (values !== undefined) {
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
      issues.push({ path: `${at}.values`, message: 'must be a list of strings' });
    } else {
      list = values as string[];
    }
  }
  // The same rules as metav1.LabelSelectorAsSelector: a set operator needs values, an existence
  // operator must have none (otherwise the intent of the selector is ambiguous).
  if ((operator === 'In' || operator === 'NotIn') && list.length === 0) {
    issues.push({ path: `${at}.values`, message: `required, non-empty, for operator ${operator}` });
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && list.length > 0) {
    issues.push({ path: `${at}.values`, message: `must be empty for operator ${operator}` });
  }
  if (issues.length > before) return undefined;
  return { key: key as string, operator: operator as Operator, values: new Set(list) };
}

function matches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && r.values.has(labels[r.key]!);
    case 'NotIn':
      return !has || !r.values.has(labels[r.key]!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}
