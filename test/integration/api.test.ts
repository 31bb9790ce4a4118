// The CRDs on the real API server: examples apply and read back, the invalid corpus is rejected
// by the server itself naming the field, and kubectl shows what users expect.
import { expect } from 'chai';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KINDS } from '../../src/api/kinds.js';
import { KubeRest, loadKubeConfig } from '../../src/kube/rest.js';
import { anyVersion, StatusWriter, type WithStatus } from '../../src/runtime/status-writer.js';
import { invalidCases, loadDocuments, repoRoot, yamlFiles } from '../support/fixtures.js';
import { createNamespace, kubectl, kubectlOk, useControlPlane } from './harness.js';

const exampleFiles = yamlFiles(join(repoRoot, 'examples'));
const namespaced = (kind: unknown) =>
  KINDS.some((k) => k.kind === kind && k.scope === 'Namespaced');

describe('integration: the API on a real API server', function () {
  this.timeout(120_000);
  const cp = useControlPlane();

  after(async () => {
    // No operator ran here, so nothing holds a finalizer: leave the cluster as we found it.
    await kubectl(['delete', 'rr', '--all', '-n', 'team-ml', '--wait=true']);
    await kubectl(['delete', 'rr', '--all', '-n', 'team-ci', '--wait=true']);
    await kubectl(['delete', 'hp,sp', '--all', '--wait=true']);
  });

  it('establishes every CRD', () => {
    expect(cp().crds).to.deep.equal([
      'hostpools.berth.dev',
      'resourcerequests.berth.dev',
      'storagepools.berth.dev',
      'tenantquotas.berth.dev',
    ]);
  });

  it('applies examples/ and reads every object back unchanged', async () => {
    await kubectlOk(['apply', '-f', join(repoRoot, 'examples')]);
    for (const file of exampleFiles) {
      for (const doc of loadDocuments(file)) {
        if (doc.apiVersion !== 'berth.dev/v1alpha1') continue;
        const meta = doc.metadata as { name: string; namespace?: string };
        const args = [
          'get',
          String(doc.kind),
          meta.name,
          '-o',
          'json',
          ...(meta.namespace ? ['-n', meta.namespace] : []),
        ];
        const live = JSON.parse(await kubectlOk(args)) as {
          spec: Record<string, unknown>;
          metadata: { labels?: unknown };
        };
        const spec = doc.spec as Record<string, unknown>;
        // The one thing the server adds: spec.profile's schema default.
        const expected = doc.kind === 'ResourceRequest' ? { profile: 'default', ...spec } : spec;
        expect(live.spec, `${String(doc.kind)}/${meta.name}`).to.deep.equal(expected);
        expect(live.metadata.labels).to.deep.equal((doc.metadata as { labels?: unknown }).labels);
      }
    }
  });

  it('shows printer columns, categories and kubectl explain descriptions', async () => {
    const rr = await kubectlOk(['get', 'rr', '-A']);
    expect(rr.split('\n')[0]).to.match(
      /^NAMESPACE\s+NAME\s+PHASE\s+READY\s+PROFILE\s+PRIORITY\s+AGE$/,
    );
    expect(rr).to.match(/team-ci\s+runners\s+burst\s+/);
    expect((await kubectlOk(['get', 'hp'])).split('\n')[0]).to.match(
      /^NAME\s+ZONE\s+HOSTS\s+CPU\s+MEMORY\s+AGE$/,
    );
    expect((await kubectlOk(['get', 'sp'])).split('\n')[0]).to.match(
      /^NAME\s+SCOPE\s+ALLOCATED\s+CAPACITY\s+AGE$/,
    );
    const all = await kubectlOk(['get', 'berth', '-A']);
    for (const kind of [
      'resourcerequest.berth.dev/training',
      'hostpool.berth.dev/rack-a1',
      'storagepool.berth.dev/zone-a-ceph',
    ]) {
      expect(all).to.include(kind);
    }
    const explain = await kubectlOk(['explain', 'resourcerequest.spec']);
    expect(explain).to.include('Fewest nodes that are still useful (VURM minSize)');
    expect(explain).to.include('maxNodesPerHost');
    expect(await kubectlOk(['explain', 'hostpool.spec.disableThreshold'])).to.include(
      'allocated share of the pool',
    );
  });

  describe('rejects the invalid corpus itself, naming the field', () => {
    let ns: string;
    before(async () => {
      ns = await createNamespace('invalid');
    });
    for (const c of invalidCases('invalid')) {
      it(c.file, async () => {
        const doc = {
          ...c.doc,
          metadata: {
            ...(c.doc.metadata as object),
            ...(namespaced(c.doc.kind) ? { namespace: ns } : {}),
          },
        };
        const r = await kubectl(['create', '-f', '-'], { stdin: stringify(doc) });
        expect(r.code, `accepted: ${r.stdout}`).to.not.equal(0);
        expect(r.stderr).to.include(c.expect);
      });
    }
  });

  it('refuses a change of an immutable ResourceRequest field, naming it', async () => {
    const r = await kubectl([
      'patch',
      'rr',
      'e2e',
      '-n',
      'team-ci',
      '--type=merge',
      '-p',
      '{"spec":{"resources":{"cpu":"3"}}}',
    ]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.include(
      'resources is immutable; only count, minCount, activeDeadlineSeconds and expiresAt may change',
    );
    expect(r.stderr, r.stderr).to.match(/spec\.resources: Invalid value/);
    // priorityClassName is immutable once created, and setting it later is a change too.
    const priority = await kubectl([
      'patch',
      'rr',
      'e2e',
      '-n',
      'team-ci',
      '--type=merge',
      '-p',
      '{"spec":{"priorityClassName":"high"}}',
    ]);
    expect(priority.code).to.not.equal(0);
    expect(priority.stderr).to.include('priorityClassName is immutable');
    expect(priority.stderr, priority.stderr).to.match(/spec\.priorityClassName: Invalid value/);
    const meta = await kubectl(['label', 'rr', 'e2e', '-n', 'team-ci', 'owner=ci']);
    expect(meta.code, 'metadata stays editable').to.equal(0);
  });
});

describe('integration: status lists and status bodies, and the field managers', function () {
  this.timeout(120_000);
  const cp = useControlPlane();
  const crdFile = join(repoRoot, 'crds', 'resourcerequests.berth.dev.yaml');
  const statusPath = '/spec/versions/0/schema/openAPIV3Schema/properties/status/properties';

  interface ManagedEntry {
    manager: string;
    fieldsV1: Record<string, unknown>;
  }
  const managed = async (ns: string, name: string): Promise<Record<string, string>> => {
    const obj = JSON.parse(
      await kubectlOk(['get', 'rr', name, '-n', ns, '-o', 'json', '--show-managed-fields']),
    ) as { metadata: { managedFields?: ManagedEntry[] } };
    return Object.fromEntries(
      (obj.metadata.managedFields ?? []).map((m) => [m.manager, JSON.stringify(m.fieldsV1)]),
    );
  };
  const writeStatus = async (ns: string, name: string, message: string) => {
    const obj = JSON.parse(await kubectlOk(['get', 'rr', name, '-n', ns, '-o', 'json'])) as {
      status?: unknown;
    };
    const condition = (type: string) => ({
      type,
      status: 'True',
      reason: 'NodesRunning',
      message,
      lastTransitionTime: '2026-12-02T07:00:00Z',
    });
    obj.status = {
      phase: 'Ready',
      conditions: [condition('Allocated'), condition('Ready')],
      nodes: [
        {
          name: `${name}-0`,
          host: 'h0',
          hostPool: 'p',
          address: '10.0.0.1',
          provisioner: 'hosts',
          state: 'Running',
        },
      ],
    };
    await kubectlOk(
      ['replace', '--subresource=status', '--field-manager=berth-operator', '-f', '-'],
      { stdin: JSON.stringify(obj) },
    );
  };

  const namespaces: string[] = [];
  after(async () => {
    // Whatever happened, leave the CRD as generated, and no request behind: no namespace
    // controller runs here, so deleting a namespace would leave its requests for the next
    // suites' operators to serve.
    await kubectl([
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=berth-test',
      '-f',
      crdFile,
    ]);
    for (const ns of namespaces) {
      // The status-body test's request carries a finalizer that nothing here would remove.
      await kubectl([
        'patch',
        'rr',
        'r',
        '-n',
        ns,
        '--type=merge',
        '-p',
        '{"metadata":{"finalizers":null}}',
      ]);
      await kubectlOk(['delete', 'rr', '--all', '-n', ns, '--wait=true']);
      await kubectlOk(['delete', 'ns', ns, '--wait=false']);
    }
  });

  it("a status write with the operator's body (identity and status only) takes no field from other managers", async () => {
    const ns = await createNamespace('statusbody');
    namespaces.push(ns);
    await kubectlOk(['apply', '--server-side', '--field-manager=flux', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: {
          name: 'r',
          namespace: ns,
          labels: { team: 'a' },
          annotations: { note: 'kept' },
          finalizers: ['example.com/keep'],
        },
        spec: { count: 1, resources: { cpu: '1', memory: '1Gi' } },
      }),
    });
    const rest = new KubeRest(loadKubeConfig(cp().kubeconfigPath));
    const path = `/apis/berth.dev/v1alpha1/namespaces/${ns}/resourcerequests/r`;
    const current = await rest.get<WithStatus<unknown>>(path);
    const before = (await managed(ns, 'r'))['flux'];
    const r = await new StatusWriter(rest).write(path, current, { phase: 'Pending' }, anyVersion);
    expect(r).to.have.property('written');
    const after = await managed(ns, 'r');
    expect(after['flux'], 'flux keeps labels, annotations, finalizers and spec').to.equal(before);
    expect(before).to.include('f:labels').and.include('f:finalizers').and.include('f:count');
    await rest.close();
  });

  it("keeps every manager's fields: the old per-entry records fold into the atomic lists", async () => {
    const ns = await createNamespace('upgrade');
    namespaces.push(ns);
    // The CRD as it was before: conditions and nodes as list maps.
    const asListMaps = ['conditions', 'nodes'].flatMap((f, i) => [
      { op: 'replace', path: `${statusPath}/${f}/x-kubernetes-list-type`, value: 'map' },
      {
        op: 'add',
        path: `${statusPath}/${f}/x-kubernetes-list-map-keys`,
        value: [i ? 'name' : 'type'],
      },
    ]);
    await kubectlOk([
      'patch',
      'crd',
      'resourcerequests.berth.dev',
      '--type=json',
      '-p',
      JSON.stringify(asListMaps),
    ]);
    await kubectlOk(['wait', '--for=condition=Established', 'crd/resourcerequests.berth.dev']);
    const request = (name: string, count: number) =>
      stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name, namespace: ns, labels: { team: 'a' } },
        spec: { count, resources: { cpu: '1', memory: '1Gi' } },
      });
    // One applied server-side (Flux, Argo CD), one with client-side kubectl apply.
    await kubectlOk(['apply', '--server-side', '--field-manager=flux', '-f', '-'], {
      stdin: request('ssa', 1),
    });
    await kubectlOk(['apply', '-f', '-'], { stdin: request('csa', 1) });
    for (const name of ['ssa', 'csa']) await writeStatus(ns, name, 'before');
    expect((await managed(ns, 'ssa'))['berth-operator']).to.include('k:{\\"type\\":\\"Ready\\"}');

    await kubectlOk([
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager=berth-test',
      '-f',
      crdFile,
    ]);
    await kubectlOk(['wait', '--for=condition=Established', 'crd/resourcerequests.berth.dev']);
    for (const name of ['ssa', 'csa']) await writeStatus(ns, name, 'after');

    for (const name of ['ssa', 'csa']) {
      const fields = await managed(ns, name);
      const operator = fields['berth-operator'] ?? '';
      expect(operator, name).to.include('"f:conditions":{}').and.include('"f:nodes":{}');
      expect(operator, name).to.not.include('k:{');
      const owner = name === 'ssa' ? 'flux' : 'kubectl-client-side-apply';
      expect(fields[owner], `${name}: ${owner}`).to.include('f:labels').and.include('f:count');
    }
    // Their next apply changes what they own, with no conflict.
    await kubectlOk(['apply', '--server-side', '--field-manager=flux', '-f', '-'], {
      stdin: request('ssa', 2),
    });
    await kubectlOk(['apply', '-f', '-'], { stdin: request('csa', 2) });
    for (const name of ['ssa', 'csa'])
      expect(
        await kubectlOk(['get', 'rr', name, '-n', ns, '-o', 'jsonpath={.spec.count}']),
      ).to.equal('2');
  });
});
