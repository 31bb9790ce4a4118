// `module` and `webhook` allocators in a `hosts` provisioner's chains: asked before the engine
// runs, their answers walked as fixed orders, every fit rule still applied by the engine.
import { expect } from 'chai';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import { HostsBackend, type HostPool, type StoragePool } from '../../src/allocation/index.js';
import { HOST_ALLOCATOR_TYPES, STORAGE_ALLOCATOR_TYPES } from '../../src/api/index.js';
import {
  buildProfile,
  createDefaultRegistry,
  releaseAll,
  runStack,
  type BuiltProfile,
  type FilterRequest,
  type Logger,
  type ProvisionerRegistry,
  type RequestRef,
  type RequestSpec,
} from '../../src/provisioning/index.js';
import { hostsFactory } from '../../src/provisioning/hosts/index.js';
import { send } from '../../examples/kvm-farm/http.js';
import { serve } from './helpers/servers.js';

/** Every built-in provisioner type, `hosts` included, over one shared backend (as assemble.ts does). */
function hostsRegistry(backend: HostsBackend): ProvisionerRegistry {
  return createDefaultRegistry().register('hosts', hostsFactory(backend));
}

const FIXTURES = fileURLToPath(new URL('../../../test/provisioning/fixtures/', import.meta.url));

const pools: HostPool[] = [
  {
    metadata: { name: 'pa', labels: { rack: 'r1' } },
    spec: {
      zone: 'z1',
      hosts: [
        { name: 'h1', address: '10.1.0.1', capacity: { cpu: '8' } },
        { name: 'h2', address: '10.1.0.2', capacity: { cpu: '8' } },
      ],
    },
  },
  {
    metadata: { name: 'pb', labels: { rack: 'r2' } },
    spec: { zone: 'z1', hosts: [{ name: 'h3', address: '10.2.0.3', capacity: { cpu: '8' } }] },
  },
];

const storage: StoragePool[] = [
  { metadata: { name: 'pa-shared' }, spec: { scope: 'Cluster', hostPool: 'pa', capacity: '1Ti' } },
  { metadata: { name: 'z-ceph' }, spec: { scope: 'Zone', zone: 'z1', capacity: '1Ti' } },
  { metadata: { name: 'z-fast' }, spec: { scope: 'Zone', zone: 'z1', capacity: '1Ti' } },
];

function backend(): HostsBackend {
  const b = new HostsBackend();
  expect(b.setInventory(pools, storage)).to.deep.equal([]);
  return b;
}

function profile(
  b: HostsBackend,
  chains: { hostAllocators?: unknown[]; storageAllocators?: unknown[] },
  logger?: Logger,
): BuiltProfile {
  return buildProfile(
    { name: 'x', provisioners: [{ name: 'onprem', type: 'hosts' }], ...chains },
    'profiles[0]',
    {
      registry: hostsRegistry(b),
      hostAllocatorTypes: HOST_ALLOCATOR_TYPES,
      storageAllocatorTypes: STORAGE_ALLOCATOR_TYPES,
      deps: { baseDir: FIXTURES, ...(logger ? { logger } : {}) },
    },
  );
}

function rr(name: string, spec: Partial<RequestSpec> & { count: number }): RequestRef {
  return { metadata: { namespace: 'lab', name }, spec: { ...spec } };
}

const where = (nodes: ReadonlyArray<{ hostPool?: string; host?: string }>) =>
  nodes.map((n) => `${n.hostPool}/${n.host}`);

