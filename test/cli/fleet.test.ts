// `berth top`'s arithmetic and rendering: unit cases, and golden output on the examples (their
// statuses as the operator would write them, from the simulator).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { HostPool, ResourceRequest } from '../../src/api/index.js';
import {
  age,
  bar,
  fleetView,
  formatAmount,
  namespaceRows,
  renderFleet,
} from '../../src/cli/fleet.js';
import type { SimulationOutput } from '../../src/sim/simulate.js';
import { repoRoot } from '../support/fixtures.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const GOLDEN = join(repoRoot, 'test/fixtures/top/examples.txt');

const docs = <T>(file: string): T[] =>
  parseAllDocuments(readFileSync(join(repoRoot, 'examples', file), 'utf8')).map(
    (d) => d.toJS() as T,
  );

/** The examples as the API would hold them once the operator served them. */
function servedExamples(): { pools: HostPool[]; requests: ResourceRequest[] } {
  const r = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'dist/src/cli/main.js'),
      'simulate',
      '-f',
      'examples/',
      '--now',
      NOW.toISOString(),
    ],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  expect(r.status, r.stderr).to.equal(0);
  const out = JSON.parse(r.stdout) as SimulationOutput;
  const pools = docs<HostPool>('10-hostpools.yaml').map((p) => ({
    ...p,
    status: out.hostPools.find((x) => x.name === p.metadata.name)!.status,
  }));
  // Every request the simulation served (it reads examples/ recursively), so that what the
  // pools hold is what the requests hold: demo-day, applied last, is among them.
  const requests = [
    '30-requests-team-ml.yaml',
    '31-requests-team-ci.yaml',
    'preemption/demo-day.yaml',
  ]
    .flatMap((f) => docs<ResourceRequest>(f))
    .map((rr, i) => ({
      ...rr,
      metadata: {
        ...rr.metadata,
        // Created a minute apart, the first an hour before NOW.
        creationTimestamp: new Date(NOW.getTime() - 3600_000 + i * 60_000)
          .toISOString()
          .replace('.000Z', 'Z'),
      },
      status: out.requests.find(
        (x) => x.namespace === rr.metadata.namespace && x.name === rr.metadata.name,
      )!.status,
    }));
  return { pools, requests };
}

describe('berth top: the fleet view', () => {
  it('formats sums as people write them', () => {
    expect(formatAmount('memory', 48 * 2 ** 30)).to.equal('48Gi');
    expect(formatAmount('memory', 1.5 * 2 ** 40)).to.equal('1.5Ti');
    expect(formatAmount('storage', 500 * 2 ** 30)).to.equal('500Gi');
    expect(formatAmount('cpu', 12)).to.equal('12');
    expect(formatAmount('cpu', 0.25)).to.equal('250m');
    expect(formatAmount('nvidia.com/gpu', 4)).to.equal('4');
  });

  it('draws a bar of the fraction, full when overcommitted', () => {
    expect(bar(0.5, 10)).to.equal('█████░░░░░  50%');
    expect(bar(0, 4)).to.equal('░░░░   0%');
    expect(bar(1.5, 4)).to.equal('████ 150%');
    expect(bar(undefined, 4)).to.equal('         ');
  });

  it('says ages as kubectl does', () => {
    expect([age(5), age(600), age(7200), age(3 * 86_400)]).to.deep.equal(['5s', '10m', '2h', '3d']);
  });

  it('sums what a namespace holds: per-node resources times live nodes, volumes as storage', () => {
    const rr = (name: string, nodes: number, state = 'Running'): ResourceRequest => ({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ResourceRequest',
      metadata: { name, namespace: 'team' },
      spec: {
        count: 3,
        resources: { cpu: '500m', memory: '2Gi' },
        volumes: [{ name: 'data', size: '10Gi' }],
      },
      status: {
        phase: nodes ? 'Ready' : 'Pending',
        nodes: Array.from({ length: nodes }, (_, i) => ({
          name: `${name}-${i}`,
          provisioner: 'hosts',
          address: '10.0.0.1',
          configEntry: '',
          state: state as 'Running',
        })),
      },
    });
    const [row] = namespaceRows([rr('a', 3), rr('b', 0), rr('c', 2, 'Releasing')]);
    expect(row).to.deep.equal({
      namespace: 'team',
      requests: 3,
      nodes: 3,
      pending: 1,
      usage: [
        { resource: 'cpu', used: '1500m' },
        { resource: 'memory', used: '6Gi' },
        { resource: 'storage', used: '30Gi' },
      ],
    });
  });

  it('renders the examples as the golden file says', () => {
    const { pools, requests } = servedExamples();
    const view = fleetView(pools, requests, NOW);
    const text = renderFleet(view, { byNamespace: true });
    if (!existsSync(GOLDEN) || process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
    expect(text).to.equal(readFileSync(GOLDEN, 'utf8'));
    // The README shows this capture; it must stay what berth top prints.
    expect(readFileSync(join(repoRoot, 'README.md'), 'utf8')).to.include(text);
  });

  it('adds up on the examples: pool totals are the sum of what the requests hold', () => {
    const { pools, requests } = servedExamples();
    const view = fleetView(pools, requests, NOW);
    const nodesOnPools = view.pools!.reduce((n, p) => n + p.nodes, 0);
    const onHosts = requests.flatMap((rr) => rr.status?.nodes ?? []).filter((n) => n.hostPool);
    expect(nodesOnPools).to.equal(onHosts.length);
    expect(view.pending.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal(
      requests
        .filter((rr) => rr.status?.phase === 'Pending')
        .map((rr) => `${rr.metadata.namespace}/${rr.metadata.name}`),
    );
  });

  it('shows the oldest waiting requests on a screen, and says how many more', () => {
    const pending = Array.from({ length: 25 }, (_, i) => ({
      namespace: 't',
      name: `r${i}`,
      phase: 'Pending',
      ageSeconds: 100 - i,
      reason: 'no fit',
    }));
    const text = renderFleet({ namespaces: [], pending }, { maxPending: 3 });
    expect(text.split('\n').filter((l) => l.startsWith('t/'))).to.have.length(3);
    expect(text).to.include('… and 22 more waiting (-o json lists them all)');
  });

  it('without the pools (a tenant), says why instead of failing', () => {
    const text = renderFleet(fleetView(undefined, [], NOW), {
      poolsHidden: 'no permission to list hostpools.berth.dev',
    });
    expect(text).to.equal(
      '(pools not shown: no permission to list hostpools.berth.dev)\n\nNothing is waiting.\n',
    );
  });
});
