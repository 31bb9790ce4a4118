// Property-based tests (fast-check) over random inventories and request streams:
//   - invariants 1–3 of docs/design.md#invariants hold after every step;
//   - the same inputs (and seeds) give the same placements;
//   - releasing everything returns every ledger entry to zero;
//   - the indexed allocators offer exactly the hosts, in exactly the order, that a brute-force
//     scan with the fit rules gives.
// FC_RUNS raises the number of runs (e.g. FC_RUNS=2000 for a long soak).
import { expect } from 'chai';
import fc from 'fast-check';
import {
  Engine,
  Ledger,
  buildInventory,
  checkHost,
  createChains,
  createHostAllocator,
  parseQuantity,
  type AllocatorConfig,
  type HostInfo,
  type HostPool,
  type Inventory,
  type PlanResult,
  type ResourceRequest,
  type StoragePool,
} from '../../src/allocation/index.js';

const RUNS = Number(process.env['FC_RUNS'] ?? 60);
const HOST_TYPES = [
  'firstFit',
  'firstFitLeastConsumed',
  'bestFit',
  'random',
  'userDispersing',
  'userConcentrated',
];
const STORAGE_TYPES = ['localStorage', 'clusterScope', 'zoneWide', 'random'];
const RATIOS: Record<string, [bigint, bigint]> = {
  '1': [1n, 1n],
  '1.5': [3n, 2n],
  '2': [2n, 1n],
  '0.5': [1n, 2n],
};

// ---- arbitraries ----------------------------------------------------------------------------

const tagsArb = fc.subarray(['ssd', 'gpu', 'nvme'], { maxLength: 2 });

const hostArb = fc.record({
  cpu: fc.constantFrom('1', '2', '4', '8', '16', '1500m'),
  memory: fc.constantFrom('1Gi', '4Gi', '16Gi', '64Gi'),
  tags: tagsArb,
  state: fc.constantFrom('Enabled', 'Enabled', 'Enabled', 'Enabled', 'Disabled', 'Maintenance'),
  maxNodes: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  ports: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
});

const poolArb = fc.record({
  zone: fc.constantFrom('z1', 'z2'),
  pod: fc.option(fc.constantFrom('p1', 'p2'), { nil: undefined }),
  state: fc.constantFrom('Enabled', 'Enabled', 'Enabled', 'Disabled'),
  tags: tagsArb,
  ratio: fc.constantFrom(undefined, '1', '1.5', '2', '0.5'),
  reservedCpu: fc.constantFrom(undefined, '500m', '1'),
  threshold: fc.constantFrom(undefined, 0.5, 0.85, 1),
  hosts: fc.array(hostArb, { minLength: 1, maxLength: 5 }),
});

const storageArb = fc.record({
  scope: fc.constantFrom('Host', 'Cluster', 'Zone'),
  pick: fc.nat(),
  capacity: fc.constantFrom('10Gi', '50Gi', '100Gi', '200Gi'),
  tags: fc.subarray(['fast'], { maxLength: 1 }),
  ratio: fc.constantFrom(undefined, 1, 2),
  threshold: fc.constantFrom(undefined, 0.9),
});

const requestArb = fc.record({
  namespace: fc.constantFrom('a', 'b'),
  count: fc.integer({ min: 1, max: 4 }),
  minCount: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
  cpu: fc.constantFrom(undefined, '0', '250m', '1', '2', '3'),
  memory: fc.constantFrom(undefined, '512Mi', '2Gi', '8Gi'),
  tags: fc.subarray(['ssd', 'gpu'], { maxLength: 1 }),
  volumes: fc.array(
    fc.record({ size: fc.constantFrom('1Gi', '20Gi', '60Gi'), fast: fc.boolean() }),
    { maxLength: 2 },
  ),
  maxNodesPerHost: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }),
  zone: fc.option(fc.constantFrom('z1', 'z2'), { nil: undefined, freq: 4 }),
  avoidPool: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
  chain: fc.array(fc.constantFrom(...HOST_TYPES), { minLength: 1, maxLength: 2 }),
  seed: fc.integer({ min: 0, max: 5 }),
});

