// Explanation entries and one-line summaries in the kube-scheduler style
// ("0/12 hosts fit: 7 Insufficient memory, 3 MissingTags"), for `status.explanation`.

import type { AllocatorReport } from './types.js';

/** Reason code of a provisioner that is cooling down or failing (docs/design.md#reason-codes). */
export const PROVISIONER_UNAVAILABLE = 'ProvisionerUnavailable';

/** Lines in status are bounded (LIMITS.message in src/api). */
export const MAX_SUMMARY = 1024;

export interface ProvisionerExplanation {
  provisioner: string;
  type: string;
  asked: number;
  got: number;
  error?: string;
  reasons?: Record<string, number>;
  summary?: string;
  allocators?: AllocatorReport[];
}

/** Hosts listed in an explanation at most (the API's cap). */
export const MAX_HOST_REASONS = 50;

/** `3 MaxNodes, 2 Insufficient memory`: most frequent first, then by name, for a stable line. */
export function formatReasons(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
}

/** `burst 2/4: 2 MaxNodes (farm full)`: what one provisioner gave of what it was asked, and why. */
export function formatEntry(e: ProvisionerExplanation): string {
  const head = `${e.provisioner} ${e.got}/${e.asked}`;
  const why = e.error ?? e.summary ?? (e.reasons ? formatReasons(e.reasons) : '');
  return why ? `${head}: ${why}` : head;
}

export function capLine(line: string, max = MAX_SUMMARY): string {
  const one = line.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}
