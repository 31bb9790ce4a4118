// One measured burst, the same for every side: the benchmark's client creates `count` objects,
// `concurrency` in flight, while a watch records when each is bound; around the burst it reads
// the API server's write counters and the CPU time of the controller and of the API server.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffCounts, isWrite, requestCounts, total, type Counts } from './apimetrics.js';
import type { BenchClient, KubeObject } from './kubeclient.js';
import { cpuMs, peakRssMiB } from './procstats.js';
import { deadline, pct, pool, sleep } from './util.js';

export interface Burst<T extends KubeObject> {
  client: BenchClient;
  /** A namespaced collection: the creates go there, and it is watched. */
  collection: string;
  /** The creates' key in the write counts (`POST pods`): they are the client's, not the controller's. */
  createKey: string;
  /** Object names are `${prefix}${i}`. */
  prefix: string;
  count: number;
  concurrency: number;
  make(name: string): unknown;
  isBound(obj: T): boolean;
  /** The controller under test (kube-scheduler, the Berth operator). */
  ownPid: number;
  /** The API server (kube-controlplane, which holds etcd too). */
  apiPid: number;
  timeoutMs: number;
  /** Pause after the last bind before the counters are read, so trailing writes are counted. */
  settleMs?: number;
  /** Rejects when the controller dies: the burst fails at once instead of at the timeout. */
  died?: Promise<never>;
}

export interface Result {
  objects: number;
  /** First create → last bound. */
  seconds: number;
  boundPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** API writes per object, the creates excluded. */
  writesPerObject: number;
  /** The same by `VERB resource[/subresource]`, per object. */
  writesByKey: Record<string, number>;
  /** GET and LIST requests per object (watches not counted), all clients. */
  readsPerObject: number;
  readsByKey: Record<string, number>;
  ownCpuMsPerObject: number;
  apiCpuMsPerObject: number;
  ownPeakRssMiB: number;
  apiPeakRssMiB: number;
}

export async function measure<T extends KubeObject>(b: Burst<T>): Promise<Result> {
  const createdAt = new Map<string, number>();
  const boundAt = new Map<string, number>();
  let allBound: () => void = () => {};
  const bound = new Promise<void>((r) => (allBound = r));
  const watch = await keepWatching<T>(b.client, b.collection, (e) => {
    const name = e.object.metadata?.name;
    if (!name?.startsWith(b.prefix) || boundAt.has(name) || !b.isBound(e.object)) return;
    boundAt.set(name, performance.now());
    if (boundAt.size === b.count) allBound();
  });

  try {
    const before = await requestCounts(b.client);
    const own0 = cpuMs(b.ownPid);
    const api0 = cpuMs(b.apiPid);
    const profile = apiServerProfile(b);
    const start = performance.now();
    const names = Array.from({ length: b.count }, (_, i) => `${b.prefix}${i}`);
    const creates = pool(names, b.concurrency, async (name) => {
      createdAt.set(name, performance.now());
      await b.client.create(b.collection, b.make(name));
    });
    await Promise.race([
      Promise.all([creates, bound]),
      watch.done,
      ...(b.died ? [b.died] : []),
      deadline(
        b.timeoutMs,
        () => `only ${boundAt.size}/${b.count} bound after ${Math.round(b.timeoutMs / 1000)} s`,
      ),
    ]);
    const last = Math.max(...boundAt.values());
    await profile;
    await sleep(b.settleMs ?? 2000);
    const own1 = cpuMs(b.ownPid);
    const api1 = cpuMs(b.apiPid);
    const requests = diffCounts(await requestCounts(b.client), before);
    const writes: Counts = new Map([...requests].filter(([k]) => isWrite(k)));
    const reads: Counts = new Map([...requests].filter(([k]) => !isWrite(k)));
    writes.set(b.createKey, (writes.get(b.createKey) ?? 0) - b.count);
    if (!writes.get(b.createKey)) writes.delete(b.createKey);
    // Neither side runs leader election, so every Lease write is the API server's own identity
    // heartbeat (kube-system/apiserver-…, every 10 s): background, not the controller's work.
    writes.delete('PUT leases');
    const latencies = names.map((n) => boundAt.get(n)! - createdAt.get(n)!).sort((x, y) => x - y);
    const seconds = (last - start) / 1000;
    const perObject = (counts: Counts) =>
      Object.fromEntries(
        [...counts]
          .sort(([ka, x], [kb, y]) => y - x || ka.localeCompare(kb))
          .map(([k, n]) => [k, n / b.count]),
      );
    return {
      objects: b.count,
      seconds,
      boundPerSec: b.count / seconds,
      p50Ms: pct(latencies, 50),
      p99Ms: pct(latencies, 99),
      writesPerObject: total(writes) / b.count,
      writesByKey: perObject(writes),
      readsPerObject: total(reads) / b.count,
      readsByKey: perObject(reads),
      ownCpuMsPerObject: (own1 - own0) / b.count,
      apiCpuMsPerObject: (api1 - api0) / b.count,
      ownPeakRssMiB: peakRssMiB(b.ownPid),
      apiPeakRssMiB: peakRssMiB(b.apiPid),
    };
  } finally {
    watch.stop();
  }
}

