import { expect } from 'chai';
import fc from 'fast-check';
import {
  PROVISIONER_UNAVAILABLE,
  ProvisionerError,
  releaseRecords,
  restoreRecords,
  runStack,
  type ProvisionedNode,
} from '../../src/provisioning/index.js';
import { FakeProvisioner, ReleaseLedger, request } from './helpers/fakes.js';

function fakes(ledger: ReleaseLedger, ...capacities: number[]): FakeProvisioner[] {
  return capacities.map((capacity, i) => new FakeProvisioner(`p${i}`, ledger, { capacity }));
}

describe('provisioner stack', () => {
  it('keeps 7 of 10 from a provisioner of capacity 7 when minCount is 5', async () => {
    const ledger = new ReleaseLedger();
    const r = await runStack(fakes(ledger, 7), request('web', 10, 5));
    expect(r.outcome).to.equal('Provisioned');
    expect(r.nodes.map((n) => n.name)).to.deep.equal([0, 1, 2, 3, 4, 5, 6].map((i) => `web-${i}`));
    expect(r.nodes.every((n) => n.state === 'Running')).to.equal(true);
    expect(ledger.releasedCount()).to.equal(0);
    expect(r.explanation.provisioners).to.deep.equal([
      { provisioner: 'p0', type: 'fake', asked: 10, got: 7, reasons: { MaxNodes: 3 } },
    ]);
    expect(r.explanation.summary).to.equal('7/10 nodes (minCount 5): p0 7/10: 3 MaxNodes');
  });

  it('keeps nothing and releases everything when capacity 4 is below minCount 5', async () => {
    const ledger = new ReleaseLedger();
    const [p] = fakes(ledger, 4);
    const r = await runStack([p!], request('web', 10, 5));
    expect(r.outcome).to.equal('Insufficient');
    expect(r.nodes).to.deep.equal([]);
    expect(r.released).to.equal(4);
    expect(ledger.provisioned).to.have.length(4);
    expect(ledger.leaked()).to.deep.equal([]);
    expect(ledger.overReleased()).to.deep.equal([]);
    expect(p!.held).to.equal(0);
    expect(r.explanation.summary).to.equal(
      '4/10 nodes, fewer than minCount 5; released 4: p0 4/10: 6 MaxNodes',
    );
  });

  it('fills 13 from four provisioners of capacity 5 (5+5+3) and leaves the fourth alone', async () => {
    const ledger = new ReleaseLedger();
    const ps = fakes(ledger, 5, 5, 5, 5);
    const r = await runStack(ps, request('job', 13));
    expect(r.outcome).to.equal('Provisioned');
    expect(r.nodes).to.have.length(13);
    expect(r.nodes.map((n) => n.provisioner)).to.deep.equal([
      ...Array(5).fill('p0'),
      ...Array(5).fill('p1'),
      ...Array(3).fill('p2'),
    ]);
    expect(new Set(r.nodes.map((n) => n.name)).size).to.equal(13);
    expect(r.explanation.provisioners.map((e) => [e.asked, e.got])).to.deep.equal([
      [13, 5],
      [8, 5],
      [3, 3],
    ]);
    expect(ps[3]!.calls).to.equal(0);
    expect(ledger.releasedCount()).to.equal(0);
  });

  it('fails 23 from four provisioners of capacity 5 and releases all 20 exactly once', async () => {
    const ledger = new ReleaseLedger();
    const ps = fakes(ledger, 5, 5, 5, 5);
    const r = await runStack(ps, request('job', 23));
    expect(r.outcome).to.equal('Insufficient');
    expect(r.released).to.equal(20);
    expect(ledger.provisioned).to.have.length(20);
    expect(ledger.leaked()).to.deep.equal([]);
    expect(ledger.overReleased()).to.deep.equal([]);
    expect(ps.map((p) => p.held)).to.deep.equal([0, 0, 0, 0]);
    expect(r.explanation.summary).to.match(
      /^20\/23 nodes, fewer than minCount 23; released 20: p0 5\/23/,
    );
  });

  it('explains an empty result in one line', async () => {
    const ledger = new ReleaseLedger();
    const r = await runStack(fakes(ledger, 0, 0), request('none', 3));
    expect(r.explanation.summary).to.equal(
      '0/3 nodes, fewer than minCount 3: p0 0/3: 3 MaxNodes; p1 0/3: 3 MaxNodes',
    );
    expect((await runStack([], request('none', 1))).explanation.summary).to.equal(
      '0/1 nodes, fewer than minCount 1: no provisioners',
    );
  });

  it('names nodes <request>-<index> across provisioners with no gaps or repeats', async () => {
    const ledger = new ReleaseLedger();
    const r = await runStack(fakes(ledger, 2, 0, 3), request('x', 5));
    expect(r.nodes.map((n) => `${n.provisioner}:${n.name}`)).to.deep.equal([
      'p0:x-0',
      'p0:x-1',
      'p2:x-2',
      'p2:x-3',
      'p2:x-4',
    ]);
  });

  it('falls through a provisioner that throws and reports it', async () => {
    const ledger = new ReleaseLedger();
    const broken = new FakeProvisioner('broken', ledger, {
      capacity: 9,
      throwOnGet: new Error('boom\nline two'),
    });
    const r = await runStack([broken, ...fakes(ledger, 3)], request('a', 3));
    expect(r.outcome).to.equal('Provisioned');
    expect(r.explanation.provisioners[0]).to.deep.equal({
      provisioner: 'broken',
      type: 'fake',
      asked: 3,
      got: 0,
      error: 'boom line two',
      reasons: { [PROVISIONER_UNAVAILABLE]: 3 },
    });
  });

  it('skips an unavailable provisioner without calling it (no slow fallback)', async () => {
    const ledger = new ReleaseLedger();
    const cold = new FakeProvisioner('cold', ledger, { capacity: 9, available: false });
    const r = await runStack([cold, ...fakes(ledger, 2)], request('a', 2));
    expect(cold.calls).to.equal(0);
    expect(r.outcome).to.equal('Provisioned');
    expect(r.explanation.provisioners[0]?.error).to.equal('skipped: cooling down (fake)');
    expect(r.explanation.provisioners[0]?.reasons).to.deep.equal({ ProvisionerUnavailable: 2 });
  });

  // [what, tamper, error, the bad provisioner's nodes the stack must have given back]
  const misbehaviours: Array<[string, (nodes: ProvisionedNode[]) => unknown, RegExp, string[]]> = [
    [
      'more nodes than asked',
      (n) => [...n, ...n],
      /returned 6 nodes, asked for 3/,
      ['a-0', 'a-1', 'a-2'],
    ],
    ['duplicate names', (n) => [n[0], n[0]], /returned node name "a-0" twice/, ['a-0']],
    [
      'a name not given',
      (n) => [n[0], { ...n[1], name: 'zzz' }],
      /"zzz", which was not among the names given/,
      ['a-0', 'a-1'],
    ],
    ['not an array', () => 'nodes', /did not return an array/, []],
  ];
  for (const [what, tamper, message, released] of misbehaviours) {
    it(`releases and falls through a provisioner that returns ${what}`, async () => {
      const ledger = new ReleaseLedger();
      const bad = new FakeProvisioner('bad', ledger, { capacity: 3, tamper });
      const r = await runStack([bad, ...fakes(ledger, 3)], request('a', 3));
      expect(r.outcome).to.equal('Provisioned');
      expect(r.nodes.map((n) => n.provisioner)).to.deep.equal(['p0', 'p0', 'p0']);
      expect(r.explanation.provisioners[0]?.error).to.match(message);
      expect([...ledger.releases.keys()].sort()).to.deep.equal(released.map((n) => `bad/${n}`));
      expect(ledger.overReleased()).to.deep.equal([]);
    });
  }

  it('releases the whole attempt, spawned nodes included, when one spawn fails', async () => {
    const ledger = new ReleaseLedger();
    const [a] = fakes(ledger, 2);
    const b = new FakeProvisioner('b', ledger, { capacity: 5, failSpawn: (n) => n === 'r-3' });
    const r = await runStack([a!, b], request('r', 4));
    expect(r.outcome).to.equal('SpawnFailed');
    expect(r.nodes).to.deep.equal([]);
    expect(r.released).to.equal(4);
    expect(ledger.leaked()).to.deep.equal([]);
    expect(ledger.overReleased()).to.deep.equal([]);
    expect(r.explanation.summary).to.contain('spawn failed (r-3: cannot start r-3)');
  });

  it('reports a release that fails so the record can be kept and retried', async () => {
    const ledger = new ReleaseLedger();
    const p = new FakeProvisioner('p', ledger, { capacity: 2, failRelease: (n) => n === 'q-1' });
    const r = await runStack([p], request('q', 3));
    expect(r.outcome).to.equal('Insufficient');
    expect(r.released).to.equal(1);
    expect(r.releaseFailures).to.have.length(1);
    expect(r.releaseFailures[0]).to.include({
      name: 'q-1',
      provisioner: 'p',
      error: 'cannot release q-1',
    });
    expect(r.releaseFailures[0]?.record.state).to.equal('Releasing');
    expect(r.explanation.summary).to.contain('released 1, 1 release failed');
  });

  it('gives up on a provisioner that hangs and still releases what it returns later', async () => {
    const ledger = new ReleaseLedger();
    const slow = new FakeProvisioner('slow', ledger, { capacity: 1 });
    let answerLate: (() => void) | undefined;
    slow.getNodes = (_count, ctx) =>
      new Promise((resolve) => {
        answerLate = () => resolve([slow.make(ctx.names[0]!, ctx.request.metadata)]);
      });
    const r = await runStack([slow, ...fakes(ledger, 1)], request('h', 1), {
      getNodesTimeoutMs: 30,
    });
    expect(r.outcome).to.equal('Provisioned');
    expect(r.nodes[0]?.provisioner).to.equal('p0');
    expect(r.explanation.provisioners[0]?.error).to.equal('no answer within 30 ms');
    answerLate?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ledger.releases.get('slow/h-0')).to.equal(1);
  });

  it('releases everything obtained when aborted', async () => {
    const ledger = new ReleaseLedger();
    const ac = new AbortController();
    const p = new FakeProvisioner('p', ledger, {
      capacity: 2,
      tamper: (nodes) => {
        ac.abort();
        return nodes;
      },
    });
    const r = await runStack([p, ...fakes(ledger, 5)], request('z', 4), { signal: ac.signal });
    expect(r.outcome).to.equal('Aborted');
    expect(ledger.leaked()).to.deep.equal([]);
    expect(ledger.provisioned).to.have.length(2);
  });

  it('holds its invariants for any capacities, count and minCount', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(6), { maxLength: 5 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 25 }),
        async (capacities, count, min) => {
          const minCount = Math.min(min, count);
          const ledger = new ReleaseLedger();
          const r = await runStack(fakes(ledger, ...capacities), request('p', count, minCount));
          const total = capacities.reduce((a, b) => a + b, 0);
          const expected = Math.min(total, count);
          expect(ledger.overReleased()).to.deep.equal([]);
          if (expected >= minCount) {
            expect(r.outcome).to.equal('Provisioned');
            expect(r.nodes).to.have.length(expected);
            expect(new Set(r.nodes.map((n) => n.name)).size).to.equal(expected);
            expect(ledger.releasedCount()).to.equal(0);
          } else {
            expect(r.outcome).to.equal('Insufficient');
            expect(ledger.leaked()).to.deep.equal([]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('restores records and releases them through their provisioners (finalizer)', async () => {
    const ledger = new ReleaseLedger();
    const ps = fakes(ledger, 2, 2);
    const r = await runStack(ps, request('f', 3));
    const records = r.nodes.map((n) => n.toRecord());
    expect(records.map((x) => x.state)).to.deep.equal(['Running', 'Running', 'Running']);
    const id = request('f', 3).metadata;
    // A fresh set of instances, as after a restart: the records are all there is.
    const out = await releaseRecords(
      [...records, { ...records[0]!, name: 'ghost', provisioner: 'gone' }],
      id,
      ps,
    );
    expect(out.released.map((x) => x.name)).to.deep.equal(['f-0', 'f-1', 'f-2']);
    expect(out.failures).to.have.length(1);
    expect(out.failures[0]?.error).to.contain('provisioner "gone" is not configured');
    expect(ledger.leaked()).to.deep.equal([]);
    expect(restoreRecords([{ ...records[0]!, state: 'Released' }], id, ps).nodes).to.deep.equal([]);
  });

  it('surfaces nodes a provisioner could not give back as release failures', async () => {
    const ledger = new ReleaseLedger();
    const p = new FakeProvisioner('w', ledger, {
      capacity: 1,
      throwOnGet: new ProvisionerError('provision: timeout', [{ name: 'k-0', error: 'HTTP 500' }]),
    });
    const r = await runStack([p], request('k', 1));
    expect(r.outcome).to.equal('Insufficient');
    expect(r.releaseFailures).to.deep.equal([
      {
        name: 'k-0',
        provisioner: 'w',
        error: 'HTTP 500',
        record: { name: 'k-0', provisioner: 'w', address: '', configEntry: '', state: 'Releasing' },
      },
    ]);
  });
});
