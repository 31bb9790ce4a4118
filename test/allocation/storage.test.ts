// Storage allocators and the planner's volume placement: reachability by scope, the chain
// local → cluster → zone, largest volume first, room counting this node's earlier volumes.
import { expect } from 'chai';
import type { Engine, HostPool, ResourceRequest, StoragePool } from '../../src/allocation/index.js';
import { createStorageAllocator } from '../../src/allocation/index.js';
import { chainsOf, engineOf, makeHostPool, makeRequest, makeStoragePool } from './builders.js';

/** Two pools in zone-a (a1 with hosts x and y), one in zone-b. */
function pools(): HostPool[] {
  return [
    makeHostPool('a1').zone('zone-a').host('x', { cpu: '8' }).host('y', { cpu: '8' }).obj(),
    makeHostPool('a2').zone('zone-a').host('z', { cpu: '8' }).obj(),
    makeHostPool('b1').zone('zone-b').host('w', { cpu: '8' }).obj(),
  ];
}

function place(storage: StoragePool[], request: ResourceRequest, chain?: string[], p = pools()) {
  const engine = engineOf(p, storage);
  const result = engine.plan(request, chainsOf(['firstFit'], chain));
  return {
    engine,
    result,
    volumes: result.placements.map((pl) => pl.volumes.map((v) => `${v.name}@${v.storagePool}`)),
  };
}

const vol = (size: string, extra: Parameters<ReturnType<typeof makeRequest>['volume']>[2] = {}) =>
  makeRequest('ns', 'r').resources({ cpu: '1' }).volume('data', size, extra);

