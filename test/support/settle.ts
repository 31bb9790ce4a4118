// Waiting in tests without sleeping blindly: let queued promises and I/O callbacks run, or poll
// for a condition with a bound.
import { Informer, type InformerOptions } from '../../src/kube/informer.js';
import type { KubeObject } from '../../src/kube/objects.js';
import type { KubeClient } from '../../src/kube/client.js';
import { silentLogger } from '../../src/observability/logger.js';

/** Lets `turns` turns of the event loop run (promise chains of the fakes, their continuations). */
export async function flush(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** Polls `pred` until it holds; fails after `ms` naming `what`. */
export async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** An informer with test timings (fast backoff, no resync, no transform). */
export function testInformer<T extends KubeObject>(
  client: KubeClient,
  path: string,
  o: Partial<InformerOptions> = {},
): Informer<T> {
  return new Informer<T>(client, {
    path,
    name: path.split('/').pop()!,
    resyncMs: 600_000,
    idleMs: 600_000,
    watchTimeoutSeconds: 300,
    backoffBaseMs: 20,
    backoffMaxMs: 40,
    pageSize: 500,
    log: silentLogger(),
    ...o,
  });
}
