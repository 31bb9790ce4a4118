// The controller loop on a fake clock: what happens to a key after its reconcile succeeded,
// failed, failed for good, or asked to be looked at later; and how stop() drains the workers.
import { expect } from 'chai';
import type { Logger } from 'winston';
import { KubeError } from '../../src/kube/client.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Controller, TerminalError, type Outcome } from '../../src/runtime/controller.js';
import { FakeClock } from '../support/fakeclock.js';
import { flush } from '../support/settle.js';

interface Logged {
  level: 'info' | 'warn';
  message: string;
  meta: Record<string, unknown>;
}

/** A controller whose reconcile is scripted per call: an Outcome, or an error to throw. */
class Harness {
  readonly clock = new FakeClock(1_000_000);
  readonly metrics = new Metrics(false);
  readonly logged: Logged[] = [];
  readonly calls: Array<{ key: string; at: number }> = [];
  readonly controller: Controller;
  readonly ac = new AbortController();

  constructor(private readonly script: (call: number) => Outcome | Error | Promise<Outcome>) {
    const log = {
      info: (message: string, meta: Record<string, unknown>) =>
        this.logged.push({ level: 'info', message, meta }),
      warn: (message: string, meta: Record<string, unknown>) =>
        this.logged.push({ level: 'warn', message, meta }),
    } as unknown as Logger;
    this.controller = new Controller(
      'test',
      async (key) => {
        this.calls.push({ key, at: this.clock.now() - 1_000_000 });
        const r = await this.script(this.calls.length);
        if (r instanceof Error) throw r;
        return r;
      },
      this.metrics,
      log,
      this.clock,
    );
  }

  start(workers = 1): void {
    this.controller.start(workers, this.ac.signal);
  }

  async metric(name: string): Promise<string> {
    return this.metrics.registry.getSingleMetricAsString(name);
  }

  async reconciles(result: string): Promise<number> {
    const m = new RegExp(`controller="test",result="${result}"\\} (\\d+)`).exec(
      await this.metric('controller_runtime_reconcile_total'),
    );
    return m ? Number(m[1]) : 0;
  }

  /** Times (ms after the start) the key was reconciled, advancing the clock `ms` in 1 ms steps. */
  async run(ms: number): Promise<number[]> {
    for (let t = 0; t < ms; t++) {
      await flush();
      this.clock.advance(1);
    }
    await flush();
    return this.calls.map((c) => c.at);
  }
}