describe('allocation/storage', () => {
  describe('reachability by scope', () => {
    const storage = [
      makeStoragePool('local-y').onHost('a1/y').capacity('100Gi').obj(),
      makeStoragePool('cluster-a2').ofPool('a2').capacity('100Gi').obj(),
      makeStoragePool('zone-b').inZone('zone-b').capacity('100Gi').obj(),
    ];
    const cases: Array<[string, string, string]> = [
      ['Host scope: only the host whose local disk it is', 'Host', 'a1/y data@local-y'],
      ['Cluster scope: only hosts of its HostPool', 'Cluster', 'a2/z data@cluster-a2'],
      ['Zone scope: only hosts of its zone', 'Zone', 'b1/w data@zone-b'],
    ];
    for (const [name, scope, where] of cases) {
      it(name, () => {
        const { result, volumes } = place(storage, vol('10Gi', { scope }).obj());
        const p = result.placements[0]!;
        expect(`${p.hostPool}/${p.host} ${volumes[0]![0]}`).to.equal(where);
      });
    }

    it('hosts that reach no pool fail as NoStorage, with the volume named', () => {
      const { result } = place(
        [makeStoragePool('local-y').onHost('a1/y').capacity('1Gi').obj()],
        vol('10Gi').obj(),
      );
      expect(result.explanation.summary).to.equal('0/4 hosts fit: 4 NoStorage');
      expect(result.explanation.hosts.find((h) => h.name === 'a1/y')?.detail).to.equal(
        'volume data (10Gi): 1 Insufficient storage',
      );
      expect(result.explanation.hosts.find((h) => h.name === 'a1/x')?.detail).to.equal(
        'volume data (10Gi): no storage pool offered',
      );
      expect(result.explanation.storage).to.deep.equal({ 'Insufficient storage': 1 });
    });
  });

  describe('the chain local → cluster → zone', () => {
    const all = [
      makeStoragePool('local-x').onHost('a1/x').capacity('100Gi').obj(),
      makeStoragePool('cluster-a1').ofPool('a1').capacity('100Gi').obj(),
      makeStoragePool('zone-a').inZone('zone-a').capacity('100Gi').obj(),
    ];
    it('takes local storage first', () => {
      expect(place(all, vol('10Gi').obj()).volumes).to.deep.equal([['data@local-x']]);
    });
    it('falls through to cluster storage when local has no room', () => {
      expect(place(all, vol('150Gi').obj()).volumes).to.deep.equal([]);
      const bigger = all.map((s) =>
        s.metadata.name === 'local-x' ? s : { ...s, spec: { ...s.spec, capacity: '200Gi' } },
      );
      expect(place(bigger, vol('150Gi').obj()).volumes).to.deep.equal([['data@cluster-a1']]);
    });
    it('falls through to zone-wide storage last', () => {
      const onlyZone = [
        all[0]!,
        makeStoragePool('cluster-a1').ofPool('a1').capacity('1Gi').obj(),
        all[2]!,
      ];
      expect(
        place(
          onlyZone,
          vol('50Gi')
            .placement({ hostPool: 'a1' })
            .avoid({ hosts: ['a1/x'] })
            .obj(),
        ).volumes,
      ).to.deep.equal([['data@zone-a']]);
    });
    it('the order of the chain is the configured one', () => {
      expect(place(all, vol('10Gi').obj(), ['zoneWide', 'localStorage']).volumes).to.deep.equal([
        ['data@zone-a'],
      ]);
    });
    it('a volume asking a scope skips allocators of other scopes', () => {
      expect(place(all, vol('10Gi', { scope: 'Zone' }).obj()).volumes).to.deep.equal([
        ['data@zone-a'],
      ]);
      expect(place(all, vol('10Gi', { scope: 'Cluster' }).obj()).volumes).to.deep.equal([
        ['data@cluster-a1'],
      ]);
    });
  });

  describe('volumes', () => {
    it('are placed largest first (smallest first would not fit)', () => {
      // local 100Gi, cluster 60Gi; volumes 50Gi and 70Gi. Largest first: 70 → local, 50 → cluster.
      const storage = [
        makeStoragePool('local-x').onHost('a1/x').capacity('100Gi').obj(),
        makeStoragePool('cluster-a1').ofPool('a1').capacity('60Gi').obj(),
      ];
      const r = makeRequest('ns', 'r')
        .resources({ cpu: '1' })
        .volume('small', '50Gi')
        .volume('large', '70Gi')
        .obj();
      const { result, volumes } = place(storage, r);
      expect(result.complete).to.equal(true);
      expect(volumes).to.deep.equal([['large@local-x', 'small@cluster-a1']]);
    });

    it('count the node’s earlier volumes on the same pool', () => {
      const storage = [makeStoragePool('zone-a').inZone('zone-a').capacity('100Gi').obj()];
      const r = makeRequest('ns', 'r')
        .resources({ cpu: '1' })
        .volume('a', '60Gi')
        .volume('b', '60Gi')
        .obj();
      const { result } = place(storage, r);
      expect(result.complete).to.equal(false);
      expect(result.explanation.summary).to.equal('0/4 hosts fit: 4 NoStorage');
      expect(result.explanation.hosts[0]!.detail).to.equal(
        'volume b (60Gi): 1 Insufficient storage',
      );
    });

    it('node 2 sees the storage node 1 took', () => {
      const storage = [makeStoragePool('zone-a').inZone('zone-a').capacity('100Gi').obj()];
      const { result, engine } = place(storage, vol('60Gi').count(2).obj());
      expect(result.placements).to.have.length(1);
      expect(engine.ledger.storageUsage('zone-a')).to.deep.equal({
        allocated: 60n * 1024n ** 3n * 1_000_000_000n,
        volumes: 1,
      });
    });

    it('tags are all-of on storage pools', () => {
      const storage = [
        makeStoragePool('plain').inZone('zone-a').capacity('100Gi').obj(),
        makeStoragePool('fast').inZone('zone-a').capacity('100Gi').tags('ssd', 'replicated').obj(),
      ];
      expect(
        place(storage, vol('10Gi', { tags: ['ssd', 'replicated'] }).obj()).volumes,
      ).to.deep.equal([['data@fast']]);
      const { result } = place(storage, vol('10Gi', { tags: ['ssd', 'nvme'] }).obj());
      expect(result.explanation.storage).to.deep.equal({
        'MissingTags [nvme,ssd]': 3,
        'MissingTags [nvme]': 3,
      });
    });

    it('storage overprovisioning and disable threshold', () => {
      const over = [
        makeStoragePool('z').inZone('zone-a').capacity('100Gi').overprovisioning(2).obj(),
      ];
      expect(place(over, vol('200Gi').obj()).volumes).to.deep.equal([['data@z']]);
      expect(place(over, vol('201Gi').obj()).volumes).to.deep.equal([]);
      const limited = [
        makeStoragePool('z').inZone('zone-a').capacity('100Gi').disableThreshold(0.5).obj(),
      ];
      expect(place(limited, vol('50Gi').obj()).volumes).to.deep.equal([['data@z']]);
      const { result } = place(limited, vol('51Gi').obj());
      expect(result.explanation.storage).to.deep.equal({ 'OverThreshold storage': 3 });
    });

    it('disabled, avoided and mismatched storage pools are skipped', () => {
      const storage = [
        makeStoragePool('a-disabled').inZone('zone-a').state('Disabled').obj(),
        makeStoragePool('b-avoided').inZone('zone-a').obj(),
        makeStoragePool('c-ok').inZone('zone-a').obj(),
        makeStoragePool('d-wanted').inZone('zone-a').obj(),
      ];
      expect(
        place(
          storage,
          vol('1Gi')
            .avoid({ storagePools: ['b-avoided'] })
            .obj(),
        ).volumes,
      ).to.deep.equal([['data@c-ok']]);
      expect(
        place(storage, vol('1Gi').placement({ storagePool: 'd-wanted' }).obj()).volumes,
      ).to.deep.equal([['data@d-wanted']]);
    });

    it('avoid is hierarchical for storage: an avoided pod avoids its pools’ storage', () => {
      const p = [
        makeHostPool('a1').zone('zone-a').pod('p1').host('x', { cpu: '8' }).obj(),
        makeHostPool('a2').zone('zone-a').host('z', { cpu: '8' }).obj(),
      ];
      const storage = [
        makeStoragePool('c').ofPool('a1').obj(),
        makeStoragePool('zz').inZone('zone-a').obj(),
      ];
      const engine = engineOf(p, storage);
      const { request, plan, avoid } = engine.planContext(
        vol('1Gi')
          .avoid({ pods: ['p1'] })
          .obj(),
      );
      const host = engine.inventory.hostByKey.get('a1/x')!;
      const sp = createStorageAllocator({ type: 'clusterScope' }).allocateToPool(
        request.volumes[0]!,
        request,
        { ...plan, host, pending: new Map() },
        avoid,
        -1,
      );
      expect(sp).to.deep.equal([]);
      expect(avoid.storageRejection('c')?.reason).to.equal('Avoided');
    });
  });

  describe('allocators directly', () => {
    function ctx(engine: Engine, hostKey: string, r: ResourceRequest) {
      const c = engine.planContext(r);
      return {
        ...c,
        plan: {
          ...c.plan,
          host: engine.inventory.hostByKey.get(hostKey)!,
          pending: new Map<string, bigint>(),
        },
      };
    }
    const storage = [
      makeStoragePool('l1').onHost('a1/x').obj(),
      makeStoragePool('l2').onHost('a1/x').obj(),
      makeStoragePool('c1').ofPool('a1').obj(),
      makeStoragePool('c2').ofPool('a1').obj(),
      makeStoragePool('z1').inZone('zone-a').obj(),
      makeStoragePool('zb').inZone('zone-b').obj(),
    ];
    const cases: Array<[string, string[]]> = [
      ['localStorage', ['l1', 'l2']],
      ['clusterScope', ['c1', 'c2']],
      ['zoneWide', ['z1']],
    ];
    for (const [type, names] of cases) {
      it(`${type} returns the reachable pools of its scope by name; returnUpTo 1 and −1`, () => {
        const engine = engineOf(pools(), storage);
        const { request, plan, avoid } = ctx(engine, 'a1/x', vol('1Gi').obj());
        const a = createStorageAllocator({ type });
        expect(
          a.allocateToPool(request.volumes[0]!, request, plan, avoid, -1).map((p) => p.name),
        ).to.deep.equal(names);
        expect(
          a.allocateToPool(request.volumes[0]!, request, plan, avoid, 1).map((p) => p.name),
        ).to.deep.equal(names.slice(0, 1));
      });
    }
    it('random returns every reachable pool in a seeded order', () => {
      const engine = engineOf(pools(), storage);
      const { request, plan, avoid } = ctx(engine, 'a1/x', vol('1Gi').obj());
      const run = (seed: number) =>
        createStorageAllocator({ type: 'random', seed })
          .allocateToPool(request.volumes[0]!, request, plan, avoid, -1)
          .map((p) => p.name);
      expect([...run(3)].sort()).to.deep.equal(['c1', 'c2', 'l1', 'l2', 'z1']);
      expect(run(3)).to.deep.equal(run(3));
    });
  });
});
