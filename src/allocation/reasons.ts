// Reason codes (docs/design.md#reason-codes). A rejection carries the code, the exact text
// it is counted under in
// the summary ("Insufficient memory", "MissingTags [ssd]") and an optional detail for the capped
// host list. Counting by text rather than code is what makes `3 MissingTags [ssd]` and
// `1 MissingTags [gpu]` separate entries, as kube-scheduler separates `Insufficient cpu` from
// `Insufficient memory`.

export type ReasonCode =
  | 'Avoided'
  | 'PoolDisabled'
  | 'HostDisabled'
  | 'HostMaintenance'
  | 'MissingTags'
  | 'Insufficient'
  | 'OverThreshold'
  | 'MaxNodes'
  | 'PlacementMismatch'
  | 'NoStorage'
  | 'PortsExhausted'
  | 'ProvisionerUnavailable';

export const REASON_CODES: readonly ReasonCode[] = [
  'Avoided',
  'PoolDisabled',
  'HostDisabled',
  'HostMaintenance',
  'MissingTags',
  'Insufficient',
  'OverThreshold',
  'MaxNodes',
  'PlacementMismatch',
  'NoStorage',
  'PortsExhausted',
  'ProvisionerUnavailable',
];

export interface Rejection {
  readonly code: ReasonCode;
  /** What it is counted under: the code, plus the resource or the missing tags. */
  readonly reason: string;
  /** Free text for the host → reason list, e.g. "asked 4, free 2" or "maxNodesPerHost 1". */
  readonly detail?: string;
}

function make(code: ReasonCode, detail?: string): Rejection {
  return detail === undefined ? { code, reason: code } : { code, reason: code, detail };
}

// Shared instances for the common, detail-free rejections: no allocation per rejected host.
const PLAIN = new Map<ReasonCode, Rejection>(REASON_CODES.map((c) => [c, { code: c, reason: c }]));

export function rejection(code: ReasonCode, detail?: string): Rejection {
  return detail === undefined ? PLAIN.get(code)! : make(code, detail);
}

export function insufficient(resource: string, detail?: string | (() => string)): Rejection {
  const reason = `Insufficient ${resource}`;
  if (detail === undefined) return { code: 'Insufficient', reason };
  if (typeof detail === 'string') return { code: 'Insufficient', reason, detail };
  // The detail is printed for at most a capped list of hosts, while a failed plan may turn down
  // tens of thousands: format it only when someone reads it.
  let text: string | undefined;
  return {
    code: 'Insufficient',
    reason,
    get detail(): string {
      return (text ??= detail());
    },
  };
}

export function overThreshold(resource: string, detail?: string): Rejection {
  const reason = `OverThreshold ${resource}`;
  return detail === undefined
    ? { code: 'OverThreshold', reason }
    : { code: 'OverThreshold', reason, detail };
}

/** `MissingTags [gpu,ssd]`: the tags the candidate lacks, sorted. */
export function missingTags(missing: readonly string[]): Rejection {
  return { code: 'MissingTags', reason: `MissingTags [${[...missing].sort().join(',')}]` };
}

/** Increments `counts[reason]`. */
export function countReason(counts: Record<string, number>, r: Rejection): void {
  counts[r.reason] = (counts[r.reason] ?? 0) + 1;
}

/** `7 Insufficient memory, 3 MissingTags [ssd], 2 Avoided`: by count descending, then by text. */
export function formatReasonCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
}
