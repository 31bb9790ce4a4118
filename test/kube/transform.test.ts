import { expect } from 'chai';
import type { KubeClient, Query, WatchEvent } from '../../src/kube/client.js';
import { defaultInformerOptions, Informer } from '../../src/kube/informer.js';
import type { KubeObject, ObjectList } from '../../src/kube/objects.js';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  cacheTransform,
  internStrings,
  LAST_APPLIED_ANNOTATION,
  StringPool,
  stripManagedFields,
} from '../../src/kube/transform.js';
import { silentLogger } from '../../src/observability/logger.js';

const heavy = (name: string, rv: string, extra: Record<string, string> = {}): KubeObject =>
  ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ResourceRequest',
    metadata: {
      name,
      namespace: 'team',
      resourceVersion: rv,
      annotations: { [LAST_APPLIED_ANNOTATION]: '{"big":"copy"}', ...extra },
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
    },
    spec: { count: 1 },
  }) as KubeObject;

describe('stripManagedFields', () => {
  it('drops managedFields and the last-applied annotation, keeps the rest', () => {
    const obj = stripManagedFields(heavy('a', '1', { keep: 'me' }));
    expect(obj.metadata).to.deep.equal({
      name: 'a',
      namespace: 'team',
      resourceVersion: '1',
      annotations: { keep: 'me' },
    });
    expect((obj as unknown as { spec: unknown }).spec).to.deep.equal({ count: 1 });
  });

  it('removes annotations left empty and leaves plain objects alone', () => {
    expect(stripManagedFields(heavy('a', '1')).metadata).to.not.have.property('annotations');
    const plain = { metadata: { name: 'p', labels: { a: 'b' } } };
    expect(stripManagedFields(plain)).to.deep.equal({
      metadata: { name: 'p', labels: { a: 'b' } },
    });
  });
});

/** A bound request as the API server sends it: its own name, uid and version, the rest shared. */
const bound = (i: number) => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: {
    name: `r-${i}`,
    namespace: 'bench',
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    resourceVersion: String(1000 + i),
    creationTimestamp: '2026-12-02T07:40:05Z',
  },
  spec: { count: 1, profile: 'default', resources: { cpu: '1', memory: '1Gi' }, tags: ['ssd'] },
  status: {
    phase: 'Ready',
    conditions: ['Allocated', 'Provisioned', 'Ready'].map((type) => ({
      type,
      status: 'True',
      reason: 'NodesRunning',
      message: '1/1 node(s) running',
      lastTransitionTime: '2026-12-02T07:40:06Z',
    })),
    nodes: [{ name: `r-${i}-0`, host: 'h0', hostPool: 'pool-0', configEntry: `NodeName=r-${i}-0` }],
  },
});

describe('internStrings', () => {
  it('keeps every value, and pools the repeated ones but not names, uids and versions', () => {
    const pool = new StringPool();
    const objects = [0, 1, 2].map((i) => internStrings(bound(i), pool));
    expect(objects).to.deep.equal([0, 1, 2].map(bound));
    // apiVersion, kind, namespace, two timestamps, default, 1, 1Gi, ssd, Ready, the three
    // condition types (Ready once), True, NodesRunning, the message, h0, pool-0.
    expect(pool.size).to.equal(17);
  });

  it('is bounded: a full pool starts again', () => {
    const pool = new StringPool(4);
    for (const v of ['a', 'b', 'c', 'd']) pool.intern(v);
    expect(pool.size).to.equal(4);
    expect(pool.intern('e')).to.equal('e');
    expect(pool.size).to.equal(1);
    expect(pool.intern('a')).to.equal('a');
    expect(pool.size).to.equal(2);
  });

  it('leaves long values alone', () => {
    const pool = new StringPool();
    const long = 'x'.repeat(300);
    expect(internStrings({ a: long, b: [long] }, pool)).to.deep.equal({ a: long, b: [long] });
    expect(pool.size).to.equal(0);
  });

  it('holds 10,000 decoded requests in markedly less heap', async function () {
    this.timeout(30_000);
    // Each object is decoded from its own JSON, as the informer does; heap measured after a full
    // GC, in a child with --expose-gc, with and without the pool.
    const script = `
      const { internStrings, StringPool } = await import(${JSON.stringify(resolve('dist/src/kube/transform.js'))});
      const bound = ${bound.toString()};
      const heldBytes = (pooled) => {
        const pool = new StringPool();
        globalThis.gc();
        const before = process.memoryUsage().heapUsed;
        const kept = [];
        for (let i = 0; i < 10000; i++) {
          const obj = JSON.parse(JSON.stringify(bound(i)));
          kept.push(pooled ? internStrings(obj, pool) : obj);
        }
        globalThis.gc();
        const held = process.memoryUsage().heapUsed - before;
        if (kept.length !== 10000) throw new Error('lost');
        return held;
      };
      console.log(JSON.stringify({ plain: heldBytes(false), pooled: heldBytes(true) }));`;
    const r = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    const { plain, pooled } = JSON.parse(r.stdout) as { plain: number; pooled: number };
    expect(pooled).to.be.below(plain * 0.8);
  });
});

