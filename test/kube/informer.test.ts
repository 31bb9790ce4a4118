// The informer on the fake API server: list then watch, the handlers, and what it does when the
// watch goes wrong — a cut (re-watch from the last resourceVersion, nothing missed), 410 Gone
// (relist; deletes that happened meanwhile are reported), a silent watch (restarted).
import { expect } from 'chai';
import { WatchIdleError } from '../../src/kube/client.js';
import { Informer, type InformerOptions } from '../../src/kube/informer.js';
import type { KubeObject } from '../../src/kube/objects.js';
import { silentLogger } from '../../src/observability/logger.js';
import { FakeKube } from '../support/fakekube.js';
import { flush, until } from '../support/settle.js';

const COLL = '/apis/berth.dev/v1alpha1/hostpools';

interface Pool extends KubeObject {
  spec: { size: number };
}

const pool = (name: string, size = 1): Pool => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name },
  spec: { size },
});

class Harness {
  readonly kube = new FakeKube();
  readonly seen: string[] = [];
  readonly restarts: string[] = [];
  readonly informer: Informer<Pool>;
  readonly ac = new AbortController();
  done: Promise<void> | undefined;

  constructor(o: Partial<InformerOptions> = {}) {
    this.informer = new Informer<Pool>(this.kube, {
      path: COLL,
      name: 'hostpools',
      resyncMs: 60_000,
      idleMs: 60_000,
      watchTimeoutSeconds: 300,
      backoffBaseMs: 20,
      backoffMaxMs: 40,
      pageSize: 500,
      log: silentLogger(),
      onRestart: (reason) => this.restarts.push(reason),
      ...o,
    });
    this.informer.addHandlers({
      add: (p) => this.seen.push(`add ${p.metadata.name}:${p.spec.size}`),
      update: (a, b) => this.seen.push(`update ${b.metadata.name}:${a.spec.size}->${b.spec.size}`),
      delete: (p) => this.seen.push(`delete ${p.metadata.name}:${p.spec.size}`),
    });
  }

  async start(): Promise<void> {
    this.done = this.informer.run(this.ac.signal);
    await this.informer.waitForSync();
    await until(() => this.kube.openWatches() === 1, 'the watch');
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.done;
    expect(this.kube.openWatches(), 'the watch is closed').to.equal(0);
  }

  names(): string[] {
    return this.informer
      .list()
      .map((p) => `${p.metadata.name}:${p.spec.size}`)
      .sort();
  }
}

