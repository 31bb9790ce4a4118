// The webhook contract's rules for a service (docs/webhook-contract.md), checked through Berth's
// own webhook provisioner against two services: the kvm-farm example as a process, as a user runs
// it, and in-process behind the test suite's fault injection (helpers/servers.ts). Both must pass
// the same tests: idempotent provision, forgiving release, fencing of a provision still being
// made or answered late, one VM per key under concurrent provisions, and an owner-scoped list.
import { expect } from 'chai';
import {
  createDefaultRegistry,
  nodeName,
  runStack,
  type HeldNode,
  type Provisioner,
} from '../../src/provisioning/index.js';
import { request } from './helpers/fakes.js';
import { KvmFarm, startFarm, startFarmProcess } from './helpers/servers.js';

const OWNER = 'berth-system/4f1c-uid';

interface Ledger {
  vms: Array<{ name: string; state: string; releaseRequests: number; provisionRequests: number }>;
  unknownReleases: number;
  fencedProvisions: number;
}

interface Service {
  url: string;
  ledger(): Promise<Ledger>;
  close(): Promise<void>;
}

async function inProcess(capacity: number, makeMs: number): Promise<Service> {
  const farm = new KvmFarm({ capacity, makeMs });
  const server = await startFarm(farm);
  return {
    url: server.url,
    ledger: async () => JSON.parse(JSON.stringify(ledgerOf(farm))) as Ledger,
    close: () => server.close(),
  };
}

const ledgerOf = (farm: KvmFarm) => ({
  vms: farm.vms,
  unknownReleases: farm.unknownReleases,
  fencedProvisions: farm.fencedProvisions,
});

