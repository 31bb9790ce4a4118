// The Helm chart and the kustomize base on the real API server: lint, server-side dry runs (with
// the restricted Pod Security level enforced), install, upgrade with changed values, uninstall
// that keeps the CRDs, and values the schema refuses at install time.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { remoteProfiles } from '../../src/api/index.js';
import { createNamespace, helm, kubectl, kubectlOk, repoRoot, useControlPlane } from './harness.js';
import { ALERTS, PANELS, allExpressions, metricNames } from '../../src/deploy/observability.js';
import { startOperator } from './operator-process.js';

const CHART = 'helm/berth';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

interface Deployment extends Manifest {
  spec: {
    replicas: number;
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: { containers: Array<{ args: string[] }> };
    };
  };
}

const pdbSpec = (minAvailable: number) => ({
  minAvailable,
  selector: {
    matchLabels: { 'app.kubernetes.io/name': 'berth', 'app.kubernetes.io/instance': 'berth' },
  },
});

const parseManifests = (text: string): Manifest[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null && typeof m === 'object' && 'kind' in m);

/** `helm template`, asserting it renders; returns the YAML. */
async function template(release: string, namespace: string, args: string[] = []) {
  const r = await helm(['template', release, CHART, '-n', namespace, ...args]);
  expect(r.code, r.stderr).to.equal(0);
  return r.stdout;
}

const getJson = async <T>(args: string[]): Promise<T> =>
  JSON.parse(await kubectlOk([...args, '-o', 'json'])) as T;

/** A namespace where the restricted Pod Security level is enforced, and warned about. */
async function restrictedNamespace(prefix: string): Promise<string> {
  const ns = await createNamespace(prefix);
  await kubectlOk([
    'label',
    'ns',
    ns,
    'pod-security.kubernetes.io/enforce=restricted',
    'pod-security.kubernetes.io/warn=restricted',
  ]);
  return ns;
}

