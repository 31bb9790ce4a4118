// Properties of the queues over whole runs of the simulator (the operator's decisions), on random
// fleets and random streams of requests of random priorities:
//   - BestEffortFIFO never leaves capacity idle that a pending request could use: each request
//     still Pending after a run stays Pending when tried alone against what the run bound;
//   - StrictFIFO never lets a later request pass the head: in each profile, nothing created after
//     a Pending request of the same or a higher priority is bound by the run;
//   - preemption never takes from an equal or a higher priority, and whatever it takes serves a
//     request that is then Ready.
// FC_RUNS raises the number of runs (e.g. FC_RUNS=2000 for a long soak).
import { expect } from 'chai';
import fc from 'fast-check';
import type { HostPool, OperatorConfig, ResourceRequest } from '../../src/api/index.js';
import type { PriorityClassInfo } from '../../src/serving/priority.js';
import { simulate, type SimulationOutput } from '../../src/sim/simulate.js';

const RUNS = Number(process.env['FC_RUNS'] ?? 40);
const NOW = new Date('2026-06-01T00:00:00Z');
const CLASSES: PriorityClassInfo[] = [0, 1, 2].map((p) => ({ name: `p${p}`, value: p * 100 }));

const pool = (cpus: number[]): HostPool => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name: 'rack', generation: 1 },
  spec: {
    zone: 'z',
    hosts: cpus.map((cpu, i) => ({
      name: `h${i}`,
      address: `10.0.0.${i + 1}`,
      capacity: { cpu: String(cpu), memory: '64Gi' },
    })),
  },
});

const config = (queueing: 'BestEffortFIFO' | 'StrictFIFO'): OperatorConfig => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'OperatorConfig',
  profiles: [{ name: 'default', provisioners: [{ name: 'rack', type: 'hosts' }], queueing }],
});

interface Ask {
  count: number;
  cpu: number;
  cls: number;
}

const asks = fc.array(
  fc.record({
    count: fc.integer({ min: 1, max: 3 }),
    cpu: fc.integer({ min: 1, max: 6 }),
    cls: fc.integer({ min: 0, max: 2 }),
  }),
  { minLength: 1, maxLength: 12 },
);
const hosts = fc.array(fc.integer({ min: 2, max: 8 }), { minLength: 1, maxLength: 4 });

const created = (i: number) => `2026-01-01T00:00:${String(i).padStart(2, '0')}Z`;

const request = (a: Ask, i: number): ResourceRequest => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name: `r${i}`, namespace: 't', creationTimestamp: created(i) },
  spec: { count: a.count, resources: { cpu: String(a.cpu) }, priorityClassName: `p${a.cls}` },
});

const run = (
  cpus: number[],
  queueing: 'BestEffortFIFO' | 'StrictFIFO',
  requests: ResourceRequest[],
  current: ResourceRequest[] = [],
) =>
  simulate(
    {
      hostPools: [pool(cpus)],
      storagePools: [],
      requests,
      current,
      config: config(queueing),
      priorityClasses: CLASSES,
    },
    NOW,
  );

const phases = (out: SimulationOutput) =>
  new Map(out.requests.map((r) => [r.name, r.status.phase]));

describe('berth simulate: properties of the queues', () => {
  it('BestEffortFIFO leaves no capacity idle that a pending request could use', async () => {
    await fc.assert(
      fc.asyncProperty(hosts, asks, async (cpus, stream) => {
        const requests = stream.map(request);
        const out = await run(cpus, 'BestEffortFIFO', requests);
        const bound = out.requests
          .filter((r) => r.status.phase === 'Ready')
          .map((r) => ({
            ...requests.find((q) => q.metadata.name === r.name)!,
            metadata: {
              ...requests.find((q) => q.metadata.name === r.name)!.metadata,
              generation: 1,
            },
            status: r.status,
          }));
        for (const r of out.requests) {
          if (r.status.phase !== 'Pending') continue;
          // Alone against what the run bound (and with no one to preempt: priority p0).
          const alone = { ...requests.find((q) => q.metadata.name === r.name)! };
          alone.spec = { ...alone.spec, priorityClassName: 'p0' };
          const again = await run(cpus, 'BestEffortFIFO', [alone], bound);
          expect(phases(again).get(r.name), `${r.name} fits in what was left idle`).to.equal(
            'Pending',
          );
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('StrictFIFO never lets a later request of the same or lower priority pass a pending one', async () => {
    await fc.assert(
      fc.asyncProperty(hosts, asks, async (cpus, stream) => {
        const requests = stream.map(request);
        const out = await run(cpus, 'StrictFIFO', requests);
        const phase = phases(out);
        stream.forEach((a, i) => {
          if (phase.get(`r${i}`) !== 'Pending') return;
          stream.forEach((b, j) => {
            if (j > i && b.cls <= a.cls)
              expect(phase.get(`r${j}`), `r${j} passed the pending r${i}`).to.equal('Pending');
          });
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('preemption takes only from strictly lower priorities, for a request it then serves', async () => {
    await fc.assert(
      fc.asyncProperty(hosts, asks, asks, async (cpus, first, later) => {
        // A first run binds what it can; a second stream arrives on top of that state.
        const initial = first.map(request);
        const out1 = await run(cpus, 'BestEffortFIFO', initial);
        const current = initial.map((rr) => ({
          ...rr,
          metadata: { ...rr.metadata, generation: 1 },
          status: out1.requests.find((r) => r.name === rr.metadata.name)!.status,
        }));
        const arriving = later.map((a, i) => ({
          ...request(a, i),
          metadata: { name: `n${i}`, namespace: 't', creationTimestamp: created(30 + i) },
        }));
        const out2 = await run(cpus, 'BestEffortFIFO', arriving, current);
        for (const r of out2.requests) {
          const preempted = r.status.conditions?.find((c) => c.type === 'Preempted');
          if (preempted?.status !== 'True') continue;
          const by = /preempted by t\/(\S+) \(priority (\d+)\)/.exec(preempted.message)!;
          const victim = current.find((c) => c.metadata.name === r.name)!;
          expect(Number(by[2])).to.be.greaterThan(victim.status!.priority!);
          expect(out2.requests.find((x) => x.name === by[1])!.status.phase).to.equal('Ready');
        }
      }),
      { numRuns: RUNS },
    );
  });
});