let profiles = 0;

/**
 * With BENCH_PPROF=<dir> (and BENCH_APISERVER_ARGS=--profiling=true), a CPU profile of the API
 * server over the first BENCH_PPROF_SECONDS (4) of the burst, saved as
 * <dir>/<n>-<createKey>.pprof (n counts the bursts of the run) for `go tool pprof`: where the
 * API server spends its time on each side. A profile that cannot be taken is said, and the
 * burst's figures are kept.
 */
async function apiServerProfile<T extends KubeObject>(b: Burst<T>): Promise<void> {
  const dir = process.env.BENCH_PPROF;
  if (!dir) return;
  const seconds = Number(process.env.BENCH_PPROF_SECONDS ?? 4);
  const file = join(dir, `${++profiles}-${b.createKey.replace(/\W+/g, '_')}.pprof`);
  try {
    const profile = await b.client.bytes(`/debug/pprof/profile?seconds=${seconds}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, profile);
  } catch (err) {
    process.stderr.write(
      `bench: no API server profile (${String(err)}); is --profiling=true set?\n`,
    );
  }
}

/**
 * Creates one object and waits until it is bound: proof that the controller is serving.
 * Resolves with the moment (performance.now()) the watch saw it bound.
 */
export async function createAndWait<T extends KubeObject>(
  client: BenchClient,
  collection: string,
  body: KubeObject,
  isBound: (obj: T) => boolean,
  timeoutMs: number,
  why: () => string = () => '',
): Promise<number> {
  const name = body.metadata?.name;
  let done: () => void = () => {};
  const seen = new Promise<void>((r) => (done = r));
  const watch = await client.watch<T>(
    collection,
    (e) => {
      if (e.object.metadata?.name === name && isBound(e.object)) done();
    },
    `metadata.name=${name}`,
  );
  try {
    await client.create(collection, body);
    await Promise.race([
      seen,
      watch.done,
      deadline(timeoutMs, () => `${name} not bound after ${timeoutMs / 1000} s. ${why()}`),
    ]);
    return performance.now();
  } finally {
    watch.stop();
  }
}

/**
 * A watch that is started again when the server ends it (a loaded API server may close a watch
 * early); a restarted watch lists what exists again, so no bound object is missed. `done` only
 * rejects when a restart itself fails.
 */
async function keepWatching<T extends KubeObject>(
  client: Burst<T>['client'],
  collection: string,
  onEvent: (e: { type: string; object: T }) => void,
): Promise<{ stop: () => void; done: Promise<void> }> {
  let stopped = false;
  let current = await client.watch<T>(collection, onEvent);
  let fail: (err: unknown) => void = () => {};
  const done = new Promise<void>((_, reject) => (fail = reject));
  done.catch(() => {});
  const follow = (w: typeof current) =>
    w.done.then(
      () => {},
      async () => {
        if (stopped) return;
        try {
          current = await client.watch<T>(collection, onEvent);
          follow(current);
        } catch (err) {
          fail(err);
        }
      },
    );
  follow(current);
  return {
    stop: () => {
      stopped = true;
      current.stop();
    },
    done,
  };
}
