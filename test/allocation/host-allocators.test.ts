// Each built-in host allocator: the order it offers hosts in, returnUpTo 1 / N / −1, and the
// rejections it leaves in avoid.
import { expect } from 'chai';
import {
  createHostAllocator,
  type Engine,
  type HostAllocator,
} from '../../src/allocation/index.js';
import { chainsOf, engineOf, hostsOf, makeHostPool, makeRequest } from './builders.js';

const node = (name: string, hostPool: string, host: string) => ({
  name,
  provisioner: 'hosts',
  hostPool,
  host,
  address: 'x',
});

/**
 * Pools declared out of name order (firstFit sorts them): `b` then `a`.
 *   a/h1 cpu 8 (4 used)  → free 4
 *   a/h2 cpu 16          → free 16
 *   a/h3 cpu 2           → free 2 (too small for a 3-cpu ask)
 *   b/h1 cpu 8           → free 8
 *   b/h2 cpu 8, Disabled
 * The namespace `team` holds 2 nodes on b/h1 and 1 on a/h2.
 */
function fixture(): Engine {
  return engineOf(
    [
      makeHostPool('b')
        .host('h1', { cpu: '8' })
        .host('h2', { cpu: '8' }, { state: 'Disabled' })
        .obj(),
      makeHostPool('a')
        .host('h1', { cpu: '8' })
        .host('h2', { cpu: '16' })
        .host('h3', { cpu: '2' })
        .obj(),
    ],
    [],
    [
      makeRequest('other', 'x')
        .resources({ cpu: '4' })
        .nodes(node('x-0', 'a', 'h1'))
        .obj(),
      makeRequest('team', 'old')
        .count(3)
        .resources({ cpu: '0' })
        .nodes(node('o-0', 'b', 'h1'), node('o-1', 'b', 'h1'), node('o-2', 'a', 'h2'))
        .obj(),
    ],
  );
}

const ask = makeRequest('team', 'new').resources({ cpu: '3' }).obj();

function order(engine: Engine, allocator: HostAllocator, returnUpTo = -1): string[] {
  const { request, plan, avoid } = engine.planContext(ask);
  return allocator.allocate(request, plan, avoid, returnUpTo).map((h) => h.key);
}

const expected: Record<string, string[]> = {
  firstFit: ['a/h1', 'a/h2', 'b/h1'],
  firstFitLeastConsumed: ['a/h2', 'b/h1', 'a/h1'],
  bestFit: ['a/h1', 'b/h1', 'a/h2'],
  userDispersing: ['a/h1', 'a/h2', 'b/h1'],
  userConcentrated: ['b/h1', 'a/h2', 'a/h1'],
};

