import { expect } from 'chai';
import {
  createDefaultRegistry,
  idempotencyKey,
  releaseRecords,
  runStack,
  type Provisioner,
  type ProvisionerDeps,
  type RequestRef,
} from '../../src/provisioning/index.js';
import { FakeClock } from '../support/fakeclock.js';
import { request } from './helpers/fakes.js';
import { KvmFarm, startFarm, type FaultPlan, type TestServer } from './helpers/servers.js';

const PATH = 'profiles[0].provisioners[0]';

/** Fast settings: 300 ms per attempt, 3 attempts, tiny backoff. */
function webhook(
  url: string,
  extra: Record<string, unknown> = {},
  deps: ProvisionerDeps = {},
): Provisioner {
  return createDefaultRegistry().create(
    {
      name: 'burst',
      type: 'webhook',
      url,
      timeoutSeconds: 0.3,
      retries: 2,
      retryBackoffMillis: 5,
      ...extra,
    },
    PATH,
    deps,
  );
}

function local(): Provisioner {
  return createDefaultRegistry().create(
    { name: 'local', type: 'multilocal', address: '127.0.0.1', basePort: 7000 },
    'profiles[0].provisioners[1]',
  );
}

/** Every VM the farm ever made was released, by exactly one release request. */
function expectNothingLeaked(farm: KvmFarm): void {
  expect(farm.used, 'VMs still held').to.equal(0);
  expect(
    farm.vms
      .filter((vm) => vm.releaseRequests !== 1)
      .map((vm) => `${vm.name}: ${vm.releaseRequests} releases`),
  ).to.deep.equal([]);
}

