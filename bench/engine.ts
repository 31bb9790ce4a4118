// Engine benchmark (`npm run bench:engine`): place 10,000 single-node requests with firstFit and
// with bestFit over 500, 5,000 and 50,000 hosts (tags and mixed sizes), and print placements per
// second and how the cost per placement grows from 500 to 50,000 hosts. A full scan per placement
// would grow 100×; the indexes keep it near-flat. Figures go to docs/benchmarks.md.
import { cpus, loadavg } from 'node:os';
import {
  Engine,
  buildInventory,
  createChains,
  type AllocatorChains,
  type HostAllocator,
  type HostPool,
  type ResourceRequest,
} from '../src/allocation/index.js';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 10_000);
const SIZES = (process.env['BENCH_HOSTS'] ?? '500,5000,50000').split(',').map(Number);
const HOSTS_PER_POOL = 100;
const ALLOCATORS = ['firstFit', 'bestFit'] as const;
/** Each configuration runs this many times on a fresh engine; the median run is reported. */
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 3);

/** Deterministic workload: the same hosts and requests on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const SIZES_OF_HOSTS = [
  { cpu: '16', memory: '64Gi' },
  { cpu: '32', memory: '128Gi' },
  { cpu: '64', memory: '256Gi' },
];

/** Pools of 100 hosts across 4 zones; a quarter tagged ssd, a quarter gpu, each with a rack tag. */
function inventory(hosts: number): HostPool[] {
  const pools: HostPool[] = [];
  for (let p = 0; p * HOSTS_PER_POOL < hosts; p++) {
    const tags = [`rack-${p}`, ...(p % 4 === 0 ? ['ssd'] : p % 4 === 1 ? ['gpu'] : [])];
    pools.push({
      metadata: { name: `pool-${String(p).padStart(4, '0')}` },
      spec: {
        zone: `zone-${p % 4}`,
        pod: `pod-${p % 16}`,
        tags,
        overprovisioning: { cpu: 2 },
        reserved: { cpu: '1', memory: '2Gi' },
        hosts: Array.from(
          { length: Math.min(HOSTS_PER_POOL, hosts - p * HOSTS_PER_POOL) },
          (_, h) => ({
            name: `h-${h}`,
            address: `10.${p >> 8}.${p & 255}.${h}`,
            capacity: SIZES_OF_HOSTS[(p + h) % 3]!,
            ...(h % 5 === 0 ? { tags: ['nvme'] } : {}),
          }),
        ),
      },
    });
  }
  return pools;
}

function requests(n: number): ResourceRequest[] {
  const rnd = lcg(42);
  const cpu = ['250m', '500m', '1', '2'];
  const memory = ['1Gi', '2Gi', '4Gi', '8Gi'];
  return Array.from({ length: n }, (_, i) => {
    const t = rnd();
    const tags = t < 0.3 ? ['ssd'] : t < 0.35 ? ['nvme'] : [];
    return {
      metadata: { namespace: `team-${i % 20}`, name: `req-${i}` },
      spec: {
        count: 1,
        resources: { cpu: cpu[Math.floor(rnd() * 4)]!, memory: memory[Math.floor(rnd() * 4)]! },
        tags,
      },
    };
  });
}

interface Run {
  allocator: string;
  hosts: number;
  buildMs: number;
  placed: number;
  failed: number;
  seconds: number;
  perSecond: number;
  microsPerRequest: number;
  /** CPU time (user + system) per request: steadier than wall time on a shared machine. */
  cpuMicrosPerRequest: number;
}

/**
 * The baseline the indexes are measured against: firstFit as a plain scan, every host through the
 * fit rules on every placement (what an engine without indexes does).
 */
const fullScan: HostAllocator = {
  name: 'fullScan',
  type: 'module',
  allocate(request, plan, avoid, returnUpTo) {
    const out = [];
    for (const host of plan.view.inventory.hosts) {
      const r = plan.view.checkHost(host, request, avoid);
      if (r) avoid.rejectHost(host, r);
      else out.push(host);
      if (returnUpTo > 0 && out.length >= returnUpTo) break;
    }
    return out;
  },
};