describe('allocation/host allocators', () => {
  for (const [type, hosts] of Object.entries(expected)) {
    describe(type, () => {
      it(`offers ${hosts.join(', ')} with returnUpTo −1`, () => {
        expect(order(fixture(), createHostAllocator({ type }))).to.deep.equal(hosts);
      });
      it('returnUpTo 1 gives the first', () => {
        expect(order(fixture(), createHostAllocator({ type }), 1)).to.deep.equal(hosts.slice(0, 1));
      });
      it('returnUpTo N gives the first N', () => {
        expect(order(fixture(), createHostAllocator({ type }), 2)).to.deep.equal(hosts.slice(0, 2));
      });
      it('returnUpTo larger than the fitting hosts gives them all', () => {
        expect(order(fixture(), createHostAllocator({ type }), 10)).to.deep.equal(hosts);
      });
      it('returnUpTo 0 gives nothing', () => {
        expect(order(fixture(), createHostAllocator({ type }), 0)).to.deep.equal([]);
      });
      it('records every host it turns down in avoid, with its reason', () => {
        const engine = fixture();
        const { request, plan, avoid } = engine.planContext(ask);
        createHostAllocator({ type }).allocate(request, plan, avoid, -1);
        expect(avoid.hostRejection('a/h3')?.reason).to.equal('Insufficient cpu');
        expect(avoid.hostRejection('b/h2')?.reason).to.equal('HostDisabled');
        expect(avoid.rejectedHostCount).to.equal(2);
      });
      it('skips hosts already in avoid (a chain shares one list)', () => {
        const engine = fixture();
        const { request, plan, avoid } = engine.planContext(ask);
        avoid.addHost(engine.inventory.hostByKey.get(hosts[0]!)!);
        expect(
          createHostAllocator({ type })
            .allocate(request, plan, avoid, -1)
            .map((h) => h.key),
        ).to.deep.equal(hosts.slice(1));
      });
    });
  }

  describe('firstFit', () => {
    it('walks pools by name and hosts as declared, not by declaration order of pools', () => {
      const engine = engineOf([
        makeHostPool('zeta').hosts(1, { cpu: '4' }).obj(),
        makeHostPool('alpha').host('second', { cpu: '4' }).host('first', { cpu: '4' }).obj(),
      ]);
      const r = engine.plan(
        makeRequest('ns', 'r').count(3).resources({ cpu: '4' }).obj(),
        chainsOf(['firstFit']),
      );
      expect(hostsOf(r)).to.deep.equal(['alpha/second', 'alpha/first', 'zeta/h-0']);
    });
  });

  describe('bestFit and firstFitLeastConsumed', () => {
    it('order by the first asked resource in resource order (cpu before memory)', () => {
      const engine = engineOf([
        makeHostPool('p')
          .host('lots-cpu', { cpu: '32', memory: '8Gi' })
          .host('lots-mem', { cpu: '8', memory: '64Gi' })
          .obj(),
      ]);
      const r = makeRequest('ns', 'r').resources({ memory: '1Gi', cpu: '1' }).obj();
      expect(hostsOf(engine.plan(r, chainsOf(['bestFit']), { dryRun: true }))).to.deep.equal([
        'p/lots-mem',
      ]);
      expect(
        hostsOf(engine.plan(r, chainsOf(['firstFitLeastConsumed']), { dryRun: true })),
      ).to.deep.equal(['p/lots-cpu']);
      const memOnly = makeRequest('ns', 'm').resources({ memory: '1Gi' }).obj();
      expect(hostsOf(engine.plan(memOnly, chainsOf(['bestFit']), { dryRun: true }))).to.deep.equal([
        'p/lots-cpu',
      ]);
    });

    it('break ties in declared order, in both directions', () => {
      const engine = engineOf([makeHostPool('p').hosts(4, { cpu: '4' }).obj()]);
      for (const type of ['bestFit', 'firstFitLeastConsumed']) {
        const { request, plan, avoid } = engine.planContext(
          makeRequest('ns', 'r').resources({ cpu: '1' }).obj(),
        );
        expect(
          createHostAllocator({ type })
            .allocate(request, plan, avoid, -1)
            .map((h) => h.name),
        ).to.deep.equal(['h-0', 'h-1', 'h-2', 'h-3']);
      }
    });

    it('bestFit packs and firstFitLeastConsumed spreads over several nodes', () => {
      const pools = [makeHostPool('p').hosts(3, { cpu: '4' }).obj()];
      const r = makeRequest('ns', 'r').count(3).resources({ cpu: '1' }).obj();
      expect(hostsOf(engineOf(pools).plan(r, chainsOf(['bestFit'])))).to.deep.equal([
        'p/h-0',
        'p/h-0',
        'p/h-0',
      ]);
      expect(hostsOf(engineOf(pools).plan(r, chainsOf(['firstFitLeastConsumed'])))).to.deep.equal([
        'p/h-0',
        'p/h-1',
        'p/h-2',
      ]);
    });

    it('order exactly even where floats cannot tell amounts apart', () => {
      // 2^53 + 1 and 2^53 nano-units are the same float64.
      const engine = engineOf([
        makeHostPool('p')
          .host('a', { cpu: '9007199254740993n' })
          .host('b', { cpu: '9007199254740992n' })
          .obj(),
      ]);
      const { request, plan, avoid } = engine.planContext(
        makeRequest('ns', 'r').resources({ cpu: '1n' }).obj(),
      );
      expect(
        createHostAllocator({ type: 'bestFit' })
          .allocate(request, plan, avoid, -1)
          .map((h) => h.name),
      ).to.deep.equal(['b', 'a']);
    });
  });

  describe('requests narrowed to a few pools of many', () => {
    // One pool of twelve allowed: the by-free orders sort the allowed hosts instead of walking all.
    const many = Array.from({ length: 12 }, (_, i) =>
      makeHostPool(`pool-${String(i).padStart(2, '0')}`)
        .zone(i === 7 ? 'zone-x' : 'zone-a')
        .host('small', { cpu: '2' })
        .host('big', { cpu: '8' })
        .host('mid', { cpu: '4' })
        .host('mid2', { cpu: '4' })
        .obj(),
    );
    const cases: Array<[string, string[]]> = [
      ['firstFit', ['small', 'big', 'mid', 'mid2']],
      ['bestFit', ['small', 'mid', 'mid2', 'big']],
      ['firstFitLeastConsumed', ['big', 'mid', 'mid2', 'small']],
    ];
    for (const [type, order] of cases) {
      it(`${type} keeps its order inside the placement`, () => {
        const engine = engineOf(many);
        const { request, plan, avoid } = engine.planContext(
          makeRequest('ns', 'r').resources({ cpu: '1' }).placement({ zone: 'zone-x' }).obj(),
        );
        const got = createHostAllocator({ type }).allocate(request, plan, avoid, -1);
        expect(got.map((h) => h.key)).to.deep.equal(order.map((n) => `pool-07/${n}`));
        expect(avoid.hostReasonCounts()).to.deep.equal({ PlacementMismatch: 44 });
      });
    }
  });

  describe('random', () => {
    const pools = [makeHostPool('p').hosts(20, { cpu: '4' }).obj()];
    const r = makeRequest('ns', 'r').resources({ cpu: '1' }).obj();
    const run = (seed: number) => {
      const engine = engineOf(pools);
      const { request, plan, avoid } = engine.planContext(r);
      return createHostAllocator({ type: 'random', seed })
        .allocate(request, plan, avoid, -1)
        .map((h) => h.name);
    };

    it('is a permutation of the fitting hosts', () => {
      expect([...run(7)].sort()).to.deep.equal([...Array(20).keys()].map((i) => `h-${i}`).sort());
    });
    it('gives the same order for the same seed and inputs', () => {
      expect(run(7)).to.deep.equal(run(7));
    });
    it('gives another order for another seed', () => {
      expect(run(7)).to.not.deep.equal(run(8));
    });
    it('is not simply declared order', () => {
      expect(run(7)).to.not.deep.equal([...Array(20).keys()].map((i) => `h-${i}`));
    });
    it('still applies every fit rule', () => {
      const engine = engineOf([
        makeHostPool('p').hosts(5, { cpu: '1' }).host('big', { cpu: '8' }).obj(),
      ]);
      const { request, plan, avoid } = engine.planContext(
        makeRequest('ns', 'r').resources({ cpu: '2' }).obj(),
      );
      expect(
        createHostAllocator({ type: 'random', seed: 1 })
          .allocate(request, plan, avoid, -1)
          .map((h) => h.name),
      ).to.deep.equal(['big']);
      expect(avoid.hostReasonCounts()).to.deep.equal({ 'Insufficient cpu': 5 });
    });
  });

  describe('userDispersing and userConcentrated', () => {
    it('count only nodes of the request namespace', () => {
      const engine = engineOf(
        [makeHostPool('p').hosts(3, { cpu: '8' }).obj()],
        [],
        [
          makeRequest('mine', 'a')
            .count(2)
            .resources({ cpu: '1' })
            .nodes(node('a-0', 'p', 'h-0'), node('a-1', 'p', 'h-0'))
            .obj(),
          makeRequest('mine', 'b')
            .resources({ cpu: '1' })
            .nodes(node('b-0', 'p', 'h-1'))
            .obj(),
          makeRequest('theirs', 'c')
            .count(3)
            .resources({ cpu: '1' })
            .nodes(node('c-0', 'p', 'h-2'), node('c-1', 'p', 'h-2'), node('c-2', 'p', 'h-2'))
            .obj(),
        ],
      );
      const ctx = () =>
        engine.planContext(makeRequest('mine', 'new').resources({ cpu: '1' }).obj());
      const names = (type: string) => {
        const { request, plan, avoid } = ctx();
        return createHostAllocator({ type })
          .allocate(request, plan, avoid, -1)
          .map((h) => h.name);
      };
      expect(names('userDispersing')).to.deep.equal(['h-2', 'h-1', 'h-0']);
      expect(names('userConcentrated')).to.deep.equal(['h-0', 'h-1', 'h-2']);
    });

    it('userDispersing spreads a namespace, userConcentrated keeps it together', () => {
      const pools = [makeHostPool('p').hosts(3, { cpu: '8' }).obj()];
      const engineD = engineOf(pools);
      const engineC = engineOf(pools);
      for (let i = 0; i < 3; i++) {
        engineD.plan(
          makeRequest('ns', `r${i}`).resources({ cpu: '1' }).obj(),
          chainsOf(['userDispersing']),
        );
        engineC.plan(
          makeRequest('ns', `r${i}`).resources({ cpu: '1' }).obj(),
          chainsOf(['userConcentrated']),
        );
      }
      expect(engineD.ledger.namespaceUsage('ns')).to.deep.equal(
        new Map([
          ['p/h-0', 1],
          ['p/h-1', 1],
          ['p/h-2', 1],
        ]),
      );
      expect(engineC.ledger.namespaceUsage('ns')).to.deep.equal(new Map([['p/h-0', 3]]));
    });
  });
});
