// Which bound requests a Pending one may preempt, as a pure choice over an oracle. kube-scheduler's
// rules: only requests of strictly lower priority; lowest priority first, then the most recently
// bound; never when the request would not fit even with every candidate gone; and no victim that
// can be spared (after the shortest prefix that fits is found, each victim, highest priority
// first, is given back its place when the request still fits without taking it).
//
// `fits(victims)` answers whether the request would be served with those requests' nodes gone; the
// controller asks the engine with their reservations set aside (a dry run). It must be monotone —
// taking more away never makes a fit fail — which holding capacity is.

export interface Candidate {
  key: string;
  priority: number;
  /** When it was bound (its startTime): the most recent goes first among equals. */
  boundAt: string;
  /** Its creationTimestamp: within the same second of binding, the newest goes first. */
  created?: string;
}

const later = (a: string, b: string) => (a > b ? -1 : a < b ? 1 : 0);

/** The order victims are taken in. */
export const victimOrder = (a: Candidate, b: Candidate): number =>
  a.priority - b.priority ||
  later(a.boundAt, b.boundAt) ||
  later(a.created ?? '', b.created ?? '') ||
  (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The victims for a request of priority `priority`, or undefined when preempting cannot serve
 * it. Candidates not strictly lower are ignored.
 */
export function chooseVictims(
  priority: number,
  candidates: readonly Candidate[],
  fits: (victims: readonly Candidate[]) => boolean,
): Candidate[] | undefined {
  const ordered = candidates.filter((c) => c.priority < priority).sort(victimOrder);
  if (ordered.length === 0 || !fits(ordered)) return undefined;
  // The shortest prefix that fits (fits is monotone, so a binary search finds it).
  let lo = 1;
  let hi = ordered.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (fits(ordered.slice(0, mid))) hi = mid;
    else lo = mid + 1;
  }
  let victims = ordered.slice(0, lo);
  // Reprieve: the last taken (highest priority, least recently bound) first.
  for (let i = victims.length - 1; i >= 0; i--) {
    const without = victims.filter((_, j) => j !== i);
    if (fits(without)) victims = without;
  }
  return victims;
}
