// Indexes over the inventory's hosts so a placement does not scan every host.
//
// - One structure per tag, plus one for all hosts: a request with tags walks the structure of
//   its rarest tag (hosts lacking one of its other tags are still rejected one by one, as
//   MissingTags); a request without tags walks the all-hosts structure.
// - In each structure, a MaxTree over free capacity in declared order serves firstFit (and the
//   declared-order phases of the user* allocators), and per resource a MaxTreap ordered by free
//   amount serves bestFit and firstFitLeastConsumed. The treaps are built the first time a
//   resource is used as an order, then kept up to date.
// - Request-independent eligibility (pool and host Enabled, maxNodes not reached, ports left) is
//   folded in: an ineligible host is -∞ in the tree and absent from the lists.
//
// Everything the index prunes is a host the fit rules would reject; every host it offers still
// goes through the exact fit rules (fit.ts). The index only decides what is looked at first.
import type { HostInfo, Inventory, PoolInfo } from '../inventory.js';
import type { Ledger } from '../ledger.js';
import { eligibleHost } from '../fit.js';
import { MaxTree } from './max-tree.js';
import { MaxTreap } from './max-treap.js';

const ALL = '\u0000all';

interface Structure {
  /** Global host indices, ascending; a host's position here is its local id. */
  readonly members: Int32Array;
  readonly tree: MaxTree;
  /** Per resource index: eligible members ordered by (free, host index). */
  readonly treaps: Map<number, MaxTreap>;
}

/** What a request needs from the index; built once per node plan. */
export interface IndexQuery {
  /** The structure to walk; undefined when some asked tag no host carries. */
  readonly structure: Structure | undefined;
  /** Per dimension, the float ask (−∞ for resources not asked). */
  readonly need: Float64Array;
  /** Dimensions worth checking: asked resources and eligibility. */
  readonly active: readonly number[];
  /** An asked resource no host declares: nothing can fit. */
  readonly impossible: boolean;
  /** Resource index bestFit / leastConsumed order by, or −1. */
  readonly primary: number;
  /** Allowed global host ranges [start, end) as pairs, or undefined for all hosts. */
  readonly ranges: Int32Array | undefined;
  /** Per pool index: 1 when the pool is allowed (undefined: all). */
  readonly allowedPools: Uint8Array | undefined;
  readonly allowedHosts: number;
}

export interface HostCursor {
  /** Next host index, or −1 when there is none. */
  next(): number;
  /** Never return a host before this global index (whole pools are skipped this way). */
  skipTo(globalIndex: number): void;
}

