// HTTP(S) front of the farm: one endpoint for every call (the body's `kind` says which), bearer-token
// authentication, and two read-only GETs for people and tests: /healthz and /ledger.
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { FarmError, type KvmFarm } from './farm.js';

export interface FarmHttpOptions {
  /** When set, every POST needs `Authorization: Bearer <token>`. Read per request: rotation works. */
  token?: () => string | undefined;
  /** PEM; serve HTTPS when given. */
  tls?: { cert: string; key: string };
}

export interface Answer {
  status: number;
  body: unknown;
}

const MAX_BODY = 1024 * 1024;

/** Answers one decoded request; exported so tests can wrap it with faults. */
export async function answer(farm: KvmFarm, body: unknown): Promise<Answer> {
  const kind = (body as { kind?: unknown } | null)?.kind;
  try {
    switch (kind) {
      case 'ProvisionRequest':
        return {
          status: 200,
          body: await farm.provision(body as Parameters<KvmFarm['provision']>[0]),
        };
      case 'ListRequest':
        return { status: 200, body: farm.list(body as Parameters<KvmFarm['list']>[0]) };
      case 'SpawnRequest':
        return { status: 200, body: farm.spawn(body as Parameters<KvmFarm['spawn']>[0]) };
      case 'ReleaseRequest':
        return { status: 200, body: farm.release(body as Parameters<KvmFarm['release']>[0]) };
      default:
        return { status: 400, body: { message: `unknown kind ${JSON.stringify(kind)}` } };
    }
  } catch (err) {
    const status = err instanceof FarmError ? err.status : 500;
    return { status, body: { message: (err as Error).message } };
  }
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** The request handler; `respond` lets a wrapper (fault injection) decide what goes out. */
export function farmHandler(
  farm: KvmFarm,
  opts: FarmHttpOptions = {},
  respond: (body: unknown, res: http.ServerResponse) => void = (body, res) =>
    void answer(farm, body).then((a) => send(res, a)),
): Handler {
  return (req, res) => {
    if (req.method === 'GET' && req.url === '/healthz')
      return send(res, { status: 200, body: { ok: true } });
    if (req.method === 'GET' && req.url === '/ledger') {
      return send(res, {
        status: 200,
        body: {
          vms: farm.vms,
          unknownReleases: farm.unknownReleases,
          fencedProvisions: farm.fencedProvisions,
        },
      });
    }
    if (req.method !== 'POST') return send(res, { status: 405, body: { message: 'POST only' } });
    const expected = opts.token?.();
    if (expected && !bearerMatches(req.headers.authorization, expected)) {
      return send(res, { status: 401, body: { message: 'missing or wrong bearer token' } });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return send(res, { status: 413, body: { message: 'body too large' } });
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, { status: 400, body: { message: 'body is not JSON' } });
      }
      respond(body, res);
    });
  };
}

export function send(res: http.ServerResponse, a: Answer): void {
  const text = JSON.stringify(a.body);
  res.writeHead(a.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export function createFarmServer(handler: Handler, tls?: FarmHttpOptions['tls']): http.Server {
  return tls
    ? https.createServer({ cert: tls.cert, key: tls.key }, handler)
    : http.createServer(handler);
}
