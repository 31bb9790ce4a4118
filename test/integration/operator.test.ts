// The operator as users run it, on the real API server, with the example inventory.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { HostPool, ResourceRequest, StoragePool } from '../../src/api/index.js';
import type { FleetView } from '../../src/cli/fleet.js';
import type { SimulationOutput } from '../../src/sim/simulate.js';
import {
  binDir,
  createNamespace,
  kubectl,
  kubectlOk,
  repoRoot,
  useControlPlane,
} from './harness.js';
import { getJson, until } from './wait.js';
import { metricSum, startOperator, type OperatorProcess } from './operator-process.js';

const examples = (f: string) => join(repoRoot, 'examples', f);
const getRR = (ns: string, name: string) => getJson<ResourceRequest>(['get', 'rr', name, '-n', ns]);
const nodesOf = (rr: { status?: ResourceRequest['status'] }) =>
  (rr.status?.nodes ?? []).map((n) => ({
    name: n.name,
    provisioner: n.provisioner,
    hostPool: n.hostPool,
    host: n.host,
    port: n.port,
    address: n.address,
    volumes: n.volumes,
  }));

const phaseOf = async (ns: string, name: string, phase: string) => {
  const rr = await getRR(ns, name);
  return rr.status?.phase === phase ? rr : undefined;
};

