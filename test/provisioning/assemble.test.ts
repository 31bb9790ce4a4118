import { expect } from 'chai';
import { parse } from 'yaml';
import type { HostPool, OperatorConfig, ResourceRequest } from '../../src/api/index.js';
import { AssembledRuntime } from '../../src/provisioning/assemble.js';
import { HostsBackend } from '../../src/allocation/service.js';
import { releaseRecords } from '../../src/provisioning/records.js';
import { runStack } from '../../src/provisioning/stack.js';

const pool: HostPool = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name: 'p' },
  spec: { zone: 'z', hosts: [{ name: 'h', address: '10.0.0.1', capacity: { cpu: '8' } }] },
};
const config = (yaml: string) => parse(yaml) as OperatorConfig;
const withGold = config(`apiVersion: berth.dev/v1alpha1
kind: OperatorConfig
profiles:
  - name: default
    provisioners: [{ name: hosts, type: hosts }]
  - name: gold
    provisioners: [{ name: gold-hosts, type: hosts }]
`);
const withoutGold = config(`apiVersion: berth.dev/v1alpha1
kind: OperatorConfig
profiles:
  - name: default
    provisioners: [{ name: hosts, type: hosts }]
`);

describe('assembled runtime', () => {
  it('gives back host capacity of a profile that a config reload removed', async () => {
    const backend = new HostsBackend();
    backend.setInventory([pool]);
    const rr: ResourceRequest = {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ResourceRequest',
      metadata: { namespace: 'ns', name: 'r' },
      spec: { count: 2, profile: 'gold', resources: { cpu: '4' } },
    };
    const before = AssembledRuntime.build(withGold, backend);
    const result = await runStack(before.profile('gold')!.provisioners, {
      metadata: { namespace: 'ns', name: 'r' },
      spec: rr.spec,
    });
    expect(result.outcome).to.equal('Provisioned');
    const records = result.nodes.map((n) => n.toRecord());
    await before.close();

    // The reload drops "gold"; the request's nodes are still on the host.
    const after = AssembledRuntime.build(withoutGold, backend);
    after.restore([{ ...rr, status: { nodes: records } }]);
    expect(backend.hostPoolUsage('p')?.allocated).to.deep.equal({ cpu: '8' });
    expect(after.profile('gold')).to.equal(undefined);
    const releasers = after.releasers('gold', records);
    expect(releasers.map((p) => p.name)).to.deep.equal(['gold-hosts']);
    const { released, failures } = await releaseRecords(
      records,
      { namespace: 'ns', name: 'r' },
      releasers,
    );
    expect(failures).to.deep.equal([]);
    expect(released.map((r) => r.name)).to.deep.equal(['r-0', 'r-1']);
    expect(backend.hostPoolUsage('p')?.allocated).to.deep.equal({});
    await after.close();
  });

  it('adds nothing for records its profile still serves, or that are not on hosts', () => {
    const backend = new HostsBackend();
    backend.setInventory([pool]);
    const rt = AssembledRuntime.build(withGold, backend);
    expect(
      rt
        .releasers('default', [{ provisioner: 'hosts', hostPool: 'p', host: 'h' }])
        .map((p) => p.name),
    ).to.deep.equal(['hosts']);
    expect(rt.releasers('gone', [{ provisioner: 'local' }])).to.deep.equal([]);
  });
});
