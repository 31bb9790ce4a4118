// Release on the real API server, for each kind of profile (docs/design.md, "The status is the
// ledger"):
//  - a `hosts` request holds no finalizer; deleted while the operator is down, its capacity is
//    simply absent from the list the next operator rebuilds from — freed once, not twice;
//  - a `webhook` request holds berth.dev/release and is released through its provisioner exactly
//    once, whether the operator added the finalizer itself or the MutatingAdmissionPolicy did at
//    create time (then the operator makes no finalizer patch at all).
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { HostPool, ResourceRequest } from '../../src/api/index.js';
import { releaseFinalizerPolicy } from '../../src/deploy/admission.js';
import { startFarm, type RunningFarm } from '../../examples/kvm-farm/server.js';
import { createNamespace, kubectl, kubectlOk, useControlPlane } from './harness.js';
import { startOperator, type OperatorProcess } from './operator-process.js';
import { getJson, until } from './wait.js';

const label = { suite: 'release' };

/** PATCH requests on resourcerequests the API server has served (its apiserver_request_total). */
async function requestPatches(): Promise<number> {
  const text = await kubectlOk(['get', '--raw', '/metrics']);
  let sum = 0;
  for (const line of text.split('\n'))
    if (
      line.startsWith('apiserver_request_total{') &&
      line.includes('verb="PATCH"') &&
      line.includes('resource="resourcerequests"')
    )
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}
const POOL = 'release-pool';