/** A KubeClient that lists `items` and then streams `events` on the first watch. */
class ListWatchFake implements KubeClient {
  constructor(
    private readonly items: KubeObject[],
    private readonly events: WatchEvent<KubeObject>[],
  ) {}
  list<T>(_path: string, _query?: Query): Promise<ObjectList<T>> {
    return Promise.resolve({
      metadata: { resourceVersion: '1' },
      items: this.items as T[],
    });
  }
  watch<T>(
    _path: string,
    _query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    onDone: (err: unknown) => void,
  ): Promise<() => void> {
    setImmediate(() => {
      for (const e of this.events.splice(0)) onEvent(e as WatchEvent<T>);
    });
    let done = false;
    return Promise.resolve(() => {
      if (!done) onDone(null);
      done = true;
    });
  }
  get<T>(): Promise<T> {
    throw new Error('not used');
  }
  create<T>(): Promise<T> {
    throw new Error('not used');
  }
  replace<T>(): Promise<T> {
    throw new Error('not used');
  }
  mergePatch<T>(): Promise<T> {
    throw new Error('not used');
  }
  jsonPatch<T>(): Promise<T> {
    throw new Error('not used');
  }
  delete<T>(): Promise<T> {
    throw new Error('not used');
  }
}

describe('Informer transform', () => {
  const run = async (transform?: (o: KubeObject) => KubeObject) => {
    const fake = new ListWatchFake(
      [heavy('listed', '1')],
      [
        { type: 'ADDED', object: heavy('watched', '2') },
        { type: 'MODIFIED', object: heavy('listed', '3') },
        { type: 'DELETED', object: heavy('never-cached', '4') },
      ],
    );
    const opts = { ...defaultInformerOptions, path: '/x', name: 'x', log: silentLogger() };
    const informer = new Informer<KubeObject>(
      fake,
      transform === undefined ? opts : { ...opts, transform },
    );
    const seen: KubeObject[] = [];
    informer.addHandlers({
      add: (o) => seen.push(o),
      update: (_o, n) => seen.push(n),
      delete: (o) => seen.push(o),
    });
    const abort = new AbortController();
    const running = informer.run(abort.signal);
    await informer.waitForSync();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    abort.abort();
    await running;
    return { informer, seen };
  };

  it('strips managedFields by default, from lists and from every kind of watch event', async () => {
    expect(defaultInformerOptions.transform).to.equal(cacheTransform);
    const { informer, seen } = await run();
    expect(seen.map((o) => o.metadata.name)).to.deep.equal([
      'listed',
      'watched',
      'listed',
      'never-cached',
    ]);
    for (const o of [...seen, ...informer.list()]) {
      expect(o.metadata).to.not.have.property('managedFields');
      expect(o.metadata).to.not.have.property('annotations');
    }
  });

  it('applies a given transform before storing', async () => {
    const { informer } = await run((o) => ({
      ...o,
      metadata: { ...o.metadata, labels: { t: 'y' } },
    }));
    expect(informer.get('team/listed')?.metadata.labels).to.deep.equal({ t: 'y' });
    expect(informer.get('team/watched')?.metadata.labels).to.deep.equal({ t: 'y' });
  });
});
