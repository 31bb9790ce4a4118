import { expect } from 'chai';
import {
  createDefaultRegistry,
  nodeName,
  runStack,
  type Provisioner,
} from '../../src/provisioning/index.js';
import { request } from './helpers/fakes.js';

function multilocal(extra: Record<string, unknown> = {}): Provisioner {
  return createDefaultRegistry().create(
    { name: 'local', type: 'multilocal', address: '127.0.0.1', basePort: 7000, ...extra },
    'profiles[0].provisioners[0]',
  );
}

describe('multilocal provisioner', () => {
  it('numbers ports from basePort on one address', async () => {
    const r = await runStack([multilocal()], request('w', 3));
    expect(r.nodes.map((n) => n.toRecord())).to.deep.equal(
      [0, 1, 2].map((i) => ({
        name: `w-${i}`,
        provisioner: 'local',
        address: '127.0.0.1',
        port: 7000 + i,
        configEntry: `NodeName=w-${i} NodeHostname=127.0.0.1 Port=${7000 + i}`,
        state: 'Running',
      })),
    );
  });

  it('stops at maxNodes across requests and says so', async () => {
    const p = multilocal({ maxNodes: 4 });
    await runStack([p], request('a', 3));
    const r = await runStack([p], request('b', 3, 1));
    expect(r.nodes.map((n) => n.port)).to.deep.equal([7003]);
    expect(r.explanation.provisioners[0]).to.deep.include({
      got: 1,
      reasons: { MaxNodes: 2 },
      summary: '2 MaxNodes (4 held, maxNodes 4)',
    });
  });

  it('reuses the lowest free port after a release', async () => {
    const p = multilocal();
    const a = await runStack([p], request('a', 3));
    await a.nodes[1]!.release();
    await a.nodes[1]!.release(); // idempotent
    const b = await runStack([p], request('b', 2));
    expect(b.nodes.map((n) => n.port)).to.deep.equal([7001, 7003]);
  });

  it('stops at the last port', async () => {
    const r = await runStack([multilocal({ basePort: 65534 })], request('e', 3, 1));
    expect(r.nodes.map((n) => n.port)).to.deep.equal([65534, 65535]);
    expect(r.explanation.provisioners[0]?.reasons).to.deep.equal({ PortsExhausted: 1 });
  });

  it('takes restored ports back, refuses a conflicting restore, and frees them on release', async () => {
    const p = multilocal();
    const first = await runStack([p], request('a', 2));
    const records = first.nodes.map((n) => n.toRecord());

    const fresh = multilocal();
    const restored = records.map((rec) => fresh.restore(rec, request('a', 2).metadata));
    expect(restored.map((n) => n.state)).to.deep.equal(['Running', 'Running']);
    expect(restored[0]?.configEntry()).to.equal(records[0]?.configEntry);
    const next = await runStack([fresh], request('b', 1));
    expect(next.nodes[0]?.port).to.equal(7002);
    // Restoring the same record twice is fine; another request's claim on the port is not.
    fresh.restore(records[0]!, request('a', 2).metadata);
    expect(() => fresh.restore(records[0]!, request('z', 1).metadata)).to.throw(
      'port 7000 is already held by ns/a/a-0',
    );
    expect(() => fresh.restore({ ...records[0]!, port: 80 }, request('a', 2).metadata)).to.throw(
      'outside 7000..65535',
    );
    await restored[0]!.release();
    const again = await runStack([fresh], request('c', 1));
    expect(again.nodes[0]?.port).to.equal(7000);
  });

  it('uses the configTemplate of its entry', async () => {
    const r = await runStack(
      [multilocal({ configTemplate: '{name} {address}:{port} ({namespace}/{request})' })],
      request('t', 1),
    );
    expect(r.nodes[0]?.configEntry()).to.equal('t-0 127.0.0.1:7000 (ns/t)');
  });
});

describe('node names', () => {
  it('are <request>-<index> when that is a DNS label', () => {
    expect(nodeName(request('web', 1), 12)).to.equal('web-12');
  });

  it('stay DNS labels, unique and stable for long or dotted request names', () => {
    const long = 'a'.repeat(70);
    const a = nodeName(request(long, 1), 3);
    const b = nodeName(request(`${long}b`, 1), 3);
    expect(a).to.have.length.at.most(63);
    expect(a).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(a).not.to.equal(b);
    expect(nodeName(request(long, 1), 3)).to.equal(a);
    const dotted = nodeName(request('team.web', 1), 0);
    expect(dotted).to.match(/^team-web-[0-9a-f]{8}-0$/);
    expect(dotted).not.to.equal(nodeName(request('team-web', 1), 0));
  });
});
