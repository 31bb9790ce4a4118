// End-to-end benchmark, side by side: the upstream kube-scheduler binding Pods to Nodes, and
// Berth binding ResourceRequests to hosts, each on its own fresh control plane (kube-apiserver +
// etcd from bin/), with the same hosts (8 CPU, 32Gi), the same number of objects (1 CPU, 1Gi),
// created by the same client at the same concurrency on the same machine, one side after the
// other. For each: bound per second (first create → last bound), create → bound latency p50/p99,
// API writes per object by verb and resource (the API server's apiserver_request_total, the
// creates excluded), CPU per object of the controller and of the API server (/proc), and the
// controller's peak RSS. Then one table with the ratios Berth / kube-scheduler.
//   npm run bench:e2e -- [--hosts 200] [--requests 500] [--concurrency 16]
//        [--scenario hosts|webhook|webhook-policy[,…]] [--only kube-scheduler|berth]
//        [--workers 16] [--policy manifests/admission.yaml] [--no-baseline] [--timeout 600] [--json]
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { runBerth, SCENARIOS, unthrottled, type BerthRun, type Scenario } from './berth.js';
import type { Result } from './lib/measure.js';
import { log } from './lib/plane.js';
import { positiveInt } from './lib/util.js';
import { runKubeScheduler } from './scheduler.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string' },
    requests: { type: 'string' },
    concurrency: { type: 'string' },
    scenario: { type: 'string', default: 'hosts' },
    only: { type: 'string' },
    workers: { type: 'string' },
    policy: { type: 'string' },
    baseline: { type: 'boolean', default: true },
    timeout: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  allowNegative: true,
  strict: true,
});

const sizes = {
  hosts: positiveInt('hosts', values.hosts, 200),
  requests: positiveInt('requests', values.requests, 500),
  concurrency: positiveInt('concurrency', values.concurrency, 16),
  timeoutMs: positiveInt('timeout', values.timeout, 600) * 1000,
};
const workers = positiveInt('workers', values.workers, 16);
const scenarios = values.scenario.split(',').map((s) => s.trim()) as Scenario[];
for (const s of scenarios)
  if (!SCENARIOS.includes(s))
    throw new Error(`--scenario: ${s} is not one of ${SCENARIOS.join(', ')}`);
if (values.only && values.only !== 'kube-scheduler' && values.only !== 'berth')
  throw new Error('--only: kube-scheduler or berth');

const fmt = (x: number | undefined, digits = 1): string =>
  x === undefined || !Number.isFinite(x)
    ? '—'
    : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

type Figure =
  | 'readsPerObject'
  | 'boundPerSec'
  | 'p50Ms'
  | 'p99Ms'
  | 'writesPerObject'
  | 'ownCpuMsPerObject'
  | 'apiCpuMsPerObject'
  | 'ownPeakRssMiB'
  | 'apiPeakRssMiB';

/** The compared figures: the Result field (the key of the JSON ratios), label, digits. */
const FIGURES: Array<[Figure, string, number]> = [
  ['boundPerSec', 'bound / s (first create → last bound)', 1],
  ['p50Ms', 'latency create → bound p50, ms', 0],
  ['p99Ms', 'latency create → bound p99, ms', 0],
  ['writesPerObject', 'API writes per object (creates excluded)', 2],
];
const AFTER: Array<[Figure, string, number]> = [
  ['readsPerObject', 'API reads (GET, LIST) per object, all clients', 2],
  ['ownCpuMsPerObject', 'own CPU per object, ms', 2],
  ['apiCpuMsPerObject', 'API server (+etcd) CPU per object, ms', 2],
  ['ownPeakRssMiB', 'peak RSS, MiB', 0],
  ['apiPeakRssMiB', 'API server (+etcd) peak RSS, MiB', 0],
];

