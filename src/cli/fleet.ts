// `berth top`'s view of the fleet, as pure functions of what the API returned: how full each pool
// is, what each namespace holds, what waits and why. No I/O here, so the arithmetic and the
// rendering are tested on the examples (test/cli/fleet.test.ts) without a cluster.
import type { HostPool, ResourceRequest } from '../api/index.js';
import { parseQuantity } from '../allocation/index.js';

export interface Usage {
  resource: string;
  /** As people write quantities (from the pool status, or summed here). */
  used: string;
  total?: string;
  /** used / total, 0..1 (more when overcommitted); absent without a total. */
  fraction?: number;
}

export interface PoolRow {
  name: string;
  hosts: number;
  nodes: number;
  ready: string;
  usage: Usage[];
}

export interface NamespaceRow {
  namespace: string;
  requests: number;
  nodes: number;
  pending: number;
  usage: Usage[];
}

export interface PendingRow {
  namespace: string;
  name: string;
  phase: string;
  ageSeconds: number;
  reason: string;
}

export interface FleetView {
  /** Absent when the pools could not be read (a tenant's credentials). */
  pools?: PoolRow[];
  namespaces: NamespaceRow[];
  pending: PendingRow[];
}

const NANO = 1_000_000_000n;

/** Base units as a number (cores, bytes), for fractions and sums. */
const amount = (q: string | number): number => {
  const n = parseQuantity(q);
  return Number(n / NANO) + Number(n % NANO) / 1e9;
};

const BINARY: Array<[string, number]> = [
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/** A sum as people write it: memory-like in binary units, the rest as plain numbers. */
export function formatAmount(resource: string, value: number): string {
  if (resource === 'memory' || resource === 'storage' || resource.endsWith('-storage')) {
    for (const [unit, size] of BINARY) if (value >= size) return `${trim(value / size)}${unit}`;
    return `${Math.round(value)}`;
  }
  if (!Number.isInteger(value) && value < 1000) return `${Math.round(value * 1000)}m`;
  return trim(value);
}

const trim = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1).replace(/\.0$/, ''));

/** cpu, memory first, then by name: the order of the pool status. */
const byResource = (a: string, b: string) => {
  const rank = (r: string) => (r === 'cpu' ? 0 : r === 'memory' ? 1 : 2);
  return rank(a) - rank(b) || a.localeCompare(b);
};

export function poolRows(pools: readonly HostPool[]): PoolRow[] {
  return [...pools]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((p) => {
      const s = p.status ?? {};
      const capacity = s.capacity ?? {};
      const allocated = s.allocated ?? {};
      const ready = s.conditions?.find((c) => c.type === 'Ready');
      return {
        name: p.metadata.name,
        hosts: s.hostCount ?? p.spec.hosts.length,
        nodes: s.nodes ?? 0,
        ready: ready ? (ready.status === 'True' ? 'Ready' : ready.reason) : 'Unknown',
        usage: Object.keys(capacity)
          .sort(byResource)
          .map((resource) => {
            const total = amount(capacity[resource]!);
            const used = amount(allocated[resource] ?? '0');
            return {
              resource,
              used: String(allocated[resource] ?? '0'),
              total: String(capacity[resource]),
              ...(total > 0 ? { fraction: used / total } : {}),
            };
          }),
      };
    });
}

const live = (rr: ResourceRequest) =>
  (rr.status?.nodes ?? []).filter((n) => n.state !== 'Releasing' && n.state !== 'Released');

/** What each namespace's requests hold: per-node resources times live nodes, volumes as storage. */
export function namespaceRows(requests: readonly ResourceRequest[]): NamespaceRow[] {
  const rows = new Map<string, { row: NamespaceRow; sums: Map<string, number> }>();
  for (const rr of requests) {
    const ns = rr.metadata.namespace ?? '';
    let entry = rows.get(ns);
    if (!entry) {
      entry = {
        row: { namespace: ns, requests: 0, nodes: 0, pending: 0, usage: [] },
        sums: new Map(),
      };
      rows.set(ns, entry);
    }
    const nodes = live(rr).length;
    entry.row.requests++;
    entry.row.nodes += nodes;
    if (isWaiting(rr)) entry.row.pending++;
    const add = (resource: string, value: number) =>
      entry.sums.set(resource, (entry.sums.get(resource) ?? 0) + value);
    for (const [resource, q] of Object.entries(rr.spec.resources ?? {}))
      add(resource, amount(q) * nodes);
    for (const v of rr.spec.volumes ?? []) add('storage', amount(v.size) * nodes);
  }
  return [...rows.values()]
    .sort((a, b) => a.row.namespace.localeCompare(b.row.namespace))
    .map(({ row, sums }) => ({
      ...row,
      usage: [...sums.keys()]
        .sort(byResource)
        .map((resource) => ({ resource, used: formatAmount(resource, sums.get(resource)!) })),
    }));
}