describe('hosts provisioner with extender allocators', () => {
  describe('module allocators', () => {
    it('a module extender reorders the hosts (rack r2 before r1)', async () => {
      const b = backend();
      const p = profile(b, {
        hostAllocators: [
          {
            type: 'module',
            name: 'racks',
            path: 'rack-allocator.js',
            options: { racks: ['r2', 'r1'] },
          },
          { type: 'firstFit' },
        ],
      });
      const r = await runStack(p.provisioners, rr('ml', { count: 3, resources: { cpu: '8' } }));
      expect(r.outcome).to.equal('Provisioned');
      expect(where(r.nodes)).to.deep.equal(['pb/h3', 'pa/h1', 'pa/h2']);
      await releaseAll(r.nodes);
      expect(b.engine.ledger.isEmpty()).to.equal(true);
    });

    it('hosts a module extender fails never get a node, and the explanation says why', async () => {
      const b = backend();
      const p = profile(b, {
        hostAllocators: [
          { type: 'module', name: 'racks', path: 'rack-allocator.js', options: { racks: ['r2'] } },
        ],
      });
      const r = await runStack(
        p.provisioners,
        rr('only-r2', { count: 2, minCount: 1, resources: { cpu: '8' } }),
      );
      expect(where(r.nodes)).to.deep.equal(['pb/h3']);
      expect(r.explanation.provisioners[0]).to.deep.include({
        summary: '0/3 hosts fit: 2 PlacementMismatch, 1 Insufficient cpu',
        allocators: [
          {
            allocator: 'racks',
            considered: 3,
            chosen: 1,
            reasons: { PlacementMismatch: 2, 'Insufficient cpu': 1 },
          },
        ],
      });
      await releaseAll(r.nodes);
    });

    it('an engine-native module allocator runs inside the engine (reverse order)', async () => {
      const b = backend();
      const p = profile(b, {
        hostAllocators: [
          { type: 'module', name: 'reverse', path: 'native-allocator.js' },
          { type: 'firstFit' },
        ],
      });
      const r = await runStack(p.provisioners, rr('rev', { count: 2, resources: { cpu: '8' } }));
      expect(where(r.nodes)).to.deep.equal(['pb/h3', 'pa/h2']);
      await releaseAll(r.nodes);
      expect(b.engine.ledger.isEmpty()).to.equal(true);
    });

    it('a module that throws costs its answer only: the chain moves on, and the log says why', async () => {
      const warnings: Array<Record<string, unknown> | undefined> = [];
      const logger: Logger = { info() {}, error() {}, warn: (_m, meta) => warnings.push(meta) };
      const b = backend();
      const p = profile(
        b,
        {
          hostAllocators: [
            { type: 'module', name: 'bad', path: 'bad-allocator.js', options: { mode: 'throw' } },
            { type: 'firstFit' },
          ],
        },
        logger,
      );
      const r = await runStack(
        p.provisioners,
        rr('fallback', { count: 1, resources: { cpu: '1' } }),
      );
      expect(where(r.nodes)).to.deep.equal(['pa/h1']);
      expect(String(warnings[0]?.error)).to.match(
        /^bad: .*filter threw: ranking service unavailable/,
      );
      await releaseAll(r.nodes);
    });
  });

  describe('webhook allocators on 127.0.0.1', () => {
    type Reply = (body: FilterRequest, res: http.ServerResponse) => void;
    let server: { url: string; close(): Promise<void> } | undefined;
    let reply: Reply;
    let bodies: FilterRequest[];

    beforeEach(async () => {
      bodies = [];
      server = await serve((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FilterRequest;
          bodies.push(body);
          reply(body, res);
        });
      });
    });
    afterEach(async () => {
      await server?.close();
    });

    const webhook = (extra: Record<string, unknown> = {}) => ({
      type: 'webhook',
      name: 'licenses',
      url: server!.url,
      timeoutSeconds: 1,
      retries: 0,
      ...extra,
    });

    /** Rack r1 only, h2 first; everything else has no license. */
    const r1First: Reply = (body, res) => {
      const keep = body.candidates
        .filter((c) => c.labels?.rack === 'r1')
        .map((c) => c.name)
        .sort()
        .reverse();
      const failed = Object.fromEntries(
        body.candidates
          .filter((c) => c.labels?.rack !== 'r1')
          .map((c) => [c.name, 'Insufficient licenses/matlab']),
      );
      send(res, { status: 200, body: { kind: 'FilterResponse', candidates: keep, failed } });
    };

    it('filters and orders hosts; the engine still applies the fit rules', async () => {
      reply = r1First;
      const b = backend();
      const p = profile(b, { hostAllocators: [webhook()] });
      const first = await runStack(p.provisioners, rr('a', { count: 3, resources: { cpu: '4' } }));
      expect(where(first.nodes)).to.deep.equal(['pa/h2', 'pa/h2', 'pa/h1']);
      expect(bodies[0]).to.deep.include({ kind: 'FilterRequest', target: 'hosts' });
      expect(bodies[0]?.candidates.map((c) => c.name)).to.deep.equal(['pa/h1', 'pa/h2', 'pb/h3']);
      expect(bodies[0]?.candidates[0]).to.deep.include({
        hostPool: 'pa',
        host: 'h1',
        address: '10.1.0.1',
        zone: 'z1',
        labels: { rack: 'r1' },
        capacity: { cpu: '8' },
        allocated: {},
      });

      // Only hosts that can still take a node are offered: h2 is full now.
      const second = await runStack(
        p.provisioners,
        rr('b', { count: 2, minCount: 1, resources: { cpu: '4' } }),
      );
      expect(bodies[1]?.candidates.map((c) => c.name)).to.deep.equal(['pa/h1', 'pb/h3']);
      expect(bodies[1]?.candidates[0]?.allocated).to.deep.equal({ cpu: '4' });
      expect(where(second.nodes)).to.deep.equal(['pa/h1']);
      expect(second.explanation.provisioners[0]?.summary).to.equal(
        '0/3 hosts fit: 2 Insufficient cpu, 1 Insufficient licenses/matlab',
      );
      await releaseAll([...first.nodes, ...second.nodes]);
      expect(b.engine.ledger.isEmpty()).to.equal(true);
    });

    it('a failing webhook is no answer: the next allocator places the node', async () => {
      reply = (_b, res) => send(res, { status: 500, body: { message: 'license server down' } });
      const b = backend();
      const p = profile(b, { hostAllocators: [webhook(), { type: 'firstFit' }] });
      const r = await runStack(p.provisioners, rr('c', { count: 1, resources: { cpu: '1' } }));
      expect(where(r.nodes)).to.deep.equal(['pa/h1']);
      expect(bodies).to.have.length(1);
      await releaseAll(r.nodes);
    });

    it('a storage webhook is asked once per volume and its answer places each volume', async () => {
      reply = (body, res) => {
        const want = body.volume?.name === 'fast' ? 'z-fast' : 'z-ceph';
        const names = body.candidates.map((c) => c.name);
        send(res, {
          status: 200,
          body: {
            candidates: names.filter((n) => n === want),
            failed: Object.fromEntries(
              names.filter((n) => n !== want).map((n) => [n, 'PlacementMismatch']),
            ),
          },
        });
      };
      const b = backend();
      const p = profile(b, {
        hostAllocators: [{ type: 'firstFit' }],
        storageAllocators: [webhook({ name: 'tiers' }), { type: 'clusterScope' }],
      });
      const r = await runStack(
        p.provisioners,
        rr('vols', {
          count: 2,
          resources: { cpu: '8' },
          volumes: [
            { name: 'fast', size: '10Gi' },
            { name: 'bulk', size: '100Gi' },
          ],
        }),
      );
      expect(r.outcome).to.equal('Provisioned');
      expect(bodies.map((x) => [x.target, x.volume?.name])).to.deep.equal([
        ['storagePools', 'fast'],
        ['storagePools', 'bulk'],
      ]);
      expect(bodies[0]?.candidates.map((c) => c.name)).to.deep.equal([
        'pa-shared',
        'z-ceph',
        'z-fast',
      ]);
      expect(bodies[0]?.candidates[1]).to.deep.include({
        scope: 'Zone',
        zone: 'z1',
        capacity: { storage: '1Ti' },
      });
      for (const n of r.nodes) {
        expect(n.volumes).to.deep.equal([
          { name: 'bulk', storagePool: 'z-ceph', size: '100Gi' },
          { name: 'fast', storagePool: 'z-fast', size: '10Gi' },
        ]);
      }
      expect(b.storagePoolUsage('z-ceph')).to.deep.include({ allocated: '200Gi', volumes: 2 });
      await releaseAll(r.nodes);
      expect(b.engine.ledger.isEmpty()).to.equal(true);
    });

    it('asks no storage webhook for a request without volumes', async () => {
      reply = () => {
        throw new Error('must not be called');
      };
      const b = backend();
      const p = profile(b, { storageAllocators: [webhook()] });
      const r = await runStack(p.provisioners, rr('novol', { count: 1, resources: { cpu: '1' } }));
      expect(r.nodes).to.have.length(1);
      expect(bodies).to.deep.equal([]);
      await releaseAll(r.nodes);
    });
  });
});
