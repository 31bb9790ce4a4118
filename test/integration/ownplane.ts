// A control plane of a test's own, for tests that stop, restart or reconfigure the API server
// under a running operator (the shared one from harness.ts must stay up for everyone else).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { binDir } from './harness.js';

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/** Starts kube-controlplane on `dataDir` (kept between starts: same etcd data and credentials). */
export function startOwnPlane(
  dataDir: string,
  kubeconfig: string,
  port: number,
  apiserverFlags: string[] = [],
): Promise<ChildProcess> {
  const args = [
    `--data-dir=${dataDir}`,
    `--kubeconfig=${kubeconfig}`,
    `--port=${port}`,
    '--exit-with-parent',
  ];
  if (apiserverFlags.length > 0) args.push('--', ...apiserverFlags);
  const child = spawn(join(binDir, 'kube-controlplane'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('controlplane ready')) resolve(child);
    });
    child.stderr?.resume();
    child.on('exit', (code) =>
      reject(new Error(`kube-controlplane exited ${code} before ready: ${out}`)),
    );
  });
}

export async function stopOwnPlane(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  await exited;
}

/** kubectl against that control plane; rejects with stderr on a non-zero exit. */
export function kubectlFor(kubeconfig: string, cacheDir: string) {
  return (args: string[], stdin?: string) =>
    new Promise<string>((resolve, reject) => {
      const c = spawn(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, KUBECACHEDIR: cacheDir },
      });
      let out = '';
      let err = '';
      c.stdout.on('data', (b: Buffer) => (out += b.toString()));
      c.stderr.on('data', (b: Buffer) => (err += b.toString()));
      c.on('exit', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(' ')}: ${err}`)),
      );
      c.stdin.on('error', () => {});
      c.stdin.end(stdin ?? '');
    });
}
