import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createDefaultRegistry,
  runStack,
  type ProvisionerDeps,
  type SecretKeyRef,
} from '../../src/provisioning/index.js';
import { request } from './helpers/fakes.js';
import { KvmFarm, startFarm, type TestServer } from './helpers/servers.js';
import { TestPki } from '../support/pki.js';

/** A throwaway CA, a server certificate for 127.0.0.1 it signs, and a CA that signed nothing. */
function makePki(dir: string): { ca: string; cert: string; key: string; otherCa: string } {
  const pki = new TestPki(dir);
  const ca = pki.ca('ca', 'Berth Test CA');
  const otherCa = pki.ca('other', 'Other CA');
  const server = pki.issue('server', 'ca', 'subjectAltName=IP:127.0.0.1');
  return { ca: ca.cert, cert: server.cert, key: server.key, otherCa: otherCa.cert };
}

describe('webhook provisioner over HTTPS with a bearer token', function () {
  this.timeout(30_000);
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  let farm: KvmFarm;
  let server: TestServer;
  const TOKEN = 's3cret-token';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-tls-'));
    pki = makePki(dir);
    writeFileSync(path.join(dir, 'ca.pem'), pki.ca);
    writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
    writeFileSync(path.join(dir, 'wrong-token'), 'nope\n');
    farm = new KvmFarm({ capacity: 10 });
    server = await startFarm(farm, () => 'ok', {
      token: TOKEN,
      tls: { cert: pki.cert, key: pki.key },
    });
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function provisioner(extra: Record<string, unknown>, deps: ProvisionerDeps = {}) {
    return createDefaultRegistry().create(
      {
        name: 'tls',
        type: 'webhook',
        url: server.url,
        timeoutSeconds: 2,
        retries: 1,
        retryBackoffMillis: 5,
        ...extra,
      },
      'profiles[0].provisioners[0]',
      { baseDir: dir, ...deps },
    );
  }

  it('trusts the server through caFile and authenticates with tokenFile (relative to baseDir)', async () => {
    const r = await runStack(
      [provisioner({ caFile: 'ca.pem', tokenFile: 'token' })],
      request('t1', 2),
    );
    expect(r.outcome, r.explanation.summary).to.equal('Provisioned');
    expect(server.url.startsWith('https://127.0.0.1:')).to.equal(true);
    const released = await Promise.all(r.nodes.map((n) => n.release()));
    expect(released).to.have.length(2);
  });

  it('trusts the server through an inline caBundle and reads the token from a Secret', async () => {
    const asked: SecretKeyRef[] = [];
    const secretReader = async (ref: SecretKeyRef) => {
      asked.push(ref);
      return TOKEN;
    };
    const p = provisioner(
      { caBundle: pki.ca, tokenSecretRef: { name: 'farm-token', key: 'token' } },
      { secretReader, operatorNamespace: 'berth-system' },
    );
    const r = await runStack([p], request('t2', 1));
    expect(r.outcome, r.explanation.summary).to.equal('Provisioned');
    expect(asked[0]).to.deep.equal({ namespace: 'berth-system', name: 'farm-token', key: 'token' });
    await r.nodes[0]?.release();
  });

  it('refuses a server its CA bundle does not vouch for, without retrying', async () => {
    const before = server.count('ProvisionRequest');
    const r = await runStack(
      [provisioner({ caBundle: pki.otherCa, tokenFile: 'token' })],
      request('t3', 1),
    );
    expect(r.outcome).to.equal('Insufficient');
    expect(r.explanation.provisioners[0]?.error).to.match(
      /^provision: POST https:\/\/127\.0\.0\.1:\d+\/provision: TLS: /,
    );
    expect(r.explanation.provisioners[0]?.error).not.to.contain('attempts');
    expect(server.count('ProvisionRequest')).to.equal(before);
  });

  it('reports a wrong token as HTTP 401 and a missing token file by its path', async () => {
    const wrong = await runStack(
      [provisioner({ caFile: 'ca.pem', tokenFile: 'wrong-token' })],
      request('t4', 1),
    );
    expect(wrong.explanation.provisioners[0]?.error).to.match(
      /HTTP 401: missing or wrong bearer token$/,
    );
    const missing = await runStack(
      [provisioner({ caFile: 'ca.pem', tokenFile: 'absent' })],
      request('t5', 1),
    );
    expect(missing.explanation.provisioners[0]?.error).to.contain(
      `cannot read tokenFile ${path.join(dir, 'absent')}`,
    );
  });

  it('reports a Secret that cannot be read', async () => {
    const p = provisioner(
      { caFile: 'ca.pem', tokenSecretRef: { namespace: 'ops', name: 'gone', key: 'token' } },
      { secretReader: async () => Promise.reject(new Error('secrets "gone" not found')) },
    );
    const r = await runStack([p], request('t6', 1));
    expect(r.explanation.provisioners[0]?.error).to.equal(
      'provision: cannot read Secret ops/gone key token: secrets "gone" not found',
    );
  });

  it('leaves nothing behind on the farm', () => {
    expect(farm.vms.filter((vm) => vm.state !== 'Released')).to.deep.equal([]);
    expect(farm.vms.every((vm) => vm.releaseRequests === 1)).to.equal(true);
  });
});
