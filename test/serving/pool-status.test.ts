// Pool statuses from a real HostsBackend: compact per-host detail, quantities as people write
// them, bounded aggregates, and a StoragePool that names something missing is not Ready.
import { expect } from 'chai';
import {
  formatIssue,
  validateDocument,
  type HostPool,
  type ResourceRequest,
  type StoragePool,
} from '../../src/api/index.js';
import { HostsBackend } from '../../src/allocation/service.js';
import { displayQuantity } from '../../src/allocation/usage.js';
import { hostPoolStatus, storagePoolStatus } from '../../src/serving/pool-status.js';

const NOW = new Date('2026-03-01T12:00:00Z');

const pool = (name: string, hosts: HostPool['spec']['hosts'], extra = {}): HostPool => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name, generation: 3 },
  spec: { zone: 'z1', hosts, ...extra },
});

const storage = (name: string, spec: Partial<StoragePool['spec']>): StoragePool => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'StoragePool',
  metadata: { name, generation: 1 },
  spec: { scope: 'Zone', capacity: '1Ti', ...spec } as StoragePool['spec'],
});

/** `count` nodes of `resources` each, on the given hosts of pool `rack`, as a status records them. */
function bound(
  name: string,
  resources: Record<string, string>,
  hosts: string[],
  hostPool = 'rack',
): ResourceRequest {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ResourceRequest',
    metadata: { namespace: 'team', name },
    spec: { count: hosts.length, resources },
    status: {
      nodes: hosts.map((host, i) => ({
        name: `${name}-${i}`,
        provisioner: 'onprem',
        hostPool,
        host,
        address: '10.0.0.1',
        configEntry: '',
        state: 'Running' as const,
      })),
    },
  } as ResourceRequest;
}

const ready = (s: { conditions?: Array<{ type: string }> }) =>
  s.conditions?.find((c) => c.type === 'Ready') as
    { status: string; reason: string; message: string } | undefined;

