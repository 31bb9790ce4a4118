// An in-memory KubeClient that behaves like the API server where the controller depends on it
// (Kueue's fake client builder is the model): resourceVersion conflicts, the status subresource
// kept apart from the object, generation bumped by spec changes only, finalizers and
// deletionTimestamp, watch events with a compactable history (410 Gone), and injected failures.
// Every call is recorded, so a test can count writes by verb.
import type { KubeClient, Query, WatchEvent } from '../../src/kube/client.js';
import { KubeError } from '../../src/kube/client.js';
import type { KubeObject, ObjectList } from '../../src/kube/objects.js';

type Obj = KubeObject & { status?: unknown; spec?: unknown; [k: string]: unknown };

interface Parsed {
  /** `/apis/group/version/plural` (or `/api/v1/plural`): the resource, without the namespace. */
  resource: string;
  namespace?: string;
  name?: string;
  sub?: string;
}

export interface Call {
  verb: 'get' | 'list' | 'create' | 'replace' | 'mergePatch' | 'jsonPatch' | 'delete' | 'watch';
  path: string;
  body?: unknown;
}

interface Failure {
  verb?: Call['verb'];
  path: RegExp;
  error: () => Error;
  times: number;
}

interface Watcher {
  resource: string;
  namespace?: string;
  onEvent(e: WatchEvent<Obj>): void;
  onDone(err: unknown): void;
  done: boolean;
}

function parse(path: string): Parsed {
  const segs = path.split('?')[0]!.split('/').filter(Boolean);
  const baseLen = segs[0] === 'api' ? 2 : 3;
  const base = '/' + segs.slice(0, baseLen).join('/');
  let rest = segs.slice(baseLen);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  return { resource: `${base}/${rest[0]}`, namespace, name: rest[1], sub: rest[2] };
}

const keyFor = (p: { resource: string; namespace?: string; name?: string }) =>
  `${p.resource}|${p.namespace ?? ''}|${p.name ?? ''}`;

const clone = <T>(v: T): T => structuredClone(v);