function table(ks: Result | undefined, berth: Array<[Scenario, BerthRun]>): string {
  const head = ['figure', 'kube-scheduler'];
  for (const [s] of berth) head.push(`Berth (${s})`, 'Berth / kube-scheduler');
  const rows: string[][] = [];
  const row = (
    label: string,
    get: (r: Result) => number | undefined,
    digits: number,
    withRatio = true,
  ) => {
    const cells = [label, fmt(ks && get(ks), digits)];
    for (const [, b] of berth) {
      const r = ratio(get(b.result), ks && get(ks));
      cells.push(fmt(get(b.result), digits), withRatio ? fmt(r, 2) : '');
    }
    rows.push(cells);
  };
  for (const [k, label, digits] of FIGURES) row(label, (r) => r[k], digits);
  const keys = new Set<string>(Object.keys(ks?.writesByKey ?? {}));
  for (const [, b] of berth) for (const k of Object.keys(b.result.writesByKey)) keys.add(k);
  for (const k of keys) row(`… ${k}`, (r) => r.writesByKey[k] ?? 0, 2, false);
  for (const [k, label, digits] of AFTER) row(label, (r) => r[k], digits);
  if (berth.some(([, b]) => b.webhookCpuMsPerObject !== undefined)) {
    const cells = ['webhook service (kvm-farm) CPU per object, ms', '—'];
    for (const [, b] of berth) cells.push(fmt(b.webhookCpuMsPerObject, 2), '');
    rows.push(cells);
  }
  const lines = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    loadavg1: Number(loadavg()[0]?.toFixed(2)),
  };
  let ks: Result | undefined;
  if (values.only !== 'berth') ks = await runKubeScheduler(sizes);
  const berth: Array<[Scenario, BerthRun]> = [];
  const unavailable: Scenario[] = [];
  if (values.only !== 'kube-scheduler') {
    for (const s of scenarios) {
      const run = await runBerth(
        { ...sizes, workers, baseline: values.baseline, policyDir: values.policy },
        s,
      );
      if (run) berth.push([s, run]);
      else unavailable.push(s);
    }
  }
  if (values.json) {
    const ratios = Object.fromEntries(
      berth.map(([s, b]) => [
        s,
        Object.fromEntries(
          [...FIGURES, ...AFTER].map(([k]) => [k, ratio(b.result[k], ks?.[k]) ?? null]),
        ),
      ]),
    );
    const out = {
      machine,
      workload: {
        ...sizes,
        workers,
        berthFlags: unthrottled(),
        kubeSchedulerClient: { qps: -1, burst: 10000 },
        hostCpu: 8,
        hostMemory: '32Gi',
        object: { cpu: '1', memory: '1Gi' },
      },
      kubeScheduler: ks ?? null,
      berth: Object.fromEntries(berth),
      ratios,
      unavailable,
    };
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  console.log(
    `machine: ${machine.cores} cores (${machine.cpu}), ${machine.memGiB} GiB, Node ${machine.node}, load average ${machine.loadavg1} at the start`,
  );
  console.log(
    `workload: ${sizes.hosts} hosts/Nodes of 8 CPU, 32Gi; ${sizes.requests} objects of 1 CPU, 1Gi (Pods; single-node ResourceRequests); client concurrency ${sizes.concurrency}; Berth --workers=${workers} ${unthrottled().join(' ')}, kube-scheduler qps -1`,
  );
  console.log('');
  console.log(table(ks, berth));
  for (const [s, b] of berth)
    if (b.baselinePerSec !== undefined)
      console.log(
        `\nbaseline on Berth's plane (${s}): create + one status write per request, ${fmt(b.baselinePerSec)} requests/s, API server CPU ${fmt(b.baselineApiCpuMsPerObject, 2)} ms per request; Berth bound ${fmt(b.result.boundPerSec / b.baselinePerSec, 2)}× that`,
      );
  for (const s of unavailable) console.log(`\nscenario ${s}: not available (see above), skipped`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
