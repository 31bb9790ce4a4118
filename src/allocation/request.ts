// A ResourceRequest compiled once per planning call: quantities parsed, avoid lists as sets,
// volumes sorted largest first (docs/design.md#the-planner: the largest volume goes first so the
// hardest one to fit decides the host early).
import { AllocationError, InvalidSpecError } from './errors.js';
import type { Quantity, ResourceRequest, StorageScope } from './model.js';
import { parseNonNegativeQuantity } from './quantity.js';
import { parseResources, type Resources } from './resources.js';

export interface VolumeAsk {
  readonly name: string;
  readonly size: bigint;
  /** As written in the spec, copied into placements and status. */
  readonly sizeText: Quantity;
  readonly tags: readonly string[];
  readonly scope: StorageScope | undefined;
}

export interface AvoidSets {
  readonly zones: ReadonlySet<string>;
  readonly pods: ReadonlySet<string>;
  readonly hostPools: ReadonlySet<string>;
  readonly hosts: ReadonlySet<string>;
  readonly storagePools: ReadonlySet<string>;
}

export interface CompiledRequest {
  /** `<namespace>/<name>`: the ledger's owner key. */
  readonly owner: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly count: number;
  readonly minCount: number;
  /** Per node. */
  readonly resources: Resources;
  /** Names asked with an amount > 0, in resource order (cpu, memory, then by name). */
  readonly asked: readonly string[];
  /** What bestFit and firstFitLeastConsumed order hosts by: the first of `asked`. */
  readonly primary: string | undefined;
  readonly tags: readonly string[];
  /** Largest first; equal sizes keep spec order. */
  readonly volumes: readonly VolumeAsk[];
  readonly placement: {
    readonly zone?: string;
    readonly pod?: string;
    readonly hostPool?: string;
    readonly storagePool?: string;
  };
  readonly avoid: AvoidSets;
  readonly maxNodesPerHost: number | undefined;
  readonly source: ResourceRequest;
}

export function ownerKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

const set = (v: unknown): ReadonlySet<string> =>
  new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Compiles a request; throws InvalidSpecError naming the field when it cannot be used. */
export function compileRequest(request: ResourceRequest): CompiledRequest {
  const md = request?.metadata;
  const namespace = md?.namespace;
  const name = md?.name;
  if (typeof namespace !== 'string' || typeof name !== 'string') {
    throw new InvalidSpecError('ResourceRequest', 'metadata', 'needs namespace and name');
  }
  const object = `ResourceRequest ${namespace}/${name}`;
  const spec = request.spec;
  if (!spec || typeof spec !== 'object') throw new InvalidSpecError(object, 'spec', 'missing');
  const count = spec.count;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw new InvalidSpecError(
      object,
      'spec.count',
      `must be a whole number ≥ 0, got ${String(count)}`,
    );
  }
  const minCount = spec.minCount ?? count;
  if (
    typeof minCount !== 'number' ||
    !Number.isSafeInteger(minCount) ||
    minCount < 0 ||
    minCount > count
  ) {
    throw new InvalidSpecError(
      object,
      'spec.minCount',
      `must be a whole number in [0, count], got ${String(minCount)}`,
    );
  }
  const resources = parseResources(spec.resources, object, 'spec.resources');
  const asked = [...resources].filter(([, v]) => v > 0n).map(([k]) => k);

  const volumes: Array<VolumeAsk & { order: number }> = [];
  const names = new Set<string>();
  (Array.isArray(spec.volumes) ? spec.volumes : []).forEach((v, i) => {
    const field = `spec.volumes[${i}]`;
    if (!v || typeof v.name !== 'string' || v.name === '')
      throw new InvalidSpecError(object, `${field}.name`, 'required');
    if (names.has(v.name))
      throw new InvalidSpecError(object, `${field}.name`, `duplicate volume "${v.name}"`);
    names.add(v.name);
    let size: bigint;
    try {
      size = parseNonNegativeQuantity(v.size);
    } catch (err) {
      if (err instanceof AllocationError)
        throw new InvalidSpecError(object, `${field}.size`, err.message);
      throw err;
    }
    const scope = v.scope;
    if (scope !== undefined && scope !== 'Host' && scope !== 'Cluster' && scope !== 'Zone') {
      throw new InvalidSpecError(
        object,
        `${field}.scope`,
        `must be Host, Cluster or Zone, got ${String(scope)}`,
      );
    }
    volumes.push({ name: v.name, size, sizeText: v.size, tags: [...set(v.tags)], scope, order: i });
  });
  volumes.sort((a, b) => (a.size > b.size ? -1 : a.size < b.size ? 1 : a.order - b.order));

  const mnph = spec.maxNodesPerHost;
  if (mnph !== undefined && (typeof mnph !== 'number' || !Number.isSafeInteger(mnph) || mnph < 1)) {
    throw new InvalidSpecError(
      object,
      'spec.maxNodesPerHost',
      `must be a whole number ≥ 1, got ${String(mnph)}`,
    );
  }
  const p = spec.placement ?? {};
  const a = spec.avoid ?? {};
  return {
    owner: ownerKey(namespace, name),
    namespace,
    name,
    uid: md.uid,
    count,
    minCount,
    resources,
    asked,
    primary: asked[0],
    tags: [...set(spec.tags)].sort(),
    volumes: volumes.map(({ order: _order, ...v }) => v),
    placement: {
      zone: optionalString(p.zone),
      pod: optionalString(p.pod),
      hostPool: optionalString(p.hostPool),
      storagePool: optionalString(p.storagePool),
    },
    avoid: {
      zones: set(a.zones),
      pods: set(a.pods),
      hostPools: set(a.hostPools),
      hosts: set(a.hosts),
      storagePools: set(a.storagePools),
    },
    maxNodesPerHost: mnph,
    source: request,
  };
}
