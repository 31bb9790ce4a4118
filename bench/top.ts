// `berth top` at fleet scale (`npm run bench:top`): 1,000 hosts in 20 HostPools and 10,000 bound
// or pending ResourceRequests, as the API returns them. Measures what the command does after the
// lists arrive — decoding the JSON pages, the arithmetic, the rendering — as the median of a few
// runs, next to the cost of decoding the pages alone (the floor any client pays). Figures go to
// docs/benchmarks.md.
import { cpus, loadavg } from 'node:os';
import type { HostPool, ResourceRequest } from '../src/api/index.js';
import { fleetView, renderFleet } from '../src/cli/fleet.js';

const POOLS = 20;
const HOSTS_PER_POOL = 50;
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 10_000);
const REPEATS = 5;

const pools: HostPool[] = Array.from({ length: POOLS }, (_, p) => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name: `rack-${p}` },
  spec: {
    zone: `zone-${p % 4}`,
    hosts: Array.from({ length: HOSTS_PER_POOL }, (_, h) => ({
      name: `h${h}`,
      address: `10.${p}.0.${h}`,
      capacity: { cpu: '64', memory: '256Gi', 'nvidia.com/gpu': '4' },
    })),
  },
  status: {
    hostCount: HOSTS_PER_POOL,
    nodes: 400,
    capacity: { cpu: '3200', memory: '12800Gi', 'nvidia.com/gpu': '200' },
    allocated: { cpu: '1600', memory: '4000Gi', 'nvidia.com/gpu': '20' },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Available',
        message: 'the pool takes new nodes',
        lastTransitionTime: '2026-12-01T00:00:00Z',
      },
    ],
  },
}));

const requests: ResourceRequest[] = Array.from({ length: REQUESTS }, (_, i) => {
  const bound = i % 10 !== 0;
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ResourceRequest',
    metadata: {
      name: `job-${i}`,
      namespace: `team-${i % 40}`,
      creationTimestamp: new Date(Date.UTC(2026, 11, 1) + i * 1000).toISOString(),
    },
    spec: { count: 1, resources: { cpu: '4', memory: '16Gi' } },
    status: bound
      ? {
          phase: 'Ready',
          ready: '1/1',
          nodes: [
            {
              name: `job-${i}-0`,
              provisioner: 'hosts',
              hostPool: `rack-${i % POOLS}`,
              host: `h${i % HOSTS_PER_POOL}`,
              address: '10.0.0.1',
              configEntry: `NodeName=job-${i}-0 NodeHostname=10.0.0.1 Port=`,
              state: 'Running',
            },
          ],
        }
      : {
          phase: 'Pending',
          explanation: { summary: '0/1000 hosts fit: 1000 Insufficient cpu' },
        },
  };
});

/** The pages as the API server sends them (500 objects each). */
const pages = (items: unknown[]) => {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += 500)
    out.push(JSON.stringify({ items: items.slice(i, i + 500), metadata: {} }));
  return out;
};
const poolPages = pages(pools);
const requestPages = pages(requests);

const decode = () => ({
  pools: poolPages.flatMap((p) => (JSON.parse(p) as { items: HostPool[] }).items),
  requests: requestPages.flatMap((p) => (JSON.parse(p) as { items: ResourceRequest[] }).items),
});

function median(f: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

median(() => renderFleet(fleetView(decode().pools, decode().requests, new Date()), {})); // warm-up
const decodeMs = median(() => decode());
let lines = 0;
const topMs = median(() => {
  const { pools: p, requests: r } = decode();
  lines = renderFleet(fleetView(p, r, new Date()), { byNamespace: true }).split('\n').length;
});
const bytes = [...poolPages, ...requestPages].reduce((n, p) => n + p.length, 0);
console.log(
  `machine: ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)}; ${POOLS * HOSTS_PER_POOL} hosts in ${POOLS} pools, ${REQUESTS} requests (${(bytes / 2 ** 20).toFixed(1)} MiB of JSON)`,
);
console.log(`decode the pages only: ${decodeMs.toFixed(0)} ms (median of ${REPEATS})`);
console.log(
  `berth top (decode + view + render, ${lines} lines): ${topMs.toFixed(0)} ms — ${(topMs / decodeMs).toFixed(2)}× decoding alone`,
);
console.log(JSON.stringify({ hosts: POOLS * HOSTS_PER_POOL, requests: REQUESTS, decodeMs, topMs }));
