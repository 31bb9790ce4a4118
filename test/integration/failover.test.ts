// Two operator processes on one Lease: only the leader allocates; killing it with SIGKILL in the
// middle of a burst of 500 requests hands over to the standby, and afterwards the
// invariants (docs/design.md#invariants) hold, checked from the API server.
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { HostPool, ResourceRequest } from '../../src/api/index.js';
import { createNamespace, kubectl, kubectlOk, useControlPlane } from './harness.js';
import { checkInvariants } from './invariants.js';
import { metricSum, startOperator, type OperatorProcess } from './operator-process.js';

const HOSTS = 50;
const REQUESTS = 500;

const config = `apiVersion: berth.dev/v1alpha1
kind: OperatorConfig
profiles:
  - name: default
    provisioners:
      - name: fleet
        type: hosts
        hostPoolSelector: { matchLabels: { suite: failover } }
    hostAllocators: [{ type: firstFit }]
`;

async function list<T>(args: string[]): Promise<T[]> {
  return (JSON.parse(await kubectlOk([...args, '-o', 'json'])) as { items: T[] }).items;
}

describe('integration: leader election and failover under a burst', function () {
  this.timeout(600_000);
  const cp = useControlPlane();
  let ns: string;
  let lease: string;
  const ops: OperatorProcess[] = [];

  before(async () => {
    ns = await createNamespace('burst');
    lease = await createNamespace('lease');
    const hosts = Array.from({ length: HOSTS }, (_, i) => ({
      name: `h${i}`,
      address: `10.9.0.${i}`,
      capacity: { cpu: '16', memory: '64Gi' },
    }));
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'HostPool',
        metadata: { name: 'failover-pool', labels: { suite: 'failover' } },
        spec: { zone: 'zone-f', hosts },
      }),
    });
    for (const id of ['a', 'b']) {
      ops.push(
        await startOperator({
          kubeconfig: cp().kubeconfigPath,
          config,
          leaseNamespace: lease,
          identity: `op-${id}`,
          args: ['--workers=4', '--log-level=info'],
        }),
      );
    }
  });

  after(async () => {
    for (const op of ops) await op.stop();
    // Cluster-scoped: other suites share the control plane and must not see this pool.
    await kubectlOk(['delete', 'hp', 'failover-pool', '--ignore-not-found', '--wait=true']);
  });

  it('lets only the leader allocate, survives kill -9 of it mid-burst, and keeps the invariants', async () => {
    const leaderOf = async () => {
      for (;;) {
        const r = await kubectl(['get', 'lease', 'berth-operator', '-n', lease, '-o', 'json']);
        const holder =
          r.code === 0
            ? (JSON.parse(r.stdout) as { spec: { holderIdentity?: string } }).spec.holderIdentity
            : undefined;
        if (holder) return holder;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const first = await leaderOf();
    const leader = ops.find((o) => o.logs().includes(`"identity":"${first}"`))!;
    const standby = ops.find((o) => o !== leader)!;

    const docs = Array.from({ length: REQUESTS }, (_, i) =>
      stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: `job-${String(i).padStart(3, '0')}`, namespace: ns },
        spec: { count: 1, resources: { cpu: '2', memory: '1Gi' } },
      }),
    ).join('---\n');
    await kubectlOk(['apply', '-f', '-'], { stdin: docs });

    // Kill the leader once it has placed some, while it is in the middle of the burst.
    for (;;) {
      const done = (await list<ResourceRequest>(['get', 'rr', '-n', ns])).filter(
        (r) => r.status?.phase === 'Ready',
      ).length;
      if (done >= 60) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(
      metricSum(await standby.metrics(), 'berth_allocations_total'),
      'the standby allocated',
    ).to.equal(0);
    await leader.kill9();

    await standby.waitForLog(/became leader/, 60_000);
    const deadline = Date.now() + 300_000;
    let requests: ResourceRequest[] = [];
    for (;;) {
      requests = await list<ResourceRequest>(['get', 'rr', '-n', ns]);
      const settled = requests.filter(
        (r) => r.status?.phase === 'Ready' || r.status?.phase === 'Pending',
      ).length;
      if (settled === REQUESTS) break;
      if (Date.now() > deadline)
        throw new Error(`only ${settled}/${REQUESTS} settled:\n${standby.logs().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    const pools = [
      JSON.parse(await kubectlOk(['get', 'hp', 'failover-pool', '-o', 'json'])) as HostPool,
    ];
    expect(checkInvariants(pools, requests)).to.deep.equal([]);
    // 50 hosts × 16 cpu / 2 cpu: exactly 400 fit, whoever placed them.
    expect(requests.filter((r) => r.status?.phase === 'Ready')).to.have.length((HOSTS * 16) / 2);
    expect(requests.filter((r) => r.status?.phase === 'Pending')).to.have.length(
      REQUESTS - (HOSTS * 16) / 2,
    );

    await kubectlOk(['delete', 'rr', '--all', '-n', ns, '--timeout=300s']);
    for (;;) {
      const hp = JSON.parse(
        await kubectlOk(['get', 'hp', 'failover-pool', '-o', 'json']),
      ) as HostPool;
      if (hp.status?.nodes === 0 && (hp.status.allocated?.cpu ?? '0') === '0') break;
      if (Date.now() > deadline + 120_000)
        throw new Error(`pool not empty: ${JSON.stringify(hp.status)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  it('on SIGTERM finishes its work, releases the Lease and exits 0', async () => {
    const leader = ops.find((o) => !o.exited())!;
    expect(await leader.stop()).to.equal(0);
    const record = JSON.parse(
      await kubectlOk(['get', 'lease', 'berth-operator', '-n', lease, '-o', 'json']),
    ) as { spec: { holderIdentity?: string | null } };
    expect(record.spec.holderIdentity ?? '').to.equal('');
    expect(leader.logs()).to.include('released the lease');
  });
});
