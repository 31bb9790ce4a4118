// Scale benchmark, Berth only: many hosts and requests on one fresh control plane.
//   1. bound/s, latency and the operator's peak RSS while it serves `--requests` single-node
//      requests (1 CPU, 1Gi) over `--hosts` hosts (HostPools of 50);
//   2. restart to serving: with every request bound and in place, SIGTERM the operator and wait
//      for it to exit, start a new one, create one more request at once, and time from the new
//      operator's start until that request is Ready (its lists, its rebuild of the ledger from
//      every bound request's status, then one reconcile).
//   npm run bench:scale -- [--hosts 1000] [--requests 10000] [--concurrency 16] [--workers 16]
//        [--timeout 1800] [--json]
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  API,
  createHostPools,
  isReady,
  NS,
  resourceRequest,
  startOperator,
  unthrottled,
  type ResourceRequestObject,
} from './berth.js';
import { createAndWait, measure } from './lib/measure.js';
import { applyCrds, died, log, startPlane, stopProcess, tail } from './lib/plane.js';
import { peakRssMiB, rssMiB } from './lib/procstats.js';
import { positiveInt } from './lib/util.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string' },
    requests: { type: 'string' },
    concurrency: { type: 'string' },
    workers: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});
const HOSTS = positiveInt('hosts', values.hosts, 1000);
const REQUESTS = positiveInt('requests', values.requests, 10_000);
const CONCURRENCY = positiveInt('concurrency', values.concurrency, 16);
const WORKERS = positiveInt('workers', values.workers, 16);
const TIMEOUT_MS = positiveInt('timeout', values.timeout, 1800) * 1000;
// 8 CPUs per host as in bench:e2e, more when the requests would not fit (10,000 on 1,000 hosts).
const HOST_CPU = Math.max(8, Math.ceil((REQUESTS * 1.25) / HOSTS));

const CONFIG = [
  'apiVersion: berth.dev/v1alpha1',
  'kind: OperatorConfig',
  'profiles:',
  '  - name: default',
  '    provisioners: [{ name: hosts, type: hosts }]',
  '    hostAllocators: [{ type: firstFit }]',
  '',
].join('\n');

async function main(): Promise<void> {
  log(`scale: control plane, CRDs, ${HOSTS} hosts of ${HOST_CPU} CPU`);
  const plane = await startPlane('scale');
  const { client } = plane;
  let operator: ReturnType<typeof startOperator> | undefined;
  try {
    await applyCrds(plane);
    await client.create('/api/v1/namespaces', { metadata: { name: NS } });
    await createHostPools(plane, HOSTS, HOST_CPU);
    const configPath = join(plane.dir, 'operatorconfig.yaml');
    writeFileSync(configPath, CONFIG);
    const collection = `${API}/namespaces/${NS}/resourcerequests`;

    const logFile = join(plane.dir, 'operator.log');
    operator = startOperator(plane, configPath, WORKERS, logFile);
    const first = operator;
    await createAndWait(client, collection, resourceRequest('warmup'), isReady, 120_000, () =>
      tail(logFile),
    );
    log(
      `scale: operator serving (pid ${first.pid}); ${REQUESTS} requests, ${CONCURRENCY} in flight`,
    );
    const burst = await measure<ResourceRequestObject>({
      client,
      collection,
      createKey: 'POST resourcerequests',
      prefix: 'r-',
      count: REQUESTS,
      concurrency: CONCURRENCY,
      make: (name) => resourceRequest(name),
      isBound: isReady,
      ownPid: first.pid!,
      apiPid: plane.pid,
      timeoutMs: TIMEOUT_MS,
      died: died(first, 'the operator', logFile),
    });
    const rssBeforeStop = rssMiB(first.pid!);

    log('scale: restarting the operator');
    const stopStart = performance.now();
    await stopProcess(first);
    const stopMs = performance.now() - stopStart;
    const logFile2 = join(plane.dir, 'operator-2.log');
    const started = performance.now();
    operator = startOperator(plane, configPath, WORKERS, logFile2);
    const second = operator;
    const readyAt = await createAndWait(
      client,
      collection,
      resourceRequest('after-restart'),
      isReady,
      TIMEOUT_MS,
      () => tail(logFile2),
    );
    const restartMs = readyAt - started;
    const secondRss = rssMiB(second.pid!);
    const secondPeak = peakRssMiB(second.pid!);

    const out = {
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model ?? '?',
        memGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      workload: {
        hosts: HOSTS,
        hostCpu: HOST_CPU,
        hostMemory: `${4 * HOST_CPU}Gi`,
        requests: REQUESTS,
        concurrency: CONCURRENCY,
        workers: WORKERS,
        operatorFlags: unthrottled(),
      },
      burst,
      operatorRssAfterBurstMiB: rssBeforeStop,
      stopMs,
      restartToServingMs: restartMs,
      restartedOperatorRssMiB: secondRss,
      restartedOperatorPeakRssMiB: secondPeak,
    };
    if (values.json) {
      console.log(JSON.stringify(out, null, 2));
      return;
    }
    const f = (x: number, d = 1) =>
      x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
    console.log(
      `machine: ${out.machine.cores} cores (${out.machine.cpu}), ${out.machine.memGiB} GiB, Node ${out.machine.node}`,
    );
    console.log(
      `workload: ${HOSTS} hosts of ${HOST_CPU} CPU, ${4 * HOST_CPU}Gi (HostPools of 50); ${REQUESTS} single-node requests of 1 CPU, 1Gi; client concurrency ${CONCURRENCY}; operator --workers=${WORKERS} ${unthrottled().join(' ')}`,
    );
    console.log('');
    console.log('| figure | value |');
    console.log('| --- | --- |');
    console.log(`| bound / s (first create → last bound) | ${f(burst.boundPerSec)} |`);
    console.log(
      `| latency create → Ready p50 / p99, ms | ${f(burst.p50Ms, 0)} / ${f(burst.p99Ms, 0)} |`,
    );
    console.log(`| API writes per request (creates excluded) | ${f(burst.writesPerObject, 2)} |`);
    console.log(`| API reads (GET, LIST) per request | ${f(burst.readsPerObject, 2)} |`);
    console.log(`| operator CPU per request, ms | ${f(burst.ownCpuMsPerObject, 2)} |`);
    console.log(`| API server (+etcd) CPU per request, ms | ${f(burst.apiCpuMsPerObject, 2)} |`);
    console.log(`| operator peak RSS, MiB | ${f(burst.ownPeakRssMiB, 0)} |`);
    console.log(`| operator RSS with every request bound, MiB | ${f(rssBeforeStop, 0)} |`);
    console.log(`| stop (SIGTERM → exit), ms | ${f(stopMs, 0)} |`);
    console.log(
      `| restart to serving (new operator started → a new request Ready, ${REQUESTS} bound in place), ms | ${f(restartMs, 0)} |`,
    );
    console.log(
      `| restarted operator RSS / peak RSS, MiB | ${f(secondRss, 0)} / ${f(secondPeak, 0)} |`,
    );
  } finally {
    if (operator) await stopProcess(operator);
    await plane.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