describe('Informer', () => {
  it('lists, then watches: every change reaches the cache and the handlers once', async () => {
    const h = new Harness();
    h.kube.seed(COLL, pool('a'));
    h.kube.seed(COLL, pool('b'));
    expect(h.informer.hasSynced()).to.equal(false);
    await h.start();
    expect(h.informer.hasSynced()).to.equal(true);
    expect(h.seen.sort()).to.deep.equal(['add a:1', 'add b:1']);
    h.seen.length = 0;
    h.kube.seed(COLL, pool('c'));
    await h.kube.mergePatch(`${COLL}/a`, { spec: { size: 2 } });
    await h.kube.delete(`${COLL}/b`);
    await flush();
    expect(h.seen).to.deep.equal(['add c:1', 'update a:1->2', 'delete b:1']);
    expect(h.names()).to.deep.equal(['a:2', 'c:1']);
    expect(h.informer.get('a')?.spec.size).to.equal(2);
    expect(h.informer.stats).to.deep.include({ lists: 1, watches: 1, restarts: 0 });
    await h.stop();
  });

  it('relists on 410 Gone and reports the delete it did not see', async () => {
    const h = new Harness();
    h.kube.seed(COLL, pool('a'));
    h.kube.seed(COLL, pool('b'));
    await h.start();
    h.seen.length = 0;
    // The watch is cut; while it is down, b goes, c comes, a changes, and etcd compacts.
    h.kube.cutWatches();
    await h.kube.delete(`${COLL}/b`);
    h.kube.seed(COLL, pool('c'));
    await h.kube.mergePatch(`${COLL}/a`, { spec: { size: 3 } });
    h.kube.compact();
    await until(() => h.informer.stats.lists === 2 && h.kube.openWatches() === 1, 'the relist');
    expect(h.restarts).to.deep.equal(['error', 'gone']);
    expect(h.seen.sort()).to.deep.equal(['add c:1', 'delete b:1', 'update a:1->3']);
    expect(h.names()).to.deep.equal(['a:3', 'c:1']);
    // The new watch goes on from the relist.
    h.kube.seed(COLL, pool('d'));
    await flush();
    expect(h.seen).to.include('add d:1');
    await h.stop();
  });

  it('restarts after a cut from its resourceVersion: nothing missed, no relist', async () => {
    const h = new Harness();
    h.kube.seed(COLL, pool('a'));
    await h.start();
    h.seen.length = 0;
    h.kube.cutWatches();
    await h.kube.mergePatch(`${COLL}/a`, { spec: { size: 2 } });
    h.kube.seed(COLL, pool('b'));
    await h.kube.delete(`${COLL}/b`);
    await until(() => h.informer.stats.watches === 2 && h.seen.length === 3, 'the re-watch');
    expect(h.seen).to.deep.equal(['update a:1->2', 'add b:1', 'delete b:1']);
    expect(h.informer.stats).to.deep.include({ lists: 1, watches: 2, restarts: 1 });
    expect(h.restarts).to.deep.equal(['error']);
    expect(h.names()).to.deep.equal(['a:2']);
    await h.stop();
  });

  it('backs off between failures instead of looping hot', async () => {
    const h = new Harness({ backoffBaseMs: 30, backoffMaxMs: 30 });
    await h.start();
    h.kube.failNext({ verb: 'watch', path: /hostpools/ }, () => new Error('refused'), 3);
    const t0 = Date.now();
    h.kube.cutWatches();
    await until(() => h.kube.openWatches() === 1, 'the watch after 3 failures');
    // Four waits of at least 15 ms each (30 ms with jitter in [0.5, 1.5)).
    expect(Date.now() - t0).to.be.at.least(55);
    expect(h.restarts).to.deep.equal(['error', 'error', 'error', 'error']);
    await h.stop();
  });

  it('a silent watch closed by its watchdog is restarted at once, without a relist', async () => {
    const h = new Harness({ idleMs: 50 });
    h.kube.seed(COLL, pool('a'));
    await h.start();
    h.kube.cutWatches(new WatchIdleError(COLL, 50));
    await until(() => h.informer.stats.watches === 2, 'the new watch');
    expect(h.restarts).to.deep.equal(['idle']);
    expect(h.informer.stats.lists).to.equal(1);
    h.kube.seed(COLL, pool('b'));
    await flush();
    expect(h.names()).to.deep.equal(['a:1', 'b:1']);
    await h.stop();
  });

  it('a watch the server ends is resumed without counting a restart', async () => {
    const h = new Harness();
    await h.start();
    h.kube.cutWatches(null as unknown as Error);
    await until(() => h.informer.stats.watches === 2, 'the new watch');
    expect(h.restarts).to.deep.equal([]);
    await h.stop();
  });

  it('a failed first list is retried until the cache syncs', async () => {
    const h = new Harness();
    h.kube.seed(COLL, pool('a'));
    h.kube.failNext({ verb: 'list', path: /hostpools/ }, () => new Error('refused'), 2);
    await h.start();
    expect(h.names()).to.deep.equal(['a:1']);
    expect(h.informer.stats.lists).to.equal(3);
    await h.stop();
  });

  it('hands every cached object to the resync handler every resync period', async () => {
    const h = new Harness({ resyncMs: 20 });
    const resynced: string[] = [];
    h.informer.addHandlers({ resync: (p) => resynced.push(p.metadata.name) });
    h.kube.seed(COLL, pool('a'));
    h.kube.seed(COLL, pool('b'));
    await h.start();
    await until(() => resynced.length >= 4, 'two resyncs');
    expect(resynced.slice(0, 4).sort()).to.deep.equal(['a', 'a', 'b', 'b']);
    expect(h.seen.filter((s) => s.startsWith('update'))).to.deep.equal([]);
    await h.stop();
  });

  it('applies its transform before storing and handing out objects', async () => {
    const h = new Harness({
      transform: (o) => {
        delete (o.metadata as { annotations?: unknown }).annotations;
        return o;
      },
    });
    h.kube.seed(COLL, { ...pool('a'), metadata: { name: 'a', annotations: { big: 'x' } } });
    await h.start();
    expect(h.informer.get('a')?.metadata.annotations).to.equal(undefined);
    await h.stop();
  });
});