describe('integration: the Helm chart and the kustomize base', function () {
  this.timeout(300_000);
  const cp = useControlPlane();

  it('passes helm lint --strict, with the dashboard and the alert rules too', async () => {
    for (const args of [
      [],
      ['--set', 'grafana.dashboard.enabled=true', '--set', 'prometheusRule.enabled=true'],
    ]) {
      const r = await helm(['lint', '--strict', CHART, ...args]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.include('1 chart(s) linted, 0 chart(s) failed');
      expect(r.stdout + r.stderr).not.to.match(/\[(WARNING|ERROR)\]/);
    }
  });

  it('renders what the API server accepts (server-side dry run), restricted Pod Security included', async () => {
    const ns = await restrictedNamespace('chart-dry');
    const renders = [
      [],
      // Every optional object but the ServiceMonitor (its CRD is not installed here).
      [
        '--set',
        'networkPolicy.enabled=true',
        '--set-json',
        'networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"name":"monitoring"}}}]',
        '--set',
        'replicaCount=3',
        '--set',
        'podAnnotations.team=platform',
        '--set',
        'serviceAccount.annotations.owner=platform',
        '--set',
        'imagePullSecrets[0].name=registry',
        // The dashboard's ConfigMap; the PrometheusRule renders only where its CRD is served.
        '--set',
        'grafana.dashboard.enabled=true',
        '--set',
        'prometheusRule.enabled=true',
      ],
    ];
    for (const args of renders) {
      const yaml = await template('berth', ns, args);
      const r = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], {
        stdin: yaml,
      });
      expect(r.code, r.stderr).to.equal(0);
      // The Deployment's pod template meets the restricted level: no "would violate" warning.
      expect(r.stderr).not.to.include('PodSecurity');
      expect(r.stdout).to.match(/deployment\.apps\/berth created \(server dry run\)/);
      if (args.length > 0)
        expect(r.stdout).to.match(/networkpolicy\.networking\.k8s\.io\/berth created/);
    }
    // The check would catch a breach: a container allowed to escalate privileges is warned about.
    const bad = await template('berth', ns, [
      '--set',
      'crds.install=false',
      '--set',
      'securityContext.allowPrivilegeEscalation=true',
    ]);
    const r = await kubectl(['apply', '--dry-run=server', '-n', ns, '-f', '-'], { stdin: bad });
    expect(r.stderr).to.match(/would violate PodSecurity "restricted:latest": allowPrivilege/);
  });

  it('renders the ServiceMonitor on request, selecting the metrics Service', async () => {
    const objects = parseManifests(
      await template('berth', 'berth-system', [
        '--set',
        'metrics.serviceMonitor.enabled=true',
        '--set',
        'metrics.serviceMonitor.labels.release=prometheus',
      ]),
    );
    const sm = objects.find((o) => o.kind === 'ServiceMonitor');
    const svc = objects.find((o) => o.kind === 'Service');
    expect(sm?.metadata.labels).to.include({ release: 'prometheus' });
    const spec = sm?.spec as { selector: { matchLabels: Record<string, string> } };
    expect(svc?.metadata.labels).to.include(spec.selector.matchLabels);
    expect(sm?.spec).to.deep.include({ endpoints: [{ port: 'metrics', interval: '30s' }] });
  });

  it('renders the Grafana dashboard and the alert rules on request, the rules only where the CRD is served', async () => {
    const none = parseManifests(await template('berth', 'berth-system'));
    expect(none.map((o) => o.kind)).not.to.include.members(['PrometheusRule']);
    expect(none.filter((o) => o.metadata.name.endsWith('-dashboard'))).to.deep.equal([]);
    const on = ['--set', 'grafana.dashboard.enabled=true', '--set', 'prometheusRule.enabled=true'];
    const noCrd = parseManifests(await template('berth', 'berth-system', on));
    expect(noCrd.map((o) => o.kind)).not.to.include('PrometheusRule');
    const objects = parseManifests(
      await template('berth', 'berth-system', [
        ...on,
        '--set',
        'prometheusRule.labels.release=prometheus',
        '--api-versions',
        'monitoring.coreos.com/v1/PrometheusRule',
      ]),
    );
    const cm = objects.find((o) => o.metadata.name === 'berth-dashboard') as Manifest & {
      data: Record<string, string>;
    };
    expect(cm.metadata.labels).to.include({ grafana_dashboard: '1' });
    const dashboard = JSON.parse(cm.data['berth.json']!) as { panels: Array<{ title: string }> };
    expect(dashboard.panels.map((p) => p.title)).to.deep.equal(PANELS.map((p) => p.title));
    const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
    expect(rule.metadata.labels).to.include({ release: 'prometheus' });
    const spec = rule.spec as { groups: Array<{ rules: Array<{ alert: string }> }> };
    expect(spec.groups[0]!.rules.map((r) => r.alert)).to.deep.equal(ALERTS.map((a) => a.alert));
  });

  it('renders the CRDs kept on uninstall, or not at all, as crds.* say', async () => {
    const crdsOf = async (args: string[]) =>
      parseManifests(await template('berth', 'berth-system', args)).filter(
        (o) => o.kind === 'CustomResourceDefinition',
      );
    const kept = await crdsOf([]);
    expect(kept.map((c) => c.metadata.name).sort()).to.deep.equal([
      'hostpools.berth.dev',
      'resourcerequests.berth.dev',
      'storagepools.berth.dev',
      'tenantquotas.berth.dev',
    ]);
    for (const crd of kept)
      expect(crd.metadata.annotations).to.include({ 'helm.sh/resource-policy': 'keep' });
    const dropped = await crdsOf(['--set', 'crds.keep=false']);
    expect(dropped).to.have.length(4);
    for (const crd of dropped)
      expect(crd.metadata.annotations ?? {}).not.to.have.property('helm.sh/resource-policy');
    expect(await crdsOf(['--set', 'crds.install=false'])).to.deep.equal([]);
  });

  it('renders the admission policy with the profiles whose provisioners are external', async () => {
    const profiles = [
      { name: 'default', provisioners: [{ name: 'rack', type: 'hosts' }] },
      {
        name: 'burst',
        provisioners: [
          { name: 'rack', type: 'hosts' },
          { name: 'farm', type: 'webhook', url: 'https://farm.example/provision' },
        ],
      },
      {
        name: 'laptop',
        provisioners: [{ name: 'local', type: 'multilocal', address: '127.0.0.1', basePort: 7100 }],
      },
    ];
    const docs = parseManifests(
      await template('berth', 'berth-system', [
        '--set-json',
        `config.profiles=${JSON.stringify(profiles)}`,
      ]),
    );
    const cm = docs.find((d) => d.kind === 'ConfigMap') as unknown as {
      data: Record<string, string>;
    };
    // The chart's rule and the operator's are the same rule.
    expect(cm.data['remote-profiles']).to.equal(remoteProfiles({ profiles } as never).join(','));
    expect(cm.data['remote-profiles']).to.equal('burst');
    const policy = docs.find((d) => d.kind === 'MutatingAdmissionPolicy');
    const binding = docs.find((d) => d.kind === 'MutatingAdmissionPolicyBinding') as unknown as {
      spec: { paramRef: { name: string; namespace: string } };
    };
    expect(policy).to.not.equal(undefined);
    expect(binding.spec.paramRef).to.include({ name: 'berth-config', namespace: 'berth-system' });
    const off = parseManifests(
      await template('berth', 'berth-system', ['--set', 'admissionPolicy.enabled=false']),
    );
    expect(off.filter((d) => d.kind.startsWith('MutatingAdmissionPolicy'))).to.deep.equal([]);
  });

  it('renders a PodDisruptionBudget only when a replica may be evicted', async () => {
    const pdbOf = async (args: string[]) =>
      parseManifests(await template('berth', 'berth-system', args)).find(
        (o) => o.kind === 'PodDisruptionBudget',
      );
    expect(await pdbOf([])).to.deep.include({ spec: pdbSpec(1) });
    expect(
      await pdbOf(['--set', 'replicaCount=3', '--set', 'podDisruptionBudget.minAvailable=2']),
    ).to.deep.include({ spec: pdbSpec(2) });
    // One replica and minAvailable 1 would block every drain: no budget at all.
    expect(await pdbOf(['--set', 'replicaCount=1'])).to.equal(undefined);
    expect(await pdbOf(['--set', 'podDisruptionBudget.enabled=false'])).to.equal(undefined);
  });

  it('renders an OperatorConfig that `berth validate` accepts', async () => {
    const cm = parseManifests(await template('berth', 'berth-system')).find(
      (o) => o.kind === 'ConfigMap',
    ) as (Manifest & { data: Record<string, string> }) | undefined;
    const config = cm?.data['config.yaml'];
    expect(config).to.be.a('string');
    const dir = mkdtempSync(join(tmpdir(), 'berth-chart-'));
    try {
      writeFileSync(join(dir, 'config.yaml'), config ?? '');
      const r = spawnSync(
        process.execPath,
        [join(repoRoot, 'dist/src/cli/main.js'), 'validate', '-f', join(dir, 'config.yaml')],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.include('1 Berth document(s) checked');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts the operator with the Deployment’s arguments and the rendered OperatorConfig', async () => {
    const ns = await createNamespace('chart-run');
    const objects = parseManifests(await template('berth', ns, ['--set', 'workers=2']));
    const deploy = objects.find((o) => o.kind === 'Deployment') as Deployment;
    const cm = objects.find((o) => o.kind === 'ConfigMap') as Manifest & {
      data: Record<string, string>;
    };
    const args = deploy.spec.template.spec.containers[0]?.args ?? [];
    expect(args[0]).to.equal('run');
    expect(args).to.include.members([`--lease-namespace=${ns}`, '--workers=2']);
    // What differs from a Pod: the config is a temp file, not the mounted ConfigMap, and the
    // servers bind to free loopback ports. Every other flag is the chart's (the last one wins).
    const local = args
      .slice(1)
      .filter((a) => !a.startsWith('--config='))
      .map((a) => a.replace(/^(--(metrics|health-probe)-bind-address)=.*$/, '$1=127.0.0.1:0'));
    const op = await startOperator({
      kubeconfig: cp().kubeconfigPath,
      config: cm.data['config.yaml'] ?? '',
      leaseNamespace: ns,
      args: local,
    });
    try {
      await op.waitForLog(/became leader/);
      // Every metric the dashboard and the alert rules query is one this operator exports.
      const exported = new Set(
        (await op.metrics())
          .split('\n')
          .filter((l) => l.startsWith('# TYPE '))
          .map((l) => l.split(' ')[2]!),
      );
      const known = (name: string) =>
        exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ''));
      const queried = allExpressions().flatMap(metricNames);
      expect(queried).to.include('berth_provisioner_available');
      expect(queried.filter((n) => !known(n))).to.deep.equal([]);
      const lease = JSON.parse(
        await kubectlOk(['get', 'lease', 'berth-operator', '-n', ns, '-o', 'json']),
      ) as { spec: { leaseDurationSeconds: number } };
      expect(lease.spec.leaseDurationSeconds).to.equal(15); // the chart's, not the harness's 4s
    } finally {
      expect(await op.stop(), op.logs().slice(-2000)).to.equal(0);
    }
  });

  describe('helm install, upgrade, uninstall', () => {
    let ns: string;
    let installed = false;
    const release = 'berth';

    before(async () => {
      ns = await restrictedNamespace('chart');
    });

    after(async () => {
      // The user roles are cluster-scoped and named without the release: leave none behind.
      if (installed) await helm(['uninstall', release, '-n', ns]);
    });

    it('installs; the operator role in the cluster is the rendered one', async () => {
      // The harness applied crds/ with kubectl before any test ran, as a user who started with
      // `kubectl apply -f crds/` does. Helm adopts objects it did not create only when told to
      // (docs/install.md); without the flag it stops and names the ownership labels.
      const refused = await helm(['install', release, CHART, '-n', ns]);
      expect(refused.code).not.to.equal(0);
      expect(refused.stderr).to.match(
        /CustomResourceDefinition "\w+\.berth\.dev".*exists and cannot be imported into the current release: invalid ownership metadata/,
      );
      const r = await helm(['install', release, CHART, '-n', ns, '--take-ownership']);
      expect(r.code, r.stderr).to.equal(0);
      installed = true;
      expect(r.stdout).to.match(/STATUS: deployed/);
      expect(r.stdout).to.include(`Berth 0.1.0 is installed in namespace ${ns}`);

      const deploy = await getJson<Deployment>(['get', 'deploy', release, '-n', ns]);
      expect(deploy.spec.replicas).to.equal(2);
      for (const [kind, name] of [
        ['sa', release],
        ['role', release],
        ['rolebinding', release],
        ['configmap', `${release}-config`],
        ['service', `${release}-metrics`],
        ['pdb', release],
      ] as const)
        await kubectlOk(['get', kind, name, '-n', ns]);
      for (const name of [release, 'berth-requester', 'berth-pool-admin'])
        await kubectlOk(['get', 'clusterrole', name]);
      await kubectlOk(['get', 'clusterrolebinding', release]);
      for (const crd of ['hostpools', 'resourcerequests', 'storagepools']) {
        const live = await getJson<Manifest>(['get', 'crd', `${crd}.berth.dev`]);
        expect(live.metadata.annotations).to.include({
          'helm.sh/resource-policy': 'keep',
          'meta.helm.sh/release-name': release,
          'meta.helm.sh/release-namespace': ns,
        });
      }
    });

    it('upgrades with changed values: replicas, log level, profiles (pods roll on a new config)', async () => {
      const before = await getJson<Deployment>(['get', 'deploy', release, '-n', ns]);
      const profiles = [
        {
          name: 'default',
          provisioners: [{ name: 'hosts', type: 'hosts' }],
          hostAllocators: [{ type: 'bestFit' }],
        },
        {
          name: 'burst',
          provisioners: [
            { name: 'local', type: 'multilocal', address: '127.0.0.1', basePort: 7000 },
          ],
        },
      ];
      const r = await helm([
        'upgrade',
        release,
        CHART,
        '-n',
        ns,
        '--set',
        'replicaCount=3',
        '--set',
        'logLevel=debug',
        '--set-json',
        `config.profiles=${JSON.stringify(profiles)}`,
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const after = await getJson<Deployment>(['get', 'deploy', release, '-n', ns]);
      expect(after.spec.replicas).to.equal(3);
      expect(after.spec.template.spec.containers[0]?.args).to.include('--log-level=debug');
      const checksum = (d: Deployment) => d.spec.template.metadata.annotations?.['checksum/config'];
      expect(checksum(after)).to.be.a('string').and.not.equal(checksum(before));
      const cm = await getJson<{ data: Record<string, string> }>([
        'get',
        'configmap',
        `${release}-config`,
        '-n',
        ns,
      ]);
      const config = parseAllDocuments(cm.data['config.yaml'] ?? '')[0]?.toJS() as {
        kind: string;
        profiles: unknown[];
      };
      expect(config.kind).to.equal('OperatorConfig');
      expect(config.profiles).to.deep.equal(profiles);
      const history = await helm(['history', release, '-n', ns, '-o', 'json']);
      const revisions = JSON.parse(history.stdout) as Array<{ revision: number; status: string }>;
      expect(revisions.map((h) => [h.revision, h.status])).to.deep.equal([
        [1, 'superseded'],
        [2, 'deployed'],
      ]);
    });

    it('uninstalls, keeping the CRDs and so every request', async () => {
      const rr = {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'survives-uninstall', namespace: ns },
        spec: { count: 1, resources: { cpu: '1' } },
      };
      await kubectlOk(['apply', '-f', '-'], { stdin: stringify(rr) });
      const r = await helm(['uninstall', release, '-n', ns]);
      expect(r.code, r.stderr).to.equal(0);
      installed = false;
      expect(r.stdout).to.match(/kept due to the resource policy/);
      for (const crd of ['hostpools', 'resourcerequests', 'storagepools'])
        await kubectlOk(['get', 'crd', `${crd}.berth.dev`]);
      await kubectlOk(['get', 'rr', 'survives-uninstall', '-n', ns]);
      for (const name of [release, 'berth-requester', 'berth-pool-admin']) {
        const gone = await kubectl(['get', 'clusterrole', name]);
        expect(gone.stderr).to.include('NotFound');
      }
      // No operator ran, so no finalizer holds it.
      await kubectlOk(['delete', 'rr', 'survives-uninstall', '-n', ns, '--timeout=30s']);
    });

    it('reinstalls over the kept CRDs under the same name; another name needs --take-ownership', async () => {
      const other = await helm(['install', 'berth-other', CHART, '-n', ns]);
      expect(other.code).not.to.equal(0);
      expect(other.stderr).to.include(
        'key "meta.helm.sh/release-name" must equal "berth-other": current value is "berth"',
      );
      const again = await helm(['install', release, CHART, '-n', ns]);
      expect(again.code, again.stderr).to.equal(0);
      installed = true;
    });
  });

  describe('values the schema refuses', () => {
    let ns: string;
    before(async () => {
      ns = await createNamespace('chart-bad');
    });

    const cases: Array<{ what: string; args: string[]; message: RegExp }> = [
      {
        what: 'a wrong type',
        args: ['--set', 'replicaCount=two'],
        message: /at '\/replicaCount': got string, want integer/,
      },
      {
        what: 'a number written as a string',
        args: ['--set-string', 'workers=4'],
        message: /at '\/workers': got string, want integer/,
      },
      {
        what: 'an unknown top-level key',
        args: ['--set', 'replicas=2'],
        message: /at '': additional properties 'replicas' not allowed/,
      },
      {
        what: 'an unknown nested key',
        args: ['--set', 'image.tagg=v1'],
        message: /at '\/image': additional properties 'tagg' not allowed/,
      },
      {
        what: 'a value outside its enum',
        args: ['--set', 'logLevel=verbose'],
        message: /at '\/logLevel'/,
      },
      {
        what: 'a profile with an unknown provisioner type',
        args: [
          '--set-json',
          'config.profiles=[{"name":"default","provisioners":[{"name":"p","type":"cloud"}]}]',
        ],
        message: /at '\/config\/profiles\/0\/provisioners\/0\/type': value must be 'hosts'/,
      },
      {
        what: 'a profile with an unknown allocator',
        args: [
          '--set-json',
          'config.profiles=[{"name":"default","provisioners":[{"name":"h","type":"hosts"}],"hostAllocators":[{"type":"worstFit"}]}]',
        ],
        message:
          /at '\/config\/profiles\/0\/hostAllocators\/0\/type': value must be one of 'firstFit'/,
      },
      {
        what: 'a profile without provisioners',
        args: ['--set-json', 'config.profiles=[{"name":"default","provisioners":[]}]'],
        message: /at '\/config\/profiles\/0\/provisioners': minItems: got 0, want 1/,
      },
      {
        what: 'a profile with a misspelt key',
        args: [
          '--set-json',
          'config.profiles=[{"name":"default","provisioners":[{"name":"h","type":"hosts"}],"hostAllocator":[]}]',
        ],
        message: /at '\/config\/profiles\/0': additional properties 'hostAllocator' not allowed/,
      },
    ];
    for (const c of cases) {
      it(`fails helm install on ${c.what}, naming the key`, async () => {
        const r = await helm(['install', 'bad', CHART, '-n', ns, ...c.args]);
        expect(r.code).not.to.equal(0);
        expect(r.stderr).to.include("values don't meet the specifications of the schema");
        expect(r.stderr).to.match(c.message);
      });
    }

    it('fails on a bad values file too, and installs nothing', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'berth-values-'));
      try {
        const file = join(dir, 'values.yaml');
        // A quoted number stays a string in YAML (an unquoted `yes` would be a boolean to Helm).
        writeFileSync(file, 'podDisruptionBudget:\n  minAvailable: "1"\n');
        const r = await helm(['install', 'bad', CHART, '-n', ns, '-f', file]);
        expect(r.code).not.to.equal(0);
        expect(r.stderr).to.match(
          /at '\/podDisruptionBudget\/minAvailable': got string, want integer/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const list = await helm(['list', '-a', '-n', ns, '-q']);
      expect(list.stdout.trim()).to.equal('');
    });
  });

  describe('the kustomize base (manifests/)', () => {
    it('passes kubectl apply -k --dry-run=server, restricted Pod Security included', async () => {
      // The base creates its namespace; a server-side dry run cannot create objects in a
      // namespace that does not exist yet, so the namespace is applied for real first.
      await kubectlOk(['apply', '-f', join(repoRoot, 'manifests/namespace.yaml')]);
      await kubectlOk([
        'label',
        '--overwrite',
        'ns',
        'berth-system',
        'pod-security.kubernetes.io/warn=restricted',
      ]);
      const r = await kubectl(['apply', '-k', join(repoRoot, 'manifests'), '--dry-run=server']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).not.to.include('PodSecurity');
      const kinds = r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]?.split('/')[0])
        .sort();
      expect(kinds).to.deep.equal(
        [
          'clusterrole.rbac.authorization.k8s.io',
          'clusterrole.rbac.authorization.k8s.io',
          'clusterrole.rbac.authorization.k8s.io',
          'clusterrolebinding.rbac.authorization.k8s.io',
          'configmap',
          'customresourcedefinition.apiextensions.k8s.io',
          'customresourcedefinition.apiextensions.k8s.io',
          'customresourcedefinition.apiextensions.k8s.io',
          'customresourcedefinition.apiextensions.k8s.io',
          'deployment.apps',
          'mutatingadmissionpolicy.admissionregistration.k8s.io',
          'mutatingadmissionpolicybinding.admissionregistration.k8s.io',
          'namespace',
          'poddisruptionbudget.policy',
          'role.rbac.authorization.k8s.io',
          'rolebinding.rbac.authorization.k8s.io',
          'service',
          'serviceaccount',
        ].sort(),
      );
    });

    it('is what src/deploy generates (no drift)', () => {
      const r = spawnSync(
        process.execPath,
        [join(repoRoot, 'dist/src/deploy/generate.js'), '--check'],
        {
          encoding: 'utf8',
        },
      );
      expect(r.status, r.stderr).to.equal(0);
    });
  });
});
