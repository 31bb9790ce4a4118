// The peer: the upstream kube-scheduler binding Pods to fake Nodes on its own fresh control plane.
// No kubelet and no controller-manager run, so the benchmark does their part of the setup: it
// writes each Node's capacity and Ready condition (status subresource) and removes the
// node.kubernetes.io/not-ready taint that the TaintNodesByCondition admission plugin puts on
// every new Node. Bound = spec.nodeName set.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from './lib/kubeclient.js';
import { createAndWait, measure, type Result } from './lib/measure.js';
import { bin, died, log, root, startPlane, startProcess, stopProcess, tail } from './lib/plane.js';
import { pool } from './lib/util.js';

export interface Sizes {
  hosts: number;
  requests: number;
  concurrency: number;
  timeoutMs: number;
}

interface Pod extends KubeObject {
  spec?: { nodeName?: string };
}

export const NODE_CAPACITY = { cpu: '8', memory: '32Gi', pods: '110' };
const NS = 'bench';

/** bin/kube-scheduler, built by hack/kube-scheduler-build.sh when missing. */
export function ensureKubeScheduler(): string {
  const path = join(bin, 'kube-scheduler');
  if (!existsSync(path)) {
    log('bin/kube-scheduler is missing: building it (hack/kube-scheduler-build.sh)');
    const r = spawnSync(join(root, 'hack/kube-scheduler-build.sh'), { stdio: ['ignore', 2, 2] });
    if (r.status !== 0) throw new Error('hack/kube-scheduler-build.sh failed');
  }
  return path;
}

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS },
  spec: {
    containers: [
      {
        name: 'c',
        image: 'pause',
        resources: {
          requests: { cpu: '1', memory: '1Gi' },
          limits: { cpu: '1', memory: '1Gi' },
        },
      },
    ],
    terminationGracePeriodSeconds: 0,
  },
});

export async function runKubeScheduler(s: Sizes): Promise<Result> {
  const binary = ensureKubeScheduler();
  log(`kube-scheduler: control plane, ${s.hosts} Nodes`);
  const plane = await startPlane('kube-scheduler');
  const { client } = plane;
  let scheduler: ReturnType<typeof startProcess> | undefined;
  try {
    await client.create('/api/v1/namespaces', { metadata: { name: NS } });
    // Pods need no ServiceAccount here (the plane runs without the ServiceAccount admission
    // plugin), but a real namespace has one; it costs nothing in the measured window.
    await client.ensure(`/api/v1/namespaces/${NS}/serviceaccounts`, {
      metadata: { name: 'default' },
    });
    const names = Array.from({ length: s.hosts }, (_, i) => `node-${i}`);
    await pool(names, s.concurrency, async (name) => {
      await client.create('/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
        spec: {},
      });
      // TaintNodesByCondition added node.kubernetes.io/not-ready:NoSchedule at create; the node
      // lifecycle controller would lift it once the node is Ready. It does not run: lift it here.
      await client.mergePatch(`/api/v1/nodes/${name}`, { spec: { taints: [] } });
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await client.mergePatch(`/api/v1/nodes/${name}/status`, {
        status: {
          capacity: NODE_CAPACITY,
          allocatable: NODE_CAPACITY,
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'fake node of the benchmark',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        },
      });
    });

    const config = join(plane.dir, 'scheduler.yaml');
    writeFileSync(
      config,
      [
        'apiVersion: kubescheduler.config.k8s.io/v1',
        'kind: KubeSchedulerConfiguration',
        'clientConnection:',
        `  kubeconfig: ${JSON.stringify(plane.kubeconfig)}`,
        '  qps: -1', // no client-side rate limit
        '  burst: 10000',
        'leaderElection:',
        '  leaderElect: false',
        '',
      ].join('\n'),
    );
    const logFile = join(plane.dir, 'kube-scheduler.log');
    scheduler = startProcess(
      binary,
      [`--config=${config}`, '--secure-port=0', '--bind-address=127.0.0.1', '--v=1'],
      logFile,
    );
    const sched = scheduler;
    const isBound = (p: Pod) => Boolean(p.spec?.nodeName);
    // Once a first Pod is bound the scheduler's informers are synced and it is serving.
    await createAndWait(
      client,
      `/api/v1/namespaces/${NS}/pods`,
      pod('warmup'),
      isBound,
      120_000,
      () => `kube-scheduler (exit ${sched.exitCode}):\n${tail(logFile)}`,
    );
    log(
      `kube-scheduler: serving (pid ${sched.pid}); ${s.requests} Pods, ${s.concurrency} in flight`,
    );
    return await measure<Pod>({
      client,
      collection: `/api/v1/namespaces/${NS}/pods`,
      createKey: 'POST pods',
      prefix: 'p-',
      count: s.requests,
      concurrency: s.concurrency,
      make: pod,
      isBound,
      ownPid: sched.pid!,
      apiPid: plane.pid,
      timeoutMs: s.timeoutMs,
      died: died(sched, 'kube-scheduler', logFile),
    });
  } finally {
    if (scheduler) await stopProcess(scheduler);
    await plane.stop();
  }
}
