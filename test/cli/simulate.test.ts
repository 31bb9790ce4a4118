import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimulationOutput } from '../../src/sim/simulate.js';
import { repoRoot } from '../support/fixtures.js';

const berth = (...args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });

const where = (out: SimulationOutput, key: string) => {
  const r = out.requests.find((x) => `${x.namespace}/${x.name}` === key);
  if (!r) throw new Error(`no ${key}`);
  return {
    phase: r.status.phase,
    ready: r.status.ready,
    nodes: (r.status.nodes ?? []).map((n) =>
      n.host
        ? `${n.hostPool}/${n.host}${n.port ? `:${n.port}` : ''}`
        : `${n.provisioner}:${n.port}`,
    ),
    status: r.status,
  };
};

describe('berth simulate', () => {
  let out: SimulationOutput;
  let first: string;
  before(() => {
    const r = berth('simulate', '-f', 'examples/');
    expect(r.status, r.stderr).to.equal(0);
    first = r.stdout;
    out = JSON.parse(r.stdout) as SimulationOutput;
  });

  it('prints the same output twice', () => {
    expect(berth('simulate', '-f', 'examples/').stdout).to.equal(first);
  });

  it('serves the examples as the design says', () => {
    // examples/preemption/demo-day (berth-interactive) is served before team-ml/training
    // (berth-batch): it takes every GPU of the three GPU hosts, and training waits for GPUs.
    const demoDay = where(out, 'team-ml/demo-day');
    expect(demoDay).to.include({ phase: 'Ready', ready: '3/3' });
    expect(demoDay.status.priority).to.equal(100000);
    expect(demoDay.nodes).to.deep.equal([
      'rack-a2-gpu/gpu-01',
      'rack-a2-gpu/gpu-02',
      'rack-a2-gpu/gpu-03',
    ]);
    const training = where(out, 'team-ml/training');
    expect(training).to.include({ phase: 'Pending', ready: '0/2' });
    expect(training.status.priority).to.equal(1000);
    expect(training.nodes).to.deep.equal([]);
    expect(training.status.explanation?.summary).to.match(
      /0\/12 hosts fit: 8 MissingTags \[gpu\], 3 Insufficient nvidia\.com\/gpu, 1 HostMaintenance$/,
    );
    expect(training.status.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'InsufficientCapacity',
    });
    expect(where(out, 'team-ml/notebooks').nodes).to.deep.equal([
      'rack-a1/a1-01',
      'rack-a1/a1-01',
      'rack-a1/a1-01',
    ]);
    expect(where(out, 'team-ci/build-cache').nodes).to.deep.equal(['rack-a1/a1-01']);
    expect(where(out, 'team-ci/build-cache').status.nodes?.[0]?.volumes).to.deep.equal([
      { name: 'cache', storagePool: 'a1-01-nvme', size: '1Ti' },
    ]);
    expect(where(out, 'team-ci/e2e').nodes).to.deep.equal([
      'rack-b1/b1-01:7002',
      'rack-b1/b1-02:7002',
      'rack-b1/b1-03:7002',
      'rack-b1/b1-04:7002',
    ]);
  });

  it('keeps a partial result at or above minCount: hosts first, the fallback after', () => {
    const runners = where(out, 'team-ci/runners');
    expect(runners).to.include({ phase: 'Ready', ready: '16/24' });
    expect(runners.nodes.filter((n) => n.startsWith('rack-b1/'))).to.have.length(8);
    expect(runners.nodes.filter((n) => n.startsWith('local:'))).to.deep.equal([
      'local:7100',
      'local:7101',
      'local:7102',
      'local:7103',
      'local:7104',
      'local:7105',
      'local:7106',
      'local:7107',
    ]);
    expect(runners.status.conditions?.find((c) => c.type === 'Allocated')?.message).to.equal(
      '16 node(s) allocated (16 of 24, at least 8 wanted)',
    );
  });

  it('explains a request that cannot fit in the kube-scheduler style', () => {
    const huge = where(out, 'team-ml/huge-model');
    expect(huge).to.include({ phase: 'Pending', ready: '0/1' });
    expect(huge.status.explanation?.summary).to.match(
      /0\/12 hosts fit: 8 MissingTags \[gpu\], 3 Insufficient nvidia\.com\/gpu, 1 HostMaintenance$/,
    );
    expect(huge.status.conditions?.find((c) => c.type === 'Ready')).to.include({
      status: 'False',
      reason: 'InsufficientCapacity',
    });
  });

  it('writes pool aggregates as the operator would', () => {
    const b1 = out.hostPools.find((p) => p.name === 'rack-b1');
    expect(b1?.status).to.include({ hostCount: 4, nodes: 12, cpu: '56/64', memory: '144Gi/256Gi' });
    expect(out.storagePools.find((p) => p.name === 'a1-01-nvme')?.status).to.include({
      allocated: '1Ti',
      volumes: 1,
    });
  });

  it('-o table is one line per request and per pool', () => {
    const r = berth('simulate', '-f', 'examples/', '-o', 'table');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/^team-ci\/runners\s+burst\s+Ready\s+16\/24\s+rack-b1\/b1-01:7000/m);
    expect(r.stdout).to.match(/^rack-b1\s+4\s+12\s+56\/64/m);
    expect(r.stdout).to.match(
      /^team-ml\/demo-day\s+default\s+Ready\s+3\/3\s+rack-a2-gpu\/gpu-01, rack-a2-gpu\/gpu-02, rack-a2-gpu\/gpu-03$/m,
    );
    expect(r.stdout).to.match(/^team-ml\/training\s+default\s+Pending\s+0\/2\s+0\/2 nodes/m);
    expect(r.stdout).to.match(/^rack-a2-gpu\s+3\s+3\s+48\/144\s+192Gi\/1152Gi/m);
    // training, which would put its scratch volumes there, waits: nothing on zone-a-ceph.
    expect(r.stdout).to.match(/^zone-a-ceph\s+0\s+0\/100Ti/m);
  });

  it('exits 1 on invalid input, naming file, line and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sim-'));
    try {
      writeFileSync(
        join(dir, 'rr.yaml'),
        'apiVersion: berth.dev/v1alpha1\nkind: ResourceRequest\nmetadata: { name: a, namespace: b }\nspec:\n  count: 1\n  minCount: 2\n',
      );
      const r = berth('simulate', '-f', dir);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include(
        `${join(dir, 'rr.yaml')}:6: spec.minCount: minCount must not exceed count`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the StoragePool that reaches no host when a volume finds no storage', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sim-'));
    try {
      writeFileSync(
        join(dir, 'all.yaml'),
        [
          'apiVersion: berth.dev/v1alpha1\nkind: HostPool\nmetadata: {name: rack}\nspec:\n  zone: z1\n  hosts: [{name: h1, address: 10.0.0.1, capacity: {cpu: "4"}}]',
          'apiVersion: berth.dev/v1alpha1\nkind: StoragePool\nmetadata: {name: shared-x}\nspec: {scope: Cluster, hostPool: rack-x, capacity: 1Ti}',
          'apiVersion: berth.dev/v1alpha1\nkind: ResourceRequest\nmetadata: {name: job, namespace: t}\nspec:\n  count: 1\n  volumes: [{name: data, size: 10Gi}]',
        ].join('\n---\n'),
      );
      const r = berth('simulate', '-f', dir);
      expect(r.status, r.stderr).to.equal(0);
      const job = where(JSON.parse(r.stdout) as SimulationOutput, 't/job');
      expect(job.phase).to.equal('Pending');
      expect(job.status.explanation?.summary).to.equal(
        '0/1 nodes, fewer than minCount 1: hosts 0/1: 0/1 hosts fit: 1 NoStorage; ' +
          'storage pools that reach no host: shared-x (hostPool rack-x does not exist)',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('simulates a scale: a request given with its status and a changed count', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sim-'));
    const node = (i: number) =>
      `    - {name: job-${i}, provisioner: hosts, hostPool: rack, host: h1, address: 10.0.0.1, configEntry: "", state: Running}`;
    const files = (count: number, held: number) =>
      [
        'apiVersion: berth.dev/v1alpha1\nkind: HostPool\nmetadata: {name: rack}\nspec:\n  zone: z1\n  hosts: [{name: h1, address: 10.0.0.1, capacity: {cpu: "4"}}]',
        `apiVersion: berth.dev/v1alpha1\nkind: ResourceRequest\nmetadata: {name: job, namespace: t, generation: 1}\nspec:\n  count: ${count}\n  resources: {cpu: "1"}\nstatus:\n  phase: Ready\n  observedGeneration: 1\n  nodes:\n${Array.from({ length: held }, (_, i) => node(i)).join('\n')}`,
      ].join('\n---\n');
    const run = (count: number, held: number) => {
      writeFileSync(join(dir, 'all.yaml'), files(count, held));
      const r = berth('simulate', '-f', dir);
      expect(r.status, r.stderr).to.equal(0);
      const out = JSON.parse(r.stdout) as SimulationOutput;
      return { job: where(out, 't/job'), pool: out.hostPools[0]!.status };
    };
    try {
      const up = run(3, 1); // one held, scaled to three
      expect(up.job).to.include({ phase: 'Ready', ready: '3/3' });
      expect(up.job.status.nodes?.map((n) => n.name)).to.deep.equal(['job-0', 'job-1', 'job-2']);
      expect(up.job.status.observedGeneration).to.equal(2);
      const down = run(1, 3); // three held, scaled to one: the newest go
      expect(down.job.status.nodes?.map((n) => n.name)).to.deep.equal(['job-0']);
      expect(down.pool.nodes).to.equal(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never calls an external provisioner: a webhook profile is reported, not simulated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sim-'));
    try {
      writeFileSync(
        join(dir, 'all.yaml'),
        [
          'apiVersion: berth.dev/v1alpha1\nkind: OperatorConfig\nprofiles:\n  - name: default\n    provisioners: [{name: farm, type: webhook, url: "http://127.0.0.1:9/provision"}]',
          'apiVersion: berth.dev/v1alpha1\nkind: ResourceRequest\nmetadata: {name: vm, namespace: t}\nspec: {count: 1}',
        ].join('\n---\n'),
      );
      const r = berth('simulate', '-f', dir);
      expect(r.status, r.stderr).to.equal(0);
      const vm = where(JSON.parse(r.stdout) as SimulationOutput, 't/vm');
      expect(vm.status.explanation?.summary).to.match(
        /^not simulated: profile "default" has external provisioners/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
