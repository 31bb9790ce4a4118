// The built-in host allocators (docs/allocation.md; CloudStack's FirstFitAllocator with its
// vm.allocation.algorithm variants, and the user-dispersing/-concentrated planners moved down to
// host level). They differ only in the order they offer hosts; all of them run every candidate
// through the same fit rules and record each rejection in `avoid`.
//
//   firstFit               pools by name, hosts as declared
//   firstFitLeastConsumed  most free first (spread), by the request's primary resource
//   bestFit                least free that fits (pack), by the request's primary resource
//   random                 a seeded shuffle: same seed and inputs, same order
//   userDispersing         fewest nodes of the request's namespace first, then declared order
//   userConcentrated       most nodes of the request's namespace first, then declared order
import type { DeploymentPlan, HostAllocator } from './allocator.js';
import type { ExcludeList } from './exclude.js';
import type { HostInfo } from './inventory.js';
import type { Rejection } from './reasons.js';
import type { CompiledRequest } from './request.js';
import { hashSeed, lazyPermutation, mulberry32 } from './rng.js';

interface IndexSource {
  next(): number;
  skipTo?(globalIndex: number): void;
}

function sourceOf(items: Iterable<number>): IndexSource {
  const it = items[Symbol.iterator]();
  return {
    next(): number {
      const r = it.next();
      return r.done ? -1 : r.value;
    },
  };
}

/** A rejection that holds for every host of the pool, so the rest of the pool can be skipped. */
function poolWide(r: Rejection, host: HostInfo, avoid: ExcludeList): boolean {
  return (
    r.code === 'PlacementMismatch' ||
    r.code === 'PoolDisabled' ||
    r.code === 'OverThreshold' ||
    (r.code === 'Avoided' && avoid.avoidsPool(host.pool))
  );
}

/**
 * Runs host indices through the fit rules: yields the hosts that fit, records the others in
 * `avoid`, skips hosts an earlier allocator of the chain already turned down.
 */
export function* screen(
  source: IndexSource,
  request: CompiledRequest,
  plan: DeploymentPlan,
  avoid: ExcludeList,
): Generator<HostInfo, void, undefined> {
  const view = plan.view;
  const hosts = view.inventory.hosts;
  for (let h = source.next(); h >= 0; h = source.next()) {
    const host = hosts[h]!;
    if (!view.inScope(host)) {
      source.skipTo?.(host.pool.end);
      continue;
    }
    if (avoid.isHostRejected(host.key)) continue;
    const r = view.checkHost(host, request, avoid);
    if (r) {
      avoid.rejectHost(host, r);
      if (source.skipTo && poolWide(r, host, avoid)) source.skipTo(host.pool.end);
      continue;
    }
    yield host;
  }
}

/**
 * Gives every in-scope host that no allocator has looked at its reason, so that once an
 * allocator is exhausted `avoid` explains every host (the index skips hosts without naming why).
 * Returns how many hosts fit the rules without having been returned (0 for the built-ins).
 */
export function recordRest(
  request: CompiledRequest,
  plan: DeploymentPlan,
  avoid: ExcludeList,
): number {
  const view = plan.view;
  let fit = 0;
  for (const host of view.inventory.hosts) {
    if (!view.inScope(host) || avoid.isHostRejected(host.key)) continue;
    const r = view.checkHost(host, request, avoid);
    if (r) avoid.rejectHost(host, r);
    else fit++;
  }
  return fit;
}

/** Shared `allocate` over a lazy `candidates`. */
export abstract class BuiltinHostAllocator implements HostAllocator {
  /** Built-ins always answer. */
  readonly error?: string;

  constructor(
    readonly type: string,
    readonly name: string,
  ) {}

  abstract candidates(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
  ): Iterable<HostInfo>;

  allocate(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
    returnUpTo: number,
  ): HostInfo[] {
    const out: HostInfo[] = [];
    if (returnUpTo === 0) return out;
    for (const host of this.candidates(request, plan, avoid)) {
      out.push(host);
      if (returnUpTo > 0 && out.length >= returnUpTo) return out;
    }
    recordRest(request, plan, avoid);
    return out;
  }
}

export class FirstFitAllocator extends BuiltinHostAllocator {
  constructor(name = 'firstFit') {
    super('firstFit', name);
  }
  candidates(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
  ): Iterable<HostInfo> {
    return screen(plan.view.queries(request).declared(), request, plan, avoid);
  }
}

export class FirstFitLeastConsumedAllocator extends BuiltinHostAllocator {
  constructor(name = 'firstFitLeastConsumed') {
    super('firstFitLeastConsumed', name);
  }
  candidates(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
  ): Iterable<HostInfo> {
    return screen(sourceOf(plan.view.queries(request).byFree('desc')), request, plan, avoid);
  }
}

export class BestFitAllocator extends BuiltinHostAllocator {
  constructor(name = 'bestFit') {
    super('bestFit', name);
  }
  candidates(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
  ): Iterable<HostInfo> {
    return screen(sourceOf(plan.view.queries(request).byFree('asc')), request, plan, avoid);
  }
}

export class RandomHostAllocator extends BuiltinHostAllocator {
  constructor(
    readonly seed = 0,
    name = 'random',
  ) {
    super('random', name);
  }
  candidates(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
  ): Iterable<HostInfo> {
    const random = mulberry32(hashSeed(this.seed, request.owner, plan.nodeName));
    return screen(
      sourceOf(lazyPermutation(plan.view.inventory.hosts.length, random)),
      request,
      plan,
      avoid,
    );
  }
}

/** Hosts holding nodes of the namespace, with how many, in the given order of counts. */
function namespaceHosts(request: CompiledRequest, plan: DeploymentPlan, most: boolean): number[] {
  const byKey = plan.view.inventory.hostByKey;
  const counted: Array<[number, number]> = [];
  for (const [key, n] of plan.view.ledger.namespaceUsage(request.namespace)) {
    const host = byKey.get(key);
    if (host) counted.push([host.index, n]);
  }
  counted.sort(([ha, a], [hb, b]) => (most ? b - a : a - b) || ha - hb);
  return counted.map(([h]) => h);
}

export class UserDispersingAllocator extends BuiltinHostAllocator {
  constructor(name = 'userDispersing') {
    super('userDispersing', name);
  }
  *candidates(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
  ): Iterable<HostInfo> {
    const used = namespaceHosts(request, plan, false);
    const usedSet = new Set(used);
    // Hosts without any node of the namespace first (count 0), in declared order...
    yield* screen(
      plan.view.queries(request).declared((h) => usedSet.has(h)),
      request,
      plan,
      avoid,
    );
    // ...then the namespace's hosts, fewest nodes first.
    yield* screen(sourceOf(used), request, plan, avoid);
  }
}

export class UserConcentratedAllocator extends BuiltinHostAllocator {
  constructor(name = 'userConcentrated') {
    super('userConcentrated', name);
  }
  *candidates(
    request: CompiledRequest,
    plan: DeploymentPlan,
    avoid: ExcludeList,
  ): Iterable<HostInfo> {
    const used = namespaceHosts(request, plan, true);
    const usedSet = new Set(used);
    yield* screen(sourceOf(used), request, plan, avoid);
    yield* screen(
      plan.view.queries(request).declared((h) => usedSet.has(h)),
      request,
      plan,
      avoid,
    );
  }
}
