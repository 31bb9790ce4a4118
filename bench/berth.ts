// Berth's side: the operator (`berth run`, as `make run` starts it) serving single-node
// ResourceRequests on its own fresh control plane. Bound = status.phase Ready.
//   hosts           a `hosts` provisioner over HostPools holding the same hosts as the Nodes of
//                   the kube-scheduler side (8 CPU, 32Gi each);
//   webhook         a `webhook` provisioner: examples/kvm-farm, spawned on 127.0.0.1, with as
//                   many VM slots as the hosts have CPUs;
//   webhook-policy  the same, with the MutatingAdmissionPolicy of manifests/admission.yaml applied.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusBody } from '../src/runtime/status-writer.js';
import type { KubeObject } from './lib/kubeclient.js';
import { createAndWait, measure, type Result } from './lib/measure.js';
import {
  applyCrds,
  died,
  kubectl,
  log,
  root,
  startPlane,
  startProcess,
  stopProcess,
  tail,
  type Plane,
} from './lib/plane.js';
import { cpuMs } from './lib/procstats.js';
import { pool } from './lib/util.js';

export const SCENARIOS = ['hosts', 'webhook', 'webhook-policy'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const API = '/apis/berth.dev/v1alpha1';
export const NS = 'bench';

export interface ResourceRequestObject extends KubeObject {
  status?: { phase?: string };
}

export const isReady = (r: ResourceRequestObject): boolean => r.status?.phase === 'Ready';

export const resourceRequest = (name: string, namespace = NS) => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name, namespace },
  spec: { count: 1, resources: { cpu: '1', memory: '1Gi' } },
});

export interface BerthOptions {
  hosts: number;
  requests: number;
  concurrency: number;
  timeoutMs: number;
  workers: number;
  /** Also measure the create + one status write client (the old e2e baseline). */
  baseline: boolean;
  /** Where webhook-policy finds its manifests (default manifests/admission.yaml). */
  policyDir?: string;
}

export interface BerthRun {
  result: Result;
  /** Requests/s of the baseline client on the same plane, when asked. */
  baselinePerSec?: number;
  /** API server CPU per request of that baseline client, ms. */
  baselineApiCpuMsPerObject?: number;
  /** CPU of the webhook service (kvm-farm) per request, webhook scenarios only. */
  webhookCpuMsPerObject?: number;
}

/** HostPools of 50 hosts each, `cpu` CPUs and 4×`cpu` Gi per host. */
export async function createHostPools(plane: Plane, hosts: number, cpu = 8): Promise<void> {
  const perPool = 50;
  const pools = Array.from({ length: Math.ceil(hosts / perPool) }, (_, p) => p);
  await pool(pools, 4, async (p) => {
    const n = Math.min(perPool, hosts - p * perPool);
    await plane.client.create(`${API}/hostpools`, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'HostPool',
      metadata: { name: `pool-${p}` },
      spec: {
        zone: 'z',
        hosts: Array.from({ length: n }, (_, i) => ({
          name: `h${i}`,
          address: `10.${p >> 8}.${p & 255}.${i + 1}`,
          capacity: { cpu: String(cpu), memory: `${4 * cpu}Gi` },
        })),
      },
    });
  });
}

let runFlags: string[] | undefined;

/**
 * Flags for a client-side rate limit, when this build of `berth run` has one: none, as
 * kube-scheduler gets none here (`qps: -1`), so that neither side waits on its own throttle.
 */
export function unthrottled(): string[] {
  if (!runFlags) {
    const help = spawnSync(
      process.execPath,
      [join(root, 'dist/src/cli/main.js'), 'run', '--help'],
      {
        encoding: 'utf8',
      },
    );
    runFlags = `${help.stdout}${help.stderr}`.includes('--kube-api-qps')
      ? ['--kube-api-qps=-1']
      : [];
  }
  return runFlags;
}

/**
 * The Node.js flags the container image runs the operator with (the Dockerfile's ENTRYPOINT),
 * so the bench measures the operator as it is shipped.
 */
