import { expect } from 'chai';
import { apiRateLimiter, TokenBucket } from '../../src/kube/ratelimit.js';
import { FakeClock } from '../support/fakeclock.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TokenBucket (client-side QPS/burst)', () => {
  it('lets a burst through at once, then nothing until tokens refill', () => {
    const clock = new FakeClock(1_000);
    const bucket = new TokenBucket(10, 3, clock);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).to.deep.equal([
      true,
      true,
      true,
      false,
    ]);
    clock.advance(99);
    expect(bucket.tryTake()).to.equal(false);
    clock.advance(1);
    expect(bucket.tryTake()).to.equal(true);
  });

  it('refills at qps but never above burst', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(100, 5, clock);
    for (let i = 0; i < 5; i++) bucket.tryTake();
    clock.advance(60_000);
    expect(bucket.available()).to.equal(5);
  });

  it('spaces waiting callers 1/qps apart, in the order they came', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 2, clock);
    const done: number[] = [];
    const waits: number[] = [];
    for (let i = 0; i < 5; i++)
      void bucket.take().then((waited) => {
        done.push(i);
        waits.push(waited);
      });
    await flush();
    expect(done).to.deep.equal([0, 1]);
    clock.advance(99);
    await flush();
    expect(done).to.deep.equal([0, 1]);
    clock.advance(1);
    await flush();
    expect(done).to.deep.equal([0, 1, 2]);
    clock.advance(100);
    await flush();
    expect(done).to.deep.equal([0, 1, 2, 3]);
    clock.advance(100);
    await flush();
    expect(done).to.deep.equal([0, 1, 2, 3, 4]);
    expect(waits).to.deep.equal([0, 0, 100, 200, 300]);
    // All promised tokens were used: the next caller waits a full interval.
    expect(bucket.reserve()).to.equal(100);
  });

  it('gives the token back when a waiter gives up', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 1, clock);
    expect(bucket.tryTake()).to.equal(true);
    const abort = new AbortController();
    const waiting = bucket.take(abort.signal);
    abort.abort(new Error('gave up'));
    let error: unknown;
    await waiting.catch((err: unknown) => (error = err));
    expect((error as Error).message).to.equal('gave up');
    expect(clock.pending()).to.equal(0);
    clock.advance(100);
    expect(bucket.tryTake()).to.equal(true);
  });

  it('refuses nonsense and treats a negative qps as no limit', () => {
    expect(() => new TokenBucket(0, 1)).to.throw(/qps/);
    expect(() => new TokenBucket(1, 0)).to.throw(/burst/);
    expect(() => new TokenBucket(1, 1.5)).to.throw(/burst/);
    expect(apiRateLimiter(-1, 10)).to.equal(undefined);
    expect(apiRateLimiter(0.5, 1)).to.be.instanceOf(TokenBucket);
  });
});
