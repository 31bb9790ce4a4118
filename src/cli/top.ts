// `berth top` (and `kubectl berth top`): the fleet at a glance, read from the API with the
// caller's own credentials. A pool admin sees every pool and namespace; a tenant, who may not read
// the inventory, sees her namespace's requests and what they hold, and is told why pools are
// missing instead of getting an error.
import { parseArgs } from 'node:util';
import {
  HOST_POOLS,
  RESOURCE_REQUESTS,
  type HostPool,
  type ResourceRequest,
} from '../api/index.js';
import { KubeError } from '../kube/client.js';
import { listAll } from '../kube/list.js';
import { collectionPath } from '../kube/paths.js';
import { KubeRest, loadKubeConfig } from '../kube/rest.js';
import { sleep } from '../support/time.js';
import { parseDuration } from './flags.js';
import { fleetView, renderFleet, type FleetView } from './fleet.js';

export const TOP_USAGE = `Usage: berth top [-n NAMESPACE | -A] [--by namespace] [-o json] [--watch [--interval 2s]]
                 [--kubeconfig PATH]

The fleet at a glance: each HostPool's hosts, nodes and CPU, memory and extended resources used of
allocatable, with bars; with --by namespace, what each namespace's requests hold; and every request
still waiting, oldest first, with its reason and age. Reads the API with your credentials: without
the right to list HostPools (a tenant), the pools are left out and you see your namespace.
-A reads every namespace (the default is the kubeconfig's namespace). --watch redraws every
--interval until interrupted. -o json prints the same figures for scripts.`;

export interface TopData {
  view: FleetView;
  /** Why the pools are missing (no permission), when they are. */
  poolsHidden?: string;
}

export async function readFleet(
  rest: KubeRest,
  namespace: string | undefined,
  now: Date,
): Promise<TopData> {
  const requestsPath = collectionPath(RESOURCE_REQUESTS, namespace);
  const [pools, requests] = await Promise.all([
    listAll<HostPool>(rest, collectionPath(HOST_POOLS)).catch((err: unknown) => {
      if (err instanceof KubeError && (err.code === 403 || err.code === 401)) return undefined;
      throw err;
    }),
    listAll<ResourceRequest>(rest, requestsPath),
  ]);
  return {
    view: fleetView(pools, requests, now),
    ...(pools ? {} : { poolsHidden: 'no permission to list hostpools.berth.dev' }),
  };
}

export async function topCommand(args: string[], signal?: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      by: { type: 'string' },
      output: { type: 'string', short: 'o' },
      watch: { type: 'boolean', short: 'w' },
      interval: { type: 'string' },
      kubeconfig: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(TOP_USAGE);
    return 0;
  }
  if (values.by !== undefined && values.by !== 'namespace') {
    console.error(`berth top: --by: only "namespace" is known, got ${JSON.stringify(values.by)}`);
    return 2;
  }
  if (values.output !== undefined && values.output !== 'json') {
    console.error(`berth top: -o: only "json" is known, got ${JSON.stringify(values.output)}`);
    return 2;
  }
  const interval = parseDuration('interval', values.interval ?? '2s');
  const kc = loadKubeConfig(values.kubeconfig);
  const namespace = values['all-namespaces']
    ? undefined
    : (values.namespace ?? kc.namespace ?? 'default');
  const rest = new KubeRest(kc, 'berth-cli');
  const stop = signal ?? interruptSignal();
  try {
    return await loop();
  } catch (err) {
    if (err instanceof KubeError && (err.code === 403 || err.code === 401)) {
      console.error(`berth top: forbidden: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await rest.close();
  }

  async function loop(): Promise<number> {
    for (let frame = 0; ; frame++) {
      const data = await readFleet(rest, namespace, new Date());
      const text =
        values.output === 'json'
          ? JSON.stringify(
              { ...data.view, ...(data.poolsHidden ? { poolsHidden: data.poolsHidden } : {}) },
              null,
              2,
            ) + '\n'
          : renderFleet(data.view, {
              byNamespace: values.by === 'namespace',
              ...(data.poolsHidden ? { poolsHidden: data.poolsHidden } : {}),
            });
      // Redraw in place: home the cursor and clear, as top and watch do.
      process.stdout.write(values.watch && frame > 0 ? `\x1b[H\x1b[2J${text}` : text);
      if (!values.watch) return 0;
      await sleep(interval, stop);
      if (stop.aborted) return 0;
    }
  }
}

function interruptSignal(): AbortSignal {
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  process.once('SIGTERM', () => ac.abort());
  return ac.signal;
}
