// `berth explain rr/NAME -n NS`: why a request is where it is, for people, from its live status.
import { parseArgs } from 'node:util';
import { RESOURCE_REQUESTS, profileOf, type ResourceRequest } from '../api/index.js';
import { objectPath } from '../kube/paths.js';
import { KubeRest, loadKubeConfig, isNotFound } from '../kube/rest.js';

export const EXPLAIN_USAGE = `Usage: berth explain rr/NAME [-n NAMESPACE] [--kubeconfig PATH]

Prints where a ResourceRequest's nodes are, its conditions, and — when it is not (fully) placed —
why: the one-line summary, what each provisioner and allocator did, and the hosts not used.`;

const reasons = (r: Record<string, number> | undefined) =>
  Object.entries(r ?? {})
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');

/** The explanation of one request as text (pure, so it is tested without a cluster). */
export function explainRequest(rr: ResourceRequest): string {
  const s = rr.status;
  const out: string[] = [];
  const key = `${rr.metadata.namespace}/${rr.metadata.name}`;
  const spec = rr.spec;
  const min = spec.minCount ?? spec.count;
  out.push(
    `ResourceRequest ${key}: ${s?.phase ?? 'not yet reconciled'}${s?.ready ? ` (${s.ready} nodes running)` : ''}`,
  );
  out.push(
    `  asks: ${spec.count} node(s)${min !== spec.count ? `, at least ${min}` : ''}, profile ${profileOf({ spec })}` +
      `${
        spec.resources
          ? `, each ${Object.entries(spec.resources)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`
          : ''
      }` +
      `${spec.tags?.length ? `, tags ${spec.tags.join(',')}` : ''}`,
  );
  const nodes = s?.nodes ?? [];
  if (nodes.length > 0) {
    out.push('Nodes:');
    for (const n of nodes) {
      const where = n.host ? `${n.hostPool}/${n.host}` : n.provisioner;
      const vols = (n.volumes ?? [])
        .map((v) => `${v.name}→${v.storagePool} (${v.size})`)
        .join(', ');
      out.push(
        `  ${n.name}  ${n.state ?? ''}  ${where}  ${n.address}${n.port ? `:${n.port}` : ''}  [${n.provisioner}]${vols ? `  volumes: ${vols}` : ''}`,
      );
    }
  }
  if (s?.conditions?.length) {
    out.push('Conditions:');
    for (const c of s.conditions)
      out.push(
        `  ${c.type}=${c.status}  ${c.reason}: ${c.message}  (since ${c.lastTransitionTime})`,
      );
  }
  const e = s?.explanation;
  if (e) {
    out.push(`Why: ${e.summary}`);
    for (const p of e.provisioners ?? []) {
      out.push(
        `  provisioner ${p.provisioner} (${p.type}): gave ${p.got} of ${p.asked}${p.error ? ` — error: ${p.error}` : ''}${p.summary ? ` — ${p.summary}` : ''}`,
      );
      if (p.reasons && Object.keys(p.reasons).length > 0)
        out.push(`    reasons: ${reasons(p.reasons)}`);
      for (const a of p.allocators ?? []) {
        out.push(
          `    allocator ${a.allocator}: considered ${a.considered}, chose ${a.chosen}${a.reasons ? `; ${reasons(a.reasons)}` : ''}${a.error ? ` — error: ${a.error}` : ''}`,
        );
      }
    }
    if (e.hosts?.length) {
      out.push('  hosts not used:');
      for (const h of e.hosts) out.push(`    ${h.host}: ${h.reason}`);
    }
  }
  return out.join('\n') + '\n';
}

export async function explainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const target = positionals[0];
  const m = target
    ? /^(?:rr|resourcerequests?(?:\.berth\.dev)?)\/([a-z0-9.-]+)$/.exec(target)
    : null;
  if (values.help || !m) {
    console.log(EXPLAIN_USAGE);
    return values.help ? 0 : 2;
  }
  const kc = loadKubeConfig(values.kubeconfig);
  const namespace = values.namespace ?? kc.namespace ?? 'default';
  const rest = new KubeRest(kc, 'berth-cli');
  try {
    const rr = await rest.get<ResourceRequest>(objectPath(RESOURCE_REQUESTS, m[1]!, namespace));
    process.stdout.write(explainRequest(rr));
    return 0;
  } catch (err) {
    if (isNotFound(err)) {
      console.error(`berth explain: resourcerequest ${namespace}/${m[1]} not found`);
      return 1;
    }
    throw err;
  }
}
