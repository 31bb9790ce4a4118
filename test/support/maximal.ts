// The largest object a schema of src/api allows, built from the schema itself: every optional
// field present, every string at its maxLength (matching its pattern), every list at maxItems,
// every map at maxProperties with keys at their longest. Used to prove that the largest HostPool
// the CRD accepts, with the status the operator writes for it, fits what the API server stores
// (docs/api.md, "Bounded objects").
//
// Only the patterns src/api uses are known; an unknown one throws, so a new pattern cannot slip
// into the bounds test unmaximised. Numbers are given many digits but stay within their bounds
// and the CEL rules (ratios > 0, fractions in (0, 1]).
import type { TSchema } from '@sinclair/typebox';
import { HostPoolSpec, type HostPool } from '../../src/api/hostpool.js';
import {
  LIMITS,
  DNS_LABEL_PATTERN,
  DNS_SUBDOMAIN_PATTERN,
  RESOURCE_NAME_PATTERN,
  TAG_PATTERN,
} from '../../src/api/kit.js';

type Node = Record<string, unknown>;

export interface MaximalOptions {
  /** The enum value to use at this path (default: the longest). */
  enumValue?(values: readonly string[], path: string): string;
  /** The amount a quantity at this path holds, before it is padded to its maxLength. */
  quantity?(path: string): string;
  /** A value to use at this path instead of generating one (undefined: generate). */
  override?(path: string): unknown;
}

/** A string of exactly `length` characters matching `pattern`, distinct for each `index`. */
export function maximalString(pattern: string | undefined, length: number, index: number): string {
  const id = index.toString(36);
  const fill = (start: string, end: string, ch: string) =>
    start + ch.repeat(Math.max(0, length - start.length - end.length)) + end;
  switch (pattern) {
    case undefined:
      return fill(`s${id}-`, '', 'x').slice(0, length);
    case DNS_LABEL_PATTERN:
      return fill(`l${id}-`, 'z', 'a');
    case TAG_PATTERN:
      return fill(`t${id}-`, 'z', 'b');
    case DNS_SUBDOMAIN_PATTERN: {
      // Labels of at most 63 characters joined by dots; the first carries the index.
      const labels: string[] = [];
      let left = length;
      while (left > 0) {
        let take = Math.min(63, left);
        if (left - take === 1) take -= 1; // never leave room for a dot alone
        labels.push(
          labels.length === 0 ? fill(`d${id}`, '', 'c').slice(0, take) : 'c'.repeat(take),
        );
        left -= take;
        if (left > 0) left -= 1;
      }
      return labels.join('.');
    }
    case RESOURCE_NAME_PATTERN: {
      // prefix/name: a DNS subdomain prefix, then a name; the index in the name keeps keys apart.
      const name = `r${id}`;
      const prefixLength = length - name.length - 1;
      if (prefixLength < 1) return fill(`r${id}`, '', 'q').slice(0, length);
      return `${maximalString(DNS_SUBDOMAIN_PATTERN, prefixLength, 0)}/${name}`;
    }
    default:
      throw new Error(`maximalString: no generator for pattern ${pattern}`);
  }
}

/** A quantity of exactly `length` characters worth `amount` ("64", "256Gi"): leading zeros. */
export function paddedQuantity(amount: string, length: number): string {
  if (amount.length > length) throw new Error(`quantity ${amount} is longer than ${length}`);
  return amount.padStart(length, '0');
}

const isQuantity = (n: Node) => n['x-kubernetes-int-or-string'] === true;

export function maximal(schema: TSchema, options: MaximalOptions = {}, path = ''): unknown {
  return generate(schema as Node, options, path, 0);
}

function generate(node: Node, o: MaximalOptions, path: string, index: number): unknown {
  const given = o.override?.(path);
  return given === undefined ? generateRaw(node, o, path, index) : given;
}

function generateRaw(node: Node, o: MaximalOptions, path: string, index: number): unknown {
  if (isQuantity(node)) {
    const amount = o.quantity?.(path) ?? '1';
    return paddedQuantity(amount, node.maxLength as number);
  }
  if (Array.isArray(node.enum)) {
    const values = node.enum as string[];
    return o.enumValue?.(values, path) ?? [...values].sort((a, b) => b.length - a.length)[0] ?? '';
  }
  switch (node.type) {
    case 'object': {
      if (node.properties) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(node.properties as Record<string, Node>))
          out[k] = generate(v, o, path ? `${path}.${k}` : k, index);
        return out;
      }
      const valueSchema = node.additionalProperties as Node | undefined;
      if (!valueSchema || typeof valueSchema !== 'object') return {};
      const names = (node.propertyNames ?? {}) as Node;
      const count = node.maxProperties as number;
      const out: Record<string, unknown> = {};
      for (let j = 0; j < count; j++) {
        const key = maximalString(
          names.pattern as string | undefined,
          names.maxLength as number,
          j,
        );
        out[key] = generate(valueSchema, o, `${path}{}`, j);
      }
      return out;
    }
    case 'array': {
      const count = node.maxItems as number;
      const item = node.items as Node;
      return Array.from({ length: count }, (_, i) => generate(item, o, `${path}[]`, i));
    }
    case 'string':
      return maximalString(node.pattern as string | undefined, node.maxLength as number, index);
    case 'integer':
      return node.maximum as number;
    case 'number': {
      // As many digits as a double prints, inside (0, maximum] (and inside (0, 1] without one).
      const max = (node.maximum as number | undefined) ?? 1;
      return Number((max * 0.1234567890123456).toPrecision(16));
    }
    case 'boolean':
      return false;
    default:
      throw new Error(`maximal: cannot generate ${path} (${JSON.stringify(node).slice(0, 80)})`);
  }
}

/** metadata.name at its longest: a 253-character DNS subdomain. */
export const MAXIMAL_POOL_NAME = maximalString(DNS_SUBDOMAIN_PATTERN, LIMITS.subdomain, 0);

/**
 * The largest HostPool the schema allows: 200 hosts, every field at its maximum. `usable` keeps
 * it serving (pool and hosts Enabled, capacity 64 of every resource, 1 reserved); otherwise every
 * enum takes its longest value (Disabled, Maintenance), the worst case for size alone.
 */
export function maximalHostPool(
  name = MAXIMAL_POOL_NAME,
  options: { usable?: boolean; labels?: Record<string, string> } = {},
): HostPool {
  const usable = options.usable ?? true;
  const spec = maximal(HostPoolSpec, {
    enumValue: usable ? () => 'Enabled' : undefined,
    quantity: (path) => (path.startsWith('reserved') ? '1' : '64'),
    // base + count - 1 must stay within 65535 (a CEL rule): both five digits, the sum at the top.
    override: (path) => (path === 'hosts[].ports' ? { base: 30001, count: 35535 } : undefined),
  }) as HostPoolSpec;
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'HostPool',
    metadata: { name, ...(options.labels ? { labels: options.labels } : {}) },
    spec,
  };
}

/** The resources every host of maximalHostPool declares (its longest names). */
export function maximalResourceNames(pool: HostPool): string[] {
  return Object.keys(pool.spec.hosts[0]!.capacity);
}