const isWaiting = (rr: ResourceRequest) =>
  !rr.metadata.deletionTimestamp &&
  (rr.status?.phase === undefined ||
    rr.status.phase === 'Pending' ||
    rr.status.phase === 'Provisioning');

/** Requests waiting, oldest first, each with its one-line reason. */
export function pendingRows(requests: readonly ResourceRequest[], now: Date): PendingRow[] {
  return requests
    .filter(isWaiting)
    .map((rr) => {
      const created = Date.parse(rr.metadata.creationTimestamp ?? '');
      const ready = rr.status?.conditions?.find((c) => c.type === 'Ready');
      return {
        namespace: rr.metadata.namespace ?? '',
        name: rr.metadata.name,
        phase: rr.status?.phase ?? 'New',
        ageSeconds: Number.isFinite(created)
          ? Math.max(0, Math.floor((now.getTime() - created) / 1000))
          : 0,
        reason: rr.status?.explanation?.summary ?? ready?.message ?? 'not reconciled yet',
      };
    })
    .sort(
      (a, b) =>
        b.ageSeconds - a.ageSeconds ||
        `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
    );
}

export function fleetView(
  pools: readonly HostPool[] | undefined,
  requests: readonly ResourceRequest[],
  now: Date,
): FleetView {
  return {
    ...(pools ? { pools: poolRows(pools) } : {}),
    namespaces: namespaceRows(requests),
    pending: pendingRows(requests, now),
  };
}

/** `███████░░░ 70%`: the fraction as a bar of `width` cells (full when overcommitted). */
export function bar(fraction: number | undefined, width = 16): string {
  if (fraction === undefined) return ' '.repeat(width + 5);
  const cells = Math.min(width, Math.round(Math.max(0, fraction) * width));
  const pct = `${Math.round(fraction * 100)}%`.padStart(4);
  return `${'█'.repeat(cells)}${'░'.repeat(width - cells)} ${pct}`;
}

export function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** The view for a terminal: pools with bars, then namespaces (`by`), then what waits. */
export function renderFleet(
  view: FleetView,
  opts: { byNamespace?: boolean; poolsHidden?: string; maxPending?: number } = {},
): string {
  const maxPending = opts.maxPending ?? 20;
  const out: string[] = [];
  if (view.pools) {
    const resources = [...new Set(view.pools.flatMap((p) => p.usage.map((u) => u.resource)))].sort(
      byResource,
    );
    const shown = resources.slice(0, 3); // cpu, memory and the first extended resource fit a line
    const rows = [
      ['POOL', 'HOSTS', 'NODES', ...shown.map((r) => r.toUpperCase()), 'READY'],
      ...view.pools.map((p) => [
        p.name,
        String(p.hosts),
        String(p.nodes),
        ...shown.map((r) => {
          const u = p.usage.find((x) => x.resource === r);
          return u ? `${bar(u.fraction)} ${u.used}/${u.total}` : '-';
        }),
        p.ready,
      ]),
    ];
    out.push(...table(rows));
  } else if (opts.poolsHidden) {
    out.push(`(pools not shown: ${opts.poolsHidden})`);
  }
  if (opts.byNamespace) {
    out.push('');
    const rows = [
      ['NAMESPACE', 'REQUESTS', 'NODES', 'PENDING', 'HOLDS'],
      ...view.namespaces.map((n) => [
        n.namespace,
        String(n.requests),
        String(n.nodes),
        String(n.pending),
        n.usage.map((u) => `${u.resource}=${u.used}`).join(' '),
      ]),
    ];
    out.push(...table(rows));
  }
  out.push('');
  if (view.pending.length === 0) out.push('Nothing is waiting.');
  else
    out.push(
      ...table([
        ['PENDING', 'PHASE', 'AGE', 'WHY'],
        ...view.pending
          .slice(0, maxPending)
          .map((p) => [`${p.namespace}/${p.name}`, p.phase, age(p.ageSeconds), p.reason]),
      ]),
    );
  // A screen, not a report: the oldest waiting; -o json has them all.
  if (view.pending.length > maxPending)
    out.push(`… and ${view.pending.length - maxPending} more waiting (-o json lists them all)`);
  return out.join('\n') + '\n';
}
