// Pure decisions of the request lifecycle that the reconciler tests cannot reach with the fakes.
import { expect } from 'chai';
import type { NodeStatus, ResourceRequest } from '../../src/api/index.js';
import type { NodeRecord, ReleaseFailure } from '../../src/provisioning/index.js';
import { released, type ServingView } from '../../src/serving/request-lifecycle.js';

const view: ServingView = {
  profile: () => ({ remote: true, onHostLoss: 'Replace' }),
  profileNames: () => ['default'],
  hostAvailability: (_p, h) => (h === 'lost' ? 'Maintenance' : 'Available'),
};

const node = (name: string, host: string): NodeStatus => ({
  name,
  provisioner: 'farm',
  hostPool: 'rack',
  host,
  address: '10.0.0.1',
  configEntry: '',
  state: 'Running',
});

describe('request lifecycle: healing', () => {
  it('a lost node whose release failed still gets a successor (replacing counts every lost node)', () => {
    const nodes = [node('svc-0', 'lost'), node('svc-1', 'lost'), node('svc-2', 'ok')];
    const rr: ResourceRequest = {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ResourceRequest',
      metadata: { name: 'svc', namespace: 't', generation: 1 },
      spec: { count: 3 },
      status: { phase: 'Ready', observedGeneration: 1, nodes },
    };
    const records = nodes.slice(0, 2).map((n) => ({ ...n, state: 'Running' }) as NodeRecord);
    const failure: ReleaseFailure = {
      name: 'svc-1',
      provisioner: 'farm',
      error: 'HTTP 500',
      record: records[1]!,
    };
    const out = released(
      rr,
      { records, finalize: false, replace: true },
      [records[0]!],
      [failure],
      view,
      new Date('2026-01-01T00:00:00Z'),
    );
    const status = out.write!.status;
    expect(status.replacing).to.equal(2);
    expect(status.nodes?.map((n) => `${n.name}:${n.state}`)).to.deep.equal([
      'svc-1:Releasing',
      'svc-2:Running',
    ]);
    expect(out.retry).to.equal('release failed for svc-1');
    expect(out.requeueAfterMs).to.equal(0);
  });
});
