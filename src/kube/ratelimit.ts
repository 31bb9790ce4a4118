// Client-side rate limiting of API requests, as client-go does it (`--kube-api-qps`,
// `--kube-api-burst`): every request but a watch takes a token of one bucket.
import type { Clock } from '../support/time.js';
import { TokenBucket } from '../support/token-bucket.js';

export { TokenBucket };

/**
 * The limiter for `--kube-api-qps` / `--kube-api-burst`: undefined (no limit) when qps is
 * negative (kube-scheduler's `-1`) or infinite.
 */
export function apiRateLimiter(qps: number, burst: number, clock?: Clock): TokenBucket | undefined {
  if (qps < 0 || qps === Infinity) return undefined;
  return new TokenBucket(qps, burst, clock);
}

/** kube-scheduler's defaults are 50/100; ours do not throttle below what an API server accepts. */
export const DEFAULT_API_QPS = 500;
export const DEFAULT_API_BURST = 1000;
