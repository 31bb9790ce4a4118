import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import {
  AllocatorChainExtensions,
  createDefaultRegistry,
  releaseRecords,
  runStack,
  type FilterCandidate,
  type Provisioner,
} from '../../src/provisioning/index.js';
import { request } from './helpers/fakes.js';

// Fixtures are plain .js modules, as users write them; they are read from the source tree.
const FIXTURES = fileURLToPath(new URL('../../../test/provisioning/fixtures/', import.meta.url));
const BUILTIN_HOST_ALLOCATORS = ['firstFit', 'bestFit', 'random'];

function mod(path: string, options: Record<string, unknown> = {}, name = 'lab'): Provisioner {
  return createDefaultRegistry().create(
    { name, type: 'module', path, options },
    'profiles[0].provisioners[0]',
    { baseDir: FIXTURES },
  );
}

function local(): Provisioner {
  return createDefaultRegistry().create(
    { name: 'local', type: 'multilocal', address: '127.0.0.1', basePort: 9000 },
    'profiles[0].provisioners[1]',
  );
}

describe('module provisioner', () => {
  it('loads a provisioner module, fills from it, and falls through when it runs out', async () => {
    const lab = mod('lab-rack.js', { machines: ['m1.lab', 'm2.lab'], port: 2222 });
    const r = await runStack([lab, local()], request('exp', 3));
    expect(r.outcome).to.equal('Provisioned');
    expect(r.nodes.map((n) => n.configEntry())).to.deep.equal([
      'NodeName=exp-0 NodeHostname=m1.lab Port=2222',
      'NodeName=exp-1 NodeHostname=m2.lab Port=2222',
      'NodeName=exp-2 NodeHostname=127.0.0.1 Port=9000',
    ]);
    expect(r.nodes[0]?.toRecord()).to.deep.include({ host: 'm1', attributes: { rack: 'r1' } });
    expect(r.explanation.provisioners[0]).to.deep.include({
      got: 2,
      reasons: { MaxNodes: 1 },
      summary: 'rack full: all 2 machine(s) busy',
    });
  });

  it('restores nodes from records after a restart so the rack stays booked and releases them', async () => {
    const before = mod('lab-rack.js', { machines: ['m1.lab', 'm2.lab'] });
    const r = await runStack([before], request('a', 1));
    const records = r.nodes.map((n) => n.toRecord());

    const after = mod('lab-rack.js', { machines: ['m1.lab', 'm2.lab'] });
    after.restore(records[0]!, request('a', 1).metadata);
    // m1 is booked by the restored node: a new request gets m2 only.
    const next = await runStack([after], request('b', 2, 1));
    expect(next.nodes.map((n) => n.address)).to.deep.equal(['m2.lab']);

    const out = await releaseRecords(records, request('a', 1).metadata, [after]);
    expect(out.failures).to.deep.equal([]);
    const again = await runStack([after], request('c', 1));
    expect(again.nodes.map((n) => n.address)).to.deep.equal(['m1.lab']);
  });

  it("answers list() with what the module holds, checked like a webhook's answer", async () => {
    const lab = mod('lab-rack.js', { machines: ['m1.lab', 'm2.lab'] });
    const rr = request('exp', 2);
    await runStack([lab], rr);
    expect(await lab.list!()).to.deep.equal([
      {
        name: 'exp-0',
        idempotencyKey: 'uid-exp/exp-0',
        request: { namespace: 'ns', name: 'exp', uid: 'uid-exp' },
      },
      {
        name: 'exp-1',
        idempotencyKey: 'uid-exp/exp-1',
        request: { namespace: 'ns', name: 'exp', uid: 'uid-exp' },
      },
    ]);
    await mod('lab-rack.js', { badList: true }).list!().then(
      () => expect.fail('a broken list must be refused'),
      (e: Error) =>
        expect(e.message).to.match(/lab-rack\.js.*list returned nodes\[0\] has no idempotencyKey/),
    );
    // A module without list() holds nothing the collector can see.
    expect(await mod('faulty.js', { mode: 'ok' }).list!()).to.deep.equal([]);
  });

  it('names a missing module file in the explanation and falls through', async () => {
    const r = await runStack([mod('does-not-exist.js'), local()], request('x', 1));
    expect(r.outcome).to.equal('Provisioned');
    expect(r.explanation.provisioners[0]?.error).to.equal(
      `module ${FIXTURES}does-not-exist.js: file not found`,
    );
  });

  const failures: Array<[string, string, Record<string, unknown>, RegExp]> = [
    [
      'throws while loading',
      'top-level-throw.js',
      {},
      /top-level-throw\.js: failed to load: top-level boom$/,
    ],
    [
      'exports no factory',
      'no-factory.js',
      {},
      /no-factory\.js: exports neither createProvisioner\(\) nor a default function$/,
    ],
    [
      'throws in its factory',
      'faulty.js',
      { mode: 'factory' },
      /faulty\.js: createProvisioner\(\) threw: factory exploded$/,
    ],
    [
      'throws in getNodes',
      'faulty.js',
      { mode: 'getNodes' },
      /faulty\.js: getNodes threw: inventory API down$/,
    ],
    [
      'returns more nodes than asked',
      'faulty.js',
      { mode: 'too-many' },
      /getNodes returned 3 nodes, 2 were asked$/,
    ],
    [
      'returns a node without address',
      'faulty.js',
      { mode: 'no-address' },
      /getNodes returned node "m-0" without an address$/,
    ],
    [
      'returns a node twice',
      'faulty.js',
      { mode: 'duplicate' },
      /getNodes returned node name "m-0" twice$/,
    ],
  ];
  for (const [what, file, options, message] of failures) {
    it(`reports a module that ${what}, named, and falls through`, async () => {
      const r = await runStack([mod(file, options), local()], request('m', 2));
      expect(r.outcome).to.equal('Provisioned');
      expect(r.nodes.map((n) => n.provisioner)).to.deep.equal(['local', 'local']);
      expect(r.explanation.provisioners[0]?.error).to.match(message);
      expect(r.explanation.provisioners[0]?.error).to.contain(`module ${FIXTURES}${file}`);
      expect(r.explanation.provisioners[0]?.reasons).to.deep.equal({ ProvisionerUnavailable: 2 });
    });
  }

  it('releases what a misbehaving module returned, each node once', async () => {
    const released: string[] = [];
    await runStack([mod('faulty.js', { mode: 'too-many', released })], request('m', 2));
    expect(released.sort()).to.deep.equal(['extra', 'm-0', 'm-1']);
  });

  it('releases the attempt when a module spawn throws, and reports a release that throws', async () => {
    const spawn = await runStack([mod('faulty.js', { mode: 'spawn' })], request('s', 1));
    expect(spawn.outcome).to.equal('SpawnFailed');
    expect(spawn.explanation.summary).to.contain('spawn of s-0 threw: cannot power on');
    expect(spawn.released).to.equal(1);

    const release = await runStack([mod('faulty.js', { mode: 'release' })], request('q', 3));
    expect(release.outcome).to.equal('Provisioned');
    const failed = await releaseRecords(
      release.nodes.map((n) => n.toRecord()),
      request('q', 3).metadata,
      [mod('faulty.js', { mode: 'release' })],
    );
    expect(failed.failures[0]?.error).to.match(
      /has no restore\(\); node q-0 cannot be rebuilt from its record$/,
    );
    const direct = await Promise.allSettled(release.nodes.map((n) => n.release()));
    expect(direct.every((d) => d.status === 'rejected')).to.equal(true);
    expect(String((direct[0] as PromiseRejectedResult).reason)).to.contain(
      'release of q-0 threw: BMC unreachable',
    );
    expect(release.nodes[0]?.state).to.equal('Releasing');
  });

  it('rejects a module entry without a path, naming the field', () => {
    expect(() =>
      createDefaultRegistry().create({ name: 'x', type: 'module' }, 'profiles[1].provisioners[3]'),
    ).to.throw('profiles[1].provisioners[3].path: required');
  });
});