describe('pool status', () => {
  describe('HostPool', () => {
    const rack = pool('rack', [
      { name: 'h0', address: '10.0.0.1', capacity: { cpu: '8', memory: '16Gi' } },
      { name: 'h1', address: '10.0.0.2', capacity: { cpu: '8', memory: '16Gi' } },
      {
        name: 'h2',
        address: '10.0.0.3',
        capacity: { cpu: '8', memory: '16Gi' },
        state: 'Maintenance',
      },
    ]);

    it('lists only hosts that hold nodes or are not Enabled, with no allocatable', () => {
      const backend = new HostsBackend();
      backend.setInventory([rack]);
      backend.loadRequest(bound('web', { cpu: '2', memory: '1Gi' }, ['h0', 'h0']));
      const status = hostPoolStatus(rack, backend, NOW);
      expect(status.hosts).to.deep.equal([
        { name: 'h0', nodes: 2, allocated: { cpu: '4', memory: '2Gi' } },
        { name: 'h2', state: 'Maintenance' },
      ]);
      expect(status).to.include({ hostCount: 3, nodes: 2, cpu: '4/24', memory: '2Gi/48Gi' });
      expect(status.capacity).to.deep.equal({ cpu: '24', memory: '48Gi' });
      expect(status.observedGeneration).to.equal(3);
      expect(validateDocument({ ...rack, status }).map(formatIssue)).to.deep.equal([]);
    });

    it('prints sub-milli amounts as people write them: milli, or whole bytes, rounded safe', () => {
      const odd = pool(
        'rack',
        [{ name: 'h0', address: '10.0.0.1', capacity: { cpu: '2.503000001', memory: '1Gi' } }],
        { overprovisioning: { memory: 1.3 } },
      );
      const backend = new HostsBackend();
      backend.setInventory([odd]);
      backend.loadRequest(bound('tiny', { cpu: '1.000000001', memory: '1' }, ['h0']));
      const status = hostPoolStatus(odd, backend, NOW);
      // Capacity rounds down, allocation up: never more room shown than there is.
      expect(status.capacity).to.deep.equal({ cpu: '2503m', memory: '1395864371' });
      expect(status.allocated).to.deep.equal({ cpu: '1001m', memory: '1' });
      expect(status.cpu).to.equal('1001m/2503m');
      expect(JSON.stringify(status)).not.to.match(/\d+[nu]"/);
    });

    it('sums at most 32 resources, cpu and memory first, so the status stays within its schema', () => {
      const many: Record<string, string> = { cpu: '4', memory: '8Gi' };
      for (let i = 0; i < 40; i++) many[`example.com/r${String(i).padStart(2, '0')}`] = '1';
      const wide = pool('rack', [
        {
          name: 'h0',
          address: '10.0.0.1',
          capacity: Object.fromEntries(Object.entries(many).slice(0, 16)),
        },
        {
          name: 'h1',
          address: '10.0.0.2',
          capacity: Object.fromEntries(Object.entries(many).slice(16, 32)),
        },
        {
          name: 'h2',
          address: '10.0.0.3',
          capacity: Object.fromEntries(Object.entries(many).slice(32)),
        },
      ]);
      const backend = new HostsBackend();
      expect(backend.setInventory([wide])).to.deep.equal([]);
      const status = hostPoolStatus(wide, backend, NOW);
      const names = Object.keys(status.capacity!);
      expect(names).to.have.length(32);
      expect(names.slice(0, 3)).to.deep.equal(['cpu', 'memory', 'example.com/r00']);
      expect(validateDocument({ ...wide, status }).map(formatIssue)).to.deep.equal([]);
    });

    it('caps a long problem so the condition stays one a person reads and the API server takes', () => {
      const bad = pool(
        'rack',
        Array.from({ length: 40 }, (_, i) => ({
          name: `h${i}`,
          address: '10.0.0.1',
          capacity: { cpu: `${'9'.repeat(30)}x` },
        })),
      );
      const backend = new HostsBackend();
      backend.setInventory([bad]);
      const message = ready(hostPoolStatus(bad, backend, NOW))!.message;
      expect(backend.problem('HostPool', 'rack')!.length).to.be.above(1024);
      expect(message).to.have.length(1024);
    });
  });

  describe('displayQuantity', () => {
    const cases: Array<[bigint, 'DecimalSI' | 'BinarySI', 'down' | 'up', string]> = [
      [2_503_000_001n, 'DecimalSI', 'down', '2503m'],
      [2_503_000_001n, 'DecimalSI', 'up', '2504m'],
      [2_500_000_000n, 'DecimalSI', 'up', '2500m'],
      [2_000_000_000_000n, 'DecimalSI', 'down', '2k'],
      [1n, 'DecimalSI', 'up', '1m'],
      [1n, 'DecimalSI', 'down', '0'],
      [1_500_000_000n, 'BinarySI', 'down', '1'],
      [1_500_000_000n, 'BinarySI', 'up', '2'],
      [1536n * 1024n * 1024n * 1_000_000_000n, 'BinarySI', 'up', '1536Mi'],
    ];
    for (const [nanos, format, round, want] of cases)
      it(`${nanos}n ${format} rounded ${round} is ${want}`, () =>
        expect(displayQuantity(nanos, format, round)).to.equal(want));
  });

  describe('StoragePool references', () => {
    const rack = pool('rack', [
      { name: 'h0', address: '10.0.0.1', capacity: { cpu: '8', memory: '16Gi' } },
    ]);
    const cases: Array<[string, StoragePool, string]> = [
      [
        'a missing HostPool',
        storage('shared', { scope: 'Cluster', hostPool: 'rack-x' }),
        'hostPool rack-x does not exist',
      ],
      [
        'the HostPool of a missing host',
        storage('local', { scope: 'Host', host: 'rack-x/h0' }),
        'hostPool rack-x does not exist',
      ],
      [
        'a missing host',
        storage('local', { scope: 'Host', host: 'rack/h9' }),
        'host h9 does not exist in hostPool rack',
      ],
      [
        'a zone no HostPool is in',
        storage('zonal', { scope: 'Zone', zone: 'z9' }),
        'zone z9 does not exist: no HostPool is in it',
      ],
    ];
    for (const [what, sp, message] of cases) {
      it(`names ${what}: Ready=False MissingReference, Ready once it exists`, () => {
        const backend = new HostsBackend();
        backend.setInventory([rack], [sp]);
        const before = ready(storagePoolStatus(sp, backend, NOW))!;
        expect(before).to.include({ status: 'False', reason: 'MissingReference' });
        expect(before.message).to.equal(`${message}: the storage pool takes no new volumes`);

        const fixed = [
          rack,
          pool('rack-x', [{ name: 'h0', address: '10.0.0.9', capacity: { cpu: '1' } }]),
          pool(
            'rack',
            [...rack.spec.hosts, { name: 'h9', address: '10.0.0.8', capacity: { cpu: '1' } }],
            { zone: 'z9' },
          ),
        ];
        backend.setInventory(fixed.slice(1), [sp]);
        expect(backend.missingReference(sp.metadata.name)).to.equal(undefined);
        const after = ready(storagePoolStatus(sp, backend, NOW))!;
        expect(after).to.include({ status: 'True', reason: 'Available' });
      });
    }

    it('says so when what it names is there but invalid', () => {
      const broken = pool('rack', [
        { name: 'h0', address: '10.0.0.1', capacity: { cpu: 'lots' } },
        { name: 'h1', address: '10.0.0.2', capacity: { cpu: '1' } },
      ]);
      const backend = new HostsBackend();
      backend.setInventory(
        [broken, pool('gone', [], { overprovisioning: { cpu: 0 } })],
        [
          storage('local', { scope: 'Host', host: 'rack/h0' }),
          storage('shared', { scope: 'Cluster', hostPool: 'gone' }),
        ],
      );
      expect(backend.missingReference('local')).to.equal(
        "host h0 of hostPool rack is invalid (see the HostPool's Ready condition)",
      );
      expect(backend.missingReference('shared')).to.equal(
        'hostPool gone is invalid (see its Ready condition)',
      );
    });

    it('an invalid StoragePool says Invalid, not MissingReference', () => {
      const sp = storage('bad', { scope: 'Cluster', hostPool: 'rack-x', capacity: '1TB' });
      const backend = new HostsBackend();
      backend.setInventory([rack], [sp]);
      expect(ready(storagePoolStatus(sp, backend, NOW))).to.include({
        status: 'False',
        reason: 'Invalid',
      });
    });
  });
});
