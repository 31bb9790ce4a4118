// Chains and the registry: the first allocator with a non-empty answer wins, all share avoid,
// custom allocators plug in and are held to the fit rules.
import { expect } from 'chai';
import {
  AllocatorRegistry,
  FirstFitAllocator,
  UnknownAllocatorError,
  createChains,
  extenderRejection,
  type AllocatorConfig,
  defaultRegistry,
  type CompiledRequest,
  type DeploymentPlan,
  type ExcludeList,
  type HostAllocator,
  type HostInfo,
} from '../../src/allocation/index.js';
import {
  chainsOf,
  engineOf,
  hostsOf,
  makeHostPool,
  makeRequest,
  makeStoragePool,
} from './builders.js';

/** A custom allocator returning a fixed list of host keys (those present), like a module would. */
function fixed(name: string, keys: string[], calls: string[] = []): HostAllocator {
  return {
    name,
    type: 'module',
    allocate(
      _request: CompiledRequest,
      plan: DeploymentPlan,
      _avoid: ExcludeList,
      returnUpTo: number,
    ): HostInfo[] {
      calls.push(name);
      const hosts = keys
        .map((k) => plan.view.inventory.hostByKey.get(k))
        .filter((h): h is HostInfo => !!h);
      return returnUpTo < 0 ? hosts : hosts.slice(0, returnUpTo);
    },
  };
}

const pools = () => [
  makeHostPool('p').host('a', { cpu: '4' }).host('b', { cpu: '4' }).host('c', { cpu: '1' }).obj(),
];
const ask = () => makeRequest('ns', 'r').resources({ cpu: '2' }).obj();

describe('allocation/chains', () => {
  it('falls through to the next allocator when one answers empty', () => {
    const calls: string[] = [];
    const engine = engineOf(pools());
    const chains = {
      host: [fixed('empty', [], calls), fixed('second', ['p/b'], calls)],
      storage: createChains().storage,
    };
    const r = engine.plan(ask(), chains);
    expect(hostsOf(r)).to.deep.equal(['p/b']);
    expect(calls).to.deep.equal(['empty', 'second']);
    expect(r.placements[0]!.allocator).to.equal('second');
    expect(r.explanation.allocators.map((a) => [a.allocator, a.chosen])).to.deep.equal([
      ['empty', undefined],
      ['second', 'p/b'],
    ]);
  });

  it('does not fall through when the first answer is non-empty but its hosts fail on storage', () => {
    const calls: string[] = [];
    const engine = engineOf(pools(), [
      makeStoragePool('local-b').onHost('p/b').capacity('10Gi').obj(),
    ]);
    const chains = {
      host: [fixed('first', ['p/a'], calls), fixed('second', ['p/b'], calls)],
      storage: createChains().storage,
    };
    const r = engine.plan(
      makeRequest('ns', 'r').resources({ cpu: '2' }).volume('d', '1Gi').obj(),
      chains,
    );
    expect(r.placements).to.deep.equal([]);
    expect(calls).to.deep.equal(['first']);
    expect(r.explanation.reasons['NoStorage']).to.equal(1);
    expect(r.explanation.allocators.map((a) => a.allocator)).to.deep.equal(['first']);
  });

  it('built-ins in a chain: the second is used only when the first finds nothing', () => {
    const engine = engineOf(pools());
    const r = engine.plan(ask(), chainsOf(['bestFit', 'firstFitLeastConsumed']));
    expect(r.placements[0]!.allocator).to.equal('bestFit');
    expect(r.explanation.allocators).to.have.length(1);
  });

  it('all allocators of a chain share avoid: the explanation counts each host once', () => {
    const engine = engineOf(pools());
    const r = engine.plan(
      makeRequest('ns', 'r').resources({ cpu: '8' }).obj(),
      chainsOf(['firstFit', { type: 'random', seed: 1 }]),
    );
    expect(r.explanation.summary).to.equal('0/3 hosts fit: 3 Insufficient cpu');
    expect(r.explanation.allocators.map((a) => [a.allocator, a.considered])).to.deep.equal([
      ['firstFit', 3],
      ['random', 3],
    ]);
  });

  it('holds a custom allocator to the fit rules', () => {
    const engine = engineOf(pools());
    const r = engine.plan(ask(), { host: [fixed('sloppy', ['p/c', 'p/a'])], storage: [] });
    expect(hostsOf(r)).to.deep.equal(['p/a']);
    expect(r.explanation.allocators[0]!.reasons).to.deep.equal({ 'Insufficient cpu': 1 });
  });

  it('a custom allocator that skips fitting hosts leaves them as fit in the summary', () => {
    const engine = engineOf(pools());
    const r = engine.plan(ask(), { host: [fixed('none', [])], storage: [] });
    expect(r.explanation.summary).to.equal('2/3 hosts fit: 1 Insufficient cpu');
  });

  describe('registry', () => {
    it('builds every built-in type', () => {
      const reg = defaultRegistry();
      expect(reg.hostTypes()).to.have.members([
        'firstFit',
        'firstFitLeastConsumed',
        'bestFit',
        'random',
        'userDispersing',
        'userConcentrated',
        'fixedOrder',
      ]);
      expect(reg.storageTypes()).to.have.members([
        'fixedOrder',
        'localStorage',
        'clusterScope',
        'zoneWide',
        'random',
      ]);
      for (const type of reg.hostTypes()) expect(reg.hostAllocator({ type }).type).to.equal(type);
      for (const type of reg.storageTypes())
        expect(reg.storageAllocator({ type }).type).to.equal(type);
    });

    it('uses the entry name in explanations', () => {
      expect(defaultRegistry().hostAllocator({ type: 'firstFit', name: 'primary' }).name).to.equal(
        'primary',
      );
    });

    it('throws a typed error for an unknown type', () => {
      expect(() => defaultRegistry().hostAllocator({ type: 'worstFit' })).to.throw(
        UnknownAllocatorError,
        'worstFit',
      );
      expect(() => defaultRegistry().storageAllocator({ type: 'tape' })).to.throw(
        UnknownAllocatorError,
        'tape',
      );
    });

    it('refuses a seed that is not an integer', () => {
      expect(() => defaultRegistry().hostAllocator({ type: 'random', seed: 1.5 })).to.throw(/seed/);
    });

    it('defaults to firstFit and local → cluster → zone', () => {
      const c = createChains();
      expect(c.host.map((a) => a.type)).to.deep.equal(['firstFit']);
      expect(c.storage.map((a) => a.type)).to.deep.equal([
        'localStorage',
        'clusterScope',
        'zoneWide',
      ]);
    });

    it('registers custom types and accepts allocator objects in a profile', () => {
      const reg = new AllocatorRegistry().registerHost(
        'mine',
        (e) => new FirstFitAllocator(e.name ?? 'mine'),
      );
      expect(reg.hostAllocator({ type: 'mine' }).name).to.equal('mine');
      const obj = fixed('object', []);
      const chains = defaultRegistry().chains({ hostAllocators: [obj, { type: 'bestFit' }] });
      expect(chains.host[0]).to.equal(obj);
      expect(chains.host[1]!.type).to.equal('bestFit');
    });
  });
});

