// A work queue keyed by object, with client-go's guarantees:
//  - a key is queued at most once however many events arrive for it (bursts collapse);
//  - a key is never handed to two workers at once: added while being processed, it is marked
//    dirty and queued again when the worker calls done();
//  - failures back off per key (rate limiter); requeue-after delays without blocking workers;
//  - keys are served first in, first out, or in the controller's order when it gives one.
import type { Clock } from '../support/time.js';
import type { QueueMetrics } from '../observability/metrics.js';
import { Fifo, Ordered, type Pending } from './pending.js';
import type { RateLimiter } from './ratelimiter.js';

const noMetrics: QueueMetrics = { depth() {}, added() {}, retried() {}, queued() {}, worked() {} };

export class WorkQueue<K> {
  private readonly queue: Pending<K>;
  private readonly dirty = new Set<K>();
  private readonly processing = new Map<K, number>();
  private readonly enqueuedAt = new Map<K, number>();
  private readonly delayed = new Map<K, { at: number; cancel(): void }>();
  private readonly waiters: Array<(key: K | undefined) => void> = [];
  private shuttingDown = false;
  private drained: Array<() => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly limiter: RateLimiter<K>,
    private readonly metrics: QueueMetrics = noMetrics,
    /** Serve the least key first instead of the first queued (e.g. the oldest object). */
    order?: (a: K, b: K) => number,
  ) {
    this.queue = order ? new Ordered(order) : new Fifo();
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.added();
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueuedAt.set(key, this.clock.now());
    const waiter = this.waiters.shift();
    if (waiter) {
      this.take(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.metrics.depth(this.queue.length);
  }

  /** Adds after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, cancel: () => timer.cancel() });
  }

  addRateLimited(key: K): void {
    this.metrics.retried();
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: K): void {
    this.limiter.forget(key);
  }

  retries(key: K): number {
    return this.limiter.retries(key);
  }

  /** Waits for a key; undefined once the queue is shut down and empty. */
  get(): Promise<K | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.metrics.depth(this.queue.length);
      this.take(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: K): void {
    const started = this.processing.get(key);
    if (started !== undefined) this.metrics.worked((this.clock.now() - started) / 1000);
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.dirty.delete(key);
      this.add(key);
    }
    if (this.shuttingDown && this.processing.size === 0) this.notifyDrained();
  }

  /** Stops accepting work; resolves when every key being processed is done. */
  shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) d.cancel();
    this.delayed.clear();
    this.queue.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private take(key: K): void {
    this.dirty.delete(key);
    this.processing.set(key, this.clock.now());
    const at = this.enqueuedAt.get(key);
    this.enqueuedAt.delete(key);
    if (at !== undefined) this.metrics.queued((this.clock.now() - at) / 1000);
  }

  private notifyDrained(): void {
    for (const d of this.drained.splice(0)) d();
  }
}
