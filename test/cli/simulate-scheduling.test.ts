// `berth simulate` knows priorities, queues, quotas and preemption: the same decisions as the
// operator (src/serving), over files. Each case is what test/integration/scheduling.test.ts shows
// the operator doing on the real API server.
import { expect } from 'chai';
import type {
  OperatorConfig,
  ResourceRequest,
  ResourceRequestStatus,
  TenantQuota,
} from '../../src/api/index.js';
import type { PriorityClassInfo } from '../../src/serving/priority.js';
import { simulate, type SimulationInput } from '../../src/sim/simulate.js';
import { rackPool } from '../support/objects.js';

const NOW = new Date('2026-06-01T00:00:00Z');

const CLASSES: PriorityClassInfo[] = [
  { name: 'low', value: 100 },
  { name: 'high', value: 10_000 },
  { name: 'polite', value: 10_000, preemptionPolicy: 'Never' },
];

const config = (queueing?: 'StrictFIFO', preemptible?: boolean): OperatorConfig => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'OperatorConfig',
  profiles: [
    {
      name: 'default',
      provisioners: [{ name: 'rack', type: 'hosts' }],
      ...(queueing ? { queueing } : {}),
      ...(preemptible === undefined ? {} : { preemptible }),
    },
  ],
});

const request = (
  name: string,
  cpu: string,
  o: { cls?: string; created?: string; boundOn?: string; boundAt?: string; ns?: string } = {},
): ResourceRequest => {
  const status: ResourceRequestStatus | undefined = o.boundOn
    ? {
        phase: 'Ready',
        observedGeneration: 1,
        startTime: o.boundAt ?? '2026-01-01T00:00:00Z',
        nodes: [
          {
            name: `${name}-0`,
            provisioner: 'rack',
            hostPool: 'rack',
            host: o.boundOn,
            address: '10.0.0.1',
            state: 'Running',
          },
        ],
      }
    : undefined;
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ResourceRequest',
    metadata: {
      name,
      namespace: o.ns ?? 't',
      ...(o.created ? { creationTimestamp: o.created } : {}),
      ...(status ? { generation: 1 } : {}),
    },
    spec: {
      count: 1,
      resources: { cpu },
      ...(o.cls ? { priorityClassName: o.cls } : {}),
    },
    ...(status ? { status } : {}),
  };
};

const run = (input: Partial<SimulationInput>) =>
  simulate(
    {
      hostPools: [rackPool(1)],
      storagePools: [],
      requests: [],
      config: config(),
      priorityClasses: CLASSES,
      ...input,
    },
    NOW,
  );

const statusOf = (out: Awaited<ReturnType<typeof simulate>>, name: string) =>
  out.requests.find((r) => r.name === name)!.status;
const cond = (s: ResourceRequestStatus, type: string) => s.conditions?.find((c) => c.type === type);