describe('module and webhook allocator adapters (module side)', () => {
  const candidates: FilterCandidate[] = [
    { name: 'pool-a/h1', hostPool: 'pool-a', host: 'h1', labels: { rack: 'r2' } },
    { name: 'pool-a/h2', hostPool: 'pool-a', host: 'h2', labels: { rack: 'r1' } },
    { name: 'pool-b/h3', hostPool: 'pool-b', host: 'h3', labels: { rack: 'r9' } },
    { name: 'pool-b/h4', hostPool: 'pool-b', host: 'h4', labels: { rack: 'r1' } },
  ];
  const input = { request: request('alloc', 2), target: 'hosts' as const, candidates };

  it('turns a module allocator into a fixed order in its chain position', async () => {
    const chain = AllocatorChainExtensions.create(
      [
        { type: 'firstFit' },
        { type: 'module', path: 'rack-allocator.js', options: { racks: ['r1', 'r2'] } },
      ],
      'profiles[0].hostAllocators',
      BUILTIN_HOST_ALLOCATORS,
      { baseDir: FIXTURES },
    );
    expect(chain.hasExternal).to.equal(true);
    expect(await chain.resolve(input)).to.deep.equal([
      { type: 'firstFit' },
      {
        type: 'fixedOrder',
        name: 'profiles[0].hostAllocators[1]',
        source: 'module',
        order: ['pool-a/h2', 'pool-b/h4', 'pool-a/h1'],
        failed: { 'pool-b/h3': 'PlacementMismatch' },
      },
    ]);
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'throws',
      { path: 'bad-allocator.js', options: { mode: 'throw' } },
      /bad-allocator\.js: filter threw: ranking service unavailable$/,
    ],
    [
      'answers a candidate never sent',
      { path: 'bad-allocator.js', options: { mode: 'unknown' } },
      /filter returned candidate "nowhere\/none" was not sent$/,
    ],
    [
      'answers a candidate twice',
      { path: 'bad-allocator.js', options: { mode: 'twice' } },
      /filter returned candidate "pool-a\/h1" appears twice$/,
    ],
    [
      'answers without candidates',
      { path: 'bad-allocator.js', options: {} },
      /filter returned answer has no "candidates" array$/,
    ],
    ['is missing', { path: 'gone.js' }, /gone\.js: file not found$/],
  ];
  for (const [what, entry, message] of bad) {
    it(`yields an empty order with the error when the module ${what}`, async () => {
      const chain = AllocatorChainExtensions.create(
        [{ type: 'module', name: 'racks', ...entry }],
        'profiles[0].hostAllocators',
        BUILTIN_HOST_ALLOCATORS,
        { baseDir: FIXTURES },
      );
      const [resolved] = await chain.resolve(input);
      expect(resolved).to.deep.include({
        type: 'fixedOrder',
        name: 'racks',
        order: [],
        failed: {},
      });
      expect((resolved as { error?: string }).error).to.match(message);
    });
  }

  it('passes an engine-native allocator module into the chain as it is', async () => {
    const chain = AllocatorChainExtensions.create(
      [{ type: 'module', name: 'reverse', path: 'native-allocator.js' }, { type: 'firstFit' }],
      'profiles[0].hostAllocators',
      BUILTIN_HOST_ALLOCATORS,
      { baseDir: FIXTURES },
    );
    const [native, builtin] = await chain.resolve(input);
    expect(native).to.include({ name: 'reverse', type: 'module' });
    expect((native as { allocate?: unknown }).allocate).to.be.a('function');
    expect(builtin).to.deep.equal({ type: 'firstFit' });
  });

  it('reports an unknown allocator type and bad external entries with their paths', () => {
    expect(() =>
      AllocatorChainExtensions.create(
        [
          { type: 'firstFit' },
          { type: 'nope' },
          { type: 'module' },
          { type: 'webhook', url: 'ftp://x' },
        ],
        'profiles[2].hostAllocators',
        BUILTIN_HOST_ALLOCATORS,
      ),
    ).to.throw(
      'profiles[2].hostAllocators[1].type: unknown allocator type "nope" (known: bestFit, firstFit, module, random, webhook); ' +
        'profiles[2].hostAllocators[2].path: required; ' +
        'profiles[2].hostAllocators[3].url: must be http or https',
    );
  });
});
