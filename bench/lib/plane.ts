// A fresh control plane per measured side (bin/kube-controlplane: kube-apiserver with etcd in
// the same process), and the child processes of a run: each is tracked by its PID and stopped
// by it, on the normal path, on an error, and on Ctrl-C.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchClient } from './kubeclient.js';

/** The repository (this file runs from dist/bench/lib/). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const bin = join(root, 'bin');

export const log = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

const children = new Set<ChildProcess>();
let handlersInstalled = false;

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    for (const child of children) if (child.exitCode === null && child.pid) child.kill('SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const child of children) if (child.exitCode === null && child.pid) child.kill('SIGKILL');
  });
}

/** Starts a tracked child; its stderr (and stdout unless piped) goes to `logFile`. */
export function startProcess(
  command: string,
  args: string[],
  logFile: string,
  pipeStdout = false,
): ChildProcess {
  installSignalHandlers();
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', pipeStdout ? 'pipe' : fd, fd] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Rejects when the child exits (handled, so an expected exit later is no unhandled rejection). */
export function died(child: ChildProcess, what: string, logFile: string): Promise<never> {
  const p = new Promise<never>((_, rej) =>
    child.once('exit', (code, signal) =>
      rej(new Error(`${what} exited (${code ?? signal}):\n${tail(logFile)}`)),
    ),
  );
  p.catch(() => {});
  return p;
}

/** SIGTERM by PID, SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The last lines of a log, for an error message. */
export function tail(file: string, lines = 15): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export interface Plane {
  dir: string;
  kubeconfig: string;
  server: string;
  /** PID of kube-controlplane: kube-apiserver and etcd, one process. */
  pid: number;
  client: BenchClient;
  stop(): Promise<void>;
}

/** bin/kube-controlplane and bin/kubectl, built by hack/testenv-build.sh (`make testenv`) if missing. */
function ensureTestenv(): void {
  if (existsSync(join(bin, 'kube-controlplane')) && existsSync(join(bin, 'kubectl'))) return;
  log('bin/kube-controlplane or bin/kubectl is missing: building them (hack/testenv-build.sh)');
  const r = spawnSync(join(root, 'hack/testenv-build.sh'), { stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error('hack/testenv-build.sh failed');
}

export async function startPlane(label: string): Promise<Plane> {
  ensureTestenv();
  const dir = mkdtempSync(join(tmpdir(), `berth-bench-${label}-`));
  const kubeconfig = join(dir, 'kubeconfig');
  const logFile = join(dir, 'controlplane.log');
  const child = startProcess(
    join(bin, 'kube-controlplane'),
    [
      `--kubeconfig=${kubeconfig}`,
      `--data-dir=${join(dir, 'data')}`,
      '--exit-with-parent',
      // More kube-apiserver flags, e.g. BENCH_APISERVER_ARGS=--profiling=true for pprof.
      ...(process.env.BENCH_APISERVER_ARGS
        ? ['--', ...process.env.BENCH_APISERVER_ARGS.split(' ')]
        : []),
    ],
    logFile,
    true,
  );
  const ready = await new Promise<{ server: string; pid: number }>((res, rej) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /controlplane ready (\{.*\})/.exec(out);
      if (m?.[1]) res(JSON.parse(m[1]) as { server: string; pid: number });
    });
    child.once('exit', (code) =>
      rej(new Error(`control plane exited ${code} before ready:\n${tail(logFile)}`)),
    );
  });
  const client = new BenchClient(kubeconfig);
  return {
    dir,
    kubeconfig,
    server: ready.server,
    pid: child.pid ?? ready.pid,
    client,
    stop: async () => {
      await client.close().catch(() => {});
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs bin/kubectl against the plane; rejects with its stderr unless it exits 0. */
export function kubectl(plane: Plane, args: string[]): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(join(bin, 'kubectl'), ['--kubeconfig', plane.kubeconfig, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECACHEDIR: join(plane.dir, 'kubecache') },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('error', rej);
    child.once('exit', (code) =>
      code === 0 ? res(out) : rej(new Error(`kubectl ${args.join(' ')}: ${err.trim()}`)),
    );
  });
}

export async function applyCrds(plane: Plane): Promise<void> {
  await kubectl(plane, ['apply', '--server-side', '-f', join(root, 'crds')]);
  await kubectl(plane, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
}
