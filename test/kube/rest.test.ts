import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { stringify } from 'yaml';
import { TestPki } from '../support/pki.js';
import { KubeError } from '../../src/kube/client.js';
import {
  KubeRest,
  loadKubeConfig,
  type KubeRestOptions,
  type RestConfig,
} from '../../src/kube/rest.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

type Handler = (req: Seen, res: ServerResponse) => void;

/** An API server stand-in on 127.0.0.1 that records requests and counts connections. */
class FakeApiServer {
  readonly requests: Seen[] = [];
  connections = 0;
  handler: Handler = (_req, res) => json(res, 200, { kind: 'Namespace' });
  private server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        at: performance.now(),
      };
      this.requests.push(seen);
      this.handler(seen, res);
    });
  });
  port = 0;

  async start(): Promise<void> {
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((done) => this.server.close(done));
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

describe('KubeRest', () => {
  let api: FakeApiServer;
  let dir: string;
  let rest: KubeRest | undefined;
  beforeEach(async () => {
    api = new FakeApiServer();
    await api.start();
    dir = mkdtempSync(join(tmpdir(), 'berth-rest-'));
  });
  afterEach(async () => {
    await rest?.close();
    rest = undefined;
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const kubeconfig = (user: Record<string, unknown>, server = `http://127.0.0.1:${api.port}`) => {
    const path = join(dir, 'config');
    writeFileSync(
      path,
      stringify({
        clusters: [{ name: 'c', cluster: { server } }],
        users: [{ name: 'u', user }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      }),
    );
    return path;
  };
  const client = (user: Record<string, unknown> = { token: 't0ken' }, opts: KubeRestOptions = {}) =>
    (rest = new KubeRest(loadKubeConfig(kubeconfig(user)), { userAgent: 'berth-test', ...opts }));

  it('sends the bearer token, JSON headers, query and body', async () => {
    const c = client();
    api.handler = (req, res) => json(res, 200, { echo: req.body ? JSON.parse(req.body) : null });
    const got = await c.get<{ echo: null }>('/api/v1/namespaces', {
      limit: 5,
      continue: undefined,
    });
    expect(got).to.deep.equal({ echo: null });
    await c.mergePatch('/api/v1/namespaces/a', { metadata: { labels: { x: 'y' } } });
    const [get, patch] = api.requests;
    expect(get?.method).to.equal('GET');
    expect(get?.url).to.equal('/api/v1/namespaces?limit=5');
    expect(get?.headers.authorization).to.equal('Bearer t0ken');
    expect(get?.headers.accept).to.equal('application/json');
    expect(get?.headers['user-agent']).to.equal('berth-test');
    expect(patch?.method).to.equal('PATCH');
    expect(patch?.headers['content-type']).to.equal('application/merge-patch+json');
    expect(JSON.parse(patch?.body ?? '')).to.deep.equal({ metadata: { labels: { x: 'y' } } });
  });

  it('keeps the server path prefix', async () => {
    rest = new KubeRest(
      loadKubeConfig(kubeconfig({ token: 'x' }, `http://127.0.0.1:${api.port}/k8s/clusters/c1/`)),
    );
    await rest.get('/version');
    expect(api.requests[0]?.url).to.equal('/k8s/clusters/c1/version');
  });

  it('turns error answers into KubeError with the code and reason', async () => {
    const c = client();
    api.handler = (req, res) =>
      req.url.includes('missing')
        ? json(res, 404, {
            kind: 'Status',
            status: 'Failure',
            reason: 'NotFound',
            code: 404,
            message: 'namespaces "missing" not found',
          })
        : (res.writeHead(503), res.end('upstream down'));
    const err = await c.get('/api/v1/namespaces/missing').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(KubeError);
    expect((err as KubeError).code).to.equal(404);
    expect((err as KubeError).reason).to.equal('NotFound');
    expect((err as KubeError).message).to.contain('namespaces "missing" not found');
    const other = (await c.get('/other').catch((e: unknown) => e)) as KubeError;
    expect([other.code, other.reason]).to.deep.equal([503, 'Service Unavailable']);
    expect(other.message).to.contain('upstream down');
  });

  it('re-reads the token file after a 401', async () => {
    const token = join(dir, 'token');
    writeFileSync(token, 'old');
    const c = client({ tokenFile: token });
    api.handler = (req, res) =>
      req.headers.authorization === 'Bearer new'
        ? json(res, 200, {})
        : json(res, 401, { kind: 'Status', reason: 'Unauthorized', code: 401 });
    writeFileSync(token, 'new'); // rotated, but not due for a re-read yet
    const err = (await c.get('/x').catch((e: unknown) => e)) as KubeError;
    expect(err.code).to.equal(401);
    await c.get('/x');
    expect(api.requests.map((r) => r.headers.authorization)).to.deep.equal([
      'Bearer old',
      'Bearer new',
    ]);
  });

  it('reuses keep-alive connections, at most `connections` at once', async () => {
    const c = client({ token: 'x' }, { connections: 4 });
    for (let i = 0; i < 20; i++) await c.get(`/seq/${i}`);
    // Sequential requests reuse the connection the previous answer came on (one, or at most a
    // second one opened while the first was handed back to the pool).
    expect(api.connections).to.be.at.most(2);
    api.handler = (_req, res) => setTimeout(() => json(res, 200, {}), 5);
    await Promise.all(Array.from({ length: 40 }, (_, i) => c.get(`/par/${i}`)));
    expect(api.requests).to.have.length(60);
    expect(api.connections).to.be.at.most(4);
    expect(api.connections).to.be.at.least(2);
    expect(c.stats.requests).to.equal(60);
  });

  it('spaces requests by the QPS limit once the burst is spent', async () => {
    const c = client({ token: 'x' }, { qps: 50, burst: 2 });
    const started = performance.now();
    await Promise.all(Array.from({ length: 7 }, (_, i) => c.get(`/q/${i}`)));
    const elapsed = performance.now() - started;
    // 2 at once, then one every 20 ms: the last one leaves ≥ 100 ms after the first.
    expect(elapsed).to.be.at.least(95);
    // (Not the gaps between arrivals at the server: a loaded machine bunches them.)
    expect(c.stats.throttled).to.equal(5);
  });

  it('does not throttle with qps -1', async () => {
    const c = client({ token: 'x' }, { qps: -1, burst: 1 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => c.get(`/q/${i}`)));
    expect(c.stats.throttled).to.equal(0);
  });

  it('watches: events split across chunks, then the end of the stream', async () => {
    const c = client();
    api.handler = (req, res) => {
      expect(req.url).to.equal('/apis/x/things?resourceVersion=7&watch=true');
      res.writeHead(200, { 'content-type': 'application/json' });
      const a = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } });
      const b = JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: 'é' } } });
      const text = Buffer.from(`${a}\n${b}\n`);
      const cut = Buffer.byteLength(a) + 10;
      res.write(text.subarray(0, 5));
      setTimeout(() => res.write(text.subarray(5, cut)), 5);
      // Split inside the two bytes of 'é': the decoder must keep them together.
      const e = text.indexOf(Buffer.from('é'));
      setTimeout(() => res.write(text.subarray(cut, e + 1)), 10);
      setTimeout(() => res.end(text.subarray(e + 1)), 15);
    };
    const events: unknown[] = [];
    const done = await new Promise<unknown>((resolveDone) => {
      void c.watch(
        '/apis/x/things',
        { resourceVersion: '7' },
        (e) => events.push(e),
        resolveDone,
        5_000,
      );
    });
    expect(done).to.equal(null);
    expect(events).to.deep.equal([
      { type: 'ADDED', object: { metadata: { name: 'a' } } },
      { type: 'MODIFIED', object: { metadata: { name: 'é' } } },
    ]);
  });

  it('watches: a refused watch is a KubeError, a silent one is cut by the watchdog', async () => {
    const c = client();
    api.handler = (req, res) =>
      req.url.startsWith('/gone')
        ? json(res, 410, { kind: 'Status', reason: 'Expired', code: 410 })
        : res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
    const refused = await new Promise<unknown>((done) => {
      void c.watch('/gone', {}, () => {}, done, 5_000);
    });
    expect((refused as KubeError).code).to.equal(410);
    expect((refused as KubeError).reason).to.equal('Expired');
    const silent = await new Promise<unknown>((done) => {
      void c.watch('/silent', {}, () => {}, done, 100);
    });
    expect((silent as Error).name).to.equal('WatchIdleError');
  });

  it('stops a watch on request', async () => {
    const c = client();
    api.handler = (_req, res) => {
      res.writeHead(200);
      res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }) + '\n');
    };
    let stop: (() => void) | undefined;
    const done = await new Promise<unknown>((resolveDone) => {
      void c.watch('/w', {}, () => stop?.(), resolveDone, 5_000).then((s) => (stop = s));
    });
    expect(done).to.equal(null);
  });

  it('close() cuts a request the server never answers after the grace period', async () => {
    const c = client();
    api.handler = () => {}; // never answers
    const pending = c.get('/hang').catch((e: unknown) => e);
    while (api.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const started = performance.now();
    await c.close(50);
    expect(performance.now() - started).to.be.below(2_000);
    expect(await pending).to.be.instanceOf(Error);
    rest = undefined;
  });

  it('close() also cuts the requests waiting for a connection, without sending them', async () => {
    const c = client({ token: 'x' }, { connections: 1 });
    api.handler = () => {}; // never answers
    const pending = [c.get('/hang/1'), c.get('/hang/2')].map((p) => p.catch((e: unknown) => e));
    while (api.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await c.close(50);
    for (const p of pending) expect(await p).to.be.instanceOf(Error);
    expect(api.requests.map((r) => r.url)).to.deep.equal(['/hang/1']);
    expect(await c.get('/after').catch((e: unknown) => e)).to.be.instanceOf(Error);
    rest = undefined;
  });

  it("does not load @kubernetes/client-node, nor Node's bundled undici, for kubeconfig users", async function () {
    this.timeout(20_000);
    const restJs = resolve('dist/src/kube/rest.js');
    const script = `
      const { registerHooks } = require('node:module');
      const loaded = [];
      registerHooks({ resolve(s, c, next) { if (s.startsWith('@kubernetes/client-node')) loaded.push(s); return next(s, c); } });
      import(${JSON.stringify(restJs)}).then(async ({ KubeRest, loadKubeConfig }) => {
        const rest = new KubeRest(loadKubeConfig(${JSON.stringify(kubeconfig({ token: 'x' }))}));
        await rest.get('/version');
        await rest.close();
        // An ES import of node:http would load Node's bundled undici too (src/support/node-http.ts).
        if (process.moduleLoadList.some((m) => m.includes('undici'))) loaded.push('undici');
        console.log(JSON.stringify(loaded));
      });`;
    // Async: this process serves the child's request.
    const r = await promisify(execFile)(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stderr).to.equal('');
    expect(r.stdout.trim()).to.equal('[]');
    expect(api.requests.map((q) => q.url)).to.deep.equal(['/version']);
  });
});

