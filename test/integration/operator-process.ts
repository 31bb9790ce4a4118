// Runs `berth run` as a real process against the test control plane, as users run it: the
// compiled CLI, a config file, a kubeconfig. Every process started here is stopped by PID, by
// the test that started it or, failing that, when the test run exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './harness.js';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live)
    if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
});

export interface OperatorOptions {
  kubeconfig: string;
  config: string;
  leaseNamespace: string;
  leaseName?: string;
  identity?: string;
  leaderElect?: boolean;
  args?: string[];
  env?: Record<string, string>;
}

export interface OperatorProcess {
  readonly pid: number;
  readonly dir: string;
  readonly configPath: string;
  logs(): string;
  metricsPort(): Promise<number>;
  healthPort(): Promise<number>;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  metrics(): Promise<string>;
  /** SIGTERM, then waits; SIGKILL after the grace period. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  kill9(): Promise<void>;
  exited(): boolean;
}

export async function startOperator(o: OperatorOptions): Promise<OperatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-operator-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, o.config);
  const args = [
    join(repoRoot, 'dist/src/cli/main.js'),
    'run',
    `--kubeconfig=${o.kubeconfig}`,
    `--config=${configPath}`,
    `--lease-namespace=${o.leaseNamespace}`,
    `--lease-name=${o.leaseName ?? 'berth-operator'}`,
    `--leader-elect=${o.leaderElect ?? true}`,
    '--metrics-bind-address=127.0.0.1:0',
    '--health-probe-bind-address=127.0.0.1:0',
    '--lease-duration=4s',
    '--renew-deadline=3s',
    '--retry-period=500ms',
    ...(o.identity ? [`--identity=${o.identity}`] : []),
    ...(o.args ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const waiters: Array<() => void> = [];
  const onData = (b: Buffer) => {
    output += b.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      live.delete(child);
      for (const w of waiters.splice(0)) w();
      resolve(code);
    }),
  );

  const waitForLog = async (pattern: RegExp, timeoutMs = 30_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(output);
      if (m) return m[0];
      if (child.exitCode !== null)
        throw new Error(
          `operator exited (${child.exitCode}) before ${pattern}:\n${output.slice(-4000)}`,
        );
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`operator log never matched ${pattern}:\n${output.slice(-4000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  };
  const port = async (re: RegExp) => Number(/(\d+)$/.exec(await waitForLog(re))?.[1]);
  const metricsPort = () => port(/"metricsPort":\d+/);
  const healthPort = () => port(/"address":"127\.0\.0\.1:\d+/);

  return {
    pid: child.pid ?? -1,
    dir,
    configPath,
    logs: () => output,
    metricsPort,
    healthPort,
    waitForLog,
    metrics: async () => (await fetch(`http://127.0.0.1:${await metricsPort()}/metrics`)).text(),
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        process.kill(child.pid, 'SIGTERM');
        const t = setTimeout(
          () => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'),
          graceMs,
        );
        const code = await exit;
        clearTimeout(t);
        rmSync(dir, { recursive: true, force: true });
        return code;
      }
      rmSync(dir, { recursive: true, force: true });
      return child.exitCode;
    },
    kill9: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid)
        process.kill(child.pid, 'SIGKILL');
      await exit;
      rmSync(dir, { recursive: true, force: true });
    },
    exited: () => child.exitCode !== null || child.signalCode !== null,
  };
}

/** Sum of a Prometheus counter/gauge over all its label sets. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}
