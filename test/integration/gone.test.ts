// 410 Gone for real: the operator is frozen (SIGSTOP) while the API server restarts and etcd
// compacts past the resourceVersion its watches hold. When it wakes, re-watching from there is
// refused with 410; it must relist, and learn of what was created and deleted meanwhile.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ResourceRequest } from '../../src/api/index.js';
import { crdDir } from './harness.js';
import { metricSum, startOperator, type OperatorProcess } from './operator-process.js';
import { freePort, kubectlFor, startOwnPlane, stopOwnPlane } from './ownplane.js';
import { until } from './wait.js';

// Watches go to etcd (no watch cache) and etcd compacts every second: an old revision is gone fast.
const FLAGS = ['--watch-cache=false', '--etcd-compaction-interval=1s'];

describe('integration: relist after 410 Gone', function () {
  this.timeout(240_000);
  let dir: string;
  let plane: ChildProcess | undefined;
  let op: OperatorProcess | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-gone-'));
    mkdirSync(join(dir, 'data'));
  });

  after(async () => {
    if (op?.pid && !op.exited()) process.kill(op.pid, 'SIGCONT');
    await op?.stop();
    if (plane) await stopOwnPlane(plane);
    rmSync(dir, { recursive: true, force: true });
  });

  it('relists and sees what was created and deleted while it could not watch', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const kubectl = kubectlFor(kubeconfig, join(dir, 'cache'));
    const port = await freePort();
    const pool = (name: string, cpu: string) =>
      stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'HostPool',
        metadata: { name },
        spec: { zone: 'z', hosts: [{ name: 'h', address: '10.0.0.1', capacity: { cpu } }] },
      });
    const request = (name: string, cpu: string, hostPool?: string) =>
      stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name, namespace: 'default' },
        spec: { count: 1, resources: { cpu }, ...(hostPool ? { placement: { hostPool } } : {}) },
      });
    const get = async (name: string) =>
      JSON.parse(await kubectl(['get', 'rr', name, '-o', 'json'])) as ResourceRequest;

    plane = await startOwnPlane(join(dir, 'data'), kubeconfig, port, FLAGS);
    await kubectl(['apply', '-f', crdDir]);
    await kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    await kubectl(['apply', '-f', '-'], pool('main', '8') + '---\n' + pool('extra', '8'));
    const config =
      'apiVersion: berth.dev/v1alpha1\nkind: OperatorConfig\nprofiles:\n  - name: default\n    provisioners: [{ name: hosts, type: hosts }]\n';
    op = await startOperator({ kubeconfig, config, leaseNamespace: 'default', leaderElect: false });
    await kubectl(['apply', '-f', '-'], request('first', '4', 'main'));
    await until('first Ready', async () =>
      (await get('first')).status?.phase === 'Ready' ? true : undefined,
    );

    process.kill(op.pid, 'SIGSTOP');
    try {
      await stopOwnPlane(plane);
      plane = await startOwnPlane(join(dir, 'data'), kubeconfig, port, FLAGS);
      await kubectl(['delete', 'hp', 'extra']);
      await kubectl(['apply', '-f', '-'], request('while-frozen', '4', 'main'));
      for (let i = 0; i < 20; i++)
        await kubectl(['label', 'hp', 'main', `step=${i}`, '--overwrite']);
      await new Promise((r) => setTimeout(r, 4000)); // a few compactions past the operator's revision
    } finally {
      process.kill(op.pid, 'SIGCONT');
    }

    await until(
      'while-frozen Ready',
      async () => ((await get('while-frozen')).status?.phase === 'Ready' ? true : undefined),
      120_000,
    );
    expect(
      metricSum(await op.metrics(), 'berth_watch_restarts_total', { reason: 'gone' }),
      op.logs().slice(-2000),
    ).to.be.greaterThan(0);
    // The pool deleted while it was frozen must be gone from its inventory too.
    await kubectl(['apply', '-f', '-'], request('on-extra', '1', 'extra'));
    const pending = await until('on-extra Pending', async () => {
      const rr = await get('on-extra');
      return rr.status?.phase === 'Pending' ? rr : undefined;
    });
    expect(pending.status?.explanation?.summary).to.match(/^0\/1 nodes/);
    expect(op.exited()).to.equal(false);
  });
});