describe('berth simulate: priorities, queues, quotas, preemption', () => {
  it('a high-priority request preempts the most recently bound lower one, as the operator does', async () => {
    const out = await run({
      current: [
        request('low-a', '2', { cls: 'low', boundOn: 'h0', created: '2026-01-01T00:00:00Z' }),
        request('low-b', '2', {
          cls: 'low',
          boundOn: 'h0',
          created: '2026-01-01T00:00:01Z',
          boundAt: '2026-01-01T00:00:05Z',
        }),
      ],
      requests: [request('high', '2', { cls: 'high' })],
    });
    const high = statusOf(out, 'high');
    expect(high.phase).to.equal('Ready');
    expect(high.priority).to.equal(10_000);
    const victim = statusOf(out, 'low-b');
    expect(victim.phase).to.equal('Pending');
    expect(victim.nodes ?? []).to.deep.equal([]);
    expect(cond(victim, 'Preempted')).to.include({
      status: 'True',
      message: 'preempted by t/high (priority 10000) to make room for it',
    });
    expect(statusOf(out, 'low-a').phase).to.equal('Ready');
    expect(out.hostPools[0]!.status.nodes).to.equal(2);
  });

  it('a Never class, an equal priority or a profile that may not be preempted preempts nothing', async () => {
    const full = [request('low', '4', { cls: 'low', boundOn: 'h0' })];
    const never = await run({ current: full, requests: [request('p', '1', { cls: 'polite' })] });
    expect(statusOf(never, 'p').phase).to.equal('Pending');
    expect(statusOf(never, 'low').phase).to.equal('Ready');

    const equal = await run({ current: full, requests: [request('peer', '1', { cls: 'low' })] });
    expect(statusOf(equal, 'peer').phase).to.equal('Pending');

    const guarded = await run({
      config: config(undefined, false),
      current: full,
      requests: [request('high', '1', { cls: 'high' })],
    });
    expect(statusOf(guarded, 'high').phase).to.equal('Pending');
    expect(statusOf(guarded, 'low').phase).to.equal('Ready');
  });

  it('never preempts when evicting every candidate would still not make it fit', async () => {
    const out = await run({
      current: [request('low', '1', { cls: 'low', boundOn: 'h0' })],
      requests: [request('giant', '5', { cls: 'high' })],
    });
    expect(statusOf(out, 'giant').phase).to.equal('Pending');
    expect(statusOf(out, 'low').phase).to.equal('Ready');
  });

  it('serves the higher priority first, whatever the input order', async () => {
    const out = await run({
      requests: [request('first', '4', { cls: 'low' }), request('second', '4', { cls: 'high' })],
    });
    expect(statusOf(out, 'second').phase).to.equal('Ready');
    expect(statusOf(out, 'first').phase).to.equal('Pending');
    expect(statusOf(out, 'first').queuePosition).to.equal(1);
  });

  it('an unknown class is a condition, not a crash', async () => {
    const out = await run({ requests: [request('x', '1', { cls: 'missing' })] });
    const s = statusOf(out, 'x');
    expect(s.phase).to.equal('Pending');
    expect(cond(s, 'Allocated')?.reason).to.equal('UnknownPriorityClass');
  });

  it('StrictFIFO: a small request waits behind the head that does not fit; BestEffortFIFO lets it pass', async () => {
    const input = {
      current: [request('first', '3', { boundOn: 'h0' })],
      requests: [request('big', '3'), request('small', '1')],
    };
    const strict = await run({ ...input, config: config('StrictFIFO') });
    expect(statusOf(strict, 'big')).to.include({ phase: 'Pending', queuePosition: 1 });
    const small = statusOf(strict, 'small');
    expect(small).to.include({ phase: 'Pending', queuePosition: 2 });
    expect(small.explanation?.summary).to.equal(
      'waiting behind t/big, the head of the StrictFIFO queue of profile default',
    );
    const fifo = await run(input);
    expect(statusOf(fifo, 'small').phase).to.equal('Ready');
  });

  it('a TenantQuota blocks what would pass it, naming quota, resource and numbers', async () => {
    const quota: TenantQuota = {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'TenantQuota',
      metadata: { name: 'team', namespace: 't' },
      spec: { hard: { nodes: '2' } },
    };
    const out = await run({
      hostPools: [rackPool(2)],
      tenantQuotas: [quota],
      requests: [
        request('a', '1'),
        request('b', '1'),
        request('c', '1'),
        request('o', '1', { ns: 'other' }),
      ],
    });
    expect(statusOf(out, 'a').phase).to.equal('Ready');
    expect(statusOf(out, 'b').phase).to.equal('Ready');
    expect(statusOf(out, 'o').phase).to.equal('Ready');
    const c = statusOf(out, 'c');
    expect(c.phase).to.equal('Pending');
    expect(cond(c, 'Allocated')).to.include({
      reason: 'QuotaExceeded',
      message: 'TenantQuota t/team: nodes used 2 + asked 1 would exceed hard 2',
    });
  });
});
