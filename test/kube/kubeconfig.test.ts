import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import {
  FileTokenAuth,
  loadInCluster,
  loadKubeconfigFiles,
  loadRestConfig,
  type Credentials,
  type RestConfig,
} from '../../src/kube/kubeconfig.js';
import { FakeClock } from '../support/fakeclock.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const creds = async (c: RestConfig): Promise<Credentials> => c.auth.credentials();

interface Named {
  name: string;
  [k: string]: unknown;
}
const kubeconfig = (o: {
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  current?: string;
}) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: o.clusters ?? [],
    users: o.users ?? [],
    contexts: o.contexts ?? [],
    ...(o.current ? { 'current-context': o.current } : {}),
  });

describe('kubeconfig loader', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-kubeconfig-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    return path;
  };

  it('reads inline data: server, CA, client certificate, namespace', async () => {
    const path = write(
      'config',
      kubeconfig({
        clusters: [
          {
            name: 'c',
            cluster: {
              server: 'https://10.0.0.1:6443/',
              'certificate-authority-data': b64('CA PEM'),
              'tls-server-name': 'kubernetes',
            },
          },
        ],
        users: [
          {
            name: 'u',
            user: { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
          },
        ],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'team' } }],
        current: 'ctx',
      }),
    );
    const c = loadRestConfig({ path, env: {} });
    expect(c.server).to.equal('https://10.0.0.1:6443');
    expect(c.namespace).to.equal('team');
    expect(c.context).to.equal('ctx');
    expect(c.tls.ca?.toString()).to.equal('CA PEM');
    expect(c.tls.cert?.toString()).to.equal('CERT');
    expect(c.tls.key?.toString()).to.equal('KEY');
    expect(c.tls.rejectUnauthorized).to.equal(true);
    expect(c.tls.servername).to.equal('kubernetes');
    expect(c.auth.kind).to.equal('none');
    expect(await creds(c)).to.deep.equal({});
  });

  it('reads file references relative to the kubeconfig folder; data wins over a file', () => {
    write('sub/pki/ca.crt', 'CA FROM FILE');
    write('sub/pki/client.crt', 'CERT FROM FILE');
    write('sub/pki/client.key', 'KEY FROM FILE');
    const path = write(
      'sub/config',
      kubeconfig({
        clusters: [
          { name: 'c', cluster: { server: 'https://x', 'certificate-authority': 'pki/ca.crt' } },
        ],
        users: [
          {
            name: 'u',
            user: {
              'client-certificate': 'pki/client.crt',
              'client-key': join(dir, 'sub/pki/client.key'),
              'client-key-data': b64('KEY FROM DATA'),
            },
          },
        ],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        current: 'ctx',
      }),
    );
    const c = loadRestConfig({ path, env: {} });
    expect(c.tls.ca?.toString()).to.equal('CA FROM FILE');
    expect(c.tls.cert?.toString()).to.equal('CERT FROM FILE');
    expect(c.tls.key?.toString()).to.equal('KEY FROM DATA');
  });

  it('authenticates with a token, basic auth, or skips TLS verification when told', async () => {
    const path = write(
      'config',
      kubeconfig({
        clusters: [
          { name: 'c', cluster: { server: 'https://x', 'insecure-skip-tls-verify': true } },
        ],
        users: [
          { name: 'tok', user: { token: 'abc' } },
          { name: 'pw', user: { username: 'admin', password: 's3cret' } },
        ],
        contexts: [
          { name: 'tok', context: { cluster: 'c', user: 'tok' } },
          { name: 'pw', context: { cluster: 'c', user: 'pw' } },
        ],
        current: 'tok',
      }),
    );
    const tok = loadRestConfig({ path, env: {} });
    expect(tok.auth.kind).to.equal('token');
    expect((await creds(tok)).authorization).to.equal('Bearer abc');
    expect(tok.tls.rejectUnauthorized).to.equal(false);
    const pw = loadRestConfig({ path, context: 'pw', env: {} });
    expect((await creds(pw)).authorization).to.equal(`Basic ${b64('admin:s3cret')}`);
  });

  it('re-reads a tokenFile every refresh period and after a 401', async () => {
    const token = write('token', 'one\n');
    const path = write(
      'config',
      kubeconfig({
        clusters: [{ name: 'c', cluster: { server: 'http://127.0.0.1:1' } }],
        users: [{ name: 'u', user: { tokenFile: 'token' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        current: 'ctx',
      }),
    );
    const clock = new FakeClock(0);
    const c = loadRestConfig({ path, env: {}, clock, tokenRefreshMs: 60_000 });
    expect(c.auth).to.be.instanceOf(FileTokenAuth);
    expect((await creds(c)).authorization).to.equal('Bearer one');
    writeFileSync(token, 'two');
    clock.advance(59_999);
    expect((await creds(c)).authorization).to.equal('Bearer one');
    clock.advance(1);
    expect((await creds(c)).authorization).to.equal('Bearer two');
    writeFileSync(token, 'three');
    c.auth.invalidate?.();
    expect((await creds(c)).authorization).to.equal('Bearer three');
    // A file that vanished keeps the last token.
    rmSync(token);
    clock.advance(60_000);
    expect((await creds(c)).authorization).to.equal('Bearer three');
  });

  it('merges a KUBECONFIG list like kubectl: first file wins per name, missing files skipped', async () => {
    const a = write(
      'a/config',
      kubeconfig({
        clusters: [{ name: 'shared', cluster: { server: 'https://from-a' } }],
        users: [{ name: 'me', user: { token: 'token-a' } }],
        current: 'second',
      }),
    );
    write('b/ca.crt', 'CA OF B');
    const b = write(
      'b/config',
      kubeconfig({
        clusters: [
          { name: 'shared', cluster: { server: 'https://from-b' } },
          { name: 'only-b', cluster: { server: 'https://b', 'certificate-authority': 'ca.crt' } },
        ],
        users: [{ name: 'me', user: { token: 'token-b' } }],
        contexts: [
          { name: 'first', context: { cluster: 'shared', user: 'me' } },
          { name: 'second', context: { cluster: 'only-b', user: 'me', namespace: 'ns-b' } },
        ],
        current: 'first',
      }),
    );
    const env = { KUBECONFIG: [join(dir, 'missing'), a, '', b, a].join(delimiter) };
    const c = loadRestConfig({ env });
    expect(c.context).to.equal('second'); // a's current-context
    expect(c.server).to.equal('https://b');
    expect(c.tls.ca?.toString()).to.equal('CA OF B'); // relative to b's folder
    expect((await creds(c)).authorization).to.equal('Bearer token-a');
    expect(c.namespace).to.equal('ns-b');
    expect(c.source).to.equal([a, b].join(delimiter));
    expect(loadRestConfig({ env, context: 'first' }).server).to.equal('https://from-a');
    // --kubeconfig beats KUBECONFIG
    expect(loadRestConfig({ env, path: b }).server).to.equal('https://from-a'.replace('a', 'b'));
  });

  it('falls back to ~/.kube/config', () => {
    write(
      'home/.kube/config',
      kubeconfig({
        clusters: [{ name: 'c', cluster: { server: 'https://home' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c' } }],
        current: 'ctx',
      }),
    );
    expect(loadRestConfig({ env: {}, home: join(dir, 'home') }).server).to.equal('https://home');
  });

  it('says what is wrong', () => {
    const path = write(
      'config',
      kubeconfig({
        clusters: [{ name: 'c', cluster: { server: 'https://x' } }],
        contexts: [
          { name: 'ctx', context: { cluster: 'c', user: 'ghost' } },
          { name: 'nocluster', context: { cluster: 'nope' } },
        ],
      }),
    );
    expect(() => loadRestConfig({ path, env: {} })).to.throw(/no current-context/);
    expect(() => loadRestConfig({ path, env: {}, context: 'x' })).to.throw(/context "x" not found/);
    expect(() => loadRestConfig({ path, env: {}, context: 'ctx' })).to.throw(/user "ghost"/);
    expect(() => loadRestConfig({ path, env: {}, context: 'nocluster' })).to.throw(
      /cluster "nope" not found/,
    );
    expect(() => loadRestConfig({ path: join(dir, 'missing'), env: {} })).to.throw(/ENOENT/);
    expect(() => loadRestConfig({ env: { KUBECONFIG: join(dir, 'missing') } })).to.throw(
      /none of these files exists/,
    );
    expect(() => loadRestConfig({ env: {}, home: join(dir, 'nohome') })).to.throw(
      /no Kubernetes configuration/,
    );
    const bad = write('bad', 'users: {}\n');
    expect(() => loadKubeconfigFiles([bad])).to.throw(/users is not a list/);
  });

  it('in a cluster: service host and port, the token re-read as it rotates, CA and namespace', async () => {
    const sa = join(dir, 'sa');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'bound-1');
    writeFileSync(join(sa, 'ca.crt'), 'CLUSTER CA');
    writeFileSync(join(sa, 'namespace'), 'berth-system\n');
    const clock = new FakeClock(0);
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const c = loadRestConfig({ env, home: join(dir, 'nohome'), inClusterDir: sa, clock });
    expect(c.source).to.equal('in-cluster');
    expect(c.server).to.equal('https://10.96.0.1:443');
    expect(c.tls.ca?.toString()).to.equal('CLUSTER CA');
    expect(c.namespace).to.equal('berth-system');
    expect((await creds(c)).authorization).to.equal('Bearer bound-1');
    writeFileSync(join(sa, 'token'), 'bound-2');
    clock.advance(60_000);
    expect((await creds(c)).authorization).to.equal('Bearer bound-2');

    const v6 = loadInCluster({
      env: { ...env, KUBERNETES_SERVICE_HOST: 'fd00::1', POD_NAMESPACE: 'from-env' },
      inClusterDir: sa,
    });
    expect(v6.server).to.equal('https://[fd00::1]:443');
    expect(v6.namespace).to.equal('from-env');
    expect(() => loadInCluster({ env, inClusterDir: join(dir, 'nosa') })).to.throw(/token/);
  });

  it('hands exec users to client-node, with the command relative to the kubeconfig', async function () {
    this.timeout(30_000); // loads client-node
    const plugin = write(
      'bin/plugin.sh',
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const path = write(
      'config',
      kubeconfig({
        clusters: [{ name: 'c', cluster: { server: 'https://x' } }],
        users: [
          {
            name: 'u',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1',
                command: './bin/plugin.sh',
                interactiveMode: 'Never',
              },
            },
          },
        ],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        current: 'ctx',
      }),
    );
    const c = loadRestConfig({ path, env: {} });
    expect(c.auth.kind).to.equal('plugin');
    expect((await creds(c)).authorization).to.equal('Bearer from-exec');
  });
});
