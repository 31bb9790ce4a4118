import { expect } from 'chai';
import {
  buildProfile,
  ConfigError,
  ProvisionerRegistry,
  compileTemplate,
  createDefaultRegistry,
  createNode,
  type FactoryInput,
  type Provisioner,
} from '../../src/provisioning/index.js';

describe('provisioner registry', () => {
  it('builds the built-in types from config entries', () => {
    const ps = createDefaultRegistry().createAll(
      [
        { name: 'burst', type: 'webhook', url: 'https://kvm-farm.example/provision' },
        { name: 'local', type: 'multilocal', address: '127.0.0.1', basePort: 7000, maxNodes: 8 },
        { name: 'lab', type: 'module', path: './lab.js' },
      ],
      'profiles[0].provisioners',
    );
    expect(ps.map((p) => `${p.name}:${p.type}`)).to.deep.equal([
      'burst:webhook',
      'local:multilocal',
      'lab:module',
    ]);
  });

  it('names the path of an unknown type', () => {
    const registry = createDefaultRegistry();
    expect(() =>
      registry.create({ name: 'x', type: 'foo' }, 'profiles[0].provisioners[2]'),
    ).to.throw(
      ConfigError,
      'profiles[0].provisioners[2].type: unknown provisioner type "foo" (known: module, multilocal, webhook)',
    );
  });

  it('reports every problem of a stack at once, each under its path', () => {
    const issues = createDefaultRegistry().validate(
      [
        { name: 'a', type: 'multilocal', address: '', basePort: 70000, colour: 'blue' },
        {
          name: 'b',
          type: 'webhook',
          url: 'not a url',
          timeoutSeconds: -1,
          tokenFile: 't',
          tokenSecretRef: { name: 's', key: 'k' },
        },
        { name: 'a', type: 'module', path: 'x.js', configTemplate: 'NodeName={nmae}' },
        { type: 'hosts' },
        'nonsense',
      ],
      'profiles[1].provisioners',
    );
    expect(issues.map((i) => `${i.path}: ${i.message}`)).to.deep.equal([
      'profiles[1].provisioners[0].colour: unknown field',
      'profiles[1].provisioners[0].address: must be a non-empty string',
      'profiles[1].provisioners[0].basePort: must be an integer from 1 to 65535',
      'profiles[1].provisioners[1].url: not a valid URL: "not a url"',
      'profiles[1].provisioners[1].tokenSecretRef: give tokenFile or tokenSecretRef, not both',
      'profiles[1].provisioners[1].timeoutSeconds: must be a number from 0.001 to 600',
      'profiles[1].provisioners[2].configTemplate: unknown placeholder "{nmae}" (known: name, address, port, host, hostPool, provisioner, namespace, request)',
      'profiles[1].provisioners[3].name: required, a non-empty string',
      'profiles[1].provisioners[3].type: unknown provisioner type "hosts" (known: module, multilocal, webhook)',
      'profiles[1].provisioners[4]: must be an object',
    ]);
  });

  it('refuses two provisioners with one name (ledger records point at names)', () => {
    expect(() =>
      createDefaultRegistry().createAll(
        [
          { name: 'x', type: 'multilocal', address: 'a', basePort: 1 },
          { name: 'x', type: 'multilocal', address: 'b', basePort: 1 },
        ],
        'profiles[0].provisioners',
      ),
    ).to.throw(
      'profiles[0].provisioners[1].name: "x" is already used by profiles[0].provisioners[0]',
    );
  });

  it('lets hosts (or any type) plug in through a factory', async () => {
    const seen: FactoryInput[] = [];
    const registry = createDefaultRegistry().register('hosts', (input) => {
      seen.push(input);
      const p: Provisioner = {
        name: input.name,
        type: 'hosts',
        async getNodes(count, ctx) {
          return ctx.names.slice(0, count).map((name) =>
            createNode(
              {
                name,
                provisioner: input.name,
                address: '10.0.0.1',
                hostPool: 'rack1',
                host: 'h1',
              },
              { release: async () => {} },
              input.template,
              ctx.request.metadata,
            ),
          );
        },
        restore: () => {
          throw new Error('unused');
        },
      };
      return p;
    });
    expect(registry.types()).to.deep.equal(['hosts', 'module', 'multilocal', 'webhook']);
    const p = registry.create(
      {
        name: 'onprem',
        type: 'hosts',
        hostPoolSelector: { matchLabels: { tier: 'onprem' } },
        configTemplate: '{hostPool}/{host} {name}',
      },
      'profiles[0].provisioners[0]',
    );
    expect(seen[0]?.entry.hostPoolSelector).to.deep.equal({ matchLabels: { tier: 'onprem' } });
    expect(seen[0]?.path).to.equal('profiles[0].provisioners[0]');
    const nodes = await p.getNodes(1, {
      request: { metadata: { namespace: 'n', name: 'r' }, spec: { count: 1 } },
      names: ['r-0'],
      signal: new AbortController().signal,
      report: () => {},
    });
    expect(nodes[0]?.configEntry()).to.equal('rack1/h1 r-0');
    expect(() => registry.register('hosts', () => p)).to.throw(
      'provisioner type "hosts" is already registered',
    );
  });

  it('an empty registry knows nothing', () => {
    expect(() => new ProvisionerRegistry().create({ name: 'a', type: 'multilocal' }, 'p')).to.throw(
      'p.type: unknown provisioner type "multilocal" (known: none registered)',
    );
  });
});

