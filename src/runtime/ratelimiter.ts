// Rate limiters for the work queue, as controller-runtime's default: the slower of a per-key
// exponential backoff (a failing key waits 5ms, 10ms, ... up to a cap) and a token bucket over
// all keys (so a storm of failures cannot flood the API server).
import { backoff, type Clock } from '../support/time.js';
import { TokenBucket } from '../support/token-bucket.js';

export interface RateLimiter<K> {
  /** Delay before `key` may be processed again after a failure. */
  when(key: K): number;
  forget(key: K): void;
  retries(key: K): number;
}

export class ExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();
  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1000_000,
  ) {}
  when(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return backoff(this.baseMs, n, this.maxMs);
  }
  forget(key: K): void {
    this.failures.delete(key);
  }
  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}

export class BucketRateLimiter<K> implements RateLimiter<K> {
  private readonly bucket: TokenBucket;
  constructor(qps: number, burst: number, clock: Clock) {
    this.bucket = new TokenBucket(qps, burst, clock);
  }
  when(_key: K): number {
    return this.bucket.reserve();
  }
  forget(_key: K): void {}
  retries(_key: K): number {
    return 0;
  }
}

export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  constructor(private readonly limiters: RateLimiter<K>[]) {}
  when(key: K): number {
    return Math.max(...this.limiters.map((l) => l.when(key)));
  }
  forget(key: K): void {
    for (const l of this.limiters) l.forget(key);
  }
  retries(key: K): number {
    return Math.max(...this.limiters.map((l) => l.retries(key)));
  }
}

export function defaultRateLimiter<K>(
  clock: Clock,
  opts: { baseMs?: number; maxMs?: number; qps?: number; burst?: number } = {},
): RateLimiter<K> {
  return new MaxOfRateLimiter<K>([
    new ExponentialFailureRateLimiter<K>(opts.baseMs ?? 5, opts.maxMs ?? 1000_000),
    new BucketRateLimiter<K>(opts.qps ?? 10, opts.burst ?? 100, clock),
  ]);
}
