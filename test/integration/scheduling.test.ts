// Many teams on one fleet, on the real API server with the operator as a process:
//  - priorities from the cluster's own PriorityClasses: a high-priority request preempts the
//    most recently bound lower one, both say why (conditions, Events), a `Never` class waits
//    instead, an unknown class is a clear condition, and nothing thrashes afterwards;
//  - TenantQuota: the third request of a namespace waits (QuotaExceeded, naming the quota), is
//    served when the first is deleted or the quota is raised; lowering a quota evicts nothing;
//  - StrictFIFO: a small request waits behind the big head of its queue, with its position.
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { ResourceRequest, TenantQuota } from '../../src/api/index.js';
import { createNamespace, kubectl, kubectlOk, useControlPlane } from './harness.js';
import { metricSum, startOperator, type OperatorProcess } from './operator-process.js';
import { applyHostPool } from './pools.js';
import { getJson, until } from './wait.js';

const POOLS = { pre: 'sched-pre', quota: 'sched-quota', strict: 'sched-strict' };
const CLASSES = { low: 'sched-low', high: 'sched-high', never: 'sched-never', late: 'sched-late' };

describe('integration: priorities, preemption, quotas and queues', function () {
  this.timeout(180_000);
  const cp = useControlPlane();
  let ns: string;
  let op: OperatorProcess | undefined;

  const pc = (name: string, value: number, preemptionPolicy?: 'Never') =>
    kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name },
        value,
        ...(preemptionPolicy ? { preemptionPolicy } : {}),
      }),
    });

  const request = (
    name: string,
    spec: { profile: string; cpu: string; priorityClassName?: string },
  ) =>
    kubectlOk(['create', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name, namespace: ns },
        spec: {
          profile: spec.profile,
          count: 1,
          resources: { cpu: spec.cpu },
          ...(spec.priorityClassName ? { priorityClassName: spec.priorityClassName } : {}),
        },
      }),
    });

  const get = (name: string) => getJson<ResourceRequest>(['get', 'rr', name, '-n', ns]);
  const phase = (
    name: string,
    want: string,
    extra: (rr: ResourceRequest) => boolean = () => true,
  ) =>
    until(`${name} ${want}`, async () => {
      const rr = await get(name);
      return rr.status?.phase === want && extra(rr) ? rr : undefined;
    });
  const condition = (rr: ResourceRequest, type: string) =>
    rr.status?.conditions?.find((c) => c.type === type);
  const preemptions = async () => metricSum(await op!.metrics(), 'berth_preemptions_total');

  before(async () => {
    ns = await createNamespace('sched');
    const sizes = { pre: 1, quota: 2, strict: 1 };
    for (const [i, [key, name]] of Object.entries(POOLS).entries())
      await applyHostPool({
        name,
        labels: { suite: name },
        zone: 'zone-sched',
        hosts: sizes[key as keyof typeof POOLS],
        subnet: `10.81.${i}`,
      });
    await pc(CLASSES.low, 100);
    await pc(CLASSES.high, 10_000);
    await pc(CLASSES.never, 10_000, 'Never');
    const profile = (name: string, pool: string, extra: object = {}) => ({
      name,
      provisioners: [
        { name: 'rack', type: 'hosts', hostPoolSelector: { matchLabels: { suite: pool } } },
      ],
      ...extra,
    });
    op = await startOperator({
      kubeconfig: cp().kubeconfigPath,
      leaseNamespace: ns,
      leaderElect: false,
      args: ['--log-level=info'],
      config: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'OperatorConfig',
        profiles: [
          profile('pre', POOLS.pre),
          profile('quota', POOLS.quota),
          profile('strict', POOLS.strict, { queueing: 'StrictFIFO' }),
        ],
      }),
    });
  });

  after(async () => {
    await kubectl(['delete', 'rr', '--all', '-n', ns, '--timeout=60s']);
    await op?.stop();
    await kubectl(['delete', 'hp', ...Object.values(POOLS), '--ignore-not-found']);
    await kubectl(['delete', 'priorityclass', ...Object.values(CLASSES), '--ignore-not-found']);
  });

  it('a high-priority request preempts the most recently bound lower one; both say why; a Never class waits', async () => {
    // One host of 4 CPU: two low requests of 2 fill it, the second bound last.
    await request('low-a', { profile: 'pre', cpu: '2', priorityClassName: CLASSES.low });
    await phase('low-a', 'Ready');
    // Bound in a later second than low-a (startTime has a resolution of one second).
    await new Promise((r) => setTimeout(r, 1100));
    await request('low-b', { profile: 'pre', cpu: '2', priorityClassName: CLASSES.low });
    const lowB = await phase('low-b', 'Ready');
    expect(lowB.status?.priority).to.equal(100);

    await request('high', { profile: 'pre', cpu: '2', priorityClassName: CLASSES.high });
    const high = await phase('high', 'Ready');
    expect(high.status?.priority).to.equal(10_000);
    const victim = await phase(
      'low-b',
      'Pending',
      (rr) => condition(rr, 'Preempted')?.status === 'True',
    );
    expect(condition(victim, 'Preempted')?.message).to.contain(
      `preempted by ${ns}/high (priority 10000)`,
    );
    expect(victim.status?.nodes ?? []).to.deep.equal([]);
    expect((await get('low-a')).status?.phase).to.equal('Ready');
    const events = await kubectlOk(['events', '-n', ns]);
    expect(events).to.match(
      /Preempting\s+ResourceRequest\/high\s+preempting 1 request\(s\) of lower priority to make room: .*low-b/,
    );
    expect(events).to.match(/Preempted\s+ResourceRequest\/low-b\s+preempted by .*\/high/);

    // A class that may not preempt waits, though its priority is as high.
    await request('polite', { profile: 'pre', cpu: '2', priorityClassName: CLASSES.never });
    const polite = await phase('polite', 'Pending', (rr) => !!rr.status?.explanation);
    expect(polite.status?.priority).to.equal(10_000);
    expect(condition(polite, 'Allocated')?.reason).to.equal('InsufficientCapacity');

    // Steady state: nothing more is preempted while the waiting ones keep waiting.
    const before = await preemptions();
    expect(before).to.equal(1);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await preemptions()).to.equal(before);
    expect((await get('low-a')).status?.phase).to.equal('Ready');
    expect((await get('high')).status?.phase).to.equal('Ready');
    // The queue: polite (10000) is ahead of low-b (100).
    const waitingLow = await phase('low-b', 'Pending', (rr) => rr.status?.queuePosition === 2);
    expect(waitingLow.status?.queuePosition).to.equal(2);
  });

  it('an unknown PriorityClass is a clear condition, and the request is served once the class exists', async () => {
    await request('late', { profile: 'quota', cpu: '1', priorityClassName: CLASSES.late });
    const late = await phase(
      'late',
      'Pending',
      (rr) => condition(rr, 'Allocated')?.reason === 'UnknownPriorityClass',
    );
    expect(condition(late, 'Allocated')?.message).to.contain(
      `PriorityClass "${CLASSES.late}" does not exist`,
    );
    await pc(CLASSES.late, 5);
    const served = await phase('late', 'Ready');
    expect(served.status?.priority).to.equal(5);
    await kubectlOk(['delete', 'rr', 'late', '-n', ns]);
  });

  it('a TenantQuota blocks the third request, admits it when the first goes or the quota grows, and evicts nothing when lowered', async () => {
    const quota = (nodes: number) =>
      kubectlOk(['apply', '-f', '-'], {
        stdin: stringify({
          apiVersion: 'berth.dev/v1alpha1',
          kind: 'TenantQuota',
          metadata: { name: 'team', namespace: ns },
          spec: { hard: { nodes, cpu: '16' }, profiles: ['quota'] },
        }),
      });
    await quota(2);
    await request('q1', { profile: 'quota', cpu: '1' });
    await phase('q1', 'Ready');
    await request('q2', { profile: 'quota', cpu: '1' });
    await phase('q2', 'Ready');
    await request('q3', { profile: 'quota', cpu: '1' });
    const blocked = await phase(
      'q3',
      'Pending',
      (rr) => condition(rr, 'Allocated')?.reason === 'QuotaExceeded',
    );
    expect(condition(blocked, 'Allocated')?.message).to.equal(
      `TenantQuota ${ns}/team: nodes used 2 + asked 1 would exceed hard 2`,
    );
    const tq = await until('quota status', async () => {
      const q = await getJson<TenantQuota>(['get', 'tq', 'team', '-n', ns]);
      return q.status?.used?.nodes === '2' ? q : undefined;
    });
    expect(tq.status?.summary).to.equal('cpu: 2/16, nodes: 2/2');
    expect(await kubectlOk(['get', 'tq', '-n', ns])).to.match(
      /team\s+\S+\s+cpu: 2\/16, nodes: 2\/2/,
    );

    await kubectlOk(['delete', 'rr', 'q1', '-n', ns]);
    await phase('q3', 'Ready');

    await request('q4', { profile: 'quota', cpu: '1' });
    await phase('q4', 'Pending', (rr) => condition(rr, 'Allocated')?.reason === 'QuotaExceeded');
    await quota(3);
    await phase('q4', 'Ready');

    await quota(1);
    await until('the quota counts 3 of 1', async () => {
      const q = await getJson<TenantQuota>(['get', 'tq', 'team', '-n', ns]);
      return q.status?.summary === 'cpu: 3/16, nodes: 3/1' ? q : undefined;
    });
    for (const name of ['q2', 'q3', 'q4'])
      expect((await get(name)).status?.phase).to.equal('Ready');
  });

  it('StrictFIFO: a small request waits behind the big head of its queue, then both are served in order', async () => {
    await request('first', { profile: 'strict', cpu: '3' });
    await phase('first', 'Ready');
    await request('big', { profile: 'strict', cpu: '3' });
    await phase('big', 'Pending', (rr) => rr.status?.queuePosition === 1);
    await request('small', { profile: 'strict', cpu: '1' });
    // One CPU is free, but the head comes first.
    const small = await phase('small', 'Pending', (rr) => rr.status?.queuePosition === 2);
    expect(small.status?.explanation?.summary).to.equal(
      `waiting behind ${ns}/big, the head of the StrictFIFO queue of profile strict`,
    );
    expect(condition(small, 'Allocated')?.reason).to.equal('Queued');
    await kubectlOk(['delete', 'rr', 'first', '-n', ns]);
    const big = await phase('big', 'Ready');
    expect(big.status?.queuePosition).to.equal(undefined);
    await phase('small', 'Ready');
  });
});
