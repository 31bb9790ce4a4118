// The connections under KubeRest: node:http / node:https Agents with keep-alive, TLS towards the
// API server as the kubeconfig says, and a cluster's `proxy-url` through an HTTP CONNECT tunnel
// (as client-go does). Not undici: importing it alone costs ~28 MiB of RSS (issue 11), an Agent
// next to nothing.
import type { Agent as HttpAgent, ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { http } from '../support/node-http.js';
import type { TlsOptions } from './kubeconfig.js';

export interface AgentOptions {
  /** Connections at once; more requests wait for one. Default: no limit. */
  maxSockets?: number;
  /**
   * How long an idle connection is kept open, and how long a connection (and a proxy's CONNECT)
   * may take to be made.
   */
  idleMs: number;
}

/** TCP keep-alive probes on the connections, as client-go's dialer sends them. */
const TCP_KEEPALIVE_MS = 30_000;

/** A keep-alive Agent for `server` (an http: or https: URL), through `proxyUrl` if given. */
export function makeAgent(
  server: URL,
  tls: TlsOptions,
  o: AgentOptions,
  proxyUrl?: string,
): HttpAgent {
  const pool = {
    keepAlive: true,
    keepAliveMsecs: TCP_KEEPALIVE_MS,
    // A socket's timeout: while it connects (the request gets a 'timeout') and while it is free
    // (the Agent closes it).
    timeout: o.idleMs,
    // The most recently used connection first: a quiet spell lets the others time out.
    scheduling: 'lifo' as const,
    maxSockets: o.maxSockets ?? Infinity,
  };
  const secure = server.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({
        ...pool,
        ...(tls.ca && { ca: tls.ca }),
        ...(tls.cert && { cert: tls.cert }),
        ...(tls.key && { key: tls.key }),
        ...(tls.servername && { servername: tls.servername }),
        rejectUnauthorized: tls.rejectUnauthorized,
      })
    : new http.Agent(pool);
  if (proxyUrl) {
    const proxy = new URL(proxyUrl);
    // Documented way for a custom Agent to make its sockets asynchronously: the callback.
    agent.createConnection = (options, done) => {
      tunnel(proxy, options, secure, o.idleMs, done!);
      return undefined;
    };
  }
  return agent;
}

/** The proxy's Proxy-Authorization, from user:password in its URL (as undici and client-go). */
function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(user).toString('base64')}`;
}

const bare = (host: string): string => host.replace(/^\[(.*)\]$/, '$1');

/**
 * A connection to options.host:options.port through an HTTP(S) proxy: CONNECT, then TLS inside
 * the tunnel towards the API server (with the Agent's TLS options) when `secure`.
 */
function tunnel(
  proxy: URL,
  options: ClientRequestArgs,
  secure: boolean,
  timeoutMs: number,
  done: (err: Error | null, socket: Duplex) => void,
): void {
  const host = bare(options.host ?? 'localhost');
  const target = `${host.includes(':') ? `[${host}]` : host}:${options.port || (secure ? 443 : 80)}`;
  const fail = (err: Error) => done(err, undefined as unknown as Duplex);
  const viaTls = proxy.protocol === 'https:';
  const authorization = proxyAuthorization(proxy);
  const connect = (viaTls ? httpsRequest : http.request)({
    host: bare(proxy.hostname),
    port: proxy.port || (viaTls ? 443 : 80),
    method: 'CONNECT',
    path: target,
    headers: { host: target, ...(authorization && { 'proxy-authorization': authorization }) },
    agent: false,
    timeout: timeoutMs,
  });
  connect.on('timeout', () =>
    connect.destroy(new Error(`proxy ${proxy.host}: no answer to CONNECT ${target}`)),
  );
  connect.on('error', fail);
  connect.on('connect', (res, socket, head) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      fail(
        new Error(`proxy ${proxy.host}: CONNECT ${target}: ${res.statusCode} ${res.statusMessage}`),
      );
      return;
    }
    socket.setTimeout(0);
    if (head.length > 0) socket.unshift(head);
    done(null, secure ? tlsConnect({ ...(options as ConnectionOptions), socket }) : socket);
  });
  connect.end();
}