describe('webhook provisioner against the kvm-farm example', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function farmWith(capacity: number, plan?: FaultPlan): Promise<[KvmFarm, string]> {
    const farm = new KvmFarm({ capacity });
    server = await startFarm(farm, plan);
    return [farm, server.url];
  }

  it('provisions, spawns, and releases after a restart from the records alone', async () => {
    const [farm, url] = await farmWith(4);
    const r = await runStack([webhook(url)], request('web', 3));
    expect(r.outcome).to.equal('Provisioned');
    expect(r.nodes.map((n) => n.configEntry())).to.deep.equal([
      'NodeName=web-0 NodeHostname=192.168.122.10 Port=6818',
      'NodeName=web-1 NodeHostname=192.168.122.11 Port=6818',
      'NodeName=web-2 NodeHostname=192.168.122.12 Port=6818',
    ]);
    expect(r.nodes[0]?.toRecord()).to.deep.equal({
      name: 'web-0',
      provisioner: 'burst',
      host: 'hv-0',
      address: '192.168.122.10',
      port: 6818,
      configEntry: 'NodeName=web-0 NodeHostname=192.168.122.10 Port=6818',
      state: 'Running',
      attributes: { vmId: '1', hypervisor: 'hv-0' },
    });
    expect(farm.vms.map((vm) => [vm.key, vm.state])).to.deep.equal([
      ['uid-web/web-0', 'Running'],
      ['uid-web/web-1', 'Running'],
      ['uid-web/web-2', 'Running'],
    ]);
    const body = server!.calls[0]!.body;
    expect(body).to.deep.include({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ProvisionRequest',
      provisioner: 'burst',
    });
    expect(body.nodes).to.deep.equal(
      [0, 1, 2].map((i) => ({ name: `web-${i}`, idempotencyKey: `uid-web/web-${i}` })),
    );

    // A fresh instance knows nothing but the records: enough to release.
    const records = r.nodes.map((n) => n.toRecord());
    const out = await releaseRecords(records, request('web', 3).metadata, [webhook(url)]);
    expect(out.failures).to.deep.equal([]);
    expect(out.released).to.have.length(3);
    expectNothingLeaked(farm);
  });

  it('reports the farm running out and falls through to the next provisioner', async () => {
    const [farm, url] = await farmWith(2);
    const r = await runStack([webhook(url), local()], request('mix', 5));
    expect(r.outcome).to.equal('Provisioned');
    expect(r.nodes.map((n) => `${n.provisioner}:${n.name}`)).to.deep.equal([
      'burst:mix-0',
      'burst:mix-1',
      'local:mix-2',
      'local:mix-3',
      'local:mix-4',
    ]);
    expect(r.explanation.provisioners[0]).to.deep.include({
      got: 2,
      asked: 5,
      reasons: { MaxNodes: 3 },
      summary: '3 MaxNodes (farm full: 2/2 VMs)',
    });
    expect(farm.used).to.equal(2);
  });

  it('releases every VM exactly once when the stack stays below minCount', async () => {
    const [farm, url] = await farmWith(2);
    const r = await runStack([webhook(url)], request('few', 5, 3));
    expect(r.outcome).to.equal('Insufficient');
    expect(r.released).to.equal(2);
    expect(farm.vms).to.have.length(2);
    expectNothingLeaked(farm);
  });

  it('retries an HTTP 500 and succeeds', async () => {
    const [farm, url] = await farmWith(3, (kind, n) =>
      kind === 'ProvisionRequest' && n === 1 ? 'http500' : 'ok',
    );
    const r = await runStack([webhook(url)], request('r', 3));
    expect(r.outcome).to.equal('Provisioned');
    expect(server!.count('ProvisionRequest')).to.equal(2);
    expect(farm.vms).to.have.length(3);
  });

  it('never provisions twice when an answer is lost and the call retried (idempotency keys)', async () => {
    const [farm, url] = await farmWith(6, (kind, n) =>
      kind === 'ProvisionRequest' && n === 1 ? 'process-then-500' : 'ok',
    );
    const r = await runStack([webhook(url)], request('idem', 3));
    expect(r.outcome).to.equal('Provisioned');
    expect(server!.count('ProvisionRequest')).to.equal(2);
    expect(farm.vms).to.have.length(3);
    expect(farm.vms.map((vm) => vm.provisionRequests)).to.deep.equal([2, 2, 2]);
  });

  it('falls through on persistent HTTP 500 with a clear error, nothing leaked', async () => {
    const [farm, url] = await farmWith(3, (kind) =>
      kind === 'ProvisionRequest' ? 'process-then-500' : 'ok',
    );
    const r = await runStack([webhook(url), local()], request('e', 2));
    expect(r.outcome).to.equal('Provisioned');
    expect(r.nodes.map((n) => n.provisioner)).to.deep.equal(['local', 'local']);
    const e = r.explanation.provisioners[0]!;
    expect(e.error).to.match(
      /^provision: POST http:\/\/127\.0\.0\.1:\d+\/provision: HTTP 500: lost answer \(after 3 attempts\); released 2 node\(s\) it may have made$/,
    );
    expect(e.reasons).to.deep.equal({ ProvisionerUnavailable: 2 });
    expect(server!.count('ProvisionRequest')).to.equal(3);
    expectNothingLeaked(farm);
  });

  it('times out a server that processes but never answers, and releases what it made', async () => {
    const [farm, url] = await farmWith(3, (kind) =>
      kind === 'ProvisionRequest' ? 'process-then-hang' : 'ok',
    );
    const started = Date.now();
    const r = await runStack([webhook(url), local()], request('slow', 2));
    expect(Date.now() - started).to.be.below(3000);
    expect(r.nodes.map((n) => n.provisioner)).to.deep.equal(['local', 'local']);
    expect(r.explanation.provisioners[0]?.error).to.match(
      /no answer within 300 ms \(after 3 attempts\); released 2/,
    );
    expect(farm.vms).to.have.length(2);
    expectNothingLeaked(farm);
  });

  it('gives up on a hung server within its deadlines', async () => {
    const [farm, url] = await farmWith(3, (kind) => (kind === 'ProvisionRequest' ? 'hang' : 'ok'));
    const started = Date.now();
    const r = await runStack([webhook(url, { retries: 1 }), local()], request('hung', 1));
    expect(Date.now() - started).to.be.within(550, 2500);
    expect(r.outcome).to.equal('Provisioned');
    expect(r.explanation.provisioners[0]?.error).to.contain(
      'no answer within 300 ms (after 2 attempts)',
    );
    expect(farm.vms).to.have.length(0);
  });

  it('rejects malformed JSON without retrying and releases what the service made', async () => {
    const [farm, url] = await farmWith(3, (kind) =>
      kind === 'ProvisionRequest' ? 'process-then-malformed' : 'ok',
    );
    const r = await runStack([webhook(url), local()], request('m', 2));
    expect(r.explanation.provisioners[0]?.error).to.match(
      /malformed JSON in answer: \{"nodes": \[ \{"name":; released 2/,
    );
    expect(server!.count('ProvisionRequest')).to.equal(1);
    expectNothingLeaked(farm);
  });

  const lies: Array<
    [
      string,
      (a: Record<string, unknown>, b: Record<string, unknown>, farm: KvmFarm) => unknown,
      RegExp,
    ]
  > = [
    [
      'more nodes than asked',
      async (a, b, farm) => {
        // The farm really makes the extra VM: Berth must release it too.
        const req = b.request as { uid: string };
        const extra = await farm.provision({
          ...(b as never as Parameters<KvmFarm['provision']>[0]),
          nodes: [{ name: 'lie-9', idempotencyKey: `${req.uid}/lie-9` }],
        });
        return { ...a, nodes: [...(a.nodes as unknown[]), ...extra.nodes] };
      },
      /bad answer: answer has 3 nodes, 2 were asked/,
    ],
    [
      'a duplicate node name',
      (a) => ({ ...a, nodes: [(a.nodes as unknown[])[0], (a.nodes as unknown[])[0]] }),
      /bad answer: node name "lie-0" appears twice/,
    ],
    [
      'an empty node name',
      (a) => ({
        ...a,
        nodes: (a.nodes as Array<Record<string, unknown>>).map((n, i) =>
          i ? { ...n, name: '' } : n,
        ),
      }),
      /bad answer: nodes\[1\] has an empty name/,
    ],
    [
      'a node it was not asked for',
      (a) => ({ ...a, nodes: [{ name: 'stranger', address: '10.0.0.1' }] }),
      /bad answer: node "stranger" was not asked for/,
    ],
    [
      'a port out of range',
      (a) => ({
        ...a,
        nodes: (a.nodes as Array<Record<string, unknown>>).map((n) => ({ ...n, port: 70000 })),
      }),
      /bad answer: node "lie-0" has port 70000, not 1\.\.65535/,
    ],
  ];
  for (const [what, tamper, message] of lies) {
    it(`rejects an answer with ${what}, falls through, and leaks nothing`, async () => {
      const farm = new KvmFarm({ capacity: 5 });
      server = await startFarm(farm, (kind) =>
        kind === 'ProvisionRequest' ? { tamper: (a, b) => tamper(a, b, farm) } : 'ok',
      );
      const r = await runStack([webhook(server.url), local()], request('lie', 2));
      expect(r.outcome).to.equal('Provisioned');
      expect(r.nodes.map((n) => n.provisioner)).to.deep.equal(['local', 'local']);
      expect(r.explanation.provisioners[0]?.error).to.match(message);
      expect(r.explanation.provisioners[0]?.error).to.match(
        /released \d node\(s\) it may have made$/,
      );
      expect(server.count('ProvisionRequest')).to.equal(1);
      expect(farm.vms.length).to.be.at.least(2);
      expectNothingLeaked(farm);
    });
  }

  it('retries a failed release and reports one that keeps failing, so it can be retried later', async () => {
    // Two nodes × three attempts: every release attempt of the run fails.
    let failuresLeft = 6;
    const [farm, url] = await farmWith(2, (kind) =>
      kind === 'ReleaseRequest' && failuresLeft-- > 0 ? 'http500' : 'ok',
    );
    const p = webhook(url);
    const r = await runStack([p], request('rel', 4, 3));
    expect(r.outcome).to.equal('Insufficient');
    expect(r.released).to.equal(0);
    expect(r.releaseFailures.map((f) => f.name).sort()).to.deep.equal(['rel-0', 'rel-1']);
    expect(r.releaseFailures[0]?.error).to.match(
      /^release: POST .*: HTTP 500: injected failure \(after 3 attempts\)$/,
    );
    expect(r.releaseFailures[0]?.record.state).to.equal('Releasing');
    expect(r.explanation.summary).to.contain('released 0, 2 release failed');
    expect(farm.used).to.equal(2);

    // The service recovers; the controller retries from the kept records, and one of those
    // releases needs a second attempt.
    failuresLeft = 1;
    const out = await releaseRecords(
      r.releaseFailures.map((f) => f.record),
      request('rel', 4).metadata,
      [webhook(url)],
    );
    expect(out.failures).to.deep.equal([]);
    expect(server!.count('ReleaseRequest')).to.equal(6 + 3);
    expectNothingLeaked(farm);
  });

  it('releases the whole attempt when a spawn fails', async () => {
    const [farm, url] = await farmWith(4, (kind) => (kind === 'SpawnRequest' ? 'http500' : 'ok'));
    const r = await runStack([webhook(url, { retries: 0 })], request('sp', 2));
    expect(r.outcome).to.equal('SpawnFailed');
    expect(r.explanation.summary).to.match(
      /spawn failed \(sp-0: spawn: POST .*HTTP 500: injected failure; sp-1: /,
    );
    expectNothingLeaked(farm);
  });

  it('counts failing spawns in the breaker: it stops provisioning and releasing on every retry', async () => {
    let spawning = false;
    const [farm, url] = await farmWith(4, (kind) =>
      kind === 'SpawnRequest' && !spawning ? 'http500' : 'ok',
    );
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const p = webhook(url, { retries: 0, failureThreshold: 2, cooldownSeconds: 60 }, { clock });

    // Each retry provisions (which the service answers well), fails to spawn, releases.
    for (const name of ['s1', 's2']) {
      const r = await runStack([p], request(name, 1));
      expect(r.outcome).to.equal('SpawnFailed');
    }
    expect(server!.count('ProvisionRequest')).to.equal(2);
    expect(server!.count('ReleaseRequest')).to.equal(2);

    // The breaker is open: the next retry costs the service nothing.
    const cold = await runStack([p], request('s3', 1));
    expect(cold.outcome).to.equal('Insufficient');
    expect(cold.explanation.provisioners[0]?.error).to.equal(
      'skipped: cooling down after 2 consecutive failures until 2026-01-01T00:01:00.000Z',
    );
    expect(server!.count('ProvisionRequest')).to.equal(2);
    expect(server!.count('ReleaseRequest')).to.equal(2);
    expectNothingLeaked(farm);

    // After the cooldown one attempt goes through; a spawn that works closes the breaker.
    clock.advance(61_000);
    spawning = true;
    const warm = await runStack([p], request('s4', 1));
    expect(warm.outcome).to.equal('Provisioned');
    expect(p.availability?.()).to.deep.equal({ available: true });
    const again = await runStack([p], request('s5', 1));
    expect(again.outcome).to.equal('Provisioned');
  });

  it('a provision that made nodes does not close the breaker before they spawn', async () => {
    const [, url] = await farmWith(4, (kind, n) =>
      kind === 'SpawnRequest' || (kind === 'ProvisionRequest' && n === 1) ? 'http500' : 'ok',
    );
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const p = webhook(url, { retries: 0, failureThreshold: 2, cooldownSeconds: 60 }, { clock });
    // A failed provision, then a good provision whose spawn fails: two failures in a row.
    expect((await runStack([p], request('m1', 1))).outcome).to.equal('Insufficient');
    expect((await runStack([p], request('m2', 1))).outcome).to.equal('SpawnFailed');
    expect(p.availability?.().available).to.equal(false);
  });

  it('skips a failing service for cooldownSeconds after failureThreshold failures, then tries again', async () => {
    let healthy = false;
    const [farm, url] = await farmWith(4, (kind) =>
      kind === 'ProvisionRequest' && !healthy ? 'http500' : 'ok',
    );
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const p = webhook(url, { retries: 0, failureThreshold: 2, cooldownSeconds: 60 }, { clock });
    const stack = [p, local()];

    await runStack(stack, request('c1', 1));
    await runStack(stack, request('c2', 1));
    expect(server!.count('ProvisionRequest')).to.equal(2);

    const cold = await runStack(stack, request('c3', 1));
    expect(server!.count('ProvisionRequest')).to.equal(2);
    expect(cold.nodes[0]?.provisioner).to.equal('local');
    expect(cold.explanation.provisioners[0]?.error).to.equal(
      'skipped: cooling down after 2 consecutive failures until 2026-01-01T00:01:00.000Z',
    );
    expect(cold.explanation.provisioners[0]?.reasons).to.deep.equal({ ProvisionerUnavailable: 1 });

    clock.advance(61_000);
    healthy = true;
    const warm = await runStack(stack, request('c4', 1));
    expect(warm.nodes[0]?.provisioner).to.equal('burst');
    expect(p.availability?.()).to.deep.equal({ available: true });
    expect(farm.vms).to.have.length(1);
  });

  it('sends the request identity, resources and volumes the contract promises', async () => {
    const [, url] = await farmWith(1);
    const req: RequestRef = {
      metadata: { namespace: 'team-a', name: 'gpu' },
      spec: {
        count: 1,
        resources: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': 1 },
        tags: ['gpu'],
        volumes: [{ name: 'scratch', size: '100Gi', tags: ['ssd'] }],
      },
    };
    await runStack([webhook(url)], req);
    expect(server!.calls[0]?.body.request).to.deep.equal({
      namespace: 'team-a',
      name: 'gpu',
      count: 1,
      minCount: 1,
      resources: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' },
      tags: ['gpu'],
      volumes: [{ name: 'scratch', size: '100Gi', tags: ['ssd'] }],
    });
    // Without a uid, the key falls back to namespace/name.
    expect(idempotencyKey(req.metadata, 'gpu-0')).to.equal('team-a/gpu/gpu-0');
  });
});