function chainsFor(allocator: string): AllocatorChains {
  return allocator === 'fullScan'
    ? { host: [fullScan], storage: [] }
    : createChains({ hostAllocators: [{ type: allocator }] });
}

function run(allocator: string, hosts: number, pools: HostPool[], reqs: ResourceRequest[]): Run {
  const t0 = process.hrtime.bigint();
  const engine = new Engine(buildInventory(pools));
  const t1 = process.hrtime.bigint();
  const chains = chainsFor(allocator);
  let placed = 0;
  let failed = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (const r of reqs) {
    const result = engine.plan(r, chains);
    if (result.complete) placed++;
    else failed++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return {
    allocator,
    hosts,
    buildMs: Number(t1 - t0) / 1e6,
    placed,
    failed,
    seconds,
    perSecond: reqs.length / seconds,
    microsPerRequest: (seconds * 1e6) / reqs.length,
    cpuMicrosPerRequest: (cpu.user + cpu.system) / reqs.length,
  };
}

function main(): void {
  const reqs = requests(REQUESTS);
  console.log(
    `engine benchmark: ${REQUESTS} single-node requests per run, median of ${REPEATS} runs`,
  );
  console.log(
    `node ${process.version}, ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, load ${loadavg()[0]!.toFixed(2)}`,
  );
  // Warm the JIT so the first (smallest) size is not charged for compilation.
  for (const a of ALLOCATORS) run(a, 500, inventory(500), reqs.slice(0, 2000));

  const results: Run[] = [];
  for (const hosts of SIZES) {
    const pools = inventory(hosts);
    for (const a of ALLOCATORS) {
      const runs = Array.from({ length: REPEATS }, () => run(a, hosts, pools, reqs)).sort(
        (x, y) => x.seconds - y.seconds,
      );
      const r = runs[Math.floor(runs.length / 2)]!;
      results.push(r);
      console.log(
        `${a.padEnd(9)} ${String(hosts).padStart(6)} hosts: ${Math.round(r.perSecond).toLocaleString('en-US').padStart(7)} placements/s` +
          `  ${r.microsPerRequest.toFixed(1).padStart(6)} µs/request (cpu ${r.cpuMicrosPerRequest.toFixed(1)} µs)` +
          `  placed ${r.placed}, unplaced ${r.failed}` +
          `  (inventory+index build ${r.buildMs.toFixed(0)} ms)`,
      );
    }
  }
  // Baseline: a full scan per placement, on fewer requests (it is slow by design), with
  // returnUpTo −1 so every host is looked at, as a scan that ranks candidates must.
  const baseline: Run[] = [];
  if (process.env['BENCH_BASELINE'] !== '0') {
    for (const hosts of SIZES) {
      const n = Math.max(100, Math.min(REQUESTS, Math.floor(2_000_000 / hosts)));
      const r = run('fullScan', hosts, inventory(hosts), reqs.slice(0, n));
      baseline.push(r);
      console.log(
        `fullScan  ${String(hosts).padStart(6)} hosts: ${Math.round(r.perSecond).toLocaleString('en-US').padStart(7)} placements/s` +
          `  ${r.microsPerRequest.toFixed(1).padStart(6)} µs/request (baseline, ${n} requests)`,
      );
    }
  }

  const small = Math.min(...SIZES);
  const large = Math.max(...SIZES);
  if (small !== large) {
    for (const a of ALLOCATORS) {
      const s = results.find((r) => r.allocator === a && r.hosts === small)!;
      const l = results.find((r) => r.allocator === a && r.hosts === large)!;
      console.log(
        `${a}: cost per request grows ${(l.microsPerRequest / s.microsPerRequest).toFixed(2)}× from ${small} to ${large} hosts ` +
          `(${large / small}× the hosts; a full scan per placement would grow ~${large / small}×)`,
      );
    }
  }
  if (baseline.length > 1 && small !== large) {
    const s = baseline.find((r) => r.hosts === small)!;
    const l = baseline.find((r) => r.hosts === large)!;
    console.log(
      `fullScan: cost per request grows ${(l.microsPerRequest / s.microsPerRequest).toFixed(1)}× from ${small} to ${large} hosts`,
    );
  }
  console.log(JSON.stringify({ requests: REQUESTS, results, baseline }));
}

main();
