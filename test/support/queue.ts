// The keys a work queue holds (its controller not running), in the order it serves them.
import type { WorkQueue } from '../../src/runtime/workqueue.js';

/** Takes every queued key out, in order; the queue is empty afterwards. */
export async function drainQueue(q: WorkQueue<string>): Promise<string[]> {
  const keys: string[] = [];
  while (q.length > 0) {
    const k = (await q.get())!;
    keys.push(k);
    q.done(k);
  }
  return keys;
}