describe('integration: release for local and remote profiles', function () {
  this.timeout(180_000);
  const cp = useControlPlane();
  let ns: string;
  let lease: string;
  let farm: RunningFarm;
  let op: OperatorProcess | undefined;

  const config = () =>
    stringify({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'OperatorConfig',
      profiles: [
        {
          name: 'local',
          provisioners: [{ name: 'rack', type: 'hosts', hostPoolSelector: { matchLabels: label } }],
          hostAllocators: [{ type: 'firstFit' }],
        },
        {
          name: 'vm',
          provisioners: [{ name: 'farm', type: 'webhook', url: farm.url, timeoutSeconds: 5 }],
        },
      ],
    });

  const start = async () => {
    op = await startOperator({
      kubeconfig: cp().kubeconfigPath,
      config: config(),
      leaseNamespace: lease,
      leaderElect: false,
    });
  };

  const apply = (rr: { name: string; profile: string; count: number; cpu?: string }) =>
    kubectlOk(['create', '-o', 'json', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: rr.name, namespace: ns },
        spec: {
          profile: rr.profile,
          count: rr.count,
          ...(rr.cpu ? { resources: { cpu: rr.cpu } } : {}),
        },
      }),
    }).then((out) => JSON.parse(out) as ResourceRequest);

  const ready = (name: string) =>
    until(`${name} Ready`, async () => {
      const rr = await getJson<ResourceRequest>(['get', 'rr', name, '-n', ns]);
      return rr.status?.phase === 'Ready' ? rr : undefined;
    });

  const gone = (name: string) =>
    until(`${name} gone`, async () => {
      const r = await kubectl(['get', 'rr', name, '-n', ns]);
      return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
    });

  before(async () => {
    ns = await createNamespace('release');
    lease = await createNamespace('release-lease');
    farm = await startFarm(['--capacity', '8']);
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'HostPool',
        metadata: { name: POOL, labels: label },
        spec: {
          zone: 'zone-release',
          hosts: [
            { name: 'h1', address: '10.77.0.1', capacity: { cpu: '4', memory: '8Gi' } },
            { name: 'h2', address: '10.77.0.2', capacity: { cpu: '4', memory: '8Gi' } },
          ],
        },
      }),
    });
  });

  afterEach(async () => {
    await op?.stop();
    op = undefined;
  });

  after(async () => {
    await kubectl(['delete', 'rr', '--all', '-n', ns, '--timeout=30s']);
    await kubectl(['delete', 'hp', POOL, '--ignore-not-found']);
    await farm?.close();
  });

  it('a hosts request deleted while the operator is down frees its capacity once', async () => {
    await start();
    await apply({ name: 'fills', profile: 'local', count: 2, cpu: '4' });
    const bound = await ready('fills');
    expect(bound.metadata.finalizers ?? []).to.deep.equal([]); // the status is the ledger
    await op!.stop();
    op = undefined;
    // No finalizer: the object goes at once, with no operator running.
    await kubectlOk(['delete', 'rr', 'fills', '-n', ns, '--timeout=10s']);
    await apply({ name: 'next', profile: 'local', count: 2, cpu: '4' });
    await start();
    await ready('next');
    const hp = await until(`${POOL} status counts only next`, async () => {
      const p = await getJson<HostPool>(['get', 'hp', POOL]);
      return p.status?.nodes === 2 ? p : undefined;
    });
    expect(hp.status?.allocated?.cpu).to.equal('8');
    await kubectlOk(['delete', 'rr', 'next', '-n', ns, '--timeout=20s']);
    await until(`${POOL} empty`, async () => {
      const p = await getJson<HostPool>(['get', 'hp', POOL]);
      return p.status?.nodes === 0 ? p : undefined;
    });
  });

  it('a webhook request is released through its provisioner exactly once (operator adds the finalizer)', async () => {
    await start();
    const created = await apply({ name: 'vm-a', profile: 'vm', count: 2 });
    expect(created.metadata.finalizers ?? []).to.deep.equal([]);
    const bound = await ready('vm-a');
    expect(bound.metadata.finalizers).to.deep.equal(['berth.dev/release']);
    const names = (bound.status?.nodes ?? []).map((n) => n.name);
    await kubectlOk(['delete', 'rr', 'vm-a', '-n', ns, '--timeout=30s']);
    await gone('vm-a');
    const vms = farm.farm.vms.filter((vm) => names.includes(vm.name));
    if (vms[0]?.releaseRequests !== 1) console.log(op!.logs());
    expect(vms.map((vm) => [vm.state, vm.releaseRequests])).to.deep.equal([
      ['Released', 1],
      ['Released', 1],
    ]);
  });

  it('with the admission policy, the finalizer is there at create and the operator never patches it in', async () => {
    const cm = `release-${ns}`;
    const policy = releaseFinalizerPolicy(
      { name: cm, namespace: ns },
      { 'berth.dev/test': 'release' },
      `berth-release-finalizer-${ns}`,
    );
    await kubectlOk(['create', 'configmap', cm, '-n', ns, '--from-literal=remote-profiles=vm']);
    await kubectlOk(['apply', '-f', '-'], { stdin: policy.map((o) => stringify(o)).join('---\n') });
    try {
      // The policy takes effect a moment after it is created.
      const created = await until('the policy adds the finalizer', async () => {
        const rr = await apply({ name: `probe-${Date.now()}`, profile: 'vm', count: 1 });
        const has = (rr.metadata.finalizers ?? []).includes('berth.dev/release');
        if (!has) await kubectlOk(['delete', 'rr', rr.metadata.name, '-n', ns, '--wait=false']);
        return has ? rr : undefined;
      });
      // A local profile is left alone.
      const local = await apply({ name: 'local-a', profile: 'local', count: 1, cpu: '1' });
      expect(local.metadata.finalizers ?? []).to.deep.equal([]);
      const before = await requestPatches();
      await start();
      const bound = await ready(created.metadata.name);
      await ready('local-a');
      expect((await requestPatches()) - before, 'PATCHes of resourcerequests').to.equal(0);
      const names = (bound.status?.nodes ?? []).map((n) => n.name);
      await kubectlOk(['delete', 'rr', '--all', '-n', ns, '--timeout=30s']);
      await gone(created.metadata.name);
      const vms = farm.farm.vms.filter((vm) => names.includes(vm.name));
      if (vms[0]?.releaseRequests !== 1) console.log(op!.logs());
      expect(vms.map((vm) => [vm.state, vm.releaseRequests])).to.deep.equal([['Released', 1]]);
    } finally {
      await kubectl(['delete', '-f', '-'], {
        stdin: policy.map((o) => stringify(o)).join('---\n'),
      });
    }
  });
});
