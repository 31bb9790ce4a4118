import { expect } from 'chai';
import { WorkQueue } from '../../src/runtime/workqueue.js';
import {
  BucketRateLimiter,
  ExponentialFailureRateLimiter,
  defaultRateLimiter,
} from '../../src/runtime/ratelimiter.js';
import { FakeClock } from '../support/fakeclock.js';

const newQueue = (clock = new FakeClock()) => ({
  clock,
  q: new WorkQueue<string>(clock, defaultRateLimiter(clock)),
});

describe('WorkQueue', () => {
  it('collapses a burst of adds for one key into one item', async () => {
    const { q } = newQueue();
    for (let i = 0; i < 100; i++) q.add('ns/a');
    q.add('ns/b');
    expect(q.length).to.equal(2);
    expect(await q.get()).to.equal('ns/a');
    expect(await q.get()).to.equal('ns/b');
  });

  it('never hands a key to two workers: an add during processing waits for done()', async () => {
    const { q } = newQueue();
    q.add('k');
    const first = await q.get();
    q.add('k');
    expect(q.length, 'not queued while processing').to.equal(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).to.equal(undefined);
    q.done(first as string);
    await Promise.resolve();
    expect(second).to.equal('k');
  });

  it('hands keys to waiting workers in FIFO order', async () => {
    const { q } = newQueue();
    const got: Array<string | undefined> = [];
    const w1 = q.get().then((k) => got.push(k));
    const w2 = q.get().then((k) => got.push(k));
    q.add('a');
    q.add('b');
    await Promise.all([w1, w2]);
    expect(got).to.deep.equal(['a', 'b']);
  });

  it('addAfter delays, and the earliest delay wins', async () => {
    const { q, clock } = newQueue();
    q.addAfter('k', 1000);
    q.addAfter('k', 5000);
    q.addAfter('k', 200);
    expect(q.length).to.equal(0);
    clock.advance(199);
    expect(q.length).to.equal(0);
    clock.advance(1);
    expect(q.length).to.equal(1);
    clock.advance(10_000);
    expect(q.length, 'later timers were cancelled or collapsed').to.equal(1);
  });

  it('backs off exponentially per key on failures and forgets on success', async () => {
    const { q, clock } = newQueue();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = clock.now();
      q.addRateLimited('k');
      let t = 0;
      while (q.length === 0) {
        clock.advance(1);
        t++;
        if (t > 10_000) throw new Error('never re-added');
      }
      delays.push(clock.now() - before);
      q.done((await q.get()) as string);
    }
    expect(delays).to.deep.equal([5, 10, 20, 40, 80]);
    expect(q.retries('k')).to.equal(5);
    q.forget('k');
    expect(q.retries('k')).to.equal(0);
  });

  it('shutdown drains: waits for keys in flight, refuses new work, wakes idle workers', async () => {
    const { q } = newQueue();
    q.add('a');
    const a = await q.get();
    const idle = q.get();
    let drained = false;
    const done = q.shutdown().then(() => (drained = true));
    expect(await idle).to.equal(undefined);
    q.add('b');
    expect(q.length).to.equal(0);
    await Promise.resolve();
    expect(drained).to.equal(false);
    q.done(a as string);
    await done;
    expect(drained).to.equal(true);
  });
});

describe('rate limiters', () => {
  it('exponential: 5ms doubling up to the cap', () => {
    const r = new ExponentialFailureRateLimiter<string>(5, 100);
    expect([1, 2, 3, 4, 5, 6].map(() => r.when('x'))).to.deep.equal([5, 10, 20, 40, 80, 100]);
    expect(r.when('y')).to.equal(5);
  });

  it('bucket: a burst passes, then keys wait for tokens', () => {
    const clock = new FakeClock();
    const r = new BucketRateLimiter<string>(10, 3, clock);
    expect([r.when('a'), r.when('b'), r.when('c')]).to.deep.equal([0, 0, 0]);
    expect(r.when('d')).to.be.closeTo(100, 1e-9);
    clock.advance(1000);
    expect(r.when('e')).to.equal(0);
  });
});

describe('WorkQueue with an order', () => {
  it('serves the least key first, whatever order they were added in, and once each', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<number>(clock, defaultRateLimiter(clock), undefined, (a, b) => a - b);
    for (const k of [5, 3, 9, 1, 3, 7, 2, 8]) q.add(k);
    const out: number[] = [];
    while (q.length > 0) {
      const k = (await q.get())!;
      out.push(k);
      q.done(k);
    }
    expect(out).to.deep.equal([1, 2, 3, 5, 7, 8, 9]);
  });
});
