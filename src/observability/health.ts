// /healthz, /readyz and /metrics on one small HTTP server bound to the address given.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { http } from '../support/node-http.js';

export type Check = () => string | undefined; // undefined: healthy; otherwise why not

export interface ProbeServer {
  port: number;
  close(): Promise<void>;
}

export async function startProbeServer(
  host: string,
  port: number,
  checks: { healthz: Record<string, Check>; readyz: Record<string, Check> },
  registry?: Registry,
): Promise<ProbeServer> {
  const server: Server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if ((path === '/healthz' || path === '/readyz' || path === '/livez') && req.method === 'GET') {
      const set = path === '/readyz' ? checks.readyz : checks.healthz;
      const failures = Object.entries(set)
        .map(([name, check]) => [name, check()] as const)
        .filter(([, why]) => why !== undefined);
      res.writeHead(failures.length === 0 ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(
        failures.length === 0
          ? 'ok\n'
          : failures.map(([n, why]) => `[-]${n} failed: ${why}`).join('\n') + '\n',
      );
      return;
    }
    if (path === '/metrics' && registry) {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
      return;
    }
    res.writeHead(404);
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