describe('Controller', () => {
  it('a success forgets the key: reconciled once, no backoff left', async () => {
    const h = new Harness(() => ({}));
    h.start();
    h.controller.queue.add('ns/a');
    expect(await h.run(50)).to.deep.equal([0]);
    expect(h.controller.queue.retries('ns/a')).to.equal(0);
    expect(await h.reconciles('success')).to.equal(1);
    await h.controller.stop();
  });

  it('an error requeues with per-key exponential backoff, and a success resets it', async () => {
    const h = new Harness((n) => (n <= 3 ? new Error('boom') : {}));
    h.start();
    h.controller.queue.add('ns/a');
    // 5 ms, then 10 ms, then 20 ms after each failure (controller-runtime's default limiter).
    expect(await h.run(100)).to.deep.equal([0, 5, 15, 35]);
    expect(h.controller.queue.retries('ns/a')).to.equal(0);
    expect(await h.reconciles('error')).to.equal(3);
    expect(await h.reconciles('success')).to.equal(1);
    expect(await h.metric('controller_runtime_reconcile_errors_total')).to.match(
      /controller="test"\} 3/,
    );
    expect(await h.metric('workqueue_retries_total')).to.match(/controller="test"\} 3/);
    expect(h.logged.map((l) => l.meta.retries)).to.deep.equal([0, 1, 2]);
    await h.controller.stop();
  });

  const failures: Array<{
    name: string;
    error: Error;
    level: Logged['level'];
    calls: number[];
  }> = [
    { name: 'an error', error: new Error('boom'), level: 'warn', calls: [0, 5, 15] },
    {
      name: 'a conflict (our cache was behind)',
      error: new KubeError(409, 'Conflict', 'modified'),
      level: 'info',
      calls: [0, 5, 15],
    },
    {
      name: 'a TerminalError (retrying cannot mend it)',
      error: new TerminalError('bad spec'),
      level: 'warn',
      calls: [0],
    },
  ];
  for (const c of failures)
    it(`${c.name} is logged at ${c.level}${c.calls.length === 1 ? ' and not requeued' : ' and requeued'}`, async () => {
      const h = new Harness(() => c.error);
      h.start();
      h.controller.queue.add('ns/a');
      expect(await h.run(30)).to.deep.equal(c.calls);
      expect(h.logged[0]).to.deep.include({ level: c.level });
      expect(h.logged[0]?.meta).to.deep.include({
        controller: 'test',
        object: 'ns/a',
        error: c.error.message,
      });
      expect(await h.reconciles('error')).to.equal(c.calls.length);
      await h.controller.stop();
    });

  it('requeueAfterMs looks at the key again after that long, without counting an error', async () => {
    const h = new Harness((n) => (n === 1 ? { requeueAfterMs: 40 } : {}));
    h.start();
    h.controller.queue.add('ns/a');
    expect(await h.run(100)).to.deep.equal([0, 40]);
    expect(await h.reconciles('requeue_after')).to.equal(1);
    expect(await h.reconciles('success')).to.equal(1);
    expect(await h.reconciles('error')).to.equal(0);
    await h.controller.stop();
  });

  it('an add while the key is in a reconcile runs it again after, never at once', async () => {
    let release!: () => void;
    const h = new Harness((n) =>
      n === 1 ? new Promise<Outcome>((r) => (release = () => r({}))) : {},
    );
    h.start(4);
    h.controller.queue.add('ns/a');
    await flush();
    h.controller.queue.add('ns/a');
    await flush();
    expect(h.calls).to.have.length(1);
    release();
    await flush();
    expect(h.calls).to.have.length(2);
    await h.controller.stop();
  });

  it('stop() waits for the reconciles in flight and takes no new work', async () => {
    const releases: Array<() => void> = [];
    const h = new Harness(() => new Promise<Outcome>((r) => releases.push(() => r({}))));
    h.start(2);
    h.controller.queue.add('ns/a');
    h.controller.queue.add('ns/b');
    h.controller.queue.add('ns/c');
    await flush();
    expect(h.calls.map((c) => c.key)).to.deep.equal(['ns/a', 'ns/b']);
    expect(await h.metric('controller_runtime_active_workers')).to.match(/controller="test"\} 2/);
    let stopped = false;
    const stopping = h.controller.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).to.equal(false);
    releases[0]!();
    await flush();
    expect(stopped, 'one reconcile still runs').to.equal(false);
    releases[1]!();
    await stopping;
    expect(
      h.calls.map((c) => c.key),
      'ns/c is never started',
    ).to.deep.equal(['ns/a', 'ns/b']);
    h.controller.queue.add('ns/d');
    await flush();
    expect(h.calls).to.have.length(2);
    expect(await h.metric('controller_runtime_active_workers')).to.match(/controller="test"\} 0/);
  });

  it('reports its metrics under controller-runtime names', async () => {
    const h = new Harness(() => ({}));
    h.start(3);
    h.controller.queue.add('ns/a');
    await h.run(5);
    expect(await h.metric('controller_runtime_max_concurrent_reconciles')).to.match(
      /controller="test"\} 3/,
    );
    expect(await h.metric('controller_runtime_reconcile_time_seconds')).to.match(
      /_count\{controller="test"\} 1/,
    );
    expect(await h.metric('workqueue_adds_total')).to.match(/name="test",controller="test"\} 1/);
    expect(await h.metric('workqueue_work_duration_seconds')).to.match(
      /_count\{name="test",controller="test"\} 1/,
    );
    await h.controller.stop();
  });
});
