// The ResourceRequest controller's watches, on real informers over the fake API server with the
// hosts engine behind them: what wakes a request up (a pool spec change, capacity given back by
// a delete, its own spec) and what does not (status-only changes, a delete with nothing to give).
import { expect } from 'chai';
import type { HostPool, ResourceRequest } from '../../src/api/index.js';
import { rackPool } from '../support/objects.js';
import { until } from '../support/settle.js';
import { RequestControllerHarness } from '../support/request-controller.js';

const RRS = '/apis/berth.dev/v1alpha1/namespaces/team/resourcerequests';
const HPS = '/apis/berth.dev/v1alpha1/hostpools';

/** A request for 3 of a host's 4 cores: one per host. Created `age` minutes after 11:00. */
const request = (name: string, age: number): ResourceRequest => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: {
    name,
    namespace: 'team',
    creationTimestamp: `2026-03-01T11:${String(age).padStart(2, '0')}:00Z`,
  },
  spec: { count: 1, resources: { cpu: '3', memory: '1Gi' } },
});

class Harness extends RequestControllerHarness {
  constructor(hosts = 1) {
    super({ hosts });
  }
}

describe('RequestController watches', () => {
  it('binds the oldest request first, whatever order the list brought them in', async () => {
    const h = new Harness(1);
    // Listed newest first: the add events queue them in that order.
    h.kube.seed(RRS, request('newest', 3));
    h.kube.seed(RRS, request('middle', 2));
    h.kube.seed(RRS, request('oldest', 1));
    await h.start(true);
    expect([h.phase('oldest'), h.phase('middle'), h.phase('newest')]).to.deep.equal([
      'Ready',
      'Pending',
      'Pending',
    ]);
    await h.stop();
  });

  it('a pool spec change rebuilds the inventory once and binds the pending requests, oldest first', async () => {
    const h = new Harness(1);
    // Listed (and first queued) in this order; the pending scan goes by age: b before c.
    h.kube.seed(RRS, request('a', 1));
    h.kube.seed(RRS, request('c', 3));
    h.kube.seed(RRS, request('b', 2));
    await h.start(true);
    expect([h.phase('a'), h.phase('b'), h.phase('c')]).to.deep.equal([
      'Ready',
      'Pending',
      'Pending',
    ]);
    h.rebuilds = 0;
    // The pool grows by one host: room for the oldest pending request only.
    await h.kube.mergePatch(`${HPS}/rack`, { spec: { hosts: rackPool(2).spec.hosts } });
    await until(() => h.phase('b') === 'Ready', 'b bound');
    await h.settle();
    expect(h.rebuilds).to.equal(1);
    expect(h.phase('c')).to.equal('Pending');
    expect(h.held()).to.equal(2);
    await h.stop();
  });

  it('a HostPool spec change queues the pending requests and those holding nodes on it', async () => {
    const h = new Harness(2);
    const node = {
      name: 'held-0',
      provisioner: 'hosts',
      hostPool: 'rack',
      host: 'h0',
      address: '10.0.0.1',
      configEntry: '',
      state: 'Running' as const,
    };
    h.kube.seed(RRS, { ...request('held', 1), status: { phase: 'Ready', nodes: [node] } });
    h.kube.seed(RRS, {
      ...request('elsewhere', 2),
      status: { phase: 'Ready', nodes: [{ ...node, hostPool: 'other' }] },
    });
    h.kube.seed(RRS, request('waiting', 3));
    await h.start(false);
    await h.queued(); // the initial adds
    await h.kube.mergePatch(`${HPS}/rack`, {
      spec: { hosts: rackPool(2, 'Maintenance').spec.hosts },
    });
    await h.settle();
    expect((await h.queued()).sort()).to.deep.equal(['team/held', 'team/waiting']);
    await h.stop();
  });

  const quiet: Array<{ name: string; act(h: Harness): Promise<unknown> }> = [
    {
      name: "a pool's status write",
      act: async (h) => {
        const hp = h.kube.peek<HostPool>(`${HPS}/rack`)!;
        return h.kube.replace(`${HPS}/rack/status`, { ...hp, status: { hostCount: 1 } });
      },
    },
    {
      name: "a request's own status write",
      act: async (h) => {
        const rr = h.kube.peek<ResourceRequest>(`${RRS}/b`)!;
        const status = { ...rr.status, phase: 'Pending' as const, conditions: [] };
        return h.kube.replace(`${RRS}/b/status`, { ...rr, status });
      },
    },
    {
      name: 'the delete of a request that held nothing',
      act: (h) => h.kube.delete(`${RRS}/b`),
    },
  ];
  for (const c of quiet)
    it(`${c.name} wakes no request`, async () => {
      const h = new Harness(1);
      h.kube.seed(RRS, request('a', 1));
      h.kube.seed(RRS, request('b', 2));
      await h.start(true);
      h.rebuilds = 0;
      const before = await h.reconciles();
      await c.act(h);
      await h.settle();
      expect((await h.reconciles()) - before).to.equal(0);
      expect(h.rebuilds).to.equal(0);
      await h.stop();
    });

  it('a spec change of a request queues it', async () => {
    const h = new Harness(1);
    h.kube.seed(RRS, request('a', 1));
    await h.start(false);
    expect(await h.queued()).to.deep.equal(['team/a']);
    await h.kube.mergePatch(`${RRS}/a`, { spec: { count: 2 } });
    await h.settle();
    expect(await h.queued()).to.deep.equal(['team/a']);
    await h.stop();
  });

  it('the delete of a request without finalizer queues its key and gives its capacity back once', async () => {
    const h = new Harness(1);
    h.kube.seed(RRS, request('a', 1));
    h.kube.seed(RRS, request('b', 2));
    await h.start(true);
    expect(h.held()).to.equal(1);
    expect(h.phase('b')).to.equal('Pending');
    const before = await h.reconciles();
    await h.kube.delete(`${RRS}/a`);
    // a's key: its capacity comes back; then b, woken by the capacity, is bound on it.
    await until(() => h.phase('b') === 'Ready', 'b bound on the freed host');
    await h.settle();
    expect(h.held()).to.equal(1);
    expect((await h.reconciles()) - before).to.be.at.least(2);
    await h.stop();
  });

  it('enqueueAll queues every request oldest first', async () => {
    const h = new Harness(1);
    await h.start(false);
    h.rc.enqueueAll([request('c', 3), request('a', 1), request('b', 2)]);
    expect(await h.queued()).to.deep.equal(['team/a', 'team/b', 'team/c']);
    await h.stop();
  });

  it('many capacity releases in one turn cost one scan of the pending requests', async () => {
    const h = new Harness(1);
    h.kube.seed(RRS, request('b', 2));
    h.kube.seed(RRS, request('a', 1));
    await h.start(false);
    await h.queued();
    let scans = 0;
    const list = h.requests.list.bind(h.requests);
    h.requests.list = () => {
      scans++;
      return list();
    };
    for (let i = 0; i < 10; i++) h.rc.enqueuePending();
    await h.settle();
    expect(scans).to.equal(1);
    expect(await h.queued()).to.deep.equal(['team/a', 'team/b']);
    await h.stop();
  });
});
