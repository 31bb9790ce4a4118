import { expect } from 'chai';
import type { KubeClient, Query, WatchEvent } from '../../src/kube/client.js';
import { defaultInformerOptions, Informer } from '../../src/kube/informer.js';
import type { KubeObject, ObjectList } from '../../src/kube/objects.js';
import { LAST_APPLIED_ANNOTATION, stripManagedFields } from '../../src/kube/transform.js';
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
    expect(defaultInformerOptions.transform).to.equal(stripManagedFields);
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
