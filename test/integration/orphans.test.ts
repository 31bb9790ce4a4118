// Nothing leaks on an external provisioner, on the real API server with the operator as a process
// and a misbehaving webhook service on 127.0.0.1 (the kvm-farm behind fault injection):
//  - answers after the operator's deadline, from a service that ignores fences: the orphan
//    collector releases what it kept;
//  - the leader killed (kill -9) while provisions are in flight, one request deleted before the
//    standby leads (its finalizer releases its unrecorded keys) and one kept (the standby gets
//    the same nodes back, not new ones);
//  - a release that fails, then succeeds: the HostPool's status returns to zero.
// After every request is deleted, the service holds nothing and each node was asked to release
// exactly once (or the release answered "unknown").
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { HostPool, ResourceRequest } from '../../src/api/index.js';
import {
  KvmFarm,
  startFarm,
  type FaultPlan,
  type TestServer,
} from '../provisioning/helpers/servers.js';
import { createNamespace, kubectl, kubectlOk, useControlPlane } from './harness.js';
import { metricSum, startOperator, type OperatorProcess } from './operator-process.js';
import { applyHostPool } from './pools.js';
import { getJson, until } from './wait.js';

const POOL = 'orphans-pool';
const label = { suite: 'orphans' };

describe('integration: nothing leaks on an external provisioner', function () {
  this.timeout(240_000);
  const cp = useControlPlane();
  let ns: string;
  let lease: string;
  const ops: OperatorProcess[] = [];
  let server: TestServer | undefined;

  const config = (url: string, webhook: Record<string, unknown> = {}) =>
    stringify({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'OperatorConfig',
      profiles: [
        {
          name: 'vm',
          provisioners: [
            { name: 'farm', type: 'webhook', url, timeoutSeconds: 30, retries: 0, ...webhook },
          ],
        },
        {
          name: 'mixed',
          provisioners: [
            { name: 'rack', type: 'hosts', hostPoolSelector: { matchLabels: label } },
            { name: 'farm', type: 'webhook', url, timeoutSeconds: 30, retries: 0, ...webhook },
          ],
          hostAllocators: [{ type: 'firstFit' }],
        },
      ],
    });

  const operator = async (
    url: string,
    o: { webhook?: Record<string, unknown>; args?: string[]; identity?: string } = {},
  ) => {
    const op = await startOperator({
      kubeconfig: cp().kubeconfigPath,
      config: config(url, o.webhook),
      leaseNamespace: lease,
      identity: o.identity ?? 'op',
      args: ['--log-level=debug', ...(o.args ?? [])],
    });
    ops.push(op);
    await op.waitForLog(/became leader|"leaderElection":false/, 60_000);
    return op;
  };

  const farmWith = async (opts: ConstructorParameters<typeof KvmFarm>[0], plan?: FaultPlan) => {
    const farm = new KvmFarm(opts);
    server = await startFarm(farm, plan);
    return farm;
  };

  const create = (name: string, profile: string, count: number, cpu?: string) =>
    kubectlOk(['create', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name, namespace: ns },
        spec: { profile, count, ...(cpu ? { resources: { cpu } } : {}) },
      }),
    });

  const get = (name: string) => getJson<ResourceRequest>(['get', 'rr', name, '-n', ns]);

  const gone = (name: string) =>
    until(`${name} gone`, async () => {
      const r = await kubectl(['get', 'rr', name, '-n', ns]);
      return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
    });

  /** The farm holds nothing, and every VM it made was asked to release exactly once. */
  const expectNothingHeld = async (farm: KvmFarm) => {
    await until('the service holds nothing', async () => (farm.used === 0 ? true : undefined));
    expect(
      farm.vms
        .filter((vm) => vm.releaseRequests !== 1)
        .map((vm) => `${vm.name}: ${vm.releaseRequests}`),
      'VMs not released exactly once',
    ).to.deep.equal([]);
  };

  before(async () => {
    ns = await createNamespace('orphans');
    lease = await createNamespace('orphans-lease');
    await applyHostPool({
      name: POOL,
      labels: label,
      zone: 'zone-orphans',
      hosts: 1,
      subnet: '10.78.0',
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed')
      for (const op of ops) console.log(op.logs().slice(-6000));
    for (const op of ops.splice(0)) await op.stop();
    await kubectl(['delete', 'rr', '--all', '-n', ns, '--wait=false']);
    // A request left with our finalizer (a failed test) must not block the namespace.
    const left = await getJson<{ items: ResourceRequest[] }>(['get', 'rr', '-n', ns]);
    for (const rr of left.items)
      await kubectl([
        'patch',
        'rr',
        rr.metadata.name,
        '-n',
        ns,
        '--type=merge',
        '-p',
        '{"metadata":{"finalizers":null}}',
      ]);
    await server?.close();
    server = undefined;
  });

  after(async () => {
    await kubectl(['delete', 'hp', POOL, '--ignore-not-found']);
  });

  it('answers after the deadline from a service that ignores fences: the collector releases what it kept', async () => {
    const farm = await farmWith({ capacity: 8, makeMs: 2500, fencing: false });
    const op = await operator(server!.url, {
      webhook: { timeoutSeconds: 1 },
      args: ['--orphan-scan-interval=1s', '--orphan-grace=3s'],
    });
    for (const name of ['late-a', 'late-b', 'late-c']) await create(name, 'vm', 1);
    await until('every provision timed out and the VMs were made anyway', async () => {
      const rrs = await Promise.all(['late-a', 'late-b', 'late-c'].map(get));
      const pending = rrs.every((rr) => rr.status?.phase === 'Pending');
      return pending && farm.vms.length === 3 && farm.vms.every((vm) => vm.state !== 'Making')
        ? true
        : undefined;
    });
    const explanation = (await get('late-a')).status?.explanation?.summary ?? '';
    expect(explanation).to.match(/no answer within 1000 ms/);
    await kubectlOk(['delete', 'rr', '--all', '-n', ns, '--timeout=60s']);
    await expectNothingHeld(farm);
    expect(metricSum(await op.metrics(), 'berth_orphan_nodes_released_total')).to.equal(3);
    const events = await kubectlOk(['events', '-n', lease, '--for', 'lease/berth-operator']);
    expect(events).to.match(
      /OrphansReleased\s+Lease\/berth-operator\s+released 1 node\(s\) provisioner farm/,
    );
  });

  it('the leader killed mid-provision: a request deleted before the standby leads and one kept leave nothing behind', async () => {
    const farm = await farmWith({ capacity: 8, makeMs: 4000 });
    const a = await operator(server!.url, { identity: 'op-a' });
    await create('gone-early', 'vm', 2);
    await create('kept', 'vm', 2);
    await until('both provisions reached the service', async () =>
      farm.vms.length === 4 ? true : undefined,
    );
    expect(farm.vms.every((vm) => vm.state === 'Making')).to.equal(true);
    await a.kill9();
    ops.splice(ops.indexOf(a), 1);
    await kubectlOk(['delete', 'rr', 'gone-early', '-n', ns, '--wait=false']);
    const gonePhase = (await get('gone-early')).status?.phase;
    expect(gonePhase, 'deleted while provisioning').to.equal('Provisioning');

    await operator(server!.url, { identity: 'op-b' });
    await gone('gone-early');
    const kept = await until('kept Ready', async () => {
      const rr = await get('kept');
      return rr.status?.phase === 'Ready' ? rr : undefined;
    });
    // The standby asked for the same keys and got the same VMs: nothing made twice.
    expect(farm.vms).to.have.length(4);
    const keptVms = farm.vms.filter((vm) => vm.request.name === 'kept');
    expect(kept.status?.nodes?.map((n) => n.address)).to.deep.equal(
      keptVms.map((vm) => vm.address),
    );
    expect(
      farm.vms.filter((vm) => vm.request.name === 'gone-early').map((vm) => vm.state),
    ).to.deep.equal(['Released', 'Released']);
    await kubectlOk(['delete', 'rr', 'kept', '-n', ns, '--timeout=60s']);
    await expectNothingHeld(farm);
  });

  it('a release that fails, then succeeds: the service holds nothing and the pool status returns to zero', async () => {
    const plan: FaultPlan = (kind, n) => (kind === 'ReleaseRequest' && n <= 2 ? 'http500' : 'ok');
    const farm = await farmWith({ capacity: 8 }, plan);
    await operator(server!.url, { args: ['--leader-elect=false'] });
    await create('mixed', 'mixed', 2, '4');
    const bound = await until('mixed Ready', async () => {
      const rr = await get('mixed');
      return rr.status?.phase === 'Ready' ? rr : undefined;
    });
    expect(bound.status?.nodes?.map((n) => n.provisioner)).to.deep.equal(['rack', 'farm']);
    await until(`${POOL} counts the rack node`, async () => {
      const hp = await getJson<HostPool>(['get', 'hp', POOL]);
      return hp.status?.nodes === 1 ? hp : undefined;
    });
    await kubectlOk(['delete', 'rr', 'mixed', '-n', ns, '--timeout=60s']);
    expect(server!.count('ReleaseRequest')).to.equal(3);
    await expectNothingHeld(farm);
    const hp = await until(`${POOL} back to zero`, async () => {
      const p = await getJson<HostPool>(['get', 'hp', POOL]);
      return p.status?.nodes === 0 ? p : undefined;
    });
    expect(hp.status?.allocated?.cpu ?? '0').to.equal('0');
  });
});