async function asProcess(capacity: number, makeMs: number): Promise<Service> {
  const { child, url } = await startFarmProcess([
    '--port',
    '0',
    '--capacity',
    String(capacity),
    '--make-ms',
    String(makeMs),
  ]);
  return {
    url,
    ledger: async () =>
      (await (await fetch(url.replace('/provision', '/ledger'))).json()) as Ledger,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function webhook(url: string, owner: string | undefined, extra: Record<string, unknown> = {}) {
  return createDefaultRegistry().create(
    {
      name: 'burst',
      type: 'webhook',
      url,
      timeoutSeconds: 5,
      retries: 0,
      retryBackoffMillis: 5,
      ...extra,
    },
    'profiles[0].provisioners[0]',
    { owner: () => owner },
  );
}

const held = (vms: Ledger['vms']) => vms.filter((vm) => vm.state !== 'Released').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const [kind, start] of [
  ['the kvm-farm example as a process', asProcess],
  ['the test service (kvm-farm behind fault injection)', inProcess],
] as const) {
  describe(`webhook contract: ${kind}`, function () {
    this.timeout(20_000);
    let service: Service | undefined;
    afterEach(async () => {
      await service?.close();
      service = undefined;
    });

    it('a provision asked twice for the same keys makes each node once', async () => {
      service = await start(4, 0);
      const p = webhook(service.url, OWNER);
      const rr = request('web', 2);
      const ctx = { request: rr, names: ['web-0', 'web-1'], signal: AbortSignal.timeout(5000) };
      const a = await p.getNodes(2, { ...ctx, report: () => {} });
      const b = await p.getNodes(2, { ...ctx, report: () => {} });
      expect(b.map((n) => n.address)).to.deep.equal(a.map((n) => n.address));
      const ledger = await service.ledger();
      expect(ledger.vms.map((vm) => vm.provisionRequests)).to.deep.equal([2, 2]);
    });

    it('releasing keys the service never made succeeds', async () => {
      service = await start(4, 0);
      const p = webhook(service.url, OWNER);
      await p.releaseKeys!({ namespace: 'team', name: 'ghost', uid: 'g-1' }, ['ghost-0']);
      expect((await service.ledger()).unknownReleases).to.equal(1);
    });

    it('a provision answered after the deadline leaves nothing held (the release fenced it)', async () => {
      service = await start(4, 600);
      const p = webhook(service.url, OWNER, { timeoutSeconds: 0.15 });
      const r = await runStack([p], request('late', 2));
      expect(r.outcome).to.equal('Insufficient');
      expect(r.explanation.provisioners[0]?.error).to.match(
        /released 2 node\(s\) it may have made/,
      );
      await sleep(900); // the farm finishes making the VMs it was asked for
      const ledger = await service.ledger();
      expect(held(ledger.vms), 'VMs held after the late answer').to.equal(0);
      expect(ledger.vms.map((vm) => vm.state)).to.deep.equal(['Released', 'Released']);
    });

    it('a release by key fences a provision still being made', async () => {
      service = await start(4, 500);
      const p = webhook(service.url, OWNER);
      const rr = request('slow', 2);
      const running = runStack([p], rr);
      await sleep(150);
      const names = [0, 1].map((i) => nodeName(rr, i));
      await webhook(service.url, OWNER).releaseKeys!(rr.metadata, names);
      const r = await running;
      expect(r.outcome).to.equal('Insufficient');
      expect(r.nodes).to.deep.equal([]);
      expect(held((await service.ledger()).vms)).to.equal(0);
      // A later provision of the same keys (a newer generation) makes them afresh.
      const again = await runStack([p], rr);
      expect(again.outcome).to.equal('Provisioned');
      expect(held((await service.ledger()).vms)).to.equal(2);
    });

    it('a provision that reaches the service after a newer release of its key makes nothing', async () => {
      service = await start(4, 0);
      const post = (body: Record<string, unknown>) =>
        fetch(service!.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ apiVersion: 'berth.dev/v1alpha1', provisioner: 'burst', ...body }),
        }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { nodes?: unknown[] },
        }));
      const request = { namespace: 'ns', name: 'late', uid: 'u-late', count: 1, minCount: 1 };
      const nodes = [{ name: 'late-0', idempotencyKey: 'u-late/late-0' }];
      const more = { resources: {}, tags: [], volumes: [] };
      const release = { kind: 'ReleaseRequest', owner: OWNER, request, nodes };
      expect((await post({ ...release, generation: 100 })).status).to.equal(200);
      const old = await post({
        kind: 'ProvisionRequest',
        owner: OWNER,
        generation: 50,
        request: { ...request, ...more },
        nodes,
      });
      expect(old.status).to.equal(200);
      expect(old.body.nodes).to.deep.equal([]);
      expect(held((await service.ledger()).vms)).to.equal(0);
      const fresh = await post({
        kind: 'ProvisionRequest',
        owner: OWNER,
        generation: 101,
        request: { ...request, ...more },
        nodes,
      });
      expect(fresh.body.nodes).to.have.length(1);
      expect(held((await service.ledger()).vms)).to.equal(1);
    });

    it('two provisions of a key still being made get the same node', async () => {
      service = await start(4, 300);
      const a = webhook(service.url, OWNER);
      const b = webhook(service.url, OWNER);
      const rr = request('twice', 1);
      const ctx = { request: rr, names: ['twice-0'], report: () => {} };
      const [x, y] = await Promise.all([
        a.getNodes(1, { ...ctx, signal: AbortSignal.timeout(5000) }),
        b.getNodes(1, { ...ctx, signal: AbortSignal.timeout(5000) }),
      ]);
      expect(x.map((n) => n.address)).to.deep.equal(y.map((n) => n.address));
      expect((await service.ledger()).vms).to.have.length(1);
    });

    it("lists what it holds for the asking owner through the asking provisioner, and no one else's", async () => {
      service = await start(6, 0);
      const mine = webhook(service.url, OWNER);
      const theirs = webhook(service.url, 'other-cluster/9e2a');
      const rr = request('mine', 2);
      await runStack([mine], rr);
      await runStack([theirs], request('theirs', 1));
      const listed: HeldNode[] = await mine.list!();
      expect(listed.map((n) => [n.name, n.idempotencyKey, n.request.name])).to.deep.equal([
        ['mine-0', `${rr.metadata.uid}/mine-0`, 'mine'],
        ['mine-1', `${rr.metadata.uid}/mine-1`, 'mine'],
      ]);
      expect(listed.every((n) => Number.isSafeInteger(n.generation))).to.equal(true);
      const other: Provisioner = createDefaultRegistry().create(
        { name: 'overflow', type: 'webhook', url: service.url, timeoutSeconds: 5 },
        'profiles[0].provisioners[1]',
        { owner: () => OWNER },
      );
      expect(await other.list!()).to.deep.equal([]); // same owner, another provisioner name
      // Without an owner Berth cannot tell its nodes from another cluster's: it lists nothing.
      expect(await webhook(service.url, undefined).list!()).to.deep.equal([]);
    });
  });
}

describe('a service that breaks the fencing rule', () => {
  it('keeps what it made after a release that arrived first: only the orphan collector can help', async () => {
    const farm = new KvmFarm({ capacity: 4, makeMs: 400, fencing: false });
    const server = await startFarm(farm);
    try {
      const p = webhook(server.url, OWNER, { timeoutSeconds: 0.1 });
      const r = await runStack([p], request('careless', 1));
      expect(r.outcome).to.equal('Insufficient');
      await sleep(600);
      expect(farm.held().map((vm) => vm.name)).to.deep.equal(['careless-0']);
      expect((await p.list!()).map((n) => n.name)).to.deep.equal(['careless-0']);
    } finally {
      await server.close();
    }
  });
});

describe('webhook generations', () => {
  it('every call carries a generation greater than the last, and the owner', async () => {
    const farm = new KvmFarm({ capacity: 4 });
    const server = await startFarm(farm);
    try {
      const p = webhook(server.url, OWNER);
      await runStack([p], request('g', 2));
      await p.releaseKeys!(request('g', 2).metadata, ['g-0']);
      const stamps = server.calls.map((c) => c.body as { generation: number; owner: string });
      expect(stamps.map((s) => s.owner)).to.deep.equal(stamps.map(() => OWNER));
      for (let i = 1; i < stamps.length; i++)
        expect(stamps[i]!.generation).to.be.greaterThan(stamps[i - 1]!.generation);
    } finally {
      await server.close();
    }
  });
});
