// The `hosts` provisioner end to end: buildProfile + runStack over the real allocation engine,
// one shared HostsBackend, the same code paths the operator and the simulator take.
import { expect } from 'chai';
import { join } from 'node:path';
import {
  HostsBackend,
  defaultRegistry,
  type HostPool,
  type ResourceRequest,
  type StoragePool,
} from '../../src/allocation/index.js';
import { HOST_ALLOCATOR_TYPES, STORAGE_ALLOCATOR_TYPES } from '../../src/api/index.js';
import {
  ConfigError,
  buildProfile,
  createDefaultRegistry,
  releaseAll,
  releaseRecords,
  restoreRecords,
  runStack,
  type BuiltProfile,
  type NodeRecord,
  type ProvisionerRegistry,
  type RequestRef,
  type RequestSpec,
} from '../../src/provisioning/index.js';
import { HostsProvisioner, hostsFactory } from '../../src/provisioning/hosts/index.js';
import { loadDocuments, repoRoot } from '../support/fixtures.js';

/** Every built-in provisioner type, `hosts` included, over one shared backend (as assemble.ts does). */
function hostsRegistry(backend: HostsBackend): ProvisionerRegistry {
  return createDefaultRegistry().register('hosts', hostsFactory(backend));
}

const TEMPLATE = '{name} {address} {port} {host} {hostPool}';

/** Two pools in one zone: p1 (onprem, rack r1: h1 with ports, h2 with ssd) and p2 (cloud, r2). */
function smallPools(overrides: { h1State?: string; p2State?: string } = {}): HostPool[] {
  return [
    {
      metadata: { name: 'p1', labels: { tier: 'onprem', rack: 'r1' } },
      spec: {
        zone: 'z1',
        hosts: [
          {
            name: 'h1',
            address: '10.0.0.1',
            capacity: { cpu: '4', memory: '8Gi' },
            ports: { base: 7000, count: 2 },
            ...(overrides.h1State ? { state: overrides.h1State } : {}),
          },
          {
            name: 'h2',
            address: '10.0.0.2',
            capacity: { cpu: '8', memory: '16Gi' },
            tags: ['ssd'],
          },
        ],
      },
    },
    {
      metadata: { name: 'p2', labels: { tier: 'cloud', rack: 'r2', gpu: 'none' } },
      spec: {
        zone: 'z1',
        ...(overrides.p2State ? { state: overrides.p2State } : {}),
        hosts: [{ name: 'h3', address: '10.0.1.3', capacity: { cpu: '16', memory: '32Gi' } }],
      },
    },
  ];
}

const smallStorage: StoragePool[] = [
  { metadata: { name: 'h1-local' }, spec: { scope: 'Host', host: 'p1/h1', capacity: '100Gi' } },
  {
    metadata: { name: 'p1-shared' },
    spec: { scope: 'Cluster', hostPool: 'p1', capacity: '500Gi' },
  },
  { metadata: { name: 'z1-ceph' }, spec: { scope: 'Zone', zone: 'z1', capacity: '1Ti' } },
];

function backendWith(pools = smallPools(), storage = smallStorage): HostsBackend {
  const backend = new HostsBackend();
  expect(backend.setInventory(pools, storage)).to.deep.equal([]);
  return backend;
}

function profileOf(
  registry: ProvisionerRegistry,
  profile: Record<string, unknown>,
  path = 'profiles[0]',
): BuiltProfile {
  return buildProfile({ name: 'default', ...profile }, path, {
    registry,
    hostAllocatorTypes: HOST_ALLOCATOR_TYPES,
    storageAllocatorTypes: STORAGE_ALLOCATOR_TYPES,
  });
}

const onprem = (extra: Record<string, unknown> = {}) => ({
  provisioners: [{ name: 'onprem', type: 'hosts', configTemplate: TEMPLATE, ...extra }],
  hostAllocators: [{ type: 'firstFit' }],
  storageAllocators: [{ type: 'localStorage' }, { type: 'clusterScope' }, { type: 'zoneWide' }],
});

function rr(name: string, spec: Partial<RequestSpec> & { count: number }, ns = 'team'): RequestRef {
  return { metadata: { namespace: ns, name, uid: `uid-${name}` }, spec: { ...spec } };
}

