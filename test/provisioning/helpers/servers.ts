// Real HTTP(S) servers on 127.0.0.1 for webhook tests: the kvm-farm example behind a fault plan
// that decides, per call, whether to answer, fail, hang or lie.
import { spawn, type ChildProcess } from 'node:child_process';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { KvmFarm } from '../../../examples/kvm-farm/farm.js';
import {
  answer,
  createFarmServer,
  farmHandler,
  send,
  type Handler,
} from '../../../examples/kvm-farm/http.js';

export type Fault =
  | 'ok'
  | 'http500'
  | 'hang'
  | 'process-then-500'
  | 'process-then-hang'
  | 'process-then-malformed'
  | { tamper: (answer: Record<string, unknown>, body: Record<string, unknown>) => unknown };

/** kind (`ProvisionRequest`, …) and the 1-based number of that kind's call → what to do. */
export type FaultPlan = (kind: string, n: number) => Fault;

export interface TestServer {
  url: string;
  calls: Array<{ kind: string; body: Record<string, unknown> }>;
  count(kind: string): number;
  close(): Promise<void>;
}

export interface ServeOptions {
  token?: string;
  tls?: { cert: string; key: string };
}

export async function serve(
  handler: Handler,
  tls?: ServeOptions['tls'],
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createFarmServer(handler, tls);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/provision`,
    close: () =>
      new Promise((resolve) => {
        // Hung exchanges hold sockets open; drop them so close() returns.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startFarm(
  farm: KvmFarm,
  plan: FaultPlan = () => 'ok',
  opts: ServeOptions = {},
): Promise<TestServer> {
  const calls: TestServer['calls'] = [];
  const counts = new Map<string, number>();
  const respond = (raw: unknown, res: http.ServerResponse) => {
    const body = raw as Record<string, unknown>;
    const kind = String(body.kind);
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    calls.push({ kind, body });
    const fault = plan(kind, n);
    void reply(fault, body, res);
  };
  const reply = async (fault: Fault, body: Record<string, unknown>, res: http.ServerResponse) => {
    if (fault === 'ok') return send(res, await answer(farm, body));
    if (fault === 'http500')
      return send(res, { status: 500, body: { message: 'injected failure' } });
    if (fault === 'hang') return;
    const done = await answer(farm, body);
    if (fault === 'process-then-500')
      return send(res, { status: 500, body: { message: 'lost answer' } });
    if (fault === 'process-then-hang') return;
    if (fault === 'process-then-malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"nodes": [ {"name": ');
      return;
    }
    return send(res, {
      status: done.status,
      body: await fault.tamper(done.body as Record<string, unknown>, body),
    });
  };
  const handler = farmHandler(farm, opts.token ? { token: () => opts.token } : {}, respond);
  const server = await serve(handler, opts.tls);
  return { ...server, calls, count: (kind) => counts.get(kind) ?? 0 };
}

export { KvmFarm };

const FARM_SERVER = fileURLToPath(new URL('../../../examples/kvm-farm/server.js', import.meta.url));

/** Starts the kvm-farm example as its own process, as a user would, and waits for its URL. */
export function startFarmProcess(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [FARM_SERVER, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`kvm-farm did not start: ${out}`)), 10_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kvm-farm exited with ${code}: ${out}`));
    });
  });
}
