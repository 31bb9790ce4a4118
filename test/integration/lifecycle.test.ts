// A request's life after it is bound, on the real API server with the operator as a process:
//  - `kubectl scale`: the scale subresource maps replicas to spec.count, scaling up adds nodes,
//    scaling down gives the newest back, the pool's usage follows, and what the schema refuses is
//    refused naming the field;
//  - expiry: a request whose deadline passes ends Expired and frees its capacity, also when the
//    operator was stopped while it passed;
//  - healing: under a profile with onHostLoss Replace, a host set to Maintenance sees its nodes
//    replaced on another host, with the invariants holding as read from the API.
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { HostPool, ResourceRequest } from '../../src/api/index.js';
import { createNamespace, kubectl, kubectlOk, useControlPlane } from './harness.js';
import { startOperator, type OperatorProcess } from './operator-process.js';
import { checkInvariants } from './invariants.js';
import { applyHostPool } from './pools.js';
import { getJson, until } from './wait.js';

const POOL = 'scale-pool';
const label = { suite: 'scale' };

describe('integration: a request scales and expires', function () {
  this.timeout(180_000);
  const cp = useControlPlane();
  let ns: string;
  let op: OperatorProcess | undefined;

  const settled = (name: string, ready: string) =>
    until(`${name} ${ready}`, async () => {
      const rr = await getJson<ResourceRequest>(['get', 'rr', name, '-n', ns]);
      return rr.status?.ready === ready && rr.status.observedGeneration === rr.metadata.generation
        ? rr
        : undefined;
    });

  const poolNodes = (n: number) =>
    until(`${POOL} holds ${n} node(s)`, async () => {
      const hp = await getJson<HostPool>(['get', 'hp', POOL]);
      return hp.status?.nodes === n ? hp : undefined;
    });

  before(async () => {
    ns = await createNamespace('scale');
    await applyHostPool({
      name: POOL,
      labels: label,
      zone: 'zone-scale',
      hosts: 2,
      subnet: '10.79.0',
    });
    op = await start();
  });

  const start = () =>
    startOperator({
      kubeconfig: cp().kubeconfigPath,
      leaseNamespace: ns,
      leaderElect: false,
      args: ['--log-level=info'],
      config: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'OperatorConfig',
        profiles: [
          {
            name: 'default',
            provisioners: [
              { name: 'rack', type: 'hosts', hostPoolSelector: { matchLabels: label } },
            ],
            hostAllocators: [{ type: 'firstFit' }],
          },
          {
            name: 'heal',
            provisioners: [
              { name: 'rack', type: 'hosts', hostPoolSelector: { matchLabels: label } },
            ],
            hostAllocators: [{ type: 'firstFit' }],
            onHostLoss: 'Replace',
            hostLossGraceSeconds: 1,
          },
        ],
      }),
    });

  after(async () => {
    await kubectl(['delete', 'rr', '--all', '-n', ns, '--timeout=60s']);
    await op?.stop();
    await kubectl(['delete', 'hp', POOL, '--ignore-not-found']);
  });

  it('scales up and down with kubectl scale; the pool usage follows', async () => {
    await kubectlOk(['create', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'runners', namespace: ns },
        spec: { count: 2, resources: { cpu: '1' } },
      }),
    });
    await settled('runners', '2/2');
    await poolNodes(2);

    await kubectlOk(['scale', 'rr/runners', '-n', ns, '--replicas=5']);
    const up = await settled('runners', '5/5');
    expect(up.status?.nodes?.map((n) => n.name)).to.deep.equal([
      'runners-0',
      'runners-1',
      'runners-2',
      'runners-3',
      'runners-4',
    ]);
    await poolNodes(5);
    // The scale subresource reads what the operator wrote.
    const scale = JSON.parse(
      await kubectlOk([
        'get',
        '--raw',
        `/apis/berth.dev/v1alpha1/namespaces/${ns}/resourcerequests/runners/scale`,
      ]),
    ) as { spec: { replicas: number }; status: { replicas: number } };
    expect(scale).to.deep.include({ spec: { replicas: 5 }, status: { replicas: 5 } });

    await kubectlOk(['scale', 'rr/runners', '-n', ns, '--replicas=1']);
    const down = await settled('runners', '1/1');
    expect(down.status?.nodes?.map((n) => n.name)).to.deep.equal(['runners-0']);
    const hp = await poolNodes(1);
    expect(hp.status?.allocated?.cpu).to.equal('1');
    const events = await kubectlOk(['events', '-n', ns, '--for', 'rr/runners']);
    expect(events).to.match(/Scaled\s+ResourceRequest\/runners\s+scaled up from 2 to 5 node\(s\)/);
    expect(events).to.match(/scaled down from 5 to 1 node\(s\): released runners-4, runners-3/);
  });

  it('refuses a scale below minCount or to zero, naming the field', async () => {
    await kubectlOk(['create', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'gang', namespace: ns },
        spec: { count: 3, minCount: 3, resources: { cpu: '1' } },
      }),
    });
    const below = await kubectl(['scale', 'rr/gang', '-n', ns, '--replicas=2']);
    expect(below.code).to.not.equal(0);
    expect(below.stderr).to.include('spec.minCount: Invalid value');
    expect(below.stderr).to.include('minCount must not exceed count');
    const zero = await kubectl(['scale', 'rr/gang', '-n', ns, '--replicas=0']);
    expect(zero.code).to.not.equal(0);
    expect(zero.stderr).to.include('spec.count');
  });

  const create = (name: string, spec: Record<string, unknown>) =>
    kubectlOk(['create', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name, namespace: ns },
        spec: { resources: { cpu: '1' }, ...spec },
      }),
    });

  const expired = (name: string) =>
    until(`${name} Expired`, async () => {
      const rr = await getJson<ResourceRequest>(['get', 'rr', name, '-n', ns]);
      return rr.status?.phase === 'Expired' ? rr : undefined;
    });

  it('expires at its deadline and frees its capacity, also across an operator restart', async () => {
    await kubectl(['delete', 'rr', '--all', '-n', ns, '--timeout=60s']);
    await poolNodes(0);
    await create('short', { count: 1, activeDeadlineSeconds: 3 });
    await create('across', { count: 2, activeDeadlineSeconds: 8 });
    await settled('short', '1/1');
    const across = await settled('across', '2/2');
    expect(across.status?.startTime).to.be.a('string');
    expect(Date.parse(across.status!.expiryTime!) - Date.parse(across.status!.startTime!)).to.equal(
      8000,
    );
    // The first ends while the operator runs: a timer, not a poll.
    const short = await expired('short');
    expect(short.status?.nodes ?? []).to.deep.equal([]);
    await poolNodes(2);
    // The second ends while no operator runs; the next one finds it past its deadline.
    await op!.stop();
    op = undefined;
    await new Promise((r) => setTimeout(r, 6000));
    op = await start();
    const ended = await expired('across');
    expect(ended.status?.conditions?.find((c) => c.type === 'Ready')?.reason).to.equal('Expired');
    await poolNodes(0);
    const events = await kubectlOk(['events', '-n', ns, '--for', 'rr/across']);
    expect(events).to.match(/Expired\s+ResourceRequest\/across\s+activeDeadlineSeconds 8 passed/);
  });

  it('replaces the nodes of a host gone to Maintenance, and the invariants hold', async () => {
    await kubectl(['delete', 'rr', '--all', '-n', ns, '--timeout=60s']);
    await create('svc', { profile: 'heal', count: 2 });
    const bound = await settled('svc', '2/2');
    expect(bound.status?.nodes?.map((n) => n.host)).to.deep.equal(['h1', 'h1']);
    const setState = (state: string) =>
      kubectlOk([
        'patch',
        'hp',
        POOL,
        '--type=json',
        '-p',
        JSON.stringify([{ op: 'add', path: '/spec/hosts/0/state', value: state }]),
      ]);
    await setState('Maintenance');
    try {
      const healed = await until('svc replaced on h2', async () => {
        const rr = await getJson<ResourceRequest>(['get', 'rr', 'svc', '-n', ns]);
        return rr.status?.replacements === 2 && rr.status.ready === '2/2' ? rr : undefined;
      });
      expect(healed.status?.nodes?.map((n) => `${n.name}@${n.host}`)).to.deep.equal([
        'svc-0@h2',
        'svc-1@h2',
      ]);
      expect(healed.status?.conditions?.find((c) => c.type === 'Degraded')?.status).to.equal(
        'False',
      );
      const hp = await until(`${POOL} counts the replacements only`, async () => {
        const p = await getJson<HostPool>(['get', 'hp', POOL]);
        return p.status?.nodes === 2 && p.status.allocated?.cpu === '2' ? p : undefined;
      });
      const requests = (await getJson<{ items: ResourceRequest[] }>(['get', 'rr', '-n', ns])).items;
      expect(checkInvariants([hp], requests)).to.deep.equal([]);
      const events = await kubectlOk(['events', '-n', ns, '--for', 'rr/svc']);
      expect(events).to.match(
        /HostLost\s+ResourceRequest\/svc\s+released svc-0 on scale-pool\/h1 \(Maintenance\)/,
      );
      expect(events).to.match(
        /Replaced\s+ResourceRequest\/svc\s+replacement svc-0 on scale-pool\/h2/,
      );
    } catch (err) {
      console.log(await kubectlOk(['get', 'rr', 'svc', '-n', ns, '-o', 'yaml']));
      console.log(op?.logs().slice(-3000));
      throw err;
    } finally {
      await setState('Enabled');
    }
  });
});
