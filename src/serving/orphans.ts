// Which nodes an external service holds that nobody records: pure, like Karpenter's garbage
// collection of cloud instances no NodeClaim owns. The collector (src/controller/collector.ts)
// lists what each provisioner's service holds, asks `orphans` what to release, and releases it.
//
// A node is an orphan when no request records it — the same request (uid), the same node name,
// the same provisioner, in a state other than Released — and its request is not being worked on
// in memory (a stack running, nodes obtained but not written, a deletion being buried). It is
// released only once it has been seen orphaned for the whole grace period, across sweeps: a
// request bound a moment ago may not be in the cache yet, and a service's clock is not ours.
import type { ResourceRequest } from '../api/index.js';
import { idempotencyKey, type HeldNode } from '../provisioning/index.js';

/** `<provisioner>` + key: the same key held through two provisioners is two nodes. */
export const suspectKey = (provisioner: string, node: Pick<HeldNode, 'idempotencyKey'>): string =>
  `${provisioner}\u0000${node.idempotencyKey}`;

/** Every live node the requests record, as suspect keys. */
export function recordedNodes(requests: readonly ResourceRequest[]): Set<string> {
  const out = new Set<string>();
  for (const rr of requests) {
    const identity = {
      namespace: rr.metadata.namespace ?? '',
      name: rr.metadata.name,
      ...(rr.metadata.uid ? { uid: rr.metadata.uid } : {}),
    };
    for (const n of rr.status?.nodes ?? []) {
      if (n.state === 'Released') continue;
      out.add(suspectKey(n.provisioner, { idempotencyKey: idempotencyKey(identity, n.name) }));
    }
  }
  return out;
}

export interface OrphanInput {
  /** What each provisioner's service answered; a provisioner whose list failed is absent. */
  held: ReadonlyMap<string, readonly HeldNode[]>;
  /** From `recordedNodes`. */
  recorded: ReadonlySet<string>;
  /** True while the request (by uid, else namespace/name) is being worked on in memory. */
  busy(request: HeldNode['request']): boolean;
  /** Suspect key → when it was first seen orphaned (ms), from the previous sweep. */
  suspects: ReadonlyMap<string, number>;
  nowMs: number;
  graceMs: number;
}

export interface OrphanDecision {
  /** Provisioner → nodes to release now. */
  release: Map<string, HeldNode[]>;
  /** Orphans seen for the first time in this sweep (for the metric). */
  found: Map<string, number>;
  /** The suspects to remember for the next sweep (the released ones included until done). */
  suspects: Map<string, number>;
}

export function orphans(input: OrphanInput): OrphanDecision {
  const release = new Map<string, HeldNode[]>();
  const found = new Map<string, number>();
  const suspects = new Map<string, number>();
  for (const [provisioner, nodes] of input.held) {
    for (const node of nodes) {
      const key = suspectKey(provisioner, node);
      if (input.recorded.has(key) || input.busy(node.request)) continue;
      const since = input.suspects.get(key);
      if (since === undefined) {
        found.set(provisioner, (found.get(provisioner) ?? 0) + 1);
        suspects.set(key, input.nowMs);
        continue;
      }
      suspects.set(key, since);
      if (input.nowMs - since >= input.graceMs) {
        const list = release.get(provisioner) ?? [];
        list.push(node);
        release.set(provisioner, list);
      }
    }
  }
  // A provisioner whose list failed keeps its suspects: one failed call must not restart the wait.
  for (const [key, since] of input.suspects) {
    const provisioner = key.slice(0, key.indexOf('\u0000'));
    if (!input.held.has(provisioner)) suspects.set(key, since);
  }
  return { release, found, suspects };
}