/** The request as the API holds it, with `status.nodes` written from the stack's records. */
function withStatus(ref: RequestRef, nodes: NodeRecord[]): ResourceRequest {
  return {
    metadata: { namespace: ref.metadata.namespace, name: ref.metadata.name },
    spec: ref.spec as unknown as ResourceRequest['spec'],
    status: { nodes },
  };
}

describe('hosts provisioner', () => {
  describe('placement', () => {
    it('places nodes on hosts with their address, port, volumes and config entry', async () => {
      const backend = backendWith();
      const profile = profileOf(hostsRegistry(backend), onprem());
      const req = rr('web', {
        count: 2,
        resources: { cpu: '4', memory: '8Gi' },
        volumes: [{ name: 'data', size: '50Gi' }],
      });
      const r = await runStack(profile.provisioners, req);
      expect(r.outcome).to.equal('Provisioned');
      expect(r.nodes.map((n) => n.toRecord())).to.deep.equal([
        {
          name: 'web-0',
          provisioner: 'onprem',
          hostPool: 'p1',
          host: 'h1',
          address: '10.0.0.1',
          port: 7000,
          volumes: [{ name: 'data', storagePool: 'h1-local', size: '50Gi' }],
          configEntry: 'web-0 10.0.0.1 7000 h1 p1',
          state: 'Running',
        },
        {
          // h1 is full (4 cpu); h2 has no local storage, so the cluster pool takes the volume.
          name: 'web-1',
          provisioner: 'onprem',
          hostPool: 'p1',
          host: 'h2',
          address: '10.0.0.2',
          volumes: [{ name: 'data', storagePool: 'p1-shared', size: '50Gi' }],
          configEntry: 'web-1 10.0.0.2  h2 p1',
          state: 'Running',
        },
      ]);
      expect(r.explanation.provisioners[0]).to.deep.equal({
        provisioner: 'onprem',
        type: 'hosts',
        asked: 2,
        got: 2,
      });
      const ledger = backend.engine.ledger;
      expect(ledger.hostUsage('p1/h1').ports.get(7000)).to.equal(1);
      expect(backend.hostPoolUsage('p1')).to.deep.include({ nodes: 2 });
      expect(backend.storagePoolUsage('h1-local')).to.deep.include({
        allocated: '50Gi',
        volumes: 1,
      });

      await releaseAll(r.nodes);
      expect(ledger.isEmpty()).to.equal(true);
      expect(r.nodes.every((n) => n.state === 'Released')).to.equal(true);
    });

    it('numbers ports from the host range, lowest free first', async () => {
      const backend = backendWith();
      const [p] = profileOf(hostsRegistry(backend), onprem()).provisioners;
      // 1 cpu each: h1 takes two nodes before its two ports run out, then h2.
      const r = await runStack([p!], rr('ci', { count: 3, resources: { cpu: '1' } }));
      expect(r.nodes.map((n) => [n.host, n.port])).to.deep.equal([
        ['h1', 7000],
        ['h1', 7001],
        ['h2', undefined],
      ]);
      await r.nodes[0]!.release();
      const again = await runStack([p!], rr('ci2', { count: 1, resources: { cpu: '1' } }));
      expect(again.nodes.map((n) => [n.host, n.port])).to.deep.equal([['h1', 7000]]);
    });

    it('releases every reservation when the stack falls short of minCount', async () => {
      const backend = backendWith();
      const profile = profileOf(hostsRegistry(backend), onprem());
      const req = rr('job', {
        count: 3,
        resources: { cpu: '4' },
        tags: ['ssd'],
        avoid: { hosts: ['p1/h1'] },
      });
      const r = await runStack(profile.provisioners, req);
      expect(r.outcome).to.equal('Insufficient');
      expect(r.released).to.equal(2);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
      const [entry] = r.explanation.provisioners;
      expect(entry).to.deep.equal({
        provisioner: 'onprem',
        type: 'hosts',
        asked: 3,
        got: 2,
        reasons: { Avoided: 1, 'Insufficient cpu': 1, 'MissingTags [ssd]': 1 },
        summary: '0/3 hosts fit: 1 Avoided, 1 Insufficient cpu, 1 MissingTags [ssd]',
        allocators: [
          {
            allocator: 'firstFit',
            considered: 3,
            chosen: 2,
            reasons: { Avoided: 1, 'Insufficient cpu': 1, 'MissingTags [ssd]': 1 },
          },
        ],
      });
      expect(r.explanation.hosts).to.deep.equal([
        { host: 'p1/h1', reason: 'Avoided' },
        { host: 'p1/h2', reason: 'Insufficient cpu' },
        { host: 'p2/h3', reason: 'MissingTags [ssd]' },
      ]);
      expect(r.explanation.summary).to.equal(
        '2/3 nodes, fewer than minCount 3; released 2: onprem 2/3: ' +
          '0/3 hosts fit: 1 Avoided, 1 Insufficient cpu, 1 MissingTags [ssd]',
      );
    });

    it('keeps a partial result at or above minCount and reports the shortfall', async () => {
      const backend = backendWith();
      const profile = profileOf(hostsRegistry(backend), onprem());
      const r = await runStack(
        profile.provisioners,
        rr('big', { count: 3, minCount: 1, resources: { memory: '20Gi' } }),
      );
      expect(r.outcome).to.equal('Provisioned');
      expect(r.nodes.map((n) => n.host)).to.deep.equal(['h3']);
      expect(r.explanation.provisioners[0]?.summary).to.equal(
        '0/3 hosts fit: 3 Insufficient memory',
      );
      expect(backend.hostPoolUsage('p2')?.allocated).to.deep.equal({ memory: '20Gi' });
      await releaseAll(r.nodes);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });

    it('release drops the reservation exactly once, and a stale handle never drops a newer one', async () => {
      const backend = backendWith();
      const [p] = profileOf(hostsRegistry(backend), onprem()).provisioners;
      const req = rr('one', { count: 1, resources: { cpu: '2' } });
      const first = await runStack([p!], req);
      const old = first.nodes[0]!;
      // A second handle on the same reservation (a restore after a config reload).
      const stale = p!.restore(old.toRecord(), req.metadata);
      await Promise.all([old.release(), old.release()]);
      await old.release();
      expect(backend.engine.ledger.isEmpty()).to.equal(true);

      // The same request and node name placed again: the stale handle must leave it alone.
      const second = await runStack([p!], req);
      expect(second.nodes[0]?.name).to.equal(old.name);
      await stale.release();
      expect(backend.engine.ledger.nodeCount('team/one')).to.equal(1);
      // A Released record holds nothing and gives nothing back.
      await p!.restore({ ...old.toRecord(), state: 'Released' }, req.metadata).release();
      expect(backend.engine.ledger.nodeCount('team/one')).to.equal(1);
      await second.nodes[0]!.release();
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });

    it('spawn marks a node Running without any remote start', async () => {
      const backend = backendWith();
      const [p] = profileOf(hostsRegistry(backend), onprem()).provisioners;
      const nodes = await p!.getNodes(1, {
        request: rr('s', { count: 1 }),
        names: ['s-0'],
        signal: new AbortController().signal,
        report: () => {},
      });
      expect(nodes[0]?.state).to.equal('Provisioned');
      await nodes[0]!.spawn();
      expect(nodes[0]?.state).to.equal('Running');
      await nodes[0]!.release();
    });

    it('throws for a request the engine cannot read, and the stack says why', async () => {
      const backend = backendWith();
      const profile = profileOf(hostsRegistry(backend), onprem());
      const r = await runStack(
        profile.provisioners,
        rr('bad', { count: 1, resources: { cpu: '4 cores' } }),
      );
      expect(r.outcome).to.equal('Insufficient');
      expect(r.explanation.provisioners[0]?.error).to.match(/spec\.resources\.cpu/);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });
  });

  describe('hostPoolSelector', () => {
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
      ['matchLabels', { matchLabels: { tier: 'cloud' } }, ['p2/h3']],
      ['matchLabels on two labels', { matchLabels: { tier: 'onprem', rack: 'r1' } }, ['p1/h1']],
      [
        'In',
        { matchExpressions: [{ key: 'rack', operator: 'In', values: ['r2', 'r9'] }] },
        ['p2/h3'],
      ],
      [
        'NotIn',
        { matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['r2'] }] },
        ['p1/h1'],
      ],
      ['Exists', { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, ['p2/h3']],
      ['DoesNotExist', { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }, ['p1/h1']],
      ['an empty selector', {}, ['p1/h1']],
    ];
    for (const [what, selector, hosts] of cases) {
      it(`scopes the pools by ${what}`, async () => {
        const backend = backendWith();
        const [p] = profileOf(
          hostsRegistry(backend),
          onprem({ hostPoolSelector: selector }),
        ).provisioners;
        const r = await runStack([p!], rr('sel', { count: 1, resources: { cpu: '1' } }));
        expect(r.nodes.map((n) => `${n.hostPool}/${n.host}`)).to.deep.equal(hosts);
        await releaseAll(r.nodes);
      });
    }

    it('counts only hosts in scope in the summary', async () => {
      const backend = backendWith();
      const [p] = profileOf(
        hostsRegistry(backend),
        onprem({ hostPoolSelector: { matchLabels: { tier: 'onprem' } } }),
      ).provisioners;
      const r = await runStack([p!], rr('wide', { count: 1, resources: { cpu: '12' } }));
      expect(r.explanation.provisioners[0]?.summary).to.equal('0/2 hosts fit: 2 Insufficient cpu');
    });

    it('rejects a malformed selector with the path of each problem', () => {
      const backend = new HostsBackend();
      expect(() =>
        profileOf(
          hostsRegistry(backend),
          onprem({
            hostPoolSelector: {
              matchLabels: { tier: 3 },
              matchExpressions: [
                { key: 'rack', operator: 'In' },
                { key: 'gpu', operator: 'Exists', values: ['x'] },
                { key: 'x', operator: 'Near', values: ['y'] },
              ],
            },
            extra: true,
          }),
        ),
      )
        .to.throw(ConfigError)
        .with.property('issues')
        .that.deep.equals([
          { path: 'profiles[0].provisioners[0].extra', message: 'unknown field' },
          {
            path: 'profiles[0].provisioners[0].hostPoolSelector.matchLabels.tier',
            message: 'must be a string',
          },
          {
            path: 'profiles[0].provisioners[0].hostPoolSelector.matchExpressions[0].values',
            message: 'required, non-empty, for operator In',
          },
          {
            path: 'profiles[0].provisioners[0].hostPoolSelector.matchExpressions[1].values',
            message: 'must be empty for operator Exists',
          },
          {
            path: 'profiles[0].provisioners[0].hostPoolSelector.matchExpressions[2].operator',
            message: 'must be one of In, NotIn, Exists, DoesNotExist, got "Near"',
          },
        ]);
    });

    it('rejects a bad built-in allocator entry at its own path', () => {
      expect(() =>
        profileOf(hostsRegistry(new HostsBackend()), {
          ...onprem(),
          hostAllocators: [{ type: 'random', seed: 1.5 }],
        }),
      ).to.throw(ConfigError, /^profiles\[0\]\.hostAllocators\[0\]: .*seed/);
    });
  });

  describe('one backend, many profiles', () => {
    it('two profiles never book the same capacity twice', async () => {
      const backend = backendWith();
      const a = profileOf(hostsRegistry(backend), onprem(), 'profiles[0]');
      const b = profileOf(
        hostsRegistry(backend),
        { ...onprem(), name: 'spread', hostAllocators: [{ type: 'firstFitLeastConsumed' }] },
        'profiles[1]',
      );
      // 7 nodes of 4 cpu fit in all (1 + 2 + 4); together they ask for 10, concurrently.
      const spec = { count: 5, minCount: 1, resources: { cpu: '4' } };
      const [ra, rb] = await Promise.all([
        runStack(a.provisioners, rr('a', spec, 'ns-a')),
        runStack(b.provisioners, rr('b', spec, 'ns-b')),
      ]);
      expect(ra.nodes.length + rb.nodes.length).to.equal(7);
      const perHost = new Map<string, number>();
      for (const n of [...ra.nodes, ...rb.nodes]) {
        const key = `${n.hostPool}/${n.host}`;
        perHost.set(key, (perHost.get(key) ?? 0) + 1);
      }
      expect(Object.fromEntries(perHost)).to.deep.equal({ 'p1/h1': 1, 'p1/h2': 2, 'p2/h3': 4 });
      for (const pool of ['p1', 'p2']) {
        for (const h of backend.hostPoolUsage(pool)!.hosts) {
          expect(h.allocated.cpu ?? '0').to.equal(h.allocatable.cpu);
        }
      }
      const late = await runStack(b.provisioners, rr('c', { count: 1, resources: { cpu: '4' } }));
      expect(late.explanation.provisioners[0]?.summary).to.equal(
        '0/3 hosts fit: 3 Insufficient cpu',
      );
      await releaseAll([...ra.nodes, ...rb.nodes]);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });

    it('two hosts provisioners in one stack split a request and never exceed its count', async () => {
      const backend = backendWith();
      const profile = profileOf(hostsRegistry(backend), {
        ...onprem(),
        provisioners: [
          { name: 'cloud', type: 'hosts', hostPoolSelector: { matchLabels: { tier: 'cloud' } } },
          { name: 'rest', type: 'hosts' },
        ],
      });
      const r = await runStack(
        profile.provisioners,
        rr('split', { count: 6, resources: { cpu: '4' } }),
      );
      expect(r.outcome).to.equal('Provisioned');
      expect(r.nodes.map((n) => `${n.provisioner}:${n.host}`)).to.deep.equal([
        'cloud:h3',
        'cloud:h3',
        'cloud:h3',
        'cloud:h3',
        'rest:h1',
        'rest:h2',
      ]);
      await releaseAll(r.nodes);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });
  });

  describe('restart and recovery', () => {
    const spec = {
      count: 3,
      resources: { cpu: '4', memory: '4Gi' },
      volumes: [{ name: 'scratch', size: '10Gi' }],
    };

    async function placed(backend: HostsBackend, name = 'keep') {
      const profile = profileOf(hostsRegistry(backend), onprem());
      const req = rr(name, spec);
      const r = await runStack(profile.provisioners, req);
      expect(r.outcome).to.equal('Provisioned');
      return { req, records: r.nodes.map((n) => n.toRecord()) };
    }

    function usage(backend: HostsBackend) {
      return {
        p1: backend.hostPoolUsage('p1'),
        p2: backend.hostPoolUsage('p2'),
        storage: smallStorage.map((s) => backend.storagePoolUsage(s.metadata.name)),
      };
    }

    it('restores records into a fresh registry on the same backend, idempotently, then releases', async () => {
      const backend = backendWith();
      const { req, records } = await placed(backend);
      const before = usage(backend);

      // A config reload: new registry and provisioners, the same backend and ledger.
      const reloaded = profileOf(hostsRegistry(backend), onprem());
      const twice = restoreRecords(records, req.metadata, reloaded.provisioners);
      restoreRecords(records, req.metadata, reloaded.provisioners);
      expect(twice.failures).to.deep.equal([]);
      expect(usage(backend)).to.deep.equal(before);
      expect(twice.nodes.map((n) => n.toRecord())).to.deep.equal(records);

      const out = await releaseRecords(records, req.metadata, reloaded.provisioners);
      expect(out.failures).to.deep.equal([]);
      expect(out.released.map((n) => n.state)).to.deep.equal(['Released', 'Released', 'Released']);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });

    it('rebuilds the ledger on a fresh backend from status.nodes, then releases to zero', async () => {
      const original = backendWith();
      const { req, records } = await placed(original);
      const before = usage(original);

      // A restart (or a leader change): a new process, its ledger rebuilt from the API.
      const backend = backendWith();
      const multilocal: NodeRecord = {
        name: 'keep-9',
        provisioner: 'local',
        address: '127.0.0.1',
        port: 7100,
        configEntry: 'x',
        state: 'Running',
      };
      const object = withStatus(req, [...records, multilocal]);
      expect(backend.loadRequest(object)).to.deep.equal([]);
      expect(backend.loadRequest(object)).to.deep.equal([]);
      expect(usage(backend)).to.deep.equal(before);
      // Only nodes on hosts are the backend's business.
      expect(backend.engine.ledger.nodeCount('team/keep')).to.equal(3);

      const profile = profileOf(hostsRegistry(backend), onprem());
      const out = await releaseRecords(records, req.metadata, profile.provisioners);
      expect(out.failures).to.deep.equal([]);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });

    it('restores without loadRequest using a sibling node’s resources', async () => {
      const original = backendWith();
      const { req, records } = await placed(original);
      const before = usage(original);
      const backend = backendWith();
      backend.loadRequest(withStatus(req, records.slice(0, 1)));
      const [p] = profileOf(hostsRegistry(backend), onprem()).provisioners;
      const nodes = records.map((r) => p!.restore(r, req.metadata));
      expect(usage(backend)).to.deep.equal(before);
      await releaseAll(nodes);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });

    it('refuses to restore a record that names no host', () => {
      const backend = backendWith();
      const [p] = profileOf(hostsRegistry(backend), onprem()).provisioners;
      expect(() =>
        p!.restore(
          { name: 'x-0', provisioner: 'onprem', address: 'a', configEntry: '', state: 'Running' },
          { namespace: 'n', name: 'x' },
        ),
      ).to.throw(/names no hostPool\/host/);
    });

    it('releaseRequest drops every entry of a request that vanished without its finalizer', async () => {
      const backend = backendWith();
      await placed(backend, 'gone');
      await placed(backend, 'stays');
      expect(backend.releaseRequest('team', 'gone')).to.equal(3);
      expect(backend.releaseRequest('team', 'gone')).to.equal(0);
      expect(backend.engine.ledger.owners()).to.deep.equal(['team/stays']);
    });
  });

  describe('inventory changes', () => {
    it('a host set to Maintenance takes no new node, and hostAvailability says so', async () => {
      const backend = backendWith();
      const profile = profileOf(hostsRegistry(backend), onprem());
      const first = await runStack(
        profile.provisioners,
        rr('a', { count: 1, resources: { cpu: '1' } }),
      );
      expect(first.nodes[0]?.host).to.equal('h1');
      expect(backend.hostAvailability('p1', 'h1')).to.equal('Available');

      expect(
        backend.setInventory(smallPools({ h1State: 'Maintenance' }), smallStorage),
      ).to.deep.equal([]);
      expect(backend.hostAvailability('p1', 'h1')).to.equal('Maintenance');
      expect(backend.affectedNodes()).to.deep.equal([
        { owner: 'team/a', node: 'a-0', host: 'p1/h1', why: 'HostMaintenance' },
      ]);
      // The node already there stays accounted.
      expect(backend.hostPoolUsage('p1')?.nodes).to.equal(1);

      const next = await runStack(
        profile.provisioners,
        rr('b', { count: 3, resources: { cpu: '1' } }),
      );
      expect(next.nodes.map((n) => n.host)).to.deep.equal(['h2', 'h2', 'h2']);
      const none = await runStack(
        profile.provisioners,
        rr('c', { count: 1, resources: { cpu: '1' }, placement: { hostPool: 'p1' }, tags: ['x'] }),
      );
      expect(none.explanation.provisioners[0]?.summary).to.equal(
        '0/3 hosts fit: 1 HostMaintenance, 1 MissingTags [x], 1 PlacementMismatch',
      );
      await releaseAll([...first.nodes, ...next.nodes]);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });

    it('hostAvailability tells Disabled, PoolDisabled and Missing apart', () => {
      const backend = backendWith(smallPools({ h1State: 'Disabled', p2State: 'Disabled' }));
      expect(backend.hostAvailability('p1', 'h1')).to.equal('Disabled');
      expect(backend.hostAvailability('p1', 'h2')).to.equal('Available');
      expect(backend.hostAvailability('p2', 'h3')).to.equal('PoolDisabled');
      expect(backend.hostAvailability('p1', 'h9')).to.equal('Missing');
      expect(backend.hostAvailability('p9', 'h1')).to.equal('Missing');
    });

    it('reports an unusable pool through problem() and keeps serving the others', async () => {
      const backend = new HostsBackend();
      const pools = smallPools();
      pools[1]!.spec.hosts[0]!.capacity = { cpu: 'lots' };
      const problems = backend.setInventory(pools, [
        ...smallStorage,
        { metadata: { name: 'bad' }, spec: { scope: 'Host', capacity: '1Gi' } },
      ]);
      expect(problems.map((p) => `${p.kind}/${p.name}`)).to.deep.equal([
        'HostPool/p2',
        'StoragePool/bad',
      ]);
      expect(backend.problem('HostPool', 'p2')).to.match(/cpu/);
      expect(backend.problem('StoragePool', 'bad')).to.match(/spec\.host/);
      expect(backend.problem('HostPool', 'p1')).to.equal(undefined);
      expect(backend.hostAvailability('p2', 'h3')).to.equal('Missing');
      const [p] = profileOf(hostsRegistry(backend), onprem()).provisioners;
      const r = await runStack([p!], rr('ok', { count: 1, resources: { cpu: '1' } }));
      expect(r.nodes[0]?.host).to.equal('h1');
      await releaseAll(r.nodes);
    });

    it('is a HostsProvisioner registered as hosts next to the built-ins', () => {
      const registry = hostsRegistry(new HostsBackend());
      expect(registry.types()).to.deep.equal(['hosts', 'module', 'multilocal', 'webhook']);
      const p = registry.create({ name: 'h', type: 'hosts' }, 'p');
      expect(p).to.be.instanceOf(HostsProvisioner);
      expect(p.type).to.equal('hosts');
    });
  });

  describe('the example inventory (examples/10-hostpools.yaml, 20-storagepools.yaml)', () => {
    const docs = (file: string) => loadDocuments(join(repoRoot, 'examples', file));
    const examplePools = () => docs('10-hostpools.yaml') as unknown as HostPool[];
    const exampleStorage = () => docs('20-storagepools.yaml') as unknown as StoragePool[];

    function exampleBackend(): HostsBackend {
      const backend = new HostsBackend();
      expect(backend.setInventory(examplePools(), exampleStorage())).to.deep.equal([]);
      return backend;
    }

    /** The example profile of docs/design.md, less its remote `burst` webhook. */
    const designProfile = {
      name: 'default',
      provisioners: [
        { name: 'onprem', type: 'hosts', hostPoolSelector: { matchLabels: { tier: 'onprem' } } },
        { name: 'local', type: 'multilocal', address: '127.0.0.1', basePort: 7000, maxNodes: 8 },
      ],
      hostAllocators: [{ type: 'firstFit' }, { type: 'random', seed: 7 }],
      storageAllocators: [{ type: 'localStorage' }, { type: 'clusterScope' }, { type: 'zoneWide' }],
    };
    /** Every pool, through the engine's default chains (firstFit). */
    const allPools = { name: 'all', provisioners: [{ name: 'any', type: 'hosts' }] };

    function exampleProfile(backend: HostsBackend, profile: Record<string, unknown>): BuiltProfile {
      return buildProfile(profile, 'profiles[0]', {
        registry: hostsRegistry(backend),
        hostAllocatorTypes: HOST_ALLOCATOR_TYPES,
        storageAllocatorTypes: STORAGE_ALLOCATOR_TYPES,
      });
    }

    it('places the way firstFit says: pools by name, hosts as declared, skipping Maintenance', async () => {
      const backend = exampleBackend();
      const profile = exampleProfile(backend, designProfile);
      const r = await runStack(
        profile.provisioners,
        rr('mem', { count: 7, resources: { cpu: '2', memory: '100Gi' } }),
      );
      expect(r.outcome).to.equal('Provisioned');
      // Each rack-a1 host has 126Gi (2Gi reserved): one node each; a1-05 is in Maintenance;
      // rack-a2-gpu sorts next and gpu-01 (384Gi) takes three.
      expect(r.nodes.map((n) => `${n.hostPool}/${n.host}`)).to.deep.equal([
        'rack-a1/a1-01',
        'rack-a1/a1-02',
        'rack-a1/a1-03',
        'rack-a1/a1-04',
        'rack-a2-gpu/gpu-01',
        'rack-a2-gpu/gpu-01',
        'rack-a2-gpu/gpu-01',
      ]);
      expect(r.nodes[0]?.configEntry()).to.equal('NodeName=mem-0 NodeHostname=10.10.1.1 Port=');
      await releaseAll(r.nodes);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });

    it('explains a request that fits nowhere in the kube-scheduler style', async () => {
      const backend = exampleBackend();
      const profile = exampleProfile(backend, allPools);
      const r = await runStack(
        profile.provisioners,
        rr('huge', {
          count: 1,
          resources: { memory: '200Gi' },
          tags: ['ssd'],
          avoid: { hosts: ['rack-b1/b1-01', 'rack-b1/b1-02'] },
        }),
      );
      expect(r.outcome).to.equal('Insufficient');
      expect(r.explanation.provisioners[0]?.summary).to.equal(
        '0/12 hosts fit: 5 Insufficient memory, 4 MissingTags [ssd], 2 Avoided, 1 HostMaintenance',
      );
      expect(r.explanation.hosts).to.have.length(12);
      expect(r.explanation.hosts?.[4]).to.deep.equal({
        host: 'rack-a1/a1-05',
        reason: 'HostMaintenance',
      });
    });

    it('numbers rack-b1 nodes from its port range and puts volumes on zone storage', async () => {
      const backend = exampleBackend();
      const profile = exampleProfile(backend, allPools);
      const r = await runStack(
        profile.provisioners,
        rr('ci', {
          count: 5,
          resources: { cpu: '4', memory: '8Gi' },
          placement: { hostPool: 'rack-b1' },
          volumes: [{ name: 'cache', size: '20Gi' }],
        }),
      );
      expect(r.nodes.map((n) => `${n.host}:${n.port}`)).to.deep.equal([
        'b1-01:7000',
        'b1-01:7001',
        'b1-01:7002',
        'b1-01:7003',
        'b1-02:7000',
      ]);
      expect(new Set(r.nodes.flatMap((n) => n.volumes?.map((v) => v.storagePool)))).to.deep.equal(
        new Set(['zone-b-nfs']),
      );
      expect(backend.storagePoolUsage('zone-b-nfs')).to.deep.include({
        allocated: '100Gi',
        volumes: 5,
      });
      await releaseAll(r.nodes);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });

    it('falls back to multilocal when the GPU hosts run out', async () => {
      const backend = exampleBackend();
      const profile = exampleProfile(backend, designProfile);
      const r = await runStack(
        profile.provisioners,
        rr('train', { count: 4, resources: { 'nvidia.com/gpu': '4' }, tags: ['gpu'] }),
      );
      expect(r.outcome).to.equal('Provisioned');
      expect(r.nodes.map((n) => `${n.provisioner}:${n.host ?? n.address}`)).to.deep.equal([
        'onprem:gpu-01',
        'onprem:gpu-02',
        'onprem:gpu-03',
        'local:127.0.0.1',
      ]);
      const onpremEntry = r.explanation.provisioners[0];
      expect(onpremEntry?.summary).to.equal(
        '0/8 hosts fit: 4 MissingTags [gpu], 3 Insufficient nvidia.com/gpu, 1 HostMaintenance',
      );
      expect(onpremEntry?.allocators?.map((a) => [a.allocator, a.chosen])).to.deep.equal([
        ['firstFit', 3],
        ['random', 0],
      ]);
      await releaseAll(r.nodes);
      expect(backend.engine.ledger.isEmpty()).to.equal(true);
    });
  });
});

describe('built-in allocator types', () => {
  // The schema and the engine declare them apart (neither imports the other); the types are
  // checked at compile time in src/provisioning/hosts/chains.ts, the factories here.
  it('every type the schema accepts is one the engine builds', () => {
    const registry = defaultRegistry();
    expect(HOST_ALLOCATOR_TYPES.filter((t) => !registry.hostTypes().includes(t))).to.deep.equal([]);
    expect(
      STORAGE_ALLOCATOR_TYPES.filter((t) => !registry.storageTypes().includes(t)),
    ).to.deep.equal([]);
  });
});