describe('integration: the operator on the example inventory', function () {
  this.timeout(120_000);
  const cp = useControlPlane();
  let op: OperatorProcess;
  let requests: ResourceRequest[];

  before(async () => {
    await kubectlOk([
      'apply',
      '-f',
      examples('00-namespaces.yaml'),
      '-f',
      examples('05-priorityclasses.yaml'),
      '-f',
      examples('40-tenantquotas.yaml'),
      '-f',
      examples('10-hostpools.yaml'),
      '-f',
      examples('20-storagepools.yaml'),
    ]);
    const lease = await createNamespace('lease');
    op = await startOperator({
      kubeconfig: cp().kubeconfigPath,
      config: readFileSync(examples('config/operatorconfig.yaml'), 'utf8'),
      leaseNamespace: lease,
    });
    await op.waitForLog(/became leader/);
    // demo-day comes last, as `make demo` applies it: it preempts training.
    requests = [
      '30-requests-team-ml.yaml',
      '31-requests-team-ci.yaml',
      'preemption/demo-day.yaml',
    ].flatMap((f) =>
      parseAllDocuments(readFileSync(examples(f), 'utf8')).map((d) => d.toJS() as ResourceRequest),
    );
  });

  after(async () => {
    if (op) expect(await op.stop(), op.logs().slice(-3000)).to.equal(0);
    await kubectl([
      'delete',
      'priorityclass',
      'berth-batch',
      'berth-interactive',
      '--ignore-not-found',
    ]);
  });

  it('serves the examples in order and ends exactly as `berth simulate` says', async () => {
    for (const rr of requests) {
      await kubectlOk(['apply', '-f', '-'], { stdin: stringify(rr) });
      await until(`${rr.metadata.name} to get a phase`, async () => {
        const live = await getRR(rr.metadata.namespace ?? '', rr.metadata.name);
        return live.status?.phase && live.status.phase !== 'Provisioning' ? live : undefined;
      });
    }
    const sim = spawnSync(
      process.execPath,
      [join(repoRoot, 'dist/src/cli/main.js'), 'simulate', '-f', join(repoRoot, 'examples')],
      { encoding: 'utf8' },
    );
    expect(sim.status, sim.stderr).to.equal(0);
    const expected = JSON.parse(sim.stdout) as SimulationOutput;
    // Served one by one, demo-day last, the operator gets there through a preemption (the
    // simulation, given everything at once, serves demo-day first): the ends agree once the
    // preempted request and those waiting behind the preemption have been tried again.
    for (const want of expected.requests) {
      const key = `${want.namespace}/${want.name}`;
      const got = await until(`${key} as simulated`, async () => {
        const live = await getRR(want.namespace, want.name);
        return live.status?.phase === want.status.phase &&
          live.status?.explanation?.summary === want.status.explanation?.summary
          ? live
          : undefined;
      }).catch(async (err: unknown) => {
        const live = await getRR(want.namespace, want.name);
        expect(live.status?.phase, key).to.equal(want.status.phase);
        expect(live.status?.explanation?.summary, key).to.equal(want.status.explanation?.summary);
        throw err;
      });
      expect(got.status?.ready, key).to.equal(want.status.ready);
      expect(got.status?.priority, key).to.equal(want.status.priority);
      expect(nodesOf(got), `${key} nodes`).to.deep.equal(nodesOf({ status: want.status }));
    }
    const training = await getRR('team-ml', 'training');
    expect(training.status?.conditions?.find((c) => c.type === 'Preempted')).to.include({
      status: 'True',
      message: 'preempted by team-ml/demo-day (priority 100000) to make room for it',
    });
    for (const want of expected.hostPools) {
      const got = await until(`HostPool ${want.name} status`, async () => {
        const hp = await getJson<HostPool>(['get', 'hp', want.name]);
        return hp.status?.cpu === want.status.cpu && hp.status?.nodes === want.status.nodes
          ? hp
          : undefined;
      });
      expect(got.status?.allocated).to.deep.equal(want.status.allocated);
    }
    for (const want of expected.storagePools) {
      await until(`StoragePool ${want.name} status`, async () => {
        const sp = await getJson<StoragePool>(['get', 'sp', want.name]);
        return sp.status?.allocated === want.status.allocated ? sp : undefined;
      });
    }
  });

  it('kubectl berth top prints the pools with the right totals', async () => {
    const pluginDir = mkdtempSync(join(tmpdir(), 'berth-plugin-'));
    try {
      symlinkSync(join(repoRoot, 'dist/src/cli/berth.js'), join(pluginDir, 'kubectl-berth'));
      const top = (args: string[]) =>
        spawnSync(
          join(binDir, 'kubectl'),
          ['berth', 'top', '-A', ...args, '--kubeconfig', cp().kubeconfigPath],
          {
            encoding: 'utf8',
            env: { ...process.env, PATH: `${pluginDir}:${binDir}:${process.env.PATH ?? ''}` },
          },
        );
      const all = (await getJson<{ items: ResourceRequest[] }>(['get', 'rr', '-A'])).items;
      const onPool = (pool: string) =>
        all.flatMap((rr) => rr.status?.nodes ?? []).filter((n) => n.hostPool === pool).length;
      const view = await until('pool statuses caught up', async () => {
        const r = top(['-o', 'json']);
        expect(r.status, r.stderr).to.equal(0);
        const v = JSON.parse(r.stdout) as FleetView;
        const ours = v.pools!.filter((p) => p.name.startsWith('rack-'));
        return ours.length === 3 && ours.every((p) => p.nodes === onPool(p.name)) ? v : undefined;
      });
      expect(view.pools!.map((p) => p.name)).to.include.members([
        'rack-a1',
        'rack-a2-gpu',
        'rack-b1',
      ]);
      expect(view.pending.map((p) => `${p.namespace}/${p.name}`)).to.include('team-ml/huge-model');
      const text = top(['--by', 'namespace']);
      expect(text.stdout).to.match(/^rack-b1\s+4\s+12\s+█+░*\s+88% 56\/64/m);
      expect(text.stdout).to.match(/^team-ci\s+3\s+21\s+0\s+cpu=106 memory=280Gi storage=1Ti$/m);
    } finally {
      rmSync(pluginDir, { recursive: true, force: true });
    }
  });

  it('berth simulate --from-cluster on this state plus a new request gives the placement the operator then makes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-whatif-'));
    try {
      const file = join(dir, 'new.yaml');
      const whatIf = (extra: string[] = []) =>
        spawnSync(
          process.execPath,
          [
            join(repoRoot, 'dist/src/cli/main.js'),
            'simulate',
            '--from-cluster',
            '-f',
            file,
            '--config',
            examples('config/operatorconfig.yaml'),
            '--kubeconfig',
            cp().kubeconfigPath,
            ...extra,
          ],
          { encoding: 'utf8' },
        );
      const rr = {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'what-if', namespace: 'team-ml' },
        spec: { count: 2, resources: { cpu: '2', memory: '4Gi' } },
      };
      writeFileSync(file, stringify(rr));
      const r = whatIf(['--fail-on-pending']);
      expect(r.status, r.stderr).to.equal(0);
      const sim = JSON.parse(r.stdout) as SimulationOutput;
      expect(sim.requests.map((x) => `${x.namespace}/${x.name}`)).to.deep.equal([
        'team-ml/what-if',
      ]);
      const predicted = sim.requests[0]!.status;
      expect(predicted.phase).to.equal('Ready');
      // Nothing was written.
      expect((await kubectl(['get', 'rr', 'what-if', '-n', 'team-ml'])).code).to.not.equal(0);

      await kubectlOk(['apply', '-f', file]);
      const served = await until('what-if Ready', () => phaseOf('team-ml', 'what-if', 'Ready'));
      expect(nodesOf(served)).to.deep.equal(nodesOf({ status: predicted }));
      await kubectlOk(['delete', 'rr', 'what-if', '-n', 'team-ml', '--timeout=30s']);

      // A request that would not fit fails the pipeline, naming it.
      writeFileSync(
        file,
        stringify({
          ...rr,
          metadata: { ...rr.metadata, name: 'too-big' },
          spec: { count: 1, resources: { cpu: '512' } },
        }),
      );
      const big = whatIf(['--fail-on-pending', '-o', 'table']);
      expect(big.status).to.equal(3);
      expect(big.stderr).to.match(/team-ml\/too-big would be Pending: /);

      // The configuration as the chart ships it: a ConfigMap's config.yaml.
      const cmNs = await createNamespace('whatif-cm');
      await kubectlOk([
        'create',
        'configmap',
        'berth-config',
        '-n',
        cmNs,
        `--from-file=config.yaml=${examples('config/operatorconfig.yaml')}`,
      ]);
      writeFileSync(file, stringify(rr));
      const fromMap = spawnSync(
        process.execPath,
        [
          join(repoRoot, 'dist/src/cli/main.js'),
          'simulate',
          '--from-cluster',
          '-f',
          file,
          '--config-map',
          `${cmNs}/berth-config`,
          '--kubeconfig',
          cp().kubeconfigPath,
        ],
        { encoding: 'utf8' },
      );
      expect(fromMap.status, fromMap.stderr).to.equal(0);
      expect(fromMap.stderr).to.include(`with ConfigMap ${cmNs}/berth-config`);
      const again = JSON.parse(fromMap.stdout) as SimulationOutput;
      expect(nodesOf({ status: again.requests[0]!.status })).to.deep.equal(
        nodesOf({ status: predicted }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works with kubectl wait, printer columns and kubectl events', async () => {
    const wait = await kubectl([
      'wait',
      '--for=condition=Ready',
      'rr/e2e',
      '-n',
      'team-ci',
      '--timeout=20s',
    ]);
    expect(wait.code, wait.stderr).to.equal(0);
    const table = await kubectlOk(['get', 'rr', '-n', 'team-ci']);
    expect(table).to.match(/^runners\s+Ready\s+16\/24\s+burst\s+/m);
    const events = await kubectlOk(['events', '-n', 'team-ci']);
    expect(events).to.match(/Allocated\s+ResourceRequest\/e2e\s+4\/4 node\(s\): rack-b1\/b1-01/);
    // One Normal event per binding.
    expect(events).not.to.match(/Provisioned\s+ResourceRequest\/e2e/);
    const explain = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'dist/src/cli/main.js'),
        'explain',
        'rr/huge-model',
        '-n',
        'team-ml',
        '--kubeconfig',
        cp().kubeconfigPath,
      ],
      { encoding: 'utf8' },
    );
    expect(explain.status, explain.stderr).to.equal(0);
    expect(explain.stdout).to.match(/^ResourceRequest team-ml\/huge-model: Pending/);
    expect(explain.stdout).to.match(
      /allocator firstFit: considered 12, chose 0; 8 MissingTags \[gpu\]/,
    );
    expect(explain.stdout).to.include('rack-a1/a1-05: HostMaintenance');
    const metrics = await op.metrics();
    expect(
      metricSum(metrics, 'berth_pool_allocated', {
        kind: 'HostPool',
        pool: 'rack-b1',
        resource: 'cpu',
      }),
    ).to.equal(56);
    expect(
      metricSum(metrics, 'berth_pool_capacity', {
        kind: 'HostPool',
        pool: 'rack-b1',
        resource: 'cpu',
      }),
    ).to.equal(64);
    expect(metricSum(metrics, 'leader_election_master_status')).to.equal(1);
    // huge-model, and training (preempted by demo-day).
    expect(metricSum(metrics, 'berth_pending_requests')).to.be.at.most(2);
    for (const name of [
      'controller_runtime_reconcile_total',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds_count',
      'controller_runtime_reconcile_time_seconds_count',
    ]) {
      expect(metricSum(metrics, name), name).to.be.greaterThan(0);
    }
    const ml = await kubectlOk(['events', '-n', 'team-ml']);
    expect(ml).to.match(
      /Warning\s+FailedToAllocate\s+ResourceRequest\/huge-model\s+.*0\/12 hosts fit/,
    );
  });

  it('returns capacity on delete and serves a pending request with it', async () => {
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'three-gpu-hosts', namespace: 'team-ml' },
        spec: {
          count: 3,
          resources: { cpu: '16', memory: '64Gi', 'nvidia.com/gpu': '4' },
          tags: ['gpu'],
        },
      }),
    });
    const pending = await until('three-gpu-hosts Pending', () =>
      phaseOf('team-ml', 'three-gpu-hosts', 'Pending'),
    );
    expect(pending.status?.explanation?.summary).to.include('Insufficient nvidia.com/gpu');
    // demo-day goes: training (batch priority, preempted by it) is served again before the
    // newer request of priority 0, and says its preemption is over.
    await kubectlOk(['delete', 'rr', 'demo-day', '-n', 'team-ml', '--timeout=30s']);
    const back = await until('training Ready again', () => phaseOf('team-ml', 'training', 'Ready'));
    expect(back.status?.conditions?.find((c) => c.type === 'Preempted')).to.include({
      status: 'False',
      reason: 'Allocated',
    });
    expect((await getRR('team-ml', 'three-gpu-hosts')).status?.phase).to.equal('Pending');
    await kubectlOk(['delete', 'rr', 'training', '-n', 'team-ml', '--timeout=30s']);
    const ready = await until('three-gpu-hosts Ready', () =>
      phaseOf('team-ml', 'three-gpu-hosts', 'Ready'),
    );
    expect(
      nodesOf(ready)
        .map((n) => n.host)
        .sort(),
    ).to.deep.equal(['gpu-01', 'gpu-02', 'gpu-03']);
    const sp = await until('zone-a-ceph back to its build-cache-free usage', async () => {
      const s = await getJson<StoragePool>(['get', 'sp', 'zone-a-ceph']);
      return s.status?.allocated === '0' ? s : undefined;
    });
    expect(sp.status?.volumes).to.equal(0);
  });

  it('marks requests on a host in Maintenance Degraded, and places nothing new there', async () => {
    const hp = await getJson<HostPool>(['get', 'hp', 'rack-a1']);
    const hosts = hp.spec.hosts.map((h) =>
      h.name === 'a1-01' ? { ...h, state: 'Maintenance' as const } : h,
    );
    await kubectlOk([
      'patch',
      'hp',
      'rack-a1',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { hosts } }),
    ]);
    const degraded = await until('notebooks Degraded', async () => {
      const rr = await getRR('team-ml', 'notebooks');
      return rr.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'True')
        ? rr
        : undefined;
    });
    expect(degraded.status?.conditions?.find((c) => c.type === 'Degraded')?.message).to.include(
      'rack-a1/a1-01 (Maintenance)',
    );
    expect(await kubectlOk(['events', '-n', 'team-ml'])).to.match(
      /Warning\s+Degraded\s+ResourceRequest\/notebooks/,
    );
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'one-more', namespace: 'team-ml' },
        spec: { count: 1, resources: { cpu: '1' }, tags: ['ssd'] },
      }),
    });
    const placed = await until('one-more Ready', () => phaseOf('team-ml', 'one-more', 'Ready'));
    expect(nodesOf(placed)[0]?.host).to.equal('a1-02');
    const back = hp.spec.hosts;
    await kubectlOk([
      'patch',
      'hp',
      'rack-a1',
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { hosts: back } }),
    ]);
    await until('notebooks no longer Degraded', async () => {
      const rr = await getRR('team-ml', 'notebooks');
      return rr.status?.conditions?.find((c) => c.type === 'Degraded' && c.status === 'False')
        ? rr
        : undefined;
    });
  });

  it('places nothing on a Disabled pool, and does once it is enabled', async () => {
    await kubectlOk([
      'patch',
      'hp',
      'rack-b1',
      '--type=merge',
      '-p',
      '{"spec":{"state":"Disabled"}}',
    ]);
    await until('rack-b1 Ready=False', async () => {
      const hp = await getJson<HostPool>(['get', 'hp', 'rack-b1']);
      return hp.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'Disabled')
        ? hp
        : undefined;
    });
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'zone-b-job', namespace: 'team-ci' },
        spec: { count: 1, resources: { cpu: '1' }, placement: { zone: 'zone-b' } },
      }),
    });
    const pending = await until('zone-b-job Pending', () =>
      phaseOf('team-ci', 'zone-b-job', 'Pending'),
    );
    expect(pending.status?.explanation?.summary).to.match(/PoolDisabled|PlacementMismatch/);
    await kubectlOk([
      'patch',
      'hp',
      'rack-b1',
      '--type=merge',
      '-p',
      '{"spec":{"state":"Enabled"}}',
    ]);
    const ready = await until('zone-b-job Ready', () => phaseOf('team-ci', 'zone-b-job', 'Ready'));
    expect(nodesOf(ready)[0]?.hostPool).to.equal('rack-b1');
  });

  it('turns a request it cannot serve into a condition, without a retry loop', async () => {
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'no-such-profile', namespace: 'team-ci' },
        spec: { count: 1, profile: 'gold' },
      }),
    });
    const failed = await until('no-such-profile Failed', () =>
      phaseOf('team-ci', 'no-such-profile', 'Failed'),
    );
    expect(failed.status?.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'UnknownProfile',
    });
    const before = metricSum(await op.metrics(), 'controller_runtime_reconcile_total', {
      controller: 'resourcerequest',
    });
    await new Promise((r) => setTimeout(r, 3000));
    const after = metricSum(await op.metrics(), 'controller_runtime_reconcile_total', {
      controller: 'resourcerequest',
    });
    expect(after - before, 'reconciles in 3s of quiet').to.be.at.most(2);
  });

  it('keeps the last good config when the file turns bad, and serves a new profile once it is good', async () => {
    const good = readFileSync(op.configPath, 'utf8');
    const health = await op.healthPort();
    writeFileSync(op.configPath, good.replace('type: multilocal', 'type: multilocl'));
    await until('readyz to report the bad config', async () => {
      const r = await fetch(`http://127.0.0.1:${health}/readyz`);
      const text = await r.text();
      return r.status === 503 &&
        text.includes('profiles[1].provisioners[1].type: unknown type "multilocl"')
        ? text
        : undefined;
    });
    expect(metricSum(await op.metrics(), 'berth_config_last_reload_successful')).to.equal(0);
    expect(
      (await getRR('team-ci', 'no-such-profile')).status?.phase,
      'the running config is untouched',
    ).to.equal('Failed');
    const gold = `${good}  - name: gold\n    provisioners:\n      - { name: gold-local, type: multilocal, address: 127.0.0.2, basePort: 9000 }\n`;
    writeFileSync(op.configPath, gold);
    const served = await until('no-such-profile served by the new gold profile', () =>
      phaseOf('team-ci', 'no-such-profile', 'Ready'),
    );
    expect(nodesOf(served)[0]).to.include({
      provisioner: 'gold-local',
      address: '127.0.0.2',
      port: 9000,
    });
    expect((await fetch(`http://127.0.0.1:${health}/readyz`)).status).to.equal(200);
  });

  it('releases everything when every request is deleted (invariant 4)', async () => {
    await kubectlOk(['delete', 'rr', '--all', '-n', 'team-ml', '--timeout=60s']);
    await kubectlOk(['delete', 'rr', '--all', '-n', 'team-ci', '--timeout=60s']);
    for (const name of ['rack-a1', 'rack-a2-gpu', 'rack-b1']) {
      await until(`${name} empty`, async () => {
        const hp = await getJson<HostPool>(['get', 'hp', name]);
        return hp.status?.nodes === 0 &&
          Object.values(hp.status?.allocated ?? {}).every((v) => v === '0')
          ? hp
          : undefined;
      });
    }
    for (const name of ['a1-01-nvme', 'rack-a1-shared', 'zone-a-ceph', 'zone-b-nfs']) {
      await until(`${name} empty`, async () => {
        const sp = await getJson<StoragePool>(['get', 'sp', name]);
        return sp.status?.allocated === '0' && sp.status.volumes === 0 ? sp : undefined;
      });
    }
    expect(op.exited()).to.equal(false);
  });
});
