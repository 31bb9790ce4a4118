// The engine end to end: multi-node plans against the ledger, ports, counts and names, dry runs,
// release, ledger rebuild and inventory changes.
import { expect } from 'chai';
import {
  Engine,
  InvalidSpecError,
  Ledger,
  LedgerError,
  affectedNodes,
  buildInventory,
  hostPoolUsage,
  planNodes,
  storagePoolUsage,
} from '../../src/allocation/index.js';
import {
  chainsOf,
  engineOf,
  hostsOf,
  makeHostPool,
  makeRequest,
  makeStoragePool,
} from './builders.js';

const ff = chainsOf(['firstFit']);
const node = (name: string, hostPool: string, host: string, extra: object = {}) => ({
  name,
  provisioner: 'hosts',
  hostPool,
  host,
  address: 'x',
  ...extra,
});

describe('allocation/engine', () => {
  it('places node by node: node 2 sees node 1', () => {
    const engine = engineOf([makeHostPool('p').hosts(2, { cpu: '4' }).obj()]);
    const r = engine.plan(makeRequest('ns', 'r').count(3).resources({ cpu: '2' }).obj(), ff);
    expect(hostsOf(r)).to.deep.equal(['p/h-0', 'p/h-0', 'p/h-1']);
    expect(r.placements.map((p) => p.name)).to.deep.equal(['r-0', 'r-1', 'r-2']);
    expect(r.complete).to.equal(true);
    expect(r.explanation.summary).to.equal('3/3 nodes placed');
  });

  it('returns what fits and explains the rest (the stack decides about minCount)', () => {
    const engine = engineOf([makeHostPool('p').hosts(2, { cpu: '4' }).obj()]);
    const r = engine.plan(makeRequest('ns', 'r').count(5).resources({ cpu: '2' }).obj(), ff);
    expect(r.placements).to.have.length(4);
    expect(r.complete).to.equal(false);
    expect(r.explanation).to.include({
      requested: 5,
      placed: 4,
      summary: '0/2 hosts fit: 2 Insufficient cpu',
    });
  });

  it('hands out the lowest free port and puts it in the placement', () => {
    const engine = engineOf([
      makeHostPool('p')
        .host('h', { cpu: '8' }, { ports: { base: 7000, count: 3 } })
        .obj(),
    ]);
    const r1 = engine.plan(makeRequest('ns', 'a').count(2).resources({ cpu: '1' }).obj(), ff);
    expect(r1.placements.map((p) => p.port)).to.deep.equal([7000, 7001]);
    engine.ledger.release('ns/a', 'a-0');
    const r2 = engine.plan(makeRequest('ns', 'b').count(2).resources({ cpu: '1' }).obj(), ff);
    expect(r2.placements.map((p) => p.port)).to.deep.equal([7000, 7002]);
    const r3 = engine.plan(makeRequest('ns', 'c').resources({ cpu: '1' }).obj(), ff);
    expect(r3.explanation.summary).to.equal('0/1 hosts fit: 1 PortsExhausted');
  });

  it('takes recorded ports into account after a restart', () => {
    const pools = [
      makeHostPool('p')
        .host('h', { cpu: '8' }, { ports: { base: 7000, count: 3 } })
        .obj(),
    ];
    const existing = makeRequest('ns', 'old')
      .count(2)
      .resources({ cpu: '1' })
      .nodes(node('old-0', 'p', 'h', { port: 7000 }), node('old-1', 'p', 'h', { port: 7002 }))
      .obj();
    const engine = engineOf(pools, [], [existing]);
    expect(
      engine.plan(makeRequest('ns', 'r').resources({ cpu: '1' }).obj(), ff).placements[0]!.port,
    ).to.equal(7001);
  });

  it('uses the names given, and never more than the request still lacks', () => {
    const engine = engineOf([makeHostPool('p').hosts(4, { cpu: '4' }).obj()]);
    const req = makeRequest('ns', 'r').count(3).resources({ cpu: '4' }).obj();
    const a = engine.plan(req, ff, { names: ['r-x'] });
    expect(a.placements.map((p) => p.name)).to.deep.equal(['r-x']);
    const b = engine.plan(req, ff, { names: ['r-y', 'r-z', 'r-too-many'] });
    expect(b.placements.map((p) => p.name)).to.deep.equal(['r-y', 'r-z']);
    expect(b.complete).to.equal(false);
    expect(engine.ledger.nodeCount('ns/r')).to.equal(3);
    const c = engine.plan(req, ff);
    expect(c.placements).to.deep.equal([]);
    expect(c.explanation.summary).to.equal('0/0 nodes placed');
  });

  it('default names skip names the owner holds', () => {
    const engine = engineOf([makeHostPool('p').hosts(4, { cpu: '4' }).obj()]);
    const req = makeRequest('ns', 'r').count(3).resources({ cpu: '1' }).obj();
    engine.plan(req, ff, { names: ['r-1'] });
    expect(engine.plan(req, ff).placements.map((p) => p.name)).to.deep.equal(['r-0', 'r-2']);
  });

  it('refuses to reserve a node name twice for one owner', () => {
    const engine = engineOf([makeHostPool('p').hosts(4, { cpu: '4' }).obj()]);
    const req = makeRequest('ns', 'r').count(3).resources({ cpu: '1' }).obj();
    engine.plan(req, ff, { names: ['same'] });
    expect(() => engine.plan(req, ff, { names: ['same'] })).to.throw(LedgerError);
    // A failing call leaves none of its own reservations behind.
    expect(() => engine.plan(req, ff, { names: ['new', 'new'] })).to.throw(LedgerError);
    expect(engine.ledger.entriesOf('ns/r').map((e) => e.node)).to.deep.equal(['same']);
  });

  it('dryRun plans the same and keeps nothing', () => {
    const engine = engineOf([makeHostPool('p').hosts(2, { cpu: '4' }).obj()]);
    const req = makeRequest('ns', 'r').count(3).resources({ cpu: '2' }).obj();
    const dry = engine.plan(req, ff, { dryRun: true });
    expect(engine.ledger.isEmpty()).to.equal(true);
    expect(hostsOf(engine.plan(req, ff))).to.deep.equal(hostsOf(dry));
  });

  it('release gives the capacity back, by owner and node name', () => {
    const engine = engineOf([makeHostPool('p').hosts(1, { cpu: '4' }).obj()]);
    engine.plan(makeRequest('ns', 'a').resources({ cpu: '4' }).obj(), ff);
    expect(
      engine.plan(makeRequest('ns', 'b').resources({ cpu: '4' }).obj(), ff).placements,
    ).to.have.length(0);
    expect(engine.ledger.release('ns/a', 'a-0')?.hostKey).to.equal('p/h-0');
    expect(engine.ledger.release('ns/a', 'a-0')).to.equal(undefined);
    expect(
      engine.plan(makeRequest('ns', 'b').resources({ cpu: '4' }).obj(), ff).placements,
    ).to.have.length(1);
  });

  it('scope limits the pools (a provisioner’s selector) and the host count', () => {
    const engine = engineOf([
      makeHostPool('a').labels({ tier: 'onprem' }).hosts(2, { cpu: '1' }).obj(),
      makeHostPool('b').labels({ tier: 'cloud' }).hosts(3, { cpu: '8' }).obj(),
    ]);
    const r = engine.plan(makeRequest('ns', 'r').resources({ cpu: '2' }).obj(), ff, {
      scope: (p) => p.labels['tier'] === 'onprem',
    });
    expect(r.explanation.summary).to.equal('0/2 hosts fit: 2 Insufficient cpu');
    for (const type of [
      'bestFit',
      'firstFitLeastConsumed',
      'random',
      'userDispersing',
      'userConcentrated',
    ]) {
      const s = engine.plan(
        makeRequest('ns', 'r').resources({ cpu: '2' }).obj(),
        chainsOf([type]),
        {
          scope: (p) => p.name === 'b',
          dryRun: true,
        },
      );
      expect(s.placements[0]?.hostPool, type).to.equal('b');
    }
  });

  it('throws InvalidSpecError naming the field for a request it cannot read', () => {
    const engine = engineOf([makeHostPool('p').hosts(1, { cpu: '4' }).obj()]);
    expect(() =>
      engine.plan(makeRequest('ns', 'r').resources({ cpu: '4 cores' }).obj(), ff),
    ).to.throw(
      InvalidSpecError,
      /ResourceRequest ns\/r: spec.resources.cpu: invalid quantity "4 cores"/,
    );
    expect(() => engine.plan(makeRequest('ns', 'r').resources({ cpu: '-1' }).obj(), ff)).to.throw(
      InvalidSpecError,
      /negative/,
    );
    expect(() =>
      engine.plan(makeRequest('ns', 'r').volume('d', '1Gi', { scope: 'Galaxy' }).obj(), ff),
    ).to.throw(InvalidSpecError, /scope/);
    expect(() => planNodes(engine, makeRequest('ns', 'r').count(1.5).obj(), ff)).to.throw(
      InvalidSpecError,
      /count/,
    );
  });

  describe('inventory', () => {
    it('leaves out a bad pool or host, reports it, and keeps the rest', () => {
      const inv = buildInventory(
        [
          makeHostPool('bad').host('h', { cpu: 'lots' }).obj(),
          makeHostPool('half')
            .host('ok', { cpu: '1' })
            .host('ok', { cpu: '1' })
            .host('neg', { cpu: '-1' })
            .obj(),
          makeHostPool('ratio').overprovisioning('cpu', 0).hosts(1, { cpu: '1' }).obj(),
          makeHostPool('thr').disableThreshold('cpu', 1.5).hosts(1, { cpu: '1' }).obj(),
          makeHostPool('good').hosts(1, { cpu: '1' }).obj(),
        ],
        [
          makeStoragePool('s-bad').capacity('1Zi').obj(),
          makeStoragePool('s-nohost').onHost('nope').obj(),
        ],
      );
      expect(inv.hosts.map((h) => h.key)).to.deep.equal(['good/h-0', 'half/ok']);
      expect(inv.problems.map((p) => `${p.kind} ${p.name}`)).to.deep.equal([
        'HostPool bad',
        'HostPool half',
        'HostPool half',
        'HostPool ratio',
        'HostPool thr',
        'StoragePool s-bad',
        'StoragePool s-nohost',
      ]);
      expect(inv.problems[0]!.message).to.match(
        /HostPool bad: spec.hosts\[0\].capacity.cpu: invalid quantity "lots"/,
      );
    });

    it('computes allocatable exactly: (capacity − reserved) × ratio', () => {
      const inv = buildInventory([
        makeHostPool('p')
          .reserved({ cpu: '1', memory: '1Gi' })
          .overprovisioning('cpu', 1.5)
          .hosts(2, { cpu: '9', memory: '5Gi' })
          .obj(),
      ]);
      const usage = hostPoolUsage(new Engine(inv), 'p')!;
      expect(usage.hosts[0]!.allocatable).to.deep.equal({ cpu: '12', memory: '4Gi' });
      expect(usage.capacity).to.deep.equal({ cpu: '24', memory: '8Gi' });
    });

    it('keeps usage across an inventory change; a vanished host stays accounted until released', () => {
      const engine = engineOf([makeHostPool('p').hosts(2, { cpu: '4' }).obj()]);
      engine.plan(makeRequest('ns', 'r').count(2).resources({ cpu: '4' }).obj(), ff);
      // h-1 is removed from the pool...
      engine.setInventory(buildInventory([makeHostPool('p').hosts(1, { cpu: '4' }).obj()]));
      expect(engine.ledger.usedHosts()).to.have.members(['p/h-0', 'p/h-1']);
      expect(
        engine.plan(makeRequest('ns', 'x').resources({ cpu: '1' }).obj(), ff, { dryRun: true })
          .placements,
      ).to.have.length(0);
      // ...and comes back: its node is still there.
      engine.setInventory(buildInventory([makeHostPool('p').hosts(2, { cpu: '4' }).obj()]));
      expect(
        engine.plan(makeRequest('ns', 'x').resources({ cpu: '1' }).obj(), ff, { dryRun: true })
          .placements,
      ).to.have.length(0);
      engine.ledger.release('ns/r', 'r-1');
      expect(
        hostsOf(engine.plan(makeRequest('ns', 'x').resources({ cpu: '1' }).obj(), ff)),
      ).to.deep.equal(['p/h-1']);
    });

    it('a host grown in place offers the new room at once', () => {
      const engine = engineOf([makeHostPool('p').hosts(1, { cpu: '4' }).obj()]);
      engine.plan(makeRequest('ns', 'r').resources({ cpu: '4' }).obj(), ff);
      engine.setInventory(buildInventory([makeHostPool('p').hosts(1, { cpu: '8' }).obj()]));
      expect(
        engine.plan(makeRequest('ns', 'x').resources({ cpu: '4' }).obj(), ff).placements,
      ).to.have.length(1);
    });
  });

  describe('ledger', () => {
    it('is rebuilt from status.nodes: host nodes hold resources, others only count', () => {
      const ledger = Ledger.fromRequests([
        makeRequest('ns', 'a')
          .count(3)
          .resources({ cpu: '2', memory: '1Gi' })
          .nodes(
            node('a-0', 'p', 'h', {
              port: 7000,
              volumes: [{ name: 'd', storagePool: 's', size: '10Gi' }],
            }),
            { name: 'a-1', provisioner: 'burst', address: 'kvm-1' },
            node('a-2', 'p', 'h', { state: 'Released' }),
          )
          .obj(),
      ]);
      expect(ledger.nodeCount('ns/a')).to.equal(2);
      const u = ledger.hostUsage('p/h');
      expect(u.nodes).to.equal(1);
      expect(u.allocated.get('cpu')).to.equal(2_000_000_000n);
      expect([...u.ports.keys()]).to.deep.equal([7000]);
      expect(ledger.storageUsage('s').volumes).to.equal(1);
      expect(ledger.problems).to.deep.equal([]);
    });

    it('notes what it cannot read instead of throwing', () => {
      const ledger = Ledger.fromRequests([
        makeRequest('ns', 'a')
          .resources({ cpu: 'x' })
          .nodes(node('a-0', 'p', 'h'))
          .obj(),
        makeRequest('ns', 'b')
          .resources({ cpu: '1' })
          .nodes(node('b-0', 'p', 'h', { volumes: [{ name: 'd', storagePool: 's', size: '??' }] }))
          .obj(),
      ]);
      expect(ledger.problems).to.have.length(2);
      expect(ledger.hostUsage('p/h').nodes).to.equal(1);
    });

    it('release of everything returns every entry to zero', () => {
      const engine = engineOf(
        [
          makeHostPool('p')
            .hosts(3, { cpu: '4' }, { ports: { base: 100, count: 5 } })
            .obj(),
        ],
        [makeStoragePool('z').inZone('zone-a').obj()],
      );
      for (const n of ['a', 'b', 'c']) {
        engine.plan(
          makeRequest('ns', n).count(2).resources({ cpu: '1' }).volume('d', '1Gi').obj(),
          chainsOf(['userDispersing']),
        );
      }
      expect(engine.ledger.isEmpty()).to.equal(false);
      for (const owner of engine.ledger.owners()) engine.ledger.releaseOwner(owner);
      expect(engine.ledger.isEmpty()).to.equal(true);
      expect(hostPoolUsage(engine, 'p')!.allocated).to.deep.equal({});
      expect(storagePoolUsage(engine, 'z')).to.deep.equal({
        capacity: '1Ti',
        allocatable: '1Ti',
        allocated: '0',
        volumes: 0,
      });
    });
  });
});

