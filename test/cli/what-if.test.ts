// `berth simulate --from-cluster`'s pure parts: laying changes over the live objects, keeping a
// changed request's live status, and never calling an external provisioner.
import { expect } from 'chai';
import type { HostPool, OperatorConfig, ResourceRequest } from '../../src/api/index.js';
import { overlay, withLiveStatus } from '../../src/cli/what-if.js';
import { simulate } from '../../src/sim/simulate.js';
import { KvmFarm, startFarm } from '../provisioning/helpers/servers.js';
import { rackPool } from '../support/objects.js';

const rr = (name: string, extra: Partial<ResourceRequest> = {}): ResourceRequest => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name, namespace: 't', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { count: 1, resources: { cpu: '1' } },
  ...extra,
});

describe('berth simulate --from-cluster', () => {
  it('replaces live objects of the same name and adds the others', () => {
    const live = [rr('a'), rr('b')];
    const changed = { ...rr('b'), spec: { count: 3 } };
    expect(
      overlay(live, [changed, rr('c')]).map((o) => `${o.metadata.name}:${o.spec.count}`),
    ).to.deep.equal(['a:1', 'b:3', 'c:1']);
  });

  it('a changed request keeps its live status, so a new count is simulated as a scale', () => {
    const status = { phase: 'Ready' as const, observedGeneration: 1, nodes: [] };
    const [b] = withLiveStatus([{ ...rr('b'), spec: { count: 3 } }], [rr('b', { status })]);
    expect(b!.status).to.equal(status);
    const [fresh] = withLiveStatus([rr('new')], [rr('b', { status })]);
    expect(fresh!.status).to.equal(undefined);
  });

  it('never calls an external provisioner, not even to release a scale-down', async () => {
    const farm = new KvmFarm({ capacity: 4 });
    const server = await startFarm(farm);
    try {
      const config: OperatorConfig = {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'OperatorConfig',
        profiles: [
          { name: 'default', provisioners: [{ name: 'farm', type: 'webhook', url: server.url }] },
        ],
      };
      const held = (i: number) => ({
        name: `vm-${i}`,
        provisioner: 'farm',
        address: `192.168.122.${10 + i}`,
        configEntry: '',
        state: 'Running' as const,
      });
      const vm = rr('vm', {
        spec: { count: 1 },
        status: { phase: 'Ready', observedGeneration: 1, ready: '2/2', nodes: [held(0), held(1)] },
      });
      const out = await simulate(
        { hostPools: [], storagePools: [], requests: [], current: [], config, localOnly: true },
        new Date('2026-01-01T00:00:00Z'),
      );
      expect(out.requests).to.deep.equal([]);
      const scaled = await simulate(
        { hostPools: [], storagePools: [], requests: [vm], config, localOnly: true },
        new Date('2026-01-01T00:00:00Z'),
      );
      expect(scaled.requests[0]!.status.explanation?.summary).to.match(/^not simulated/);
      expect(server.calls).to.deep.equal([]);
    } finally {
      await server.close();
    }
  });

  it('never calls an external provisioner: such requests are reported, not served', async () => {
    const config: OperatorConfig = {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'OperatorConfig',
      profiles: [
        {
          name: 'default',
          // Nothing listens there: a call would fail the run, not only this request.
          provisioners: [{ name: 'farm', type: 'webhook', url: 'http://127.0.0.1:9/provision' }],
        },
      ],
    };
    const out = await simulate(
      {
        hostPools: [rackPool(1) as HostPool],
        storagePools: [],
        requests: [rr('vm')],
        config,
        localOnly: true,
      },
      new Date('2026-01-01T00:00:00Z'),
    );
    const status = out.requests[0]!.status;
    expect(status.explanation?.summary).to.match(
      /^not simulated: profile "default" has external provisioners/,
    );
    expect(status.conditions?.[0]).to.include({
      type: 'Ready',
      status: 'Unknown',
      reason: 'NotSimulated',
    });
  });
});