export function shippedNodeFlags(): string[] {
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const argv = m?.[1] ? (JSON.parse(m[1]) as string[]) : [];
  return argv.filter((a) => a.startsWith('--'));
}

/** `berth run` against the plane, as the image starts it but without leader election. */
export function startOperator(plane: Plane, configPath: string, workers: number, logFile: string) {
  return startProcess(
    process.execPath,
    [
      ...shippedNodeFlags(),
      join(root, 'dist/src/cli/main.js'),
      'run',
      ...unthrottled(),
      `--kubeconfig=${plane.kubeconfig}`,
      `--config=${configPath}`,
      '--leader-elect=false',
      '--metrics-bind-address=127.0.0.1:0',
      '--health-probe-bind-address=127.0.0.1:0',
      '--log-level=warn',
      `--workers=${workers}`,
    ],
    logFile,
  );
}

const HOSTS_CONFIG = [
  'apiVersion: berth.dev/v1alpha1',
  'kind: OperatorConfig',
  'profiles:',
  '  - name: default',
  '    provisioners: [{ name: hosts, type: hosts }]',
  '    hostAllocators: [{ type: firstFit }]',
  '',
].join('\n');

const webhookConfig = (url: string) =>
  [
    'apiVersion: berth.dev/v1alpha1',
    'kind: OperatorConfig',
    'profiles:',
    '  - name: default',
    '    provisioners:',
    `      - { name: farm, type: webhook, url: ${JSON.stringify(url)}, timeoutSeconds: 10 }`,
    '    hostAllocators: [{ type: firstFit }]',
    '',
  ].join('\n');

/** The MutatingAdmissionPolicy manifests (a file, or a folder of them), or undefined. */
export function admissionManifests(
  path = join(root, 'manifests/admission.yaml'),
): string[] | undefined {
  if (!existsSync(path)) return undefined;
  if (!statSync(path).isDirectory()) return [path];
  const files = readdirSync(path)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .map((f) => join(path, f));
  return files.length ? files : undefined;
}

/** examples/kvm-farm as a process of its own on 127.0.0.1; resolves with its URL. */
async function startFarm(plane: Plane, slots: number, hypervisors: number) {
  const script = join(root, 'dist/examples/kvm-farm/server.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build`);
  const logFile = join(plane.dir, 'kvm-farm.log');
  const child = startProcess(
    process.execPath,
    [script, '--port=0', `--capacity=${slots}`, `--hypervisors=${hypervisors}`],
    logFile,
    true,
  );
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) res(m[1]);
    });
    child.once('exit', (code) => rej(new Error(`kvm-farm exited ${code}:\n${tail(logFile)}`)));
  });
  return { child, url };
}

/**
 * Create + one status write per request, as fast as the API server lets one client do it: the
 * floor of what one binding of a custom resource costs this API server (rate and CPU).
 */
async function baseline(
  plane: Plane,
  count: number,
  concurrency: number,
): Promise<{ perSec: number; apiCpuMsPerObject: number }> {
  const { client } = plane;
  await client.create('/api/v1/namespaces', { metadata: { name: 'baseline' } });
  const names = Array.from({ length: count }, (_, i) => `b-${i}`);
  const one = async (name: string) => {
    const created = await client.create<ResourceRequestObject>(
      `${API}/namespaces/baseline/resourcerequests`,
      resourceRequest(name, 'baseline'),
    );
    // The body the operator sends (identity, version, status).
    await client.replace(
      `${API}/namespaces/baseline/resourcerequests/${name}/status`,
      statusBody(created as Parameters<typeof statusBody>[0], { phase: 'Ready', ready: '1/1' }),
    );
  };
  // One untimed round first: the first writes of a just-established CRD are slow (its handler,
  // its watch cache), and the hosts scenario has already warmed them with its HostPools.
  for (let i = 0; i < 8; i++) await one(`warm-${i}`);
  const start = performance.now();
  const cpu0 = cpuMs(plane.pid);
  await pool(names, concurrency, one);
  const rate = count / ((performance.now() - start) / 1000);
  const apiCpuMsPerObject = (cpuMs(plane.pid) - cpu0) / count;
  // The operator must not find them: delete them before it starts.
  const all = [...names, ...Array.from({ length: 8 }, (_, i) => `warm-${i}`)];
  await pool(all, concurrency, async (name) => {
    await client.delete(`${API}/namespaces/baseline/resourcerequests/${name}`);
  });
  return { perSec: rate, apiCpuMsPerObject };
}