function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class HostIndex {
  /** Resource dimensions followed by one eligibility dimension. */
  readonly dims: number;
  private readonly eligibilityDim: number;
  private readonly resourceIndex: Map<string, number>;
  private readonly freeExact: bigint[][];
  private readonly freeApprox: Float64Array[];
  private readonly eligible: Uint8Array;
  private readonly structures = new Map<string, Structure>();
  private readonly hostStructures: Structure[][];
  private readonly leaf: Float64Array;

  constructor(
    readonly inventory: Inventory,
    private readonly ledger: Ledger,
  ) {
    const n = inventory.hosts.length;
    const r = inventory.resources.length;
    this.dims = r + 1;
    this.eligibilityDim = r;
    this.resourceIndex = new Map(inventory.resources.map((name, i) => [name, i]));
    this.freeExact = inventory.resources.map(() => new Array<bigint>(n).fill(0n));
    this.freeApprox = inventory.resources.map(() => new Float64Array(n));
    this.eligible = new Uint8Array(n);
    this.leaf = new Float64Array(this.dims);
    for (const h of inventory.hosts) this.compute(h);

    const memberLists = new Map<string, number[]>([[ALL, []]]);
    for (const h of inventory.hosts) {
      memberLists.get(ALL)!.push(h.index);
      for (const t of h.tags) {
        const list = memberLists.get(t);
        if (list) list.push(h.index);
        else memberLists.set(t, [h.index]);
      }
    }
    this.hostStructures = inventory.hosts.map(() => []);
    for (const [key, list] of memberLists) {
      const members = Int32Array.from(list);
      const tree = new MaxTree(members.length, this.dims);
      tree.load((pos, d) => this.leafValue(members[pos]!, d));
      const s: Structure = { members, tree, treaps: new Map() };
      this.structures.set(key, s);
      for (const h of list) this.hostStructures[h]!.push(s);
    }
  }

  resourceIndexOf(name: string): number | undefined {
    return this.resourceIndex.get(name);
  }

  /** Exact free amount (allocatable − allocated) of resource index r on host h. */
  free(h: number, r: number): bigint {
    return this.freeExact[r]![h]!;
  }

  isEligible(h: number): boolean {
    return this.eligible[h] === 1;
  }

  /** Re-reads one host from the ledger after a reserve or release. */
  refresh(host: HostInfo): void {
    const h = host.index;
    const structs = this.hostStructures[h]!;
    const was = this.eligible[h] === 1;
    const local = structs.map((s) => lowerBound(s.members, h));
    // Keys change below: take the host out of every ordered set first (see MaxTreap).
    if (was) structs.forEach((s, i) => s.treaps.forEach((t) => t.remove(local[i]!)));
    this.compute(host);
    const is = this.eligible[h] === 1;
    for (let d = 0; d < this.dims; d++) this.leaf[d] = this.leafValue(h, d);
    structs.forEach((s, i) => {
      s.tree.set(local[i]!, this.leaf);
      if (is) s.treaps.forEach((t) => t.insert(local[i]!));
    });
  }

  private compute(host: HostInfo): void {
    const h = host.index;
    const usage = this.ledger.hostUsage(host.key);
    this.inventory.resources.forEach((name, r) => {
      const free = (host.allocatable.get(name) ?? 0n) - (usage.allocated.get(name) ?? 0n);
      this.freeExact[r]![h] = free;
      this.freeApprox[r]![h] = Number(free);
    });
    this.eligible[h] = eligibleHost(host, usage.nodes, usage.ports) ? 1 : 0;
  }

  private leafValue(h: number, d: number): number {
    if (this.eligible[h] !== 1) return -Infinity;
    return d === this.eligibilityDim ? 0 : this.freeApprox[d]![h]!;
  }

  /** Ascending by free amount, exactly: float first, bigint on float ties. */
  private keyComparator(r: number): (a: number, b: number) => number {
    const approx = this.freeApprox[r]!;
    const exact = this.freeExact[r]!;
    return (a, b) => {
      const d = approx[a]! - approx[b]!;
      if (d !== 0) return d;
      const ea = exact[a]!;
      const eb = exact[b]!;
      return ea < eb ? -1 : ea > eb ? 1 : 0;
    };
  }

  /** Ascending by (free, host index): a total order, as the lists need. */
  private comparator(r: number): (a: number, b: number) => number {
    const key = this.keyComparator(r);
    return (a, b) => key(a, b) || a - b;
  }

  private treapFor(s: Structure, r: number): MaxTreap {
    let treap = s.treaps.get(r);
    if (!treap) {
      const members = s.members;
      const approx = this.freeApprox;
      const cmp = this.comparator(r);
      treap = new MaxTreap(
        members.length,
        this.inventory.resources.length,
        (a, b) => cmp(members[a]!, members[b]!),
        (id, d) => approx[d]![members[id]!]!,
      );
      for (let i = 0; i < members.length; i++)
        if (this.eligible[members[i]!] === 1) treap.insert(i);
      s.treaps.set(r, treap);
    }
    return treap;
  }

  /**
   * Prepares a query. `tags` all-of, `asked` resource → amount, `allowedPools` the pools the
   * request may use at all (placement, avoid, scope), undefined for every pool.
   */
  prepare(
    tags: readonly string[],
    asked: ReadonlyMap<string, bigint>,
    primary: string | undefined,
    allowedPools: readonly PoolInfo[] | undefined,
  ): IndexQuery {
    let structure: Structure | undefined = this.structures.get(ALL);
    for (const t of tags) {
      const s = this.structures.get(t);
      if (!s) {
        structure = undefined;
        break;
      }
      if (s.members.length < structure!.members.length) structure = s;
    }
    const need = new Float64Array(this.dims).fill(-Infinity);
    need[this.eligibilityDim] = 0;
    const active: number[] = [this.eligibilityDim];
    let impossible = false;
    for (const [name, amount] of asked) {
      if (amount <= 0n) continue;
      const r = this.resourceIndex.get(name);
      if (r === undefined) {
        impossible = true;
        continue;
      }
      need[r] = Number(amount);
      active.push(r);
    }
    let ranges: Int32Array | undefined;
    let allowed: Uint8Array | undefined;
    let allowedHosts = this.inventory.hosts.length;
    if (allowedPools) {
      allowed = new Uint8Array(this.inventory.pools.length);
      const pairs: number[] = [];
      allowedHosts = 0;
      for (const p of allowedPools) {
        allowed[p.index] = 1;
        allowedHosts += p.end - p.start;
        if (p.end === p.start) continue;
        // Pools are contiguous in declared order; merge neighbours into one range.
        if (pairs.length > 0 && pairs[pairs.length - 1] === p.start)
          pairs[pairs.length - 1] = p.end;
        else pairs.push(p.start, p.end);
      }
      ranges = Int32Array.from(pairs);
    }
    return {
      structure: impossible ? undefined : structure,
      need,
      active,
      impossible,
      primary: primary === undefined ? -1 : (this.resourceIndex.get(primary) ?? -1),
      ranges,
      allowedPools: allowed,
      allowedHosts,
    };
  }

  /** Hosts in declared order that pass the index's pruning (firstFit). */
  declared(q: IndexQuery, skip?: (h: number) => boolean): HostCursor {
    const s = q.structure;
    const total = this.inventory.hosts.length;
    let g = 0;
    let ri = 0;
    const ranges = q.ranges;
    return {
      skipTo(globalIndex: number): void {
        if (globalIndex > g) g = globalIndex;
      },
      next(): number {
        if (!s) return -1;
        for (;;) {
          let to = total;
          if (ranges) {
            while (ri * 2 < ranges.length && ranges[ri * 2 + 1]! <= g) ri++;
            if (ri * 2 >= ranges.length) return -1;
            if (g < ranges[ri * 2]!) g = ranges[ri * 2]!;
            to = ranges[ri * 2 + 1]!;
          }
          const p = s.tree.findFirst(
            lowerBound(s.members, g),
            lowerBound(s.members, to),
            q.need,
            q.active,
          );
          if (p < 0) {
            if (!ranges) return -1;
            g = to;
            continue;
          }
          const h = s.members[p]!;
          g = h + 1;
          if (skip && skip(h)) continue;
          return h;
        }
      },
    };
  }

  /**
   * Hosts ordered by free amount of the query's primary resource: ascending (bestFit: least free
   * that fits) or descending (firstFitLeastConsumed: most free first); equal amounts in declared
   * order. Without a primary resource every host ties, which is declared order.
   */
  *byFree(q: IndexQuery, direction: 'asc' | 'desc'): Generator<number, void, undefined> {
    const s = q.structure;
    if (!s) return;
    const r = q.primary;
    if (r < 0) {
      const c = this.declared(q);
      for (let h = c.next(); h >= 0; h = c.next()) yield h;
      return;
    }
    const approx = this.freeApprox[r]!;
    const exact = this.freeExact[r]!;
    const need = q.need[r]!;
    const allowed = q.allowedPools;
    const hosts = this.inventory.hosts;
    const ok = (h: number): boolean => !allowed || allowed[hosts[h]!.pool.index] === 1;

    if (q.ranges && q.allowedHosts * 4 < s.members.length) {
      // Narrow request (one pool, one zone of many): sorting its few hosts beats walking the list.
      const key = this.keyComparator(r);
      const picked: number[] = [];
      for (let i = 0; i < q.ranges.length; i += 2) {
        const end = lowerBound(s.members, q.ranges[i + 1]!);
        for (let p = lowerBound(s.members, q.ranges[i]!); p < end; p++) {
          const h = s.members[p]!;
          if (this.eligible[h] === 1 && approx[h]! >= need) picked.push(h);
        }
      }
      picked.sort(
        direction === 'asc' ? (a, b) => key(a, b) || a - b : (a, b) => key(b, a) || a - b,
      );
      yield* picked;
      return;
    }

    // Walk the ordered set: each step is one descent that also skips hosts short of any other
    // asked resource. Dimensions checked: the asked resources (not eligibility: only eligible
    // hosts are in the set).
    const treap = this.treapFor(s, r);
    const members = s.members;
    const active = q.active.filter((d) => d !== this.eligibilityDim);
    const key = this.keyComparator(r);
    const after = this.comparator(r);
    if (direction === 'asc') {
      let cur = treap.first((x) => approx[members[x]!]! >= need, q.need, active);
      while (cur >= 0) {
        const h = members[cur]!;
        if (ok(h)) yield h;
        cur = treap.first((x) => after(members[x]!, h) > 0, q.need, active);
      }
      return;
    }
    // Descending by free, but hosts with the same free amount in declared order: find the most
    // free host that fits, then walk its run of equal amounts from the left.
    let top = treap.last(() => true, q.need, active);
    while (top >= 0) {
      const t = members[top]!;
      let cur = treap.first((x) => key(members[x]!, t) >= 0, q.need, active);
      while (cur >= 0 && exact[members[cur]!] === exact[t]) {
        const h = members[cur]!;
        if (ok(h)) yield h;
        cur = treap.first((x) => after(members[x]!, h) > 0, q.need, active);
      }
      top = treap.last((x) => key(members[x]!, t) < 0, q.need, active);
    }
  }
}
