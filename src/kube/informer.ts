// A list-watch cache (client-go's reflector + informer) hardened against what goes wrong with
// long watches:
//  - 410 Gone (resourceVersion too old, etcd compacted): relist, and tell handlers about objects
//    that vanished while the watch was down, so no delete is missed;
//  - any other error ends a watch: restart with jittered exponential backoff, never a hot loop;
//  - a watch that goes silent (no event, no bookmark) is closed and restarted by a watchdog;
//  - the server ends watches after timeoutSeconds: re-watch from the last resourceVersion;
//  - a periodic resync hands every cached object to the handlers again (level-triggered).
import type { Logger } from 'winston';
import { isGone, KubeError, WatchIdleError, type KubeClient, type WatchEvent } from './client.js';
import { keyOf, type KubeObject } from './objects.js';
import { cacheTransform } from './transform.js';
import { backoff, sleep } from '../support/time.js';

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
  /** Every cached object, every resync period. */
  resync?(obj: T): void;
}

export interface InformerOptions {
  /** Collection path, e.g. /apis/berth.dev/v1alpha1/resourcerequests (all namespaces). */
  path: string;
  name: string;
  resyncMs: number;
  /** A watch with no event or bookmark for this long is restarted. */
  idleMs: number;
  /** Server-side watch timeout; client-go picks 5–10 minutes. */
  watchTimeoutSeconds: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  pageSize: number;
  log: Logger;
  onRestart?(reason: 'error' | 'gone' | 'idle'): void;
  /**
   * Applied to every object before it is stored or handed to the handlers (controller-runtime's
   * cache TransformFunc): keep only what the controller reads. It may change the object in place.
   */
  transform?(obj: KubeObject): KubeObject;
}

export const defaultInformerOptions = {
  resyncMs: 10 * 60_000,
  idleMs: 90_000,
  watchTimeoutSeconds: 300,
  backoffBaseMs: 200,
  backoffMaxMs: 30_000,
  pageSize: 500,
  transform: cacheTransform,
};

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private failures = 0;
  private stopWatch: (() => void) | undefined;
  /** Counts for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, restarts: 0 };

  constructor(
    private readonly rest: KubeClient,
    private readonly opts: InformerOptions,
  ) {}

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    return this.synced
      ? Promise.resolve()
      : new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const resync = setInterval(() => this.resync(), this.opts.resyncMs);
    resync.unref();
    signal.addEventListener('abort', () => this.stopWatch?.(), { once: true });
    try {
      let needList = true;
      while (!signal.aborted) {
        try {
          if (needList) await this.relist(signal);
          needList = false;
          const outcome = await this.watchOnce(signal);
          if (outcome === 'gone') {
            needList = true;
            this.restarted('gone');
          } else if (outcome === 'idle') {
            this.restarted('idle');
          }
          this.failures = 0;
        } catch (err) {
          if (signal.aborted) break;
          needList = needList || isGone(err);
          this.restarted(isGone(err) ? 'gone' : 'error');
          const wait = backoff(
            this.opts.backoffBaseMs,
            this.failures++,
            this.opts.backoffMaxMs,
            Math.random,
          );
          this.opts.log.warn('watch failed; retrying', {
            informer: this.opts.name,
            error: String(err),
            retryInMs: Math.round(wait),
          });
          await sleep(wait, signal);
        }
      }
    } finally {
      clearInterval(resync);
      this.stopWatch?.();
    }
  }

  private restarted(reason: 'error' | 'gone' | 'idle'): void {
    this.stats.restarts++;
    this.opts.onRestart?.(reason);
  }

  private async relist(signal: AbortSignal): Promise<void> {
    this.stats.lists++;
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.rest.list<T>(
        this.opts.path,
        { limit: this.opts.pageSize, continue: cont },
        signal,
      );
      // Transformed page by page, so a relist never holds every object whole at once.
      for (const item of page.items) items.push(this.transformed(item));
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? rv;
    } while (cont);
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      this.upsert(key, item);
    }
    // Deleted while we were not watching: the relist is the only place to learn it.
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        for (const h of this.handlers) h.delete?.(old);
      }
    }
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private transformed(obj: T): T {
    return this.opts.transform ? (this.opts.transform(obj) as T) : obj;
  }

  private upsert(key: string, obj: T): void {
    const old = this.store.get(key);
    this.store.set(key, obj);
    if (!old) for (const h of this.handlers) h.add?.(obj);
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion)
      for (const h of this.handlers) h.update?.(old, obj);
  }

  /** One watch from the current resourceVersion until it ends: 'ended', 'gone' or 'idle'. */
  private watchOnce(signal: AbortSignal): Promise<'ended' | 'gone' | 'idle'> {
    this.stats.watches++;
    const timeoutSeconds = Math.round(this.opts.watchTimeoutSeconds * (1 + Math.random()));
    return new Promise((resolve, reject) => {
      let gone = false;
      const onEvent = (e: WatchEvent<T>) => {
        if (e.type === 'ERROR') {
          const status = e.object as unknown as {
            code?: number;
            message?: string;
            reason?: string;
          };
          if (status.code === 410) gone = true;
          else
            reject(
              new KubeError(
                status.code ?? 500,
                status.reason ?? 'WatchError',
                status.message ?? 'watch error',
              ),
            );
          this.stopWatch?.();
          return;
        }
        const rv = e.object.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (e.type === 'BOOKMARK') return;
        const key = keyOf(e.object);
        if (e.type === 'DELETED') {
          const old = this.store.get(key) ?? this.transformed(e.object);
          this.store.delete(key);
          for (const h of this.handlers) h.delete?.(old);
        } else {
          this.upsert(key, this.transformed(e.object));
        }
      };
      const onDone = (err: unknown) => {
        this.stopWatch = undefined;
        if (gone) resolve('gone');
        else if (err instanceof WatchIdleError) resolve('idle');
        else if (err && !signal.aborted) reject(err);
        else resolve('ended');
      };
      this.rest
        .watch<T>(
          this.opts.path,
          { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
          onEvent,
          onDone,
          this.opts.idleMs,
        )
        .then((stop) => {
          this.stopWatch = stop;
          if (signal.aborted) stop();
        }, reject);
    });
  }

  private resync(): void {
    for (const obj of this.store.values()) for (const h of this.handlers) h.resync?.(obj);
  }
}
