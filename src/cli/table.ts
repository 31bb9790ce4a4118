// `-o table`: the simulator's result for people, one line per request and per pool.
import { DEFAULT_PROFILE, profileOf, type ResourceRequest } from '../api/index.js';
import { stringify } from 'yaml';
import type { SimulationOutput } from '../sim/simulate.js';

function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function renderTable(result: SimulationOutput, requests: ResourceRequest[]): string {
  const profiles = new Map(
    requests.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, profileOf(r)]),
  );
  const rq = [['REQUEST', 'PROFILE', 'PHASE', 'READY', 'WHERE / WHY']];
  for (const r of result.requests) {
    const key = `${r.namespace}/${r.name}`;
    const nodes = r.status.nodes ?? [];
    const where = nodes.length
      ? nodes
          .map((n) =>
            n.host
              ? `${n.hostPool}/${n.host}${n.port ? `:${n.port}` : ''}`
              : `${n.provisioner}:${n.address}:${n.port ?? ''}`,
          )
          .join(', ')
      : (r.status.explanation?.summary ?? '');
    rq.push([
      key,
      profiles.get(key) ?? DEFAULT_PROFILE,
      r.status.phase ?? '',
      r.status.ready ?? '',
      where,
    ]);
  }
  const hp = [['HOSTPOOL', 'HOSTS', 'NODES', 'CPU', 'MEMORY', 'READY']];
  for (const p of result.hostPools) {
    const ready = p.status.conditions?.find((c) => c.type === 'Ready');
    hp.push([
      p.name,
      String(p.status.hostCount ?? 0),
      String(p.status.nodes ?? 0),
      p.status.cpu ?? '',
      p.status.memory ?? '',
      ready ? `${ready.status} ${ready.reason}` : '',
    ]);
  }
  const sp = [['STORAGEPOOL', 'VOLUMES', 'ALLOCATED/CAPACITY', 'READY']];
  for (const p of result.storagePools) {
    const ready = p.status.conditions?.find((c) => c.type === 'Ready');
    sp.push([
      p.name,
      String(p.status.volumes ?? 0),
      `${p.status.allocated ?? '0'}/${p.status.capacity ?? '0'}`,
      ready ? `${ready.status} ${ready.reason}` : '',
    ]);
  }
  return `${columns(rq)}\n${columns(hp)}\n${columns(sp)}`;
}

/** The simulator's result in the format asked for. */
export function render(
  result: SimulationOutput,
  format: 'json' | 'yaml' | 'table',
  requests: ResourceRequest[],
): string {
  if (format === 'json') return JSON.stringify(result, null, 2) + '\n';
  if (format === 'yaml') return stringify(result, { lineWidth: 0 });
  return renderTable(result, requests);
}
