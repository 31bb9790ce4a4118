// `kubectl berth top` on the real API server: the real bin/kubectl finds the plugin on the PATH
// (an executable named kubectl-berth, as kubectl's plugin mechanism expects), a pool admin sees the
// pools with the right totals, a tenant's ServiceAccount token sees only its namespace, and
// --watch redraws until interrupted.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { HostPool } from '../../src/api/index.js';
import type { FleetView } from '../../src/cli/fleet.js';
import { REQUESTER_RULES, stripWhy } from '../../src/deploy/rbac.js';
import {
  binDir,
  createNamespace,
  createServiceAccountToken,
  kubeConfigForToken,
  kubectl,
  kubectlOk,
  repoRoot,
  useControlPlane,
} from './harness.js';
import { startOperator, type OperatorProcess } from './operator-process.js';
import { applyHostPool } from './pools.js';
import { getJson, until } from './wait.js';

const POOL = 'top-pool';
const label = { suite: 'top' };

describe('integration: kubectl berth top', function () {
  this.timeout(120_000);
  const cp = useControlPlane();
  let a: string;
  let b: string;
  let op: OperatorProcess | undefined;
  let pluginDir: string;
  let tenantConfig: string;

  /** bin/kubectl with the plugin on its PATH, as a user who installed it would run it. */
  const kubectlBerth = (args: string[], kubeconfig = cp().kubeconfigPath) =>
    spawnSync(join(binDir, 'kubectl'), ['berth', ...args, '--kubeconfig', kubeconfig], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${pluginDir}:${binDir}:${process.env.PATH ?? ''}` },
    });

  const create = (namespace: string, name: string, count: number, cpu: string) =>
    kubectlOk(['create', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name, namespace },
        spec: { count, resources: { cpu, memory: '1Gi' } },
      }),
    });

  before(async () => {
    pluginDir = mkdtempSync(join(tmpdir(), 'berth-plugin-'));
    symlinkSync(join(repoRoot, 'dist/src/cli/berth.js'), join(pluginDir, 'kubectl-berth'));
    a = await createNamespace('top-a');
    b = await createNamespace('top-b');
    await applyHostPool({
      name: POOL,
      labels: label,
      zone: 'zone-top',
      hosts: 2,
      subnet: '10.80.0',
    });
    op = await startOperator({
      kubeconfig: cp().kubeconfigPath,
      leaseNamespace: a,
      leaderElect: false,
      config: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'OperatorConfig',
        profiles: [
          {
            name: 'default',
            provisioners: [
              { name: 'rack', type: 'hosts', hostPoolSelector: { matchLabels: label } },
            ],
          },
        ],
      }),
    });
    await create(a, 'web', 3, '1');
    await create(b, 'batch', 2, '2');
    await create(b, 'too-big', 1, '16');
    await until(`${POOL} counts 5 nodes`, async () => {
      const hp = await getJson<HostPool>(['get', 'hp', POOL]);
      return hp.status?.nodes === 5 && hp.status.allocated?.cpu === '7' ? hp : undefined;
    });

    // A tenant of namespace a: bound to berth-requester there, nothing else.
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'berth-requester', namespace: a },
        rules: stripWhy(REQUESTER_RULES),
      }),
    });
    await kubectlOk([
      'create',
      'rolebinding',
      'tenant',
      '--role=berth-requester',
      `--serviceaccount=${a}:tenant`,
      '-n',
      a,
    ]);
    const token = await createServiceAccountToken(a, 'tenant');
    tenantConfig = join(pluginDir, 'tenant.kubeconfig');
    writeFileSync(tenantConfig, kubeConfigForToken(token, 'tenant').exportConfig());
  });

  after(async () => {
    await kubectl(['delete', 'rr', '--all', '-n', a, '--timeout=60s']);
    await kubectl(['delete', 'rr', '--all', '-n', b, '--timeout=60s']);
    await op?.stop();
    await kubectl(['delete', 'hp', POOL, '--ignore-not-found']);
    rmSync(pluginDir, { recursive: true, force: true });
  });

  it('kubectl finds the plugin and prints the pools with the right totals', () => {
    const r = kubectlBerth(['top', '-A', '--by', 'namespace']);
    expect(r.status, r.stderr).to.equal(0);
    const poolLine = r.stdout.split('\n').find((l) => l.startsWith(`${POOL} `));
    // Other suites' pools share the cluster: their extended resources add columns after memory.
    expect(poolLine).to.match(
      /^top-pool\s+2\s+5\s+█+░*\s+88% 7\/8\s+█+░*\s+31% 5Gi\/16Gi\s.*Ready$/,
    );
    expect(r.stdout).to.match(new RegExp(`${a}\\s+1\\s+3\\s+0\\s+cpu=3 memory=3Gi`));
    expect(r.stdout).to.match(new RegExp(`${b}\\s+2\\s+2\\s+1\\s+cpu=4 memory=2Gi`));
    expect(r.stdout).to.match(new RegExp(`${b}/too-big\\s+Pending\\s+\\d+s\\s+0/1 nodes`));

    const json = kubectlBerth(['top', '-A', '-o', 'json']);
    expect(json.status, json.stderr).to.equal(0);
    const view = JSON.parse(json.stdout) as FleetView;
    const pool = view.pools!.find((p) => p.name === POOL)!;
    expect(pool).to.deep.include({ hosts: 2, nodes: 5, ready: 'Ready' });
    expect(pool.usage[0]).to.deep.include({ resource: 'cpu', used: '7', total: '8' });
    const ours = view.namespaces.filter((n) => n.namespace === a || n.namespace === b);
    expect(ours.reduce((n, x) => n + x.nodes, 0)).to.equal(pool.nodes);
  });

  it("a tenant's token sees its namespace only, and is told why the pools are missing", () => {
    const mine = kubectlBerth(['top', '-n', a, '--by', 'namespace'], tenantConfig);
    expect(mine.status, mine.stderr).to.equal(0);
    expect(mine.stdout).to.include('(pools not shown: no permission to list hostpools.berth.dev)');
    expect(mine.stdout).to.match(new RegExp(`${a}\\s+1\\s+3\\s+0\\s+cpu=3`));
    expect(mine.stdout).not.to.include(b);
    const theirs = kubectlBerth(['top', '-n', b], tenantConfig);
    expect(theirs.status).to.not.equal(0);
    expect(theirs.stderr).to.match(
      /^berth top: forbidden: .*resourcerequests.* in the namespace "top-b-/m,
    );
  });

  it('--watch redraws until interrupted', async () => {
    const child = spawn(
      join(binDir, 'kubectl'),
      [
        'berth',
        'top',
        '-n',
        a,
        '--watch',
        '--interval',
        '200ms',
        '--kubeconfig',
        cp().kubeconfigPath,
      ],
      {
        env: { ...process.env, PATH: `${pluginDir}:${binDir}:${process.env.PATH ?? ''}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await until('two redraws', async () =>
        out.split('\x1b[H\x1b[2J').length >= 3 ? true : undefined,
      );
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).to.equal(0);
    expect(out).to.include('POOL');
  });
});
