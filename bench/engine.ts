// Engine benchmark (`npm run bench:engine`): place 10,000 single-node requests with firstFit and
// with bestFit over 500, 5,000 and 50,000 hosts (tags and mixed sizes), and print placements per
// second and how the cost per placement grows from 500 to 50,000 hosts. A full scan per placement
// would grow 100×; the indexes keep it near-flat. Figures go to docs/benchmarks.md.
import { cpus, loadavg } from 'node:os';
import {
  Engine,
  buildInventory,
  createChains,
  type HostPool,
  type ResourceRequest,
} from '../src/allocation/index.js';

const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 10_000);
const SIZES = (process.env['BENCH_HOSTS'] ?? '500,5000,50000').split(',').map(Number);
const HOSTS_PER_POOL = 100;
const ALLOCATORS = ['firstFit', 'bestFit'] as const;

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

function run(allocator: string, hosts: number, pools: HostPool[], reqs: ResourceRequest[]): Run {
  const t0 = process.hrtime.bigint();
  const engine = new Engine(buildInventory(pools));
  const t1 = process.hrtime.bigint();
  const chains = createChains({ hostAllocators: [{ type: allocator }] });
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
  console.log(`engine benchmark: ${REQUESTS} single-node requests per run`);
  console.log(
    `node ${process.version}, ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, load ${loadavg()[0]!.toFixed(2)}`,
  );
  // Warm the JIT so the first (smallest) size is not charged for compilation.
  for (const a of ALLOCATORS) run(a, 500, inventory(500), reqs.slice(0, 2000));

  const results: Run[] = [];
  for (const hosts of SIZES) {
    const pools = inventory(hosts);
    for (const a of ALLOCATORS) {
      const r = run(a, hosts, pools, reqs);
      results.push(r);
      console.log(
        `${a.padEnd(9)} ${String(hosts).padStart(6)} hosts: ${Math.round(r.perSecond).toLocaleString('en-US').padStart(7)} placements/s` +
          `  ${r.microsPerRequest.toFixed(1).padStart(6)} µs/request (cpu ${r.cpuMicrosPerRequest.toFixed(1)} µs)` +
          `  placed ${r.placed}, unplaced ${r.failed}` +
          `  (inventory+index build ${r.buildMs.toFixed(0)} ms)`,
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
  console.log(JSON.stringify({ requests: REQUESTS, results }));
}

main();
