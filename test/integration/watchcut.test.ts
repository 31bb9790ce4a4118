// A watch cut for real: the control plane process (kube-apiserver with its etcd) is stopped and
// started again on the same data and port while the operator runs. The operator must notice,
// re-watch and miss nothing, without being restarted.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { HostPool, ResourceRequest } from '../../src/api/index.js';
import { crdDir } from './harness.js';
import { freePort, kubectlFor, startOwnPlane, stopOwnPlane } from './ownplane.js';
import { metricSum, startOperator, type OperatorProcess } from './operator-process.js';

describe('integration: a watch cut by restarting the API server', function () {
  this.timeout(240_000);
  let dir: string;
  let plane: ChildProcess | undefined;
  let op: OperatorProcess | undefined;
  let kubeconfig: string;

  let kubectl: ReturnType<typeof kubectlFor>;
  const request = (name: string) =>
    stringify({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ResourceRequest',
      metadata: { name, namespace: 'default' },
      spec: { count: 1, resources: { cpu: '4' } },
    });
  const phase = async (name: string) =>
    (JSON.parse(await kubectl(['get', 'rr', name, '-o', 'json'])) as ResourceRequest).status?.phase;
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline)
        throw new Error(`timed out: ${what}\n${op?.logs().slice(-3000) ?? ''}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-watchcut-'));
    mkdirSync(join(dir, 'data'));
    kubeconfig = join(dir, 'kubeconfig');
    kubectl = kubectlFor(kubeconfig, join(dir, 'cache'));
  });

  after(async () => {
    await op?.stop();
    if (plane) await stopOwnPlane(plane);
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-watches after the API server restarts and misses no event', async () => {
    const port = await freePort();
    plane = await startOwnPlane(join(dir, 'data'), kubeconfig, port);
    await kubectl(['apply', '-f', crdDir]);
    await kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    await kubectl(
      ['apply', '-f', '-'],
      stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'HostPool',
        metadata: { name: 'cut' },
        spec: { zone: 'z', hosts: [{ name: 'h', address: '10.0.0.1', capacity: { cpu: '8' } }] },
      }),
    );
    const config =
      'apiVersion: berth.dev/v1alpha1\nkind: OperatorConfig\nprofiles:\n  - name: default\n    provisioners: [{ name: hosts, type: hosts }]\n';
    op = await startOperator({ kubeconfig, config, leaseNamespace: 'default', leaderElect: false });
    await kubectl(['apply', '-f', '-'], request('before-cut'));
    await until('before-cut Ready', async () => (await phase('before-cut')) === 'Ready');

    await stopOwnPlane(plane);
    await new Promise((r) => setTimeout(r, 2000));
    plane = await startOwnPlane(join(dir, 'data'), kubeconfig, port);

    // Created and deleted after the cut: the operator only knows if it watches again.
    await kubectl(['apply', '-f', '-'], request('after-cut'));
    await until('after-cut Ready', async () => (await phase('after-cut')) === 'Ready');
    await kubectl(['delete', 'rr', 'before-cut', '--timeout=60s']);
    await kubectl(['apply', '-f', '-'], request('needs-freed-capacity'));
    await until(
      'needs-freed-capacity Ready',
      async () => (await phase('needs-freed-capacity')) === 'Ready',
    );
    await until(
      'pool shows 2 nodes',
      async () =>
        ((JSON.parse(await kubectl(['get', 'hp', 'cut', '-o', 'json'])) as HostPool).status
          ?.nodes ?? 0) === 2,
    );
    expect(op.exited(), 'the operator kept running').to.equal(false);
    expect(metricSum(await op.metrics(), 'berth_watch_restarts_total')).to.be.greaterThan(0);
  });
});