const opArb = fc.oneof(
  { weight: 3, arbitrary: requestArb.map((r) => ({ kind: 'plan' as const, r })) },
  { weight: 1, arbitrary: fc.nat().map((n) => ({ kind: 'release' as const, n })) },
);

const scenarioArb = fc.record({
  pools: fc.array(poolArb, { minLength: 1, maxLength: 4 }),
  storage: fc.array(storageArb, { maxLength: 4 }),
  storageChain: fc.subarray(STORAGE_TYPES, { minLength: 1 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 25 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;
type PlanOp = Extract<Scenario['ops'][number], { kind: 'plan' }>;

// ---- building objects -------------------------------------------------------------------------

function hostPools(s: Scenario): HostPool[] {
  return s.pools.map((p, i) => ({
    metadata: { name: `pool-${i}` },
    spec: {
      zone: p.zone,
      ...(p.pod ? { pod: p.pod } : {}),
      state: p.state,
      tags: p.tags,
      ...(p.ratio ? { overprovisioning: { cpu: Number(p.ratio) } } : {}),
      ...(p.reservedCpu ? { reserved: { cpu: p.reservedCpu } } : {}),
      ...(p.threshold ? { disableThreshold: { cpu: p.threshold, memory: p.threshold } } : {}),
      hosts: p.hosts.map((h, j) => ({
        name: `h${j}`,
        address: `10.${i}.0.${j}`,
        capacity: { cpu: h.cpu, memory: h.memory },
        tags: h.tags,
        state: h.state,
        ...(h.maxNodes ? { maxNodes: h.maxNodes } : {}),
        ...(h.ports ? { ports: { base: 7000, count: h.ports } } : {}),
      })),
    },
  }));
}

function storagePools(s: Scenario): StoragePool[] {
  return s.storage.map((sp, i) => {
    const pool = s.pools[sp.pick % s.pools.length]!;
    const poolName = `pool-${sp.pick % s.pools.length}`;
    const where =
      sp.scope === 'Host'
        ? { host: `${poolName}/h${sp.pick % pool.hosts.length}` }
        : sp.scope === 'Cluster'
          ? { hostPool: poolName }
          : { zone: pool.zone };
    return {
      metadata: { name: `sp-${i}` },
      spec: {
        scope: sp.scope,
        ...where,
        capacity: sp.capacity,
        tags: sp.tags,
        ...(sp.ratio ? { overprovisioning: sp.ratio } : {}),
        ...(sp.threshold ? { disableThreshold: sp.threshold } : {}),
      },
    };
  });
}

function requestOf(r: PlanOp, index: number, s: Scenario): ResourceRequest {
  const q = r.r;
  const resources: Record<string, string> = {};
  if (q.cpu !== undefined) resources['cpu'] = q.cpu;
  if (q.memory !== undefined) resources['memory'] = q.memory;
  return {
    metadata: { namespace: q.namespace, name: `req-${index}` },
    spec: {
      count: q.count,
      ...(q.minCount !== undefined ? { minCount: Math.min(q.minCount, q.count) } : {}),
      resources,
      tags: q.tags,
      volumes: q.volumes.map((v, i) => ({
        name: `v${i}`,
        size: v.size,
        ...(v.fast ? { tags: ['fast'] } : {}),
      })),
      ...(q.maxNodesPerHost ? { maxNodesPerHost: q.maxNodesPerHost } : {}),
      ...(q.zone ? { placement: { zone: q.zone } } : {}),
      ...(q.avoidPool !== undefined
        ? { avoid: { hostPools: [`pool-${q.avoidPool % s.pools.length}`] } }
        : {}),
    },
  };
}

// ---- the run ----------------------------------------------------------------------------------

interface Step {
  owner: string;
  result: PlanResult;
}

/** Plays a scenario like the provisioning stack would: plan, drop a shortfall below minCount. */
function play(
  s: Scenario,
  afterEach: (engine: Engine, requests: Map<string, ResourceRequest>) => void,
): { engine: Engine; steps: Step[] } {
  const engine = new Engine(buildInventory(hostPools(s), storagePools(s)), new Ledger());
  const requests = new Map<string, ResourceRequest>();
  const steps: Step[] = [];
  s.ops.forEach((op, i) => {
    if (op.kind === 'release') {
      const owners = engine.ledger.owners();
      if (owners.length > 0) engine.ledger.releaseOwner(owners[op.n % owners.length]!);
    } else {
      const req = requestOf(op, i, s);
      const owner = `${req.metadata.namespace}/${req.metadata.name}`;
      requests.set(owner, req);
      const chains = createChains({
        hostAllocators: op.r.chain.map((type): AllocatorConfig => ({ type, seed: op.r.seed })),
        storageAllocators: s.storageChain.map((type): AllocatorConfig => ({
          type,
          seed: op.r.seed,
        })),
      });
      const result = engine.plan(req, chains);
      steps.push({ owner, result });
      const minCount = req.spec.minCount ?? req.spec.count;
      if (result.placements.length < minCount) engine.ledger.releaseOwner(owner);
    }
    afterEach(engine, requests);
  });
  return { engine, steps };
}

const ratioOf = (pool: HostPool, resource: string): [bigint, bigint] => {
  const r = pool.spec.overprovisioning?.[resource];
  return r === undefined ? [1n, 1n] : RATIOS[String(r)]!;
};

/** Invariants 1–3 (and thresholds, ports), recomputed from ledger entries, not from its sums. */
function checkInvariants(engine: Engine, requests: Map<string, ResourceRequest>): void {
  const inv: Inventory = engine.inventory;
  const byHost = new Map<string, { res: Map<string, bigint>; nodes: number; ports: number[] }>();
  const byStorage = new Map<string, bigint>();
  const perOwner = new Map<string, Set<string>>();
  for (const e of engine.ledger.entries()) {
    const names = perOwner.get(e.owner) ?? new Set();
    expect(names.has(e.node), `node ${e.owner}/${e.node} twice`).to.equal(false);
    names.add(e.node);
    perOwner.set(e.owner, names);
    if (e.hostKey) {
      const u = byHost.get(e.hostKey) ?? {
        res: new Map<string, bigint>(),
        nodes: 0,
        ports: [] as number[],
      };
      for (const [k, v] of e.resources) u.res.set(k, (u.res.get(k) ?? 0n) + v);
      u.nodes++;
      if (e.port !== undefined) u.ports.push(e.port);
      byHost.set(e.hostKey, u);
    }
    for (const v of e.volumes)
      byStorage.set(v.storagePool, (byStorage.get(v.storagePool) ?? 0n) + v.size);
  }
  // 3. No request has more than count nodes; held nodes ≥ minCount (the stack's rule, played here).
  for (const [owner, names] of perOwner) {
    const spec = requests.get(owner)!.spec;
    expect(names.size).to.be.at.most(spec.count);
    expect(names.size).to.be.at.least(spec.minCount ?? spec.count);
  }
  // 1. Per host and resource: Σ allocated ≤ (capacity − reserved) × ratio; nodes ≤ maxNodes.
  for (const pool of inv.pools) {
    const src = pool.source;
    const poolSum = new Map<string, bigint>();
    const poolCap = new Map<string, bigint>();
    for (const host of pool.hosts) {
      const spec = src.spec.hosts.find((h) => h.name === host.name)!;
      const u = byHost.get(host.key);
      for (const [res, q] of Object.entries(spec.capacity)) {
        const [num, den] = ratioOf(src, res);
        const reserved =
          src.spec.reserved?.[res] === undefined ? 0n : parseQuantity(src.spec.reserved[res]!);
        const allocated = u?.res.get(res) ?? 0n;
        const capacity = parseQuantity(q);
        expect(allocated * den <= (capacity - reserved) * num, `${host.key} ${res}`).to.equal(true);
        // The Semantics form of the same rule, for hosts holding some: allocated + reserved ≤ capacity × ratio.
        if (allocated > 0n) {
          expect(
            (allocated + reserved) * den <= capacity * num,
            `${host.key} ${res} (semantics form)`,
          ).to.equal(true);
        }
        poolSum.set(res, (poolSum.get(res) ?? 0n) + allocated);
        poolCap.set(res, (poolCap.get(res) ?? 0n) + host.allocatable.get(res)!);
      }
      if (spec.maxNodes !== undefined) expect(u?.nodes ?? 0).to.be.at.most(spec.maxNodes);
      if (u) {
        expect(new Set(u.ports).size, `${host.key} ports unique`).to.equal(u.ports.length);
        if (spec.ports)
          for (const p of u.ports)
            expect(p).to.be.within(spec.ports.base, spec.ports.base + spec.ports.count - 1);
      }
      // The ledger's own sums agree with the entries.
      expect(engine.ledger.hostUsage(host.key).nodes).to.equal(u?.nodes ?? 0);
    }
    // Disable threshold: placements never pushed the pool's share past it.
    for (const [res, t] of Object.entries(src.spec.disableThreshold ?? {})) {
      const [num, den] = [BigInt(Math.round(t * 100)), 100n];
      expect(
        (poolSum.get(res) ?? 0n) * den <= num * (poolCap.get(res) ?? 0n),
        `${pool.name} ${res} threshold`,
      ).to.equal(true);
    }
  }
  // 2. Per storage pool: Σ allocated ≤ capacity × ratio (and its threshold).
  for (const sp of inv.storagePools) {
    const used = byStorage.get(sp.name) ?? 0n;
    const ratio = BigInt(sp.source.spec.overprovisioning ?? 1);
    expect(used <= parseQuantity(sp.source.spec.capacity) * ratio, sp.name).to.equal(true);
    if (sp.source.spec.disableThreshold)
      expect(used * 10n <= 9n * sp.allocatable, `${sp.name} threshold`).to.equal(true);
    expect(engine.ledger.storageUsage(sp.name).allocated).to.equal(used);
  }
}

// ---- brute-force oracle -----------------------------------------------------------------------

function oracleOrder(engine: Engine, type: string, req: ResourceRequest): string[] {
  const { request, avoid } = engine.planContext(req);
  const fits = engine.inventory.hosts.filter((h) => !checkHost(h, request, avoid, engine.ledger));
  const free = (h: HostInfo): bigint =>
    request.primary === undefined
      ? 0n
      : (h.allocatable.get(request.primary) ?? 0n) -
        (engine.ledger.hostUsage(h.key).allocated.get(request.primary) ?? 0n);
  const ns = engine.ledger.namespaceUsage(request.namespace);
  const count = (h: HostInfo): number => ns.get(h.key) ?? 0;
  const cmpBig = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...fits];
  if (type === 'bestFit') sorted.sort((a, b) => cmpBig(free(a), free(b)) || a.index - b.index);
  if (type === 'firstFitLeastConsumed')
    sorted.sort((a, b) => cmpBig(free(b), free(a)) || a.index - b.index);
  if (type === 'userDispersing') sorted.sort((a, b) => count(a) - count(b) || a.index - b.index);
  if (type === 'userConcentrated') sorted.sort((a, b) => count(b) - count(a) || a.index - b.index);
  return sorted.map((h) => h.key);
}

// ---- properties -------------------------------------------------------------------------------

describe('allocation/properties', function () {
  this.timeout(120_000);

  it('invariants 1–3 hold after every step of random request streams', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        play(s, checkInvariants);
      }),
      { numRuns: RUNS },
    );
  });

  it('the same inputs and seeds give the same placements and explanations', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const a = play(s, () => {}).steps;
        const b = play(s, () => {}).steps;
        expect(JSON.stringify(b)).to.equal(JSON.stringify(a));
      }),
      { numRuns: RUNS },
    );
  });

  it('releasing everything returns every ledger entry to zero', () => {
    fc.assert(
      fc.property(scenarioArb, fc.boolean(), (s, reverse) => {
        const { engine } = play(s, () => {});
        const entries = [...engine.ledger.entries()];
        if (reverse) entries.reverse();
        for (const e of entries)
          expect(engine.ledger.release(e.owner, e.node)).to.not.equal(undefined);
        expect(engine.ledger.isEmpty()).to.equal(true);
        for (const h of engine.inventory.hosts) {
          const u = engine.ledger.hostUsage(h.key);
          expect(u.nodes).to.equal(0);
          expect(u.allocated.size).to.equal(0);
        }
        for (const sp of engine.inventory.storagePools)
          expect(engine.ledger.storageUsage(sp.name).allocated).to.equal(0n);
        // And the index agrees: an empty inventory takes again what a fresh engine would.
        const fresh = new Engine(engine.inventory);
        for (const type of HOST_TYPES) {
          const probe: ResourceRequest = {
            metadata: { namespace: 'a', name: 'probe' },
            spec: { count: 1, resources: { cpu: '1' } },
          };
          const x = engine.planContext(probe);
          const y = fresh.planContext(probe);
          expect(
            createHostAllocator({ type })
              .allocate(x.request, x.plan, x.avoid, -1)
              .map((h) => h.key),
          ).to.deep.equal(
            createHostAllocator({ type })
              .allocate(y.request, y.plan, y.avoid, -1)
              .map((h) => h.key),
          );
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('indexed allocators offer exactly the brute-force order, whatever the usage', () => {
    fc.assert(
      fc.property(scenarioArb, requestArb, (s, probeArb) => {
        const probe = requestOf({ kind: 'plan', r: { ...probeArb, volumes: [] } }, 999, s);
        play(s, (engine) => {
          for (const type of HOST_TYPES) {
            const { request, plan, avoid } = engine.planContext(probe);
            const got = createHostAllocator({ type, seed: 3 })
              .allocate(request, plan, avoid, -1)
              .map((h) => h.key);
            const want = oracleOrder(engine, type, probe);
            if (type === 'random') expect([...got].sort()).to.deep.equal([...want].sort());
            else expect(got, type).to.deep.equal(want);
            // With −1 every other host is in avoid, with its reason.
            expect(avoid.rejectedHostCount + got.length).to.equal(engine.inventory.hosts.length);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('exercises both outcomes (placements and shortfalls)', () => {
    let placed = 0;
    let short = 0;
    for (const s of fc.sample(scenarioArb, { numRuns: 100, seed: 1 })) {
      for (const { result } of play(s, () => {}).steps) {
        placed += result.placements.length;
        if (!result.complete) short++;
      }
    }
    expect(placed).to.be.greaterThan(100);
    expect(short).to.be.greaterThan(50);
  });

  it('a failed node explains every host in scope', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { steps, engine } = play(s, () => {});
        for (const { result } of steps) {
          if (result.complete) continue;
          const e = result.explanation;
          if (
            e.requested > e.placed &&
            e.hostsTotal === engine.inventory.hosts.length &&
            e.summary.includes('hosts fit')
          ) {
            const counted = Object.values(e.reasons).reduce((a, b) => a + b, 0);
            expect(counted + e.hostsFit).to.equal(e.hostsTotal);
            expect(e.hostsFit).to.equal(0);
            expect(e.summary.startsWith(`0/${e.hostsTotal} hosts fit`)).to.equal(true);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
