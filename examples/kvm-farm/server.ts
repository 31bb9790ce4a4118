// Runs the simulated KVM farm as a webhook provisioner for Berth:
//   node dist/examples/kvm-farm/server.js --port 8443 --capacity 8 [--host 127.0.0.1]
//        [--hypervisors 2] [--make-ms 0] [--ignore-fences] [--token-file FILE] [--tls-cert FILE --tls-key FILE]
// Point a `webhook` provisioner at the printed URL (docs/extending.md).
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { KvmFarm } from './farm.js';
import { createFarmServer, farmHandler } from './http.js';

export interface RunningFarm {
  farm: KvmFarm;
  url: string;
  close(): Promise<void>;
}

export async function startFarm(argv: string[]): Promise<RunningFarm> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      capacity: { type: 'string', default: '8' },
      hypervisors: { type: 'string', default: '2' },
      'make-ms': { type: 'string', default: '0' },
      'ignore-fences': { type: 'boolean', default: false },
      'token-file': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
    },
    strict: true,
  });
  const capacity = Number(values.capacity);
  const port = Number(values.port);
  if (!Number.isInteger(capacity) || capacity < 0)
    throw new Error(`--capacity: not a count: ${values.capacity}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: not a port: ${values.port}`);
  const makeMs = Number(values['make-ms']);
  if (!Number.isInteger(makeMs) || makeMs < 0)
    throw new Error(`--make-ms: not a duration in ms: ${values['make-ms']}`);
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) {
    throw new Error('--tls-cert and --tls-key go together');
  }
  const farm = new KvmFarm({
    capacity,
    hypervisors: Number(values.hypervisors),
    makeMs,
    fencing: !values['ignore-fences'],
  });
  const tokenFile = values['token-file'];
  const tls =
    values['tls-cert'] && values['tls-key']
      ? {
          cert: readFileSync(values['tls-cert'], 'utf8'),
          key: readFileSync(values['tls-key'], 'utf8'),
        }
      : undefined;
  const handler = farmHandler(
    farm,
    tokenFile ? { token: () => readFileSync(tokenFile, 'utf8').trim() } : {},
  );
  const server = createFarmServer(handler, tls);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, values.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${values.host}:${address.port}/provision`;
  return {
    farm,
    url,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main(): Promise<void> {
  const running = await startFarm(process.argv.slice(2));
  process.stdout.write(
    `kvm-farm: ${running.farm.capacity} VM slots, listening on ${running.url}\n`,
  );
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`kvm-farm: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