describe("the operator's modules", () => {
  it("do not load Node's bundled undici (an ES import of node:http would: ~13 MiB of RSS)", async function () {
    this.timeout(20_000);
    const script = `
      await import(${JSON.stringify(resolve('dist/src/cli/run.js'))});
      const { startProbeServer } = await import(${JSON.stringify(resolve('dist/src/observability/health.js'))});
      const loaded = process.moduleLoadList.filter((m) => m.includes('undici'));
      console.log(JSON.stringify({ loaded, health: typeof startProbeServer }));`;
    const r = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(r.stdout)).to.deep.equal({ loaded: [], health: 'function' });
  });
});

/**
 * A throwaway CA, a server certificate for the name kube.test only (no IP), and two client
 * certificates, CN client-a and client-b.
 */
function makePki(dir: string) {
  const pki = new TestPki(dir);
  const asBuffers = (p: { cert: string; key: string }) => ({
    cert: Buffer.from(p.cert),
    key: Buffer.from(p.key),
  });
  return {
    ca: Buffer.from(pki.ca('ca').cert),
    server: asBuffers(pki.issue('server', 'ca', 'subjectAltName=DNS:kube.test')),
    a: asBuffers(pki.issue('client-a', 'ca', 'extendedKeyUsage=clientAuth')),
    b: asBuffers(pki.issue('client-b', 'ca', 'extendedKeyUsage=clientAuth')),
  };
}

