// Resource maps in exact nano-units. A ResourceMap from a spec becomes a `Resources` map once;
// arithmetic and comparisons then never re-parse or round.
import { InvalidSpecError, QuantityError } from './errors.js';
import type { ResourceMap } from './model.js';
import { formatQuantity, parseQuantityDetailed, type QuantityFormat } from './quantity.js';

export type Resources = ReadonlyMap<string, bigint>;

export const NO_RESOURCES: Resources = new Map();

/**
 * The order resources are reported and compared in: cpu, memory, then by name. It decides which
 * `Insufficient <resource>` a host is counted under when several are short, and which resource
 * orders hosts for bestFit and firstFitLeastConsumed (CloudStack orders by one capacity type).
 */
export function compareResourceNames(a: string, b: string): number {
  const ra = a === 'cpu' ? 0 : a === 'memory' ? 1 : 2;
  const rb = b === 'cpu' ? 0 : b === 'memory' ? 1 : 2;
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortResourceNames(names: Iterable<string>): string[] {
  return [...names].sort(compareResourceNames);
}

/**
 * Parses a resource map, refusing negative amounts. `object` and `field` name the place for the
 * InvalidSpecError (e.g. `HostPool rack-a1`, `spec.hosts[0].capacity`).
 */
export function parseResources(
  map: ResourceMap | undefined,
  object: string,
  field: string,
): Map<string, bigint> {
  const out = new Map<string, bigint>();
  if (map === undefined || map === null) return out;
  if (typeof map !== 'object') throw new InvalidSpecError(object, field, 'must be a map');
  for (const name of sortResourceNames(Object.keys(map))) {
    const raw = map[name];
    let nanos: bigint;
    try {
      nanos = parseQuantityDetailed(raw as ResourceMap[string]).nanos;
    } catch (err) {
      if (err instanceof QuantityError)
        throw new InvalidSpecError(object, `${field}.${name}`, err.message);
      throw err;
    }
    if (nanos < 0n)
      throw new InvalidSpecError(
        object,
        `${field}.${name}`,
        `must not be negative (${String(raw)})`,
      );
    out.set(name, nanos);
  }
  return out;
}

export function get(r: Resources, name: string): bigint {
  return r.get(name) ?? 0n;
}

export function add(a: Resources, b: Resources): Map<string, bigint> {
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, (out.get(k) ?? 0n) + v);
  return out;
}

export function subtract(a: Resources, b: Resources): Map<string, bigint> {
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, (out.get(k) ?? 0n) - v);
  return out;
}

/** In-place `target += delta × sign`, dropping entries that come back to zero. */
export function accumulate(target: Map<string, bigint>, delta: Resources, sign: 1n | -1n): void {
  for (const [k, v] of delta) {
    const next = (target.get(k) ?? 0n) + v * sign;
    if (next === 0n) target.delete(k);
    else target.set(k, next);
  }
}

/** Whether every amount in `need` is ≤ the same amount in `have` (missing counts as zero). */
export function fitsWithin(need: Resources, have: Resources): boolean {
  for (const [k, v] of need) if (v > (have.get(k) ?? 0n)) return false;
  return true;
}

export function isZero(r: Resources): boolean {
  for (const v of r.values()) if (v !== 0n) return false;
  return true;
}

/** Memory-like resources print in binary units (16Gi), everything else in decimal SI (500m). */
export function formatFor(name: string): QuantityFormat {
  return name === 'memory' ||
    name === 'storage' ||
    name.endsWith('-storage') ||
    name.startsWith('hugepages-')
    ? 'BinarySI'
    : 'DecimalSI';
}

/** Back to a ResourceMap of canonical strings, in resource order, for statuses. */
export function formatResources(r: Resources): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of sortResourceNames(r.keys()))
    out[name] = formatQuantity(r.get(name) ?? 0n, formatFor(name));
  return out;
}