describe('allocation/usage helpers', () => {
  it('lists nodes on Disabled, Maintenance and vanished hosts (their requests are Degraded)', () => {
    const engine = engineOf(
      [makeHostPool('p').hosts(4, { cpu: '4' }).obj()],
      [],
      [
        makeRequest('ns', 'r')
          .count(4)
          .resources({ cpu: '1' })
          .nodes(
            node('r-0', 'p', 'h-0'),
            node('r-1', 'p', 'h-1'),
            node('r-2', 'p', 'h-2'),
            node('r-3', 'p', 'h-3'),
          )
          .obj(),
      ],
    );
    engine.setInventory(
      buildInventory([
        makeHostPool('p')
          .host('h-0', { cpu: '4' }, { state: 'Disabled' })
          .host('h-1', { cpu: '4' }, { state: 'Maintenance' })
          .host('h-2', { cpu: '4' })
          .obj(),
      ]),
    );
    expect(affectedNodes(engine)).to.deep.equal([
      { owner: 'ns/r', node: 'r-0', host: 'p/h-0', why: 'HostDisabled' },
      { owner: 'ns/r', node: 'r-1', host: 'p/h-1', why: 'HostMaintenance' },
      { owner: 'ns/r', node: 'r-3', host: 'p/h-3', why: 'HostMissing' },
    ]);
  });

  it('restoring the same records twice counts them once', () => {
    const ledger = new Ledger();
    const rec = node('a-0', 'p', 'h');
    ledger.restoreNode('ns', 'a', rec, { cpu: '1' });
    ledger.restoreNode('ns', 'a', rec, { cpu: '1' });
    expect(ledger.hostUsage('p/h').nodes).to.equal(1);
  });
});
