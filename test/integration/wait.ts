// Polling helpers for integration tests: the operator acts asynchronously, tests wait for its
// effects with a deadline and say what they were waiting for when it passes.
import { kubectlOk } from './harness.js';

/** Polls `probe` until it returns a value; the last error is kept for the timeout message. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `kubectl get … -o json`, parsed. */
export const getJson = async <T>(args: string[]): Promise<T> =>
  JSON.parse(await kubectlOk([...args, '-o', 'json'])) as T;
