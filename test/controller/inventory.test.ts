// The inventory follows the pools' specs, on real informers over the fake API server: a burst of
// spec changes costs one rebuild, done before anyone hears of the change; a status-only change
// (our own pool status writes) rebuilds nothing; a pool problem is logged when it appears.
import { expect } from 'chai';
import type { Logger } from 'winston';
import type { HostPool, StoragePool } from '../../src/api/index.js';
import { InventoryWatch, type InventoryOwner } from '../../src/controller/inventory.js';
import { FakeKube } from '../support/fakekube.js';
import { flush, testInformer } from '../support/settle.js';

const HPS = '/apis/berth.dev/v1alpha1/hostpools';
const SPS = '/apis/berth.dev/v1alpha1/storagepools';

const hostPool = (name: string, hosts = 1): HostPool => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name },
  spec: {
    zone: 'z1',
    hosts: Array.from({ length: hosts }, (_, i) => ({
      name: `h${i}`,
      address: `10.0.0.${i + 1}`,
      capacity: { cpu: '4' },
    })),
  },
});

const storagePool = (name: string): StoragePool =>
  ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'StoragePool',
    metadata: { name },
    spec: { scope: 'Zone', zone: 'z1', capacity: '1Ti' },
  }) as StoragePool;

/** An inventory owner that records every rebuild and reports the problems it is told to. */
class Owner implements InventoryOwner {
  readonly rebuilds: string[][] = [];
  problems: Array<{ kind: string; name: string; message: string }> = [];
  setInventory(hostPools: readonly HostPool[], storagePools: readonly StoragePool[]) {
    this.rebuilds.push([
      ...hostPools.map((p) => `${p.metadata.name}:${p.spec.hosts.length}`).sort(),
      ...storagePools.map((p) => `sp/${p.metadata.name}`).sort(),
    ]);
    return this.problems;
  }
}

class Harness {
  readonly kube = new FakeKube();
  readonly owner = new Owner();
  readonly hostPools = testInformer<HostPool>(this.kube, HPS);
  readonly storagePools = testInformer<StoragePool>(this.kube, SPS);
  readonly warnings: string[] = [];
  /** Each change heard, with the number of rebuilds done by then. */
  readonly heard: string[] = [];
  readonly watch: InventoryWatch;
  private readonly ac = new AbortController();
  private running: Promise<void>[] = [];

  constructor() {
    const log = {
      warn: (_: string, m: { kind: string; name: string; problem: string }) =>
        this.warnings.push(`${m.kind}/${m.name}: ${m.problem}`),
    } as unknown as Logger;
    this.watch = new InventoryWatch(this.owner, this.hostPools, this.storagePools, log);
    this.watch.onChange((kind, name) =>
      this.heard.push(`${kind}/${name} after ${this.owner.rebuilds.length}`),
    );
  }

  async start(): Promise<void> {
    this.running = [this.hostPools.run(this.ac.signal), this.storagePools.run(this.ac.signal)];
    await Promise.all([this.hostPools.waitForSync(), this.storagePools.waitForSync()]);
    await flush();
    this.owner.rebuilds.length = 0;
    this.heard.length = 0;
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await Promise.all(this.running);
  }
}

describe('InventoryWatch', () => {
  const changes: Array<{
    name: string;
    act(kube: FakeKube): Promise<unknown>;
    rebuilds: string[][];
    heard: string[];
  }> = [
    {
      name: 'a burst of spec changes on several pools is one rebuild, heard once per change',
      act: (kube) =>
        Promise.all([
          kube.mergePatch(`${HPS}/a`, { spec: { hosts: hostPool('a', 2).spec.hosts } }),
          kube.mergePatch(`${HPS}/b`, { spec: { hosts: hostPool('b', 3).spec.hosts } }),
          kube.mergePatch(`${HPS}/a`, { spec: { hosts: hostPool('a', 4).spec.hosts } }),
          kube.mergePatch(`${SPS}/s`, { spec: { capacity: '2Ti' } }),
        ]),
      rebuilds: [['a:4', 'b:3', 'sp/s']],
      heard: [
        'HostPool/a after 1',
        'HostPool/b after 1',
        'HostPool/a after 1',
        'StoragePool/s after 1',
      ],
    },
    {
      name: 'a new pool is a rebuild',
      act: async (kube) => kube.seed(HPS, hostPool('c', 2)),
      rebuilds: [['a:1', 'b:1', 'c:2', 'sp/s']],
      heard: ['HostPool/c after 1'],
    },
    {
      name: 'a deleted pool is a rebuild',
      act: (kube) => kube.delete(`${SPS}/s`),
      rebuilds: [['a:1', 'b:1']],
      heard: ['StoragePool/s after 1'],
    },
    {
      name: 'a label change is a rebuild (selectors read labels)',
      act: (kube) => kube.mergePatch(`${HPS}/a`, { metadata: { labels: { tier: 'ci' } } }),
      rebuilds: [['a:1', 'b:1', 'sp/s']],
      heard: ['HostPool/a after 1'],
    },
    {
      name: 'a status-only change (our own pool status write) is no rebuild',
      act: async (kube) => {
        const a = kube.peek<HostPool>(`${HPS}/a`)!;
        await kube.replace(`${HPS}/a/status`, { ...a, status: { hostCount: 1 } });
        const s = kube.peek<StoragePool>(`${SPS}/s`)!;
        await kube.replace(`${SPS}/s/status`, { ...s, status: { volumes: 0 } });
      },
      rebuilds: [],
      heard: [],
    },
  ];
  for (const c of changes)
    it(c.name, async () => {
      const h = new Harness();
      h.kube.seed(HPS, hostPool('a'));
      h.kube.seed(HPS, hostPool('b'));
      h.kube.seed(SPS, storagePool('s'));
      await h.start();
      await c.act(h.kube);
      await flush();
      expect(h.owner.rebuilds).to.deep.equal(c.rebuilds);
      expect(h.heard).to.deep.equal(c.heard);
      await h.stop();
    });

  it('logs a pool problem when it appears or changes, not on every rebuild', async () => {
    const h = new Harness();
    h.kube.seed(HPS, hostPool('a'));
    await h.start();
    const bad = { kind: 'HostPool', name: 'a', message: 'bad quantity "x"' };
    h.owner.problems = [bad];
    h.watch.refresh();
    h.watch.refresh();
    expect(h.warnings).to.deep.equal(['HostPool/a: bad quantity "x"']);
    h.owner.problems = [{ ...bad, message: 'bad quantity "y"' }];
    h.watch.refresh();
    expect(h.warnings).to.have.length(2);
    h.owner.problems = [];
    h.watch.refresh();
    h.owner.problems = [{ ...bad, message: 'bad quantity "y"' }];
    h.watch.refresh();
    expect(h.warnings, 'fixed, then broken again: said again').to.have.length(3);
    await h.stop();
  });
});
