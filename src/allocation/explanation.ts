// Explanations: why a request is not (fully) placed, in two forms built from the same
// ExcludeList that drove the decisions:
//   - one line in the kube-scheduler style, counts descending then by reason text:
//     `0/12 hosts fit: 7 Insufficient memory, 3 MissingTags [ssd], 2 Avoided`
//   - a structure: per allocator tried (considered, chosen, count per reason), storage reasons,
//     and a capped host → reason list.
import type { ExcludeList } from './exclude.js';
import { formatReasonCounts } from './reasons.js';

export interface AllocatorAttempt {
  /** Config entry name (or type). */
  readonly allocator: string;
  readonly type: string;
  /** Hosts it looked at: on success those up to the chosen one; on failure every host in scope. */
  readonly considered: number;
  /** `<hostPool>/<host>` it placed the node on, if any. */
  readonly chosen: string | undefined;
  /** Rejections by reason text (on failure: every host in scope, each under its first reason). */
  readonly reasons: Record<string, number>;
  /** Why the allocator had no answer (a failed webhook or extender). */
  readonly error?: string;
}

export interface HostReason {
  /** `<hostPool>/<host>`. */
  readonly name: string;
  readonly reason: string;
  readonly detail?: string;
}

export interface Explanation {
  /** Nodes asked for in this call, and placed. */
  readonly requested: number;
  readonly placed: number;
  /**
   * When a node could not be placed: `0/12 hosts fit: …` for that node. When every node was
   * placed: `3/3 nodes placed`.
   */
  readonly summary: string;
  /**
   * For the last node planned: hosts that fit the rules (on success 1 — the search stops at the
   * first host that takes the node), and hosts in scope.
   */
  readonly hostsFit: number;
  readonly hostsTotal: number;
  /** For the last node planned: rejections by reason text. */
  readonly reasons: Record<string, number>;
  /** For the last node planned: each host allocator tried, in chain order. */
  readonly allocators: readonly AllocatorAttempt[];
  /** Storage pools turned down while trying hosts for the last node, by reason text. */
  readonly storage: Record<string, number>;
  /** Host → reason for the last node planned, in declared host order, capped. */
  readonly hosts: readonly HostReason[];
  /** Hosts left out of `hosts` by the cap. */
  readonly omittedHosts: number;
}

export const DEFAULT_MAX_HOST_REASONS = 20;

/** `0/12 hosts fit: 7 Insufficient memory, 3 MissingTags [ssd], 2 Avoided`. */
export function summaryLine(
  fit: number,
  total: number,
  reasons: Readonly<Record<string, number>>,
): string {
  const counts = formatReasonCounts(reasons);
  return counts ? `${fit}/${total} hosts fit: ${counts}` : `${fit}/${total} hosts fit`;
}

/** The capped host → reason list, in declared host order so it reads like the inventory. */
export function hostReasons(
  avoid: ExcludeList,
  max: number,
): { hosts: HostReason[]; omitted: number } {
  const all = [...avoid.rejectedHosts()].sort((a, b) => a.host.index - b.host.index);
  const hosts = all
    .slice(0, Math.max(0, max))
    .map(({ host, rejection }) =>
      rejection.detail === undefined
        ? { name: host.key, reason: rejection.reason }
        : { name: host.key, reason: rejection.reason, detail: rejection.detail },
    );
  return { hosts, omitted: all.length - hosts.length };
}
