// OrderedLock: granted by order among those waiting when it frees, one holder at a time.
import { expect } from 'chai';
import { OrderedLock } from '../../src/runtime/ordered-lock.js';

const byNumber = (a: number, b: number) => a - b;

describe('OrderedLock', () => {
  it('callers arriving together are served by order, not by arrival, one at a time', async () => {
    const lock = new OrderedLock(byNumber);
    const served: number[] = [];
    let holders = 0;
    const run = async (n: number) => {
      const release = await lock.acquire(n);
      holders++;
      expect(holders).to.equal(1);
      served.push(n);
      await new Promise((r) => setImmediate(r)); // hold it across a turn
      holders--;
      release();
    };
    await Promise.all([5, 3, 9, 1, 7].map(run));
    expect(served).to.deep.equal([1, 3, 5, 7, 9]);
    expect(lock.queued).to.equal(0);
  });

  it('a late arrival of lower order is served before earlier waiters of higher order', async () => {
    const lock = new OrderedLock(byNumber);
    const served: number[] = [];
    const first = await lock.acquire(0);
    const waiting = [lock.acquire(8).then((r) => (served.push(8), r()))];
    waiting.push(lock.acquire(2).then((r) => (served.push(2), r())));
    first();
    await Promise.all(waiting);
    expect(served).to.deep.equal([2, 8]);
  });

  it('releasing twice frees it once', async () => {
    const lock = new OrderedLock(byNumber);
    const release = await lock.acquire(1);
    release();
    release();
    const a = await lock.acquire(2);
    let second = false;
    const b = lock.acquire(3).then((r) => {
      second = true;
      return r;
    });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(second, 'granted while held').to.equal(false);
    a();
    (await b)();
    expect(second).to.equal(true);
  });
});
