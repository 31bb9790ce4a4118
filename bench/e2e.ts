// End-to-end benchmark: N hosts and M requests on a local control plane (built from the
// Kubernetes modules, as in the tests). Prints bindings per second (created → Ready), p50/p99
// latency, API writes per bound request, and the operator's peak RSS; and, in the same run, a
// baseline client that only creates the same requests and writes one status each, so the
// operator's rate is also a ratio of what this API server allows on this machine.
//   npm run bench:e2e -- [--hosts 200] [--requests 500] [--concurrency 8]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeRest, loadKubeConfig } from '../src/kube/rest.js';
import type { ResourceRequest } from '../src/api/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'bin');
const { values } = parseArgs({
  options: {
    hosts: { type: 'string' },
    requests: { type: 'string' },
    concurrency: { type: 'string' },
  },
});
const HOSTS = Number(values.hosts ?? 200);
const REQUESTS = Number(values.requests ?? 500);
const CONCURRENCY = Number(values.concurrency ?? 8);
const API = '/apis/berth.dev/v1alpha1';

function startPlane(dir: string): Promise<{ child: ChildProcess; kubeconfig: string }> {
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(
    join(bin, 'kube-controlplane'),
    [`--kubeconfig=${kubeconfig}`, '--exit-with-parent'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return new Promise((res, rej) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('controlplane ready')) res({ child, kubeconfig });
    });
    child.on('exit', (c) => rej(new Error(`control plane exited ${c}`)));
  });
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

const rr = (ns: string, i: number) => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name: `r-${i}`, namespace: ns },
  spec: { count: 1, resources: { cpu: '1', memory: '1Gi' } },
});

/** Write requests the API server has served so far (its apiserver_request_total). */
function writesSoFar(kubeconfig: string): number {
  const text = spawnSync(
    join(bin, 'kubectl'),
    ['--kubeconfig', kubeconfig, 'get', '--raw', '/metrics'],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  ).stdout;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (!/verb="(POST|PUT|PATCH|DELETE)"/.test(line)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const pct = (xs: number[], p: number) =>
  xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-e2e-'));
  const { child, kubeconfig } = await startPlane(dir);
  let operator: ChildProcess | undefined;
  try {
    spawnSync(
      join(bin, 'kubectl'),
      ['--kubeconfig', kubeconfig, 'apply', '-f', join(root, 'crds')],
      { stdio: 'ignore' },
    );
    spawnSync(
      join(bin, 'kubectl'),
      ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', 'crd', '--all'],
      { stdio: 'ignore' },
    );
    const rest = new KubeRest(loadKubeConfig(kubeconfig), 'berth-bench');
    for (const ns of ['bench', 'baseline'])
      await rest.create('/api/v1/namespaces', { metadata: { name: ns } });
    const perPool = 50;
    for (let p = 0; p * perPool < HOSTS; p++) {
      const hosts = Array.from({ length: Math.min(perPool, HOSTS - p * perPool) }, (_, i) => ({
        name: `h${i}`,
        address: `10.${p}.0.${i}`,
        capacity: { cpu: '8', memory: '32Gi' },
      }));
      await rest.create(`${API}/hostpools`, {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'HostPool',
        metadata: { name: `pool-${p}` },
        spec: { zone: 'z', hosts },
      });
    }

    // Baseline: create each request and write one status, as fast as the API server lets us.
    const ids = Array.from({ length: REQUESTS }, (_, i) => i);
    const t0 = performance.now();
    await pool(ids, CONCURRENCY, async (i) => {
      const created = await rest.create<ResourceRequest>(
        `${API}/namespaces/baseline/resourcerequests`,
        rr('baseline', i),
      );
      await rest.replace(`${API}/namespaces/baseline/resourcerequests/r-${i}/status`, {
        ...created,
        status: { phase: 'Ready', ready: '1/1' },
      });
    });
    const baselineRate = REQUESTS / ((performance.now() - t0) / 1000);
    // The operator must not serve the baseline's requests: delete them before it starts.
    await pool(
      ids,
      CONCURRENCY,
      async (i) => void (await rest.delete(`${API}/namespaces/baseline/resourcerequests/r-${i}`)),
    );

    const configPath = join(dir, 'config.yaml');
    writeFileSync(
      configPath,
      'apiVersion: berth.dev/v1alpha1\nkind: OperatorConfig\nprofiles:\n  - name: default\n    provisioners: [{ name: hosts, type: hosts }]\n    hostAllocators: [{ type: firstFit }]\n',
    );
    operator = spawn(
      process.execPath,
      [
        join(root, 'dist/src/cli/main.js'),
        'run',
        `--kubeconfig=${kubeconfig}`,
        `--config=${configPath}`,
        '--leader-elect=false',
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
        '--log-level=warn',
        '--workers=8',
      ],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 2000));

    const createdAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    let done: () => void = () => {};
    const allReady = new Promise<void>((r) => (done = r));
    const stop = await rest.watch<ResourceRequest>(
      `${API}/namespaces/bench/resourcerequests`,
      { allowWatchBookmarks: true },
      (e) => {
        const name = e.object.metadata?.name;
        if (name && e.object.status?.phase === 'Ready' && !readyAt.has(name)) {
          readyAt.set(name, performance.now());
          if (readyAt.size === REQUESTS) done();
        }
      },
      () => {},
      600_000,
    );
    const writesBefore = writesSoFar(kubeconfig);
    const start = performance.now();
    await pool(ids, CONCURRENCY, async (i) => {
      createdAt.set(`r-${i}`, performance.now());
      await rest.create(`${API}/namespaces/bench/resourcerequests`, rr('bench', i));
    });
    await Promise.race([
      allReady,
      new Promise((_, rej) =>
        setTimeout(
          () => rej(new Error(`only ${readyAt.size}/${REQUESTS} Ready after 10 min`)),
          600_000,
        ),
      ),
    ]);
    const elapsed = (performance.now() - start) / 1000;
    stop();
    await new Promise((r) => setTimeout(r, 2000)); // let pool status writes settle into the count
    const writes = writesSoFar(kubeconfig) - writesBefore - REQUESTS;
    const latencies = [...readyAt]
      .map(([n, t]) => t - (createdAt.get(n) ?? t))
      .sort((a, b) => a - b);
    const rss =
      Number(
        /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${operator.pid}/status`, 'utf8'))?.[1] ?? NaN,
      ) / 1024;
    const rate = REQUESTS / elapsed;
    console.log(
      `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    console.log(
      `workload: ${HOSTS} hosts, ${REQUESTS} single-node requests, client concurrency ${CONCURRENCY}, operator workers 8`,
    );
    console.log(`baseline (create + one status write each): ${baselineRate.toFixed(1)} requests/s`);
    console.log(
      `operator: ${rate.toFixed(1)} bindings/s (created → Ready), ${(rate / baselineRate).toFixed(2)}× the baseline`,
    );
    console.log(
      `latency created → Ready: p50 ${pct(latencies, 50).toFixed(0)} ms, p99 ${pct(latencies, 99).toFixed(0)} ms`,
    );
    console.log(
      `API writes per bound request (operator, excluding the create): ${(writes / REQUESTS).toFixed(2)}`,
    );
    console.log(`operator peak RSS: ${rss.toFixed(0)} MiB`);
  } finally {
    if (operator?.pid && operator.exitCode === null) {
      operator.kill('SIGTERM');
      await new Promise((r) => operator!.once('exit', r));
    }
    if (child.pid && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
