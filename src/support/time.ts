// Time as a dependency: the one clock abstraction of the house, so queues, backoffs, leases,
// circuit breakers and expiry can be tested on a fake clock without sleeping.
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (never rejects). */
export const sleep = (ms: number, signal?: AbortSignal, clock: Clock = realClock): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = clock.setTimeout(done, ms);
    function done() {
      t.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Exponential backoff: `baseMs × 2^attempt` (attempt 0 is the first retry), capped at `maxMs`.
 * With `jitter`, a value drawn from [delay/2, delay×1.5) so that many clients do not retry in step.
 */
export function backoff(
  baseMs: number,
  attempt: number,
  maxMs: number,
  jitter: false | (() => number) = false,
): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return jitter ? delay / 2 + jitter() * delay : delay;
}

/** metav1.MicroTime as the API server wants it: RFC 3339 with microseconds. */
export const microTime = (ms: number): string =>
  new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
