// Table-driven tests of the fit rules (docs/allocation.md), each through the whole engine with
// firstFit: where the node lands, or the one-line explanation of why it does not.
import { expect } from 'chai';
import type { HostPool, ResourceRequest, StoragePool } from '../../src/allocation/index.js';
import { chainsOf, engineOf, hostsOf, makeHostPool, makeRequest } from './builders.js';

interface Case {
  name: string;
  pools: HostPool[];
  storage?: StoragePool[];
  /** Requests already placed (their status.nodes fill the ledger). */
  existing?: ResourceRequest[];
  request: ResourceRequest;
  /** Expected hosts, in node order. */
  hosts?: string[];
  /** Expected summary when not every node is placed. */
  summary?: string;
}

const cpu = (n: string | number) => ({ cpu: String(n) });
const node = (name: string, hostPool: string, host: string) => ({
  name,
  provisioner: 'hosts',
  hostPool,
  host,
  address: 'x',
});

const cases: Case[] = [
  {
    name: 'tags are all-of: a host missing one asked tag is turned down',
    pools: [
      makeHostPool('p')
        .host('a', cpu(4), { tags: ['ssd'] })
        .host('b', cpu(4), { tags: ['ssd', 'gpu'] })
        .obj(),
    ],
    request: makeRequest('ns', 'r').resources(cpu(1)).tags('ssd', 'gpu').obj(),
    hosts: ['p/b'],
  },
  {
    name: 'tags are all-of over host ∪ pool tags',
    pools: [
      makeHostPool('p')
        .tags('ssd')
        .host('a', cpu(4), { tags: ['gpu'] })
        .obj(),
    ],
    request: makeRequest('ns', 'r').resources(cpu(1)).tags('ssd', 'gpu').obj(),
    hosts: ['p/a'],
  },
  {
    name: 'missing tags are named in the reason',
    pools: [
      makeHostPool('p')
        .host('a', cpu(4), { tags: ['ssd'] })
        .host('b', cpu(4))
        .obj(),
    ],
    request: makeRequest('ns', 'r').resources(cpu(1)).tags('ssd', 'gpu').obj(),
    summary: '0/2 hosts fit: 1 MissingTags [gpu,ssd], 1 MissingTags [gpu]',
  },
  {
    name: 'overprovisioning ratio 2 fits twice the raw CPU',
    pools: [makeHostPool('p').overprovisioning('cpu', 2).host('a', cpu(4)).obj()],
    request: makeRequest('ns', 'r').resources(cpu(8)).obj(),
    hosts: ['p/a'],
  },
  {
    name: 'overprovisioning ratio 2 does not fit more than twice the raw CPU',
    pools: [makeHostPool('p').overprovisioning('cpu', 2).host('a', cpu(4)).obj()],
    request: makeRequest('ns', 'r').resources({ cpu: '8001m' }).obj(),
    summary: '0/1 hosts fit: 1 Insufficient cpu',
  },
  {
    name: 'a fractional ratio is exact (1.5 × 3 = 4.5)',
    pools: [makeHostPool('p').overprovisioning('cpu', 1.5).host('a', cpu(3)).obj()],
    request: makeRequest('ns', 'r').resources({ cpu: '4500m' }).obj(),
    hosts: ['p/a'],
  },
  {
    name: 'reserved capacity is kept back on every host',
    pools: [makeHostPool('p').reserved({ cpu: '2' }).host('a', cpu(8)).host('b', cpu(8)).obj()],
    request: makeRequest('ns', 'r').resources(cpu(7)).obj(),
    summary: '0/2 hosts fit: 2 Insufficient cpu',
  },
  {
    name: 'reserved capacity leaves the rest usable',
    pools: [
      makeHostPool('p')
        .reserved({ cpu: '2', memory: '1Gi' })
        .host('a', { cpu: '8', memory: '4Gi' })
        .obj(),
    ],
    request: makeRequest('ns', 'r').resources({ cpu: '6', memory: '3Gi' }).obj(),
    hosts: ['p/a'],
  },
  {
    name: 'reserved is taken before the ratio: (10 − 2) × 2 = 16',
    pools: [makeHostPool('p').reserved(cpu(2)).overprovisioning('cpu', 2).host('a', cpu(10)).obj()],
    request: makeRequest('ns', 'r').resources(cpu(16)).count(2).obj(),
    hosts: ['p/a'],
    summary: '0/1 hosts fit: 1 Insufficient cpu',
  },
  {
    name: 'disable threshold 0.85: reaching it exactly is allowed',
    pools: [
      makeHostPool('p').disableThreshold('cpu', 0.85).host('a', cpu(50)).host('b', cpu(50)).obj(),
    ],
    existing: [
      makeRequest('ns', 'old')
        .count(2)
        .resources(cpu(40))
        .nodes(node('o1', 'p', 'a'), node('o2', 'p', 'b'))
        .obj(),
    ],
    request: makeRequest('ns', 'r').resources(cpu(5)).obj(),
    hosts: ['p/a'],
  },
  {
    name: 'disable threshold 0.85 refuses the placement that crosses it, on every host of the pool',
    pools: [
      makeHostPool('p').disableThreshold('cpu', 0.85).host('a', cpu(50)).host('b', cpu(50)).obj(),
    ],
    existing: [
      makeRequest('ns', 'old')
        .count(2)
        .resources(cpu(40))
        .nodes(node('o1', 'p', 'a'), node('o2', 'p', 'b'))
        .obj(),
    ],
    request: makeRequest('ns', 'r').resources({ cpu: '5001m' }).obj(),
    summary: '0/2 hosts fit: 2 OverThreshold cpu',
  },
  {
    name: 'disable threshold of one pool does not stop another',
    pools: [
      makeHostPool('a-full').disableThreshold('cpu', 0.5).host('h', cpu(10)).obj(),
      makeHostPool('b-open').host('h', cpu(10)).obj(),
    ],
    request: makeRequest('ns', 'r').resources(cpu(6)).obj(),
    hosts: ['b-open/h'],
  },
  {
    name: 'Maintenance and Disabled hosts and Disabled pools take nothing',
    pools: [
      makeHostPool('a')
        .host('m', cpu(4), { state: 'Maintenance' })
        .host('d', cpu(4), { state: 'Disabled' })
        .obj(),
      makeHostPool('b').state('Disabled').host('x', cpu(4)).obj(),
    ],
    request: makeRequest('ns', 'r').resources(cpu(1)).obj(),
    summary: '0/3 hosts fit: 1 HostDisabled, 1 HostMaintenance, 1 PoolDisabled',
  },
  {
    name: 'Maintenance host is skipped for the next Enabled one',
    pools: [makeHostPool('a').host('m', cpu(4), { state: 'Maintenance' }).host('e', cpu(4)).obj()],
    request: makeRequest('ns', 'r').resources(cpu(1)).obj(),
    hosts: ['a/e'],
  },
  {
    name: 'avoiding a zone avoids every pool and host in it',
    pools: [
      makeHostPool('a').zone('z1').hosts(2, cpu(4)).obj(),
      makeHostPool('b').zone('z1').pod('p1').hosts(1, cpu(4)).obj(),
      makeHostPool('c').zone('z2').hosts(1, cpu(4)).obj(),
    ],
    request: makeRequest('ns', 'r')
      .resources(cpu(1))
      .avoid({ zones: ['z1'] })
      .obj(),
    hosts: ['c/h-0'],
  },
  {
    name: 'avoid is hierarchical: zone, pod, hostPool and host all count as Avoided',
    pools: [
      makeHostPool('a').zone('z1').hosts(2, cpu(4)).obj(),
      makeHostPool('b').zone('z2').pod('p1').hosts(2, cpu(4)).obj(),
      makeHostPool('c').zone('z2').hosts(2, cpu(4)).obj(),
      makeHostPool('d').zone('z2').hosts(2, cpu(4)).obj(),
    ],
    request: makeRequest('ns', 'r')
      .resources(cpu(1))
      .avoid({ zones: ['z1'], pods: ['p1'], hostPools: ['c'], hosts: ['d/h-0', 'd/h-1'] })
      .obj(),
    summary: '0/8 hosts fit: 8 Avoided',
  },
  {
    name: 'avoiding one host leaves its neighbours',
    pools: [makeHostPool('a').hosts(2, cpu(4)).obj()],
    request: makeRequest('ns', 'r')
      .resources(cpu(1))
      .avoid({ hosts: ['a/h-0'] })
      .obj(),
    hosts: ['a/h-1'],
  },
  {
    name: 'placement pins zone, pod and hostPool',
    pools: [
      makeHostPool('a').zone('z1').pod('p1').hosts(1, cpu(4)).obj(),
      makeHostPool('b').zone('z2').pod('p2').hosts(1, cpu(4)).obj(),
      makeHostPool('c').zone('z2').pod('p3').hosts(1, cpu(4)).obj(),
    ],
    request: makeRequest('ns', 'r').resources(cpu(1)).placement({ zone: 'z2', pod: 'p3' }).obj(),
    hosts: ['c/h-0'],
  },
  {
    name: 'hosts outside the placement are PlacementMismatch, counted before capacity',
    pools: [makeHostPool('a').hosts(2, cpu(1)).obj(), makeHostPool('b').hosts(1, cpu(1)).obj()],
    request: makeRequest('ns', 'r').resources(cpu(2)).placement({ hostPool: 'b' }).obj(),
    summary: '0/3 hosts fit: 2 PlacementMismatch, 1 Insufficient cpu',
  },
  {
    name: 'maxNodes caps the nodes of a host',
    pools: [makeHostPool('a').host('one', cpu(8), { maxNodes: 1 }).host('two', cpu(8)).obj()],
    existing: [
      makeRequest('other', 'x')
        .resources(cpu(1))
        .nodes(node('x-0', 'a', 'one'))
        .obj(),
    ],
    request: makeRequest('ns', 'r').resources(cpu(1)).obj(),
    hosts: ['a/two'],
  },
  {
    name: 'maxNodesPerHost spreads one request',
    pools: [makeHostPool('a').hosts(2, cpu(8)).obj()],
    request: makeRequest('ns', 'r').count(3).resources(cpu(1)).maxNodesPerHost(1).obj(),
    hosts: ['a/h-0', 'a/h-1'],
    summary: '0/2 hosts fit: 2 MaxNodes',
  },
  {
    name: 'maxNodesPerHost 2 puts two nodes on a host before moving on',
    pools: [makeHostPool('a').hosts(2, cpu(8)).obj()],
    request: makeRequest('ns', 'r').count(3).resources(cpu(1)).maxNodesPerHost(2).obj(),
    hosts: ['a/h-0', 'a/h-0', 'a/h-1'],
  },
  {
    name: 'a resource no host declares is Insufficient everywhere',
    pools: [makeHostPool('a').hosts(2, cpu(8)).obj()],
    request: makeRequest('ns', 'r').resources({ cpu: '1', 'nvidia.com/gpu': '1' }).obj(),
    summary: '0/2 hosts fit: 2 Insufficient nvidia.com/gpu',
  },
  {
    name: 'open resource names are just resources',
    pools: [makeHostPool('a').host('lic', { cpu: '8', 'licenses/matlab': '2' }).obj()],
    request: makeRequest('ns', 'r').count(3).resources({ 'licenses/matlab': '1' }).obj(),
    hosts: ['a/lic', 'a/lic'],
    summary: '0/1 hosts fit: 1 Insufficient licenses/matlab',
  },
  {
    name: 'the first short resource in order (cpu, memory, then by name) is the reason',
    pools: [makeHostPool('a').host('h', { cpu: '1', memory: '1Gi', 'example.com/x': '0' }).obj()],
    request: makeRequest('ns', 'r')
      .resources({ 'example.com/x': '1', memory: '2Gi', cpu: '2' })
      .obj(),
    summary: '0/1 hosts fit: 1 Insufficient cpu',
  },
  {
    name: 'ports: exhausted hosts are PortsExhausted',
    pools: [
      makeHostPool('a')
        .host('h', cpu(8), { ports: { base: 7000, count: 2 } })
        .obj(),
    ],
    request: makeRequest('ns', 'r').count(3).resources(cpu(1)).obj(),
    hosts: ['a/h', 'a/h'],
    summary: '0/1 hosts fit: 1 PortsExhausted',
  },
  {
    name: 'a request asking nothing fits any open host',
    pools: [makeHostPool('a').host('closed', {}, { state: 'Disabled' }).host('open', {}).obj()],
    request: makeRequest('ns', 'r').obj(),
    hosts: ['a/open'],
  },
];

