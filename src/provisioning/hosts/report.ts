// The engine's explanation of a shortfall, in the shape a provisioner reports to the stack
// (and the stack writes to `status.explanation`), bounded as the CRD requires.
import type { PlanResult } from '../../allocation/index.js';
import type { AllocatorReport, ProvisionerReport } from '../types.js';

/** The CRD's bounds: reason maps hold at most 64 entries, a host reason at most 256 characters. */
const MAX_REASONS = 64;
const MAX_REASON_TEXT = 256;

/** The most frequent reasons first (then by text), as the summary line orders them. */
function capReasons(reasons: Readonly<Record<string, number>>): Record<string, number> {
  const sorted = Object.entries(reasons)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(sorted.slice(0, MAX_REASONS));
}

/**
 * `summary` and `reasons` describe the node that fit nowhere (kube-scheduler style, counted by
 * reason text such as `Insufficient memory`); `allocators` lists each allocator of the chain that
 * was tried for it, with `chosen` counting the nodes it placed in this call.
 */
export function shortfallReport(result: PlanResult): ProvisionerReport {
  const e = result.explanation;
  const chosen = new Map<string, number>();
  for (const p of result.placements) chosen.set(p.allocator, (chosen.get(p.allocator) ?? 0) + 1);

  const allocators: AllocatorReport[] = [];
  const seen = new Set<string>();
  for (const a of e.allocators) {
    if (seen.has(a.allocator)) continue;
    seen.add(a.allocator);
    const reasons = capReasons(a.reasons);
    allocators.push({
      allocator: a.allocator,
      considered: a.considered,
      chosen: chosen.get(a.allocator) ?? 0,
      ...(Object.keys(reasons).length ? { reasons } : {}),
      ...(a.error !== undefined ? { error: a.error.slice(0, 1024) } : {}),
    });
  }
  // An allocator that placed earlier nodes but was not reached for the last one still counts.
  for (const [allocator, n] of chosen) {
    if (!seen.has(allocator)) allocators.push({ allocator, considered: 0, chosen: n });
  }

  return {
    reasons: capReasons(e.reasons),
    summary: e.summary,
    allocators,
    hosts: e.hosts.map((h) => ({ host: h.name, reason: h.reason.slice(0, MAX_REASON_TEXT) })),
  };
}

/** Why extenders had no answer, one line each, for the log. */
export function allocatorErrors(result: PlanResult): string[] {
  return result.explanation.allocators.flatMap((a) =>
    a.error !== undefined ? [`${a.allocator}: ${a.error}`] : [],
  );
}
