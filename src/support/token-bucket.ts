// A token bucket that fills at `qps` tokens a second up to `burst` (golang.org/x/time/rate's
// reservations): a caller takes a token; when none is left it reserves the next one and waits
// for it, so waiting callers are spaced 1/qps apart in the order they came. Used by the API
// client's QPS limit (kube/ratelimit.ts) and the work queue's overall limit (runtime/ratelimiter.ts).
import { realClock, type Clock } from './time.js';

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(qps > 0) || !Number.isFinite(qps))
      throw new Error(`rate limit: qps must be a positive number, got ${qps}`);
    if (!Number.isInteger(burst) || burst < 1)
      throw new Error(`rate limit: burst must be a positive integer, got ${burst}`);
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
      this.last = now;
    }
  }

  /** Tokens available now (negative: that many are already promised to waiting callers). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes a token if one is there now, without waiting. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Reserves the next token and returns how many milliseconds to wait before using it (0: use it
   * now). A reservation that is not used must be given back with `cancel()`.
   */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.qps);
  }

  /** Gives back a reserved token (the caller gave up waiting). */
  cancel(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /**
   * Waits for a token; resolves with the milliseconds waited. Rejects with the signal's reason
   * when it aborts first (the token is given back).
   */
  take(signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    const wait = this.reserve();
    return wait === 0 ? Promise.resolve(0) : this.wait(wait, signal);
  }

  /** Waits `ms` for a token reserved with `reserve()`; cancels the reservation on abort. */
  wait(ms: number, signal?: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        timer.cancel();
        this.cancel();
        reject(signal?.reason);
      };
      const timer = this.clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(ms);
      }, ms);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