describe('configEntry templates', () => {
  it('renders the VURM default', () => {
    expect(compileTemplate().render({ name: 'n-0', address: '10.0.0.5', port: 7001 })).to.equal(
      'NodeName=n-0 NodeHostname=10.0.0.5 Port=7001',
    );
  });

  it('renders every placeholder, braces escaped, missing values empty', () => {
    const t = compileTemplate(
      '{{{name}}} {namespace}/{request} {provisioner}@{hostPool}/{host}:{port}',
    );
    expect(
      t.render({ name: 'a', namespace: 'ns', request: 'r', provisioner: 'p', host: 'h' }),
    ).to.equal('{a} ns/r p@/h:');
  });

  for (const [bad, message] of [
    ['{nope}', 'unknown placeholder "{nope}"'],
    ['NodeName={name', 'unclosed "{" at offset 9'],
    ['a}b', 'unmatched "}" at offset 1'],
  ] as const) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      expect(() => compileTemplate(bad)).to.throw(message);
    });
  }
});

describe('buildProfile', () => {
  const opts = {
    registry: createDefaultRegistry(),
    hostAllocatorTypes: ['firstFit', 'random'],
    storageAllocatorTypes: ['localStorage'],
  };

  it('builds the stack and the chains, and hands the chains to the provisioner factories', () => {
    const registry = createDefaultRegistry();
    let sawChains = false;
    registry.register('hosts', ({ name, deps }) => {
      sawChains =
        deps.profile?.hostAllocators.hasExternal === true && deps.profile.name === 'default';
      return {
        name,
        type: 'hosts',
        getNodes: async () => [],
        restore: () => {
          throw new Error('unused');
        },
      };
    });
    const built = buildProfile(
      {
        name: 'default',
        provisioners: [
          { name: 'onprem', type: 'hosts' },
          { name: 'local', type: 'multilocal', address: '127.0.0.1', basePort: 7000 },
        ],
        hostAllocators: [
          { type: 'webhook', url: 'https://rank.example/filter' },
          { type: 'firstFit' },
        ],
      },
      'profiles[0]',
      { ...opts, registry },
    );
    expect(built.provisioners.map((p) => p.name)).to.deep.equal(['onprem', 'local']);
    expect(sawChains).to.equal(true);
    expect(built.storageAllocators.hasExternal).to.equal(false);
  });

  it('reports every issue of the profile with its path', () => {
    expect(() =>
      buildProfile(
        {
          name: 'p',
          provisioners: [{ name: 'x', type: 'foo' }],
          hostAllocators: [{ type: 'worstFit' }],
          storageAllocators: [{ type: 'module' }],
        },
        'profiles[3]',
        opts,
      ),
    ).to.throw(
      'profiles[3].hostAllocators[0].type: unknown allocator type "worstFit" (known: firstFit, module, random, webhook); ' +
        'profiles[3].storageAllocators[0].path: required; ' +
        'profiles[3].provisioners[0].type: unknown provisioner type "foo" (known: module, multilocal, webhook)',
    );
  });
});