describe('allocation/fixedOrder (answers of webhook and extender allocators)', () => {
  const fixedPools = () => [
    makeHostPool('p').host('a', { cpu: '4' }).host('b', { cpu: '4' }).host('c', { cpu: '1' }).obj(),
  ];

  it('offers the answered hosts in order, re-checked by the fit rules, with the extender’s reasons', () => {
    const engine = engineOf(fixedPools());
    const chains = defaultRegistry().chains({
      hostAllocators: [
        {
          type: 'fixedOrder',
          name: 'licenses',
          order: ['p/c', 'p/b', 'p/nope'],
          failed: { 'p/a': 'Insufficient licenses/matlab' },
        } as AllocatorConfig,
      ],
    });
    const r = engine.plan(makeRequest('ns', 'r').count(2).resources({ cpu: '2' }).obj(), chains);
    expect(hostsOf(r)).to.deep.equal(['p/b', 'p/b']);
    // Node 3 is not asked (count 2): the last node's explanation lists what was turned down on the way.
    expect(r.explanation.reasons).to.deep.equal({
      'Insufficient cpu': 1,
      'Insufficient licenses/matlab': 1,
    });
  });

  it('an answer with an error is no answer: the chain moves on, and the error is shown', () => {
    const engine = engineOf(fixedPools());
    const chains = defaultRegistry().chains({
      hostAllocators: [
        {
          type: 'fixedOrder',
          name: 'hook',
          order: ['p/a'],
          failed: {},
          error: 'timeout after 2s',
        } as AllocatorConfig,
        { type: 'firstFit' },
      ],
    });
    const r = engine.plan(makeRequest('ns', 'r').resources({ cpu: '2' }).obj(), chains);
    expect(r.placements[0]!.allocator).to.equal('firstFit');
    expect(r.explanation.allocators[0]).to.include({
      allocator: 'hook',
      error: 'timeout after 2s',
      considered: 0,
    });
  });

  it('storage: offers the answered pools in order, checked by the storage rules', () => {
    const engine = engineOf(fixedPools(), [
      makeStoragePool('small').inZone('zone-a').capacity('1Gi').obj(),
      makeStoragePool('big').inZone('zone-a').capacity('1Ti').obj(),
      makeStoragePool('other').inZone('zone-b').obj(),
    ]);
    const chains = defaultRegistry().chains({
      storageAllocators: [
        {
          type: 'fixedOrder',
          name: 'san',
          order: ['other', 'small', 'big'],
          failed: {},
        } as AllocatorConfig,
      ],
    });
    const r = engine.plan(
      makeRequest('ns', 'r').resources({ cpu: '1' }).volume('d', '10Gi').obj(),
      chains,
    );
    expect(r.placements[0]!.volumes).to.deep.equal([
      { name: 'd', storagePool: 'big', size: '10Gi' },
    ]);
  });

  it('maps an extender reason to a known code when it starts with one', () => {
    expect(extenderRejection('Insufficient licenses/matlab')).to.deep.equal({
      code: 'Insufficient',
      reason: 'Insufficient licenses/matlab',
    });
    expect(extenderRejection('rack not allowed')).to.deep.equal({
      code: 'Avoided',
      reason: 'rack not allowed',
    });
  });
});