describe('KubeRest over TLS and through a proxy', function () {
  this.timeout(30_000);
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  let api: Server;
  let port = 0;
  /** The client certificate (CN) of each request the API server got. */
  let seen: string[];
  let apiConnections: number;
  let rest: KubeRest | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-rest-tls-'));
    pki = makePki(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    seen = [];
    apiConnections = 0;
    api = createHttpsServer(
      { ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        seen.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
        if (req.url?.includes('watch=true')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }) + '\n');
        } else json(res, 200, { authorization: req.headers.authorization ?? null });
      },
    );
    api.on('secureConnection', () => apiConnections++);
    await new Promise<void>((done) => api.listen(0, '127.0.0.1', done));
    port = (api.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await rest?.close();
    rest = undefined;
    api.closeAllConnections();
    await new Promise((done) => api.close(done));
  });

  const kubeconfig = (cluster: Record<string, unknown>) => {
    const path = join(dir, 'config');
    writeFileSync(
      path,
      stringify({
        clusters: [
          {
            name: 'c',
            cluster: {
              server: `https://127.0.0.1:${port}`,
              'certificate-authority-data': pki.ca.toString('base64'),
              ...cluster,
            },
          },
        ],
        users: [
          {
            name: 'u',
            user: {
              token: 't',
              'client-certificate-data': pki.a.cert.toString('base64'),
              'client-key-data': pki.a.key.toString('base64'),
            },
          },
        ],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      }),
    );
    return loadKubeConfig(path);
  };

  it('checks the server against the CA and tls-server-name, presents the client certificate', async () => {
    rest = new KubeRest(kubeconfig({ 'tls-server-name': 'kube.test' }));
    expect(await rest.get('/version')).to.deep.equal({ authorization: 'Bearer t' });
    expect(seen).to.deep.equal(['client-a']);
    await rest.close();
    // Without the name the certificate (for kube.test only) does not match 127.0.0.1.
    rest = new KubeRest(kubeconfig({}));
    const err = (await rest.get('/version').catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err.code).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it("swaps the connections when an exec plugin's client certificate changes", async () => {
    let creds = pki.a;
    const config: RestConfig = {
      server: `https://127.0.0.1:${port}`,
      tls: { ca: pki.ca, rejectUnauthorized: true, servername: 'kube.test' },
      auth: { kind: 'plugin', credentials: async () => ({ ...creds, authorization: 'Bearer p' }) },
      source: 'test',
    };
    rest = new KubeRest(config);
    await rest.get('/1');
    await rest.get('/2');
    creds = pki.b;
    await rest.get('/3');
    expect(seen).to.deep.equal(['client-a', 'client-a', 'client-b']);
    expect(apiConnections).to.equal(2);
  });

  it('goes through proxy-url: CONNECT with the credentials, TLS inside, the tunnel kept', async () => {
    const connects: { target?: string; auth?: string }[] = [];
    const sockets = new Set<Socket>();
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      connects.push({ target: req.url, auth: req.headers['proxy-authorization'] });
      const upstream = connect(port, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => (client.destroy(), upstream.destroy()));
      }
    });
    await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
    try {
      const proxyPort = (proxy.address() as AddressInfo).port;
      rest = new KubeRest(
        kubeconfig({
          'tls-server-name': 'kube.test',
          'proxy-url': `http://berth:p%40ss@127.0.0.1:${proxyPort}`,
        }),
      );
      for (let i = 0; i < 3; i++) await rest.get(`/seq/${i}`);
      const done = await new Promise<unknown>((resolveDone) => {
        void rest!.watch('/w', {}, () => {}, resolveDone, 5_000);
      });
      expect(done).to.equal(null);
      expect(seen).to.deep.equal(['client-a', 'client-a', 'client-a', 'client-a']);
      // One tunnel for the requests, one for the watch.
      const auth = `Basic ${Buffer.from('berth:p@ss').toString('base64')}`;
      expect(connects).to.deep.equal([
        { target: `127.0.0.1:${port}`, auth },
        { target: `127.0.0.1:${port}`, auth },
      ]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((done) => proxy.close(done));
    }
  });
});
