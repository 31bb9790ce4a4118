// Requests served by the API server, by verb and resource, from its own counter
// apiserver_request_total on /metrics. Taken before and after a measured burst; the difference
// is every request anybody made in between (the controller under test, and the benchmark's
// creates, which are subtracted by the caller). Watches and non-resource URLs (/metrics itself)
// are left out.
import type { BenchClient } from './kubeclient.js';

/** `VERB resource[/subresource]` → requests. */
export type Counts = Map<string, number>;

/** APPLY is server-side apply (a PATCH) as the metric names it. */
const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION']);
const READ_VERBS = new Set(['GET', 'LIST']);

export const isWrite = (key: string): boolean => WRITE_VERBS.has(key.split(' ')[0] ?? '');

const label = (labels: string, name: string): string =>
  new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1] ?? '';

export function parseRequestCounts(text: string): Counts {
  const counts: Counts = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const close = line.lastIndexOf('}');
    const labels = line.slice('apiserver_request_total{'.length, close);
    const verb = label(labels, 'verb');
    const resource = label(labels, 'resource');
    if (!resource || !(WRITE_VERBS.has(verb) || READ_VERBS.has(verb))) continue;
    const sub = label(labels, 'subresource');
    const key = `${verb} ${resource}${sub ? `/${sub}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return counts;
}

export async function requestCounts(client: BenchClient): Promise<Counts> {
  return parseRequestCounts(await client.raw('GET', '/metrics'));
}

/** after − before, without the zero entries. */
export function diffCounts(after: Counts, before: Counts): Counts {
  const out: Counts = new Map();
  for (const [key, n] of after) {
    const d = n - (before.get(key) ?? 0);
    if (d > 0) out.set(key, d);
  }
  return out;
}

export const total = (counts: Counts): number => [...counts.values()].reduce((a, b) => a + b, 0);