/** Runs the scenario; undefined when it is not available (webhook-policy without a policy). */
export async function runBerth(o: BerthOptions, scenario: Scenario): Promise<BerthRun | undefined> {
  const policy = scenario === 'webhook-policy' ? admissionManifests(o.policyDir) : [];
  if (!policy) {
    log(
      `scenario webhook-policy: no manifests at ${o.policyDir ?? 'manifests/admission.yaml'}: skipped`,
    );
    return undefined;
  }
  const inventory =
    scenario === 'hosts' ? `${o.hosts} hosts` : `kvm-farm with ${o.hosts * 8} VM slots`;
  log(`Berth (${scenario}): control plane, CRDs, ${inventory}`);
  const plane = await startPlane('berth');
  const { client } = plane;
  let operator: ReturnType<typeof startProcess> | undefined;
  let farm: Awaited<ReturnType<typeof startFarm>> | undefined;
  try {
    await applyCrds(plane);
    if (policy.length) {
      try {
        // The policy's param: the operator's ConfigMap naming the profiles it applies to.
        await client.create('/api/v1/namespaces', { metadata: { name: 'berth-system' } });
        await client.create('/api/v1/namespaces/berth-system/configmaps', {
          metadata: { name: 'berth-config', namespace: 'berth-system' },
          data: { 'remote-profiles': 'default' },
        });
        await kubectl(plane, ['apply', '--server-side', ...policy.flatMap((f) => ['-f', f])]);
      } catch (err) {
        log(`scenario webhook-policy: the policy does not apply here: skipped\n${String(err)}`);
        return undefined;
      }
    }
    await client.create('/api/v1/namespaces', { metadata: { name: NS } });
    let config = HOSTS_CONFIG;
    if (scenario === 'hosts') {
      await createHostPools(plane, o.hosts);
    } else {
      farm = await startFarm(plane, o.hosts * 8, o.hosts);
      config = webhookConfig(farm.url);
    }
    const base = o.baseline ? await baseline(plane, o.requests, o.concurrency) : undefined;
    const configPath = join(plane.dir, 'operatorconfig.yaml');
    writeFileSync(configPath, config);
    const logFile = join(plane.dir, 'operator.log');
    operator = startOperator(plane, configPath, o.workers, logFile);
    const op = operator;
    await createAndWait(
      client,
      `${API}/namespaces/${NS}/resourcerequests`,
      resourceRequest('warmup'),
      isReady,
      120_000,
      () => `operator (exit ${op.exitCode}):\n${tail(logFile)}`,
    );
    log(`Berth: serving (pid ${op.pid}); ${o.requests} requests, ${o.concurrency} in flight`);
    const farmCpu0 = farm?.child.pid ? cpuMs(farm.child.pid) : 0;
    const result = await measure<ResourceRequestObject>({
      client,
      collection: `${API}/namespaces/${NS}/resourcerequests`,
      createKey: 'POST resourcerequests',
      prefix: 'r-',
      count: o.requests,
      concurrency: o.concurrency,
      make: (name) => resourceRequest(name),
      isBound: isReady,
      ownPid: op.pid!,
      apiPid: plane.pid,
      timeoutMs: o.timeoutMs,
      died: died(op, 'the operator', logFile),
    });
    const run: BerthRun = { result };
    if (base) {
      run.baselinePerSec = base.perSec;
      run.baselineApiCpuMsPerObject = base.apiCpuMsPerObject;
    }
    if (farm?.child.pid)
      run.webhookCpuMsPerObject = (cpuMs(farm.child.pid) - farmCpu0) / o.requests;
    return run;
  } finally {
    if (operator) await stopProcess(operator);
    if (farm) await stopProcess(farm.child);
    await plane.stop();
  }
}