const notFound = (path: string) => new KubeError(404, 'NotFound', `${path}: not found (404)`);
const conflict = (path: string) =>
  new KubeError(409, 'Conflict', `${path}: the object has been modified (409)`);

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeKube implements KubeClient {
  readonly calls: Call[] = [];
  private readonly objects = new Map<string, Obj>();
  private readonly history: Array<{ rv: number; resource: string; event: WatchEvent<Obj> }> = [];
  private readonly watchers = new Set<Watcher>();
  private failures: Failure[] = [];
  private rv = 0;
  private uid = 0;
  /** Events before this resourceVersion are gone (etcd compaction): older watches get 410. */
  private compactedRv = 0;

  constructor(private readonly now: () => Date = () => new Date('2026-01-01T00:00:00Z')) {}

  // ---- test controls ----------------------------------------------------------------------

  /** Stores `obj` as the server would after a create, status included. Returns the stored copy. */
  seed<T extends KubeObject>(collection: string, obj: T): T {
    const p = parse(collection);
    const stored = this.stamp(clone(obj) as unknown as Obj, p);
    if (stored.status === undefined && (obj as unknown as Obj).status !== undefined)
      stored.status = clone((obj as unknown as Obj).status);
    this.objects.set(keyFor({ ...p, name: obj.metadata.name }), stored);
    this.publish(p.resource, 'ADDED', stored);
    return clone(stored) as unknown as T;
  }

  /** The stored object at `path`, or undefined. */
  peek<T>(path: string): T | undefined {
    const o = this.objects.get(keyFor(parse(path)));
    return o ? (clone(o) as unknown as T) : undefined;
  }

  /** Every stored object of a collection path (all namespaces when it names none). */
  all<T>(collection: string): T[] {
    const p = parse(collection);
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${p.resource}|${p.namespace ?? ''}`))
      .map(([, o]) => clone(o) as unknown as T);
  }

  /** The next `times` calls matching fail with `error`. */
  failNext(match: { verb?: Call['verb']; path: RegExp }, error: () => Error, times = 1): void {
    this.failures.push({ ...match, error, times });
  }

  /** Writes (create, replace, patch, delete) seen, optionally only on paths matching `path`. */
  writes(path?: RegExp): Call[] {
    return this.calls.filter(
      (c) => !['get', 'list', 'watch'].includes(c.verb) && (!path || path.test(c.path)),
    );
  }

  /** Forgets the watch history up to now: watches from an older resourceVersion get 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }

  /** Ends every open watch with an error (a cut connection). */
  cutWatches(err: Error = new Error('connection reset')): void {
    for (const w of [...this.watchers]) this.finish(w, err);
  }

  openWatches(): number {
    return this.watchers.size;
  }

  // ---- KubeClient ----------------------------------------------------------------------------

  async get<T>(path: string): Promise<T> {
    this.record('get', path);
    const o = this.objects.get(keyFor(parse(path)));
    if (!o) throw notFound(path);
    return clone(o) as unknown as T;
  }

  async list<T>(path: string, query?: Query): Promise<ObjectList<T>> {
    void query;
    this.record('list', path);
    return {
      metadata: { resourceVersion: String(this.rv) },
      items: this.all<T>(path),
    };
  }

  async create<T>(path: string, body: unknown): Promise<T> {
    this.record('create', path, body);
    const p = parse(path);
    const obj = clone(body) as Obj;
    const key = keyFor({ ...p, name: obj.metadata.name });
    if (this.objects.has(key))
      throw new KubeError(
        409,
        'AlreadyExists',
        `${path}: ${obj.metadata.name} already exists (409)`,
      );
    delete obj.status; // the status subresource: a create does not set it
    const stored = this.stamp(obj, p);
    this.objects.set(key, stored);
    this.publish(p.resource, 'ADDED', stored);
    return clone(stored) as unknown as T;
  }

  async replace<T>(path: string, body: unknown): Promise<T> {
    this.record('replace', path, body);
    const p = parse(path);
    const key = keyFor(p);
    const current = this.objects.get(key);
    if (!current) throw notFound(path);
    const next = clone(body) as Obj;
    const rv = next.metadata.resourceVersion;
    if (rv !== undefined && rv !== current.metadata.resourceVersion) throw conflict(path);
    let stored: Obj;
    if (p.sub === 'status') {
      stored = { ...clone(current), status: next.status };
    } else {
      stored = { ...next, status: clone(current.status) };
      stored.metadata = {
        ...next.metadata,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        deletionTimestamp: current.metadata.deletionTimestamp,
        generation: current.metadata.generation,
      };
      if (JSON.stringify(next.spec) !== JSON.stringify(current.spec))
        stored.metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    return clone(this.update(key, p.resource, stored)) as unknown as T;
  }

  async mergePatch<T>(path: string, patch: unknown): Promise<T> {
    this.record('mergePatch', path, patch);
    const p = parse(path);
    const key = keyFor(p);
    const current = this.objects.get(key);
    if (!current) throw notFound(path);
    const meta = (patch as { metadata?: { resourceVersion?: string } }).metadata;
    if (
      meta?.resourceVersion !== undefined &&
      meta.resourceVersion !== current.metadata.resourceVersion
    )
      throw conflict(path);
    const patched = mergePatch(current, patch) as Obj;
    let stored: Obj;
    if (p.sub === 'status') stored = { ...clone(current), status: patched.status };
    else {
      stored = { ...patched, status: clone(current.status) };
      stored.metadata = {
        ...patched.metadata,
        uid: current.metadata.uid,
        deletionTimestamp: current.metadata.deletionTimestamp,
        generation: current.metadata.generation,
      };
      if (JSON.stringify(patched.spec) !== JSON.stringify(current.spec))
        stored.metadata.generation = (current.metadata.generation ?? 1) + 1;
    }
    return clone(this.update(key, p.resource, stored)) as unknown as T;
  }

  async jsonPatch<T>(path: string, ops: unknown[]): Promise<T> {
    this.record('jsonPatch', path, ops);
    throw new KubeError(415, 'UnsupportedMediaType', `${path}: json patch is not faked`);
  }

  async delete<T>(path: string): Promise<T> {
    this.record('delete', path);
    const p = parse(path);
    const key = keyFor(p);
    const current = this.objects.get(key);
    if (!current) throw notFound(path);
    if ((current.metadata.finalizers ?? []).length > 0) {
      if (current.metadata.deletionTimestamp) return clone(current) as unknown as T;
      const marked = clone(current);
      marked.metadata.deletionTimestamp = this.now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z');
      return clone(this.update(key, p.resource, marked)) as unknown as T;
    }
    this.remove(key, p.resource, current);
    return clone(current) as unknown as T;
  }

  async watch<T>(
    path: string,
    query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    onDone: (err: unknown) => void,
  ): Promise<() => void> {
    this.record('watch', path);
    const p = parse(path);
    const w: Watcher = {
      resource: p.resource,
      namespace: p.namespace,
      onEvent: onEvent as (e: WatchEvent<Obj>) => void,
      onDone,
      done: false,
    };
    const from = Number(query.resourceVersion ?? 0);
    if (from < this.compactedRv) {
      queueMicrotask(() => {
        w.onEvent({
          type: 'ERROR',
          object: { code: 410, reason: 'Expired', message: 'too old resource version' } as never,
        });
        this.finish(w, null);
      });
      return () => this.finish(w, null);
    }
    this.watchers.add(w);
    const backlog = this.history.filter((h) => h.rv > from && h.resource === p.resource);
    queueMicrotask(() => {
      for (const h of backlog) if (!w.done) w.onEvent(clone(h.event));
    });
    return () => this.finish(w, null);
  }

  // ---- internals -----------------------------------------------------------------------------

  private record(verb: Call['verb'], path: string, body?: unknown): void {
    this.calls.push({ verb, path, body });
    const f = this.failures.find((x) => (!x.verb || x.verb === verb) && x.path.test(path));
    if (!f) return;
    f.times--;
    if (f.times <= 0) this.failures = this.failures.filter((x) => x !== f);
    throw f.error();
  }

  private stamp(obj: Obj, p: Parsed): Obj {
    obj.metadata = {
      ...obj.metadata,
      namespace: p.namespace ?? obj.metadata.namespace,
      uid: obj.metadata.uid ?? `uid-${++this.uid}`,
      resourceVersion: String(++this.rv),
      generation: 1,
      creationTimestamp:
        obj.metadata.creationTimestamp ??
        this.now()
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
    };
    if (!p.namespace) delete obj.metadata.namespace;
    return obj;
  }

  private update(key: string, resource: string, obj: Obj): Obj {
    if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0) {
      // As the API server does: the update that removes the last finalizer deletes the object
      // and answers with it at the resourceVersion it had (the DELETED event has a new one).
      const answered = clone(obj);
      this.remove(key, resource, obj);
      return answered;
    }
    obj.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, obj);
    this.publish(resource, 'MODIFIED', obj);
    return obj;
  }

  private remove(key: string, resource: string, obj: Obj, bump = true): void {
    if (bump) obj = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    this.objects.delete(key);
    this.publish(resource, 'DELETED', obj);
  }

  private publish(resource: string, type: WatchEvent<Obj>['type'], obj: Obj): void {
    const event = { type, object: clone(obj) };
    this.history.push({ rv: this.rv, resource, event });
    // Delivered after the call returns, as a real watch would.
    const to = [...this.watchers].filter(
      (w) => w.resource === resource && (!w.namespace || w.namespace === obj.metadata.namespace),
    );
    queueMicrotask(() => {
      for (const w of to) if (!w.done) w.onEvent(clone(event));
    });
  }

  private finish(w: Watcher, err: unknown): void {
    if (w.done) return;
    w.done = true;
    this.watchers.delete(w);
    w.onDone(err);
  }
}