describe('allocation/fit rules (table)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const engine = engineOf(c.pools, c.storage ?? [], c.existing ?? []);
      const result = engine.plan(c.request, chainsOf(['firstFit']));
      expect(hostsOf(result)).to.deep.equal(c.hosts ?? []);
      if (c.summary !== undefined) {
        expect(result.complete).to.equal(false);
        expect(result.explanation.summary).to.equal(c.summary);
      } else {
        expect(result.complete, result.explanation.summary).to.equal(true);
      }
    });
  }

  it('summarises in the kube-scheduler style, counts descending then by name', () => {
    const pools = [
      makeHostPool('big-mem')
        .hosts(7, { cpu: '8', memory: '1Gi' }, { tags: ['ssd'] })
        .obj(),
      makeHostPool('no-ssd').hosts(3, { cpu: '8', memory: '64Gi' }).obj(),
      makeHostPool('zz')
        .hosts(2, { cpu: '8', memory: '64Gi' }, { tags: ['ssd'] })
        .obj(),
    ];
    const engine = engineOf(pools);
    const r = makeRequest('ns', 'r')
      .resources({ cpu: '1', memory: '4Gi' })
      .tags('ssd')
      .avoid({ hostPools: ['zz'] })
      .obj();
    const result = engine.plan(r, chainsOf(['firstFit']));
    expect(result.explanation.summary).to.equal(
      '0/12 hosts fit: 7 Insufficient memory, 3 MissingTags [ssd], 2 Avoided',
    );
    expect(result.explanation.reasons).to.deep.equal({
      'Insufficient memory': 7,
      'MissingTags [ssd]': 3,
      Avoided: 2,
    });
    const [attempt] = result.explanation.allocators;
    expect(attempt).to.include({
      allocator: 'firstFit',
      type: 'firstFit',
      considered: 12,
      chosen: undefined,
    });
    expect(attempt!.reasons).to.deep.equal(result.explanation.reasons);
    expect(result.explanation.hosts[0]).to.deep.equal({
      name: 'big-mem/h-0',
      reason: 'Insufficient memory',
      detail: 'asked 4Gi, free 1Gi',
    });
  });

  it('caps the host → reason list and says how many were left out', () => {
    const engine = engineOf([makeHostPool('a').hosts(30, cpu(1)).obj()]);
    const result = engine.plan(
      makeRequest('ns', 'r').resources(cpu(2)).obj(),
      chainsOf(['firstFit']),
    );
    expect(result.explanation.hosts).to.have.length(20);
    expect(result.explanation.omittedHosts).to.equal(10);
    const five = engine.plan(
      makeRequest('ns', 'r').resources(cpu(2)).obj(),
      chainsOf(['firstFit']),
      { maxHostReasons: 5 },
    );
    expect(five.explanation.hosts.map((h) => h.name)).to.deep.equal([
      'a/h-0',
      'a/h-1',
      'a/h-2',
      'a/h-3',
      'a/h-4',
    ]);
  });
});
