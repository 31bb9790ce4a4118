// The invariants of docs/design.md#invariants, checked from what the API server holds (never
// from an operator's memory).
import { parseQuantity } from '../../src/allocation/index.js';
import type { HostPool, ResourceRequest } from '../../src/api/index.js';

export function checkInvariants(pools: HostPool[], requests: ResourceRequest[]): string[] {
  const problems: string[] = [];
  const used = new Map<string, Map<string, bigint>>();
  const nodesOnHost = new Map<string, number>();
  const seen = new Map<string, string>();
  for (const rr of requests) {
    const key = `${rr.metadata.namespace}/${rr.metadata.name}`;
    const live = (rr.status?.nodes ?? []).filter((n) => n.state !== 'Released');
    if (live.length > rr.spec.count)
      problems.push(`${key}: ${live.length} nodes > count ${rr.spec.count}`);
    if (rr.status?.phase === 'Ready' && live.length < (rr.spec.minCount ?? rr.spec.count)) {
      problems.push(`${key}: Ready with ${live.length} < minCount`);
    }
    for (const n of live) {
      const id = `${n.provisioner}/${n.hostPool ?? ''}/${n.host ?? ''}/${n.address}:${n.port ?? ''}`;
      if (n.port !== undefined && seen.has(id))
        problems.push(`${key}: node ${n.name} shares ${id} with ${seen.get(id)}`);
      seen.set(id, key);
      if (!n.hostPool || !n.host) continue;
      const host = `${n.hostPool}/${n.host}`;
      nodesOnHost.set(host, (nodesOnHost.get(host) ?? 0) + 1);
      const sums = used.get(host) ?? new Map<string, bigint>();
      for (const [r, q] of Object.entries(rr.spec.resources ?? {}))
        sums.set(r, (sums.get(r) ?? 0n) + parseQuantity(q));
      used.set(host, sums);
    }
  }
  for (const pool of pools) {
    for (const h of pool.spec.hosts) {
      const key = `${pool.metadata.name}/${h.name}`;
      const sums = used.get(key);
      if (h.maxNodes !== undefined && (nodesOnHost.get(key) ?? 0) > h.maxNodes)
        problems.push(`${key}: more than maxNodes`);
      if (!sums) continue;
      for (const [r, total] of sums) {
        const cap = parseQuantity(h.capacity[r] ?? 0) - parseQuantity(pool.spec.reserved?.[r] ?? 0);
        const ratio = pool.spec.overprovisioning?.[r] ?? 1;
        // total ≤ cap × ratio, in integers: total × 1e6 ≤ cap × round(ratio × 1e6)
        if (total * 1_000_000n > cap * BigInt(Math.round(ratio * 1_000_000)))
          problems.push(`${key}: ${r} over capacity`);
      }
    }
  }
  return problems;
}
