// One controller: a work queue, its workers, and the reconcile metrics controller-runtime
// users know. Errors requeue with per-key backoff; a result may ask for a later requeue.
import type { Logger } from 'winston';
import type { Metrics } from '../observability/metrics.js';
import { isConflict } from '../kube/client.js';
import { realClock, type Clock } from '../support/time.js';
import { defaultRateLimiter } from './ratelimiter.js';
import { WorkQueue } from './workqueue.js';

export interface Outcome {
  requeueAfterMs?: number;
}

export type ReconcileFn = (key: string, signal: AbortSignal) => Promise<Outcome>;

/** An error that retrying cannot mend (controller-runtime's TerminalError): logged, not requeued. */
export class TerminalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}

export class Controller {
  readonly queue: WorkQueue<string>;
  private running: Promise<void>[] = [];

  constructor(
    readonly name: string,
    private readonly reconcile: ReconcileFn,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    clock: Clock = realClock,
    /** The order keys are served in (default: first queued, first served). */
    order?: (a: string, b: string) => number,
  ) {
    this.queue = new WorkQueue<string>(
      clock,
      defaultRateLimiter(clock),
      metrics.queueMetrics(name),
      order,
    );
  }

  start(workers: number, signal: AbortSignal): void {
    this.metrics.maxConcurrentReconciles.set({ controller: this.name }, workers);
    for (let i = 0; i < workers; i++) this.running.push(this.worker(signal));
  }

  /** Stops taking work and waits for reconciles in flight. */
  async stop(): Promise<void> {
    await this.queue.shutdown();
    await Promise.all(this.running);
    this.running = [];
  }

  private async worker(signal: AbortSignal): Promise<void> {
    const labels = { controller: this.name };
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.activeWorkers.inc(labels);
      const end = this.metrics.reconcileTime.startTimer(labels);
      try {
        const result = await this.reconcile(key, signal);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) {
          this.metrics.reconcileTotal.inc({ ...labels, result: 'requeue_after' });
          this.queue.addAfter(key, result.requeueAfterMs);
        } else {
          this.metrics.reconcileTotal.inc({ ...labels, result: 'success' });
        }
      } catch (err) {
        this.metrics.reconcileTotal.inc({ ...labels, result: 'error' });
        this.metrics.reconcileErrors.inc(labels);
        // A conflict only means our cache was a step behind; the retry reads the new version.
        const log = isConflict(err) ? this.log.info.bind(this.log) : this.log.warn.bind(this.log);
        const retrying = !(err instanceof TerminalError);
        log(retrying ? 'reconcile failed; retrying with backoff' : 'reconcile failed for good', {
          controller: this.name,
          object: key,
          error: err instanceof Error ? err.message : String(err),
          retries: this.queue.retries(key),
        });
        if (retrying) this.queue.addRateLimited(key);
        else this.queue.forget(key);
      } finally {
        end();
        this.metrics.activeWorkers.dec(labels);
        this.queue.done(key);
      }
    }
  }
}
