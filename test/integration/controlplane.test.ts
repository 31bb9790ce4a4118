// Proves the harness: the control plane is the real, version-stamped kube-apiserver with RBAC
// on, TokenRequest works, every test can have a fresh namespace, and every CRD in crds/ is
// accepted and Established.
import {
  ApiextensionsV1Api,
  ApiException,
  AuthenticationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  VersionApi,
  type KubeConfig,
} from '@kubernetes/client-node';
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  createServiceAccountToken,
  crdDir,
  helm,
  kubeConfigForToken,
  kubectl,
  kubectlOk,
  repoRoot,
  useControlPlane,
  useFreshNamespace,
} from './harness.js';

/** The version go.mod pins for a module, e.g. k8s.io/kubernetes → v1.37.1. */
function pinned(module: string): string {
  const gomod = readFileSync(join(repoRoot, 'tools', 'testenv', 'go.mod'), 'utf8');
  const match = new RegExp(
    `^\\s*(?:require\\s+)?${module.replace(/\./g, '\\.')}\\s+(v\\S+)`,
    'm',
  ).exec(gomod);
  if (!match?.[1]) throw new Error(`${module} not in tools/testenv/go.mod`);
  return match[1];
}

/** The HTTP status of a failed client-node call, or 0 when it succeeded. */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 0;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

/** RBAC changes reach the authorizer through an informer: wait briefly for them to apply. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('integration: control plane harness', function () {
  const plane = useControlPlane();

  describe('version', function () {
    it('serves /version stamped with the pinned Kubernetes release', async function () {
      const kubeVersion = pinned('k8s.io/kubernetes');
      const info = await plane().kubeConfig.makeApiClient(VersionApi).getCode();
      expect(info.gitVersion).to.equal(kubeVersion);
      expect(plane().version).to.equal(kubeVersion);
      const [, minor] = /^v1\.(\d+)\./.exec(kubeVersion) ?? [];
      expect(info.major).to.equal('1');
      expect(info.minor).to.equal(minor);
      expect(info.gitTreeState).to.equal('clean');
      expect(info.platform).to.match(/^linux\//);
    });

    it('has kubectl and helm report their real versions', async function () {
      const kubeVersion = pinned('k8s.io/kubernetes');
      const versions = JSON.parse(await kubectlOk(['version', '-o', 'json'])) as {
        clientVersion: { gitVersion: string };
        serverVersion: { gitVersion: string };
      };
      expect(versions.clientVersion.gitVersion).to.equal(kubeVersion);
      expect(versions.serverVersion.gitVersion).to.equal(kubeVersion);

      const short = await helm(['version', '--short']);
      expect(short.code, short.stderr).to.equal(0);
      expect(short.stdout.trim()).to.equal(pinned('helm.sh/helm/v4'));
    });
  });

  describe('RBAC', function () {
    const namespace = useFreshNamespace('rbac');

    it('authenticates a TokenRequest token as its ServiceAccount', async function () {
      const token = await createServiceAccountToken(namespace(), 'probe');
      const review = await kubeConfigForToken(token)
        .makeApiClient(AuthenticationV1Api)
        .createSelfSubjectReview({ body: {} });
      expect(review.status?.userInfo?.username).to.equal(
        `system:serviceaccount:${namespace()}:probe`,
      );
    });

    it('forbids a ServiceAccount without roles, and allows what bindings grant', async function () {
      const ns = namespace();
      const token = await createServiceAccountToken(ns, 'reader');
      const asReader: KubeConfig = kubeConfigForToken(token);
      const core = asReader.makeApiClient(CoreV1Api);
      const listNamespaces = (): Promise<number> => statusOf(() => core.listNamespace());
      const listConfigMaps = (): Promise<number> =>
        statusOf(() => core.listNamespacedConfigMap({ namespace: ns }));

      expect(await listNamespaces()).to.equal(403);
      expect(await listConfigMaps()).to.equal(403);

      const rbac = plane().kubeConfig.makeApiClient(RbacAuthorizationV1Api);
      const subject = { kind: 'ServiceAccount', name: 'reader', namespace: ns };
      // A Role with its own rules: the built-in "view" and "edit" are aggregated ClusterRoles,
      // and without kube-controller-manager nothing fills in their rules.
      await rbac.createNamespacedRole({
        namespace: ns,
        body: {
          metadata: { name: 'configmap-reader' },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
        },
      });
      // A RoleBinding grants inside its namespace only...
      await rbac.createNamespacedRoleBinding({
        namespace: ns,
        body: {
          metadata: { name: 'configmap-reader' },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'Role',
            name: 'configmap-reader',
          },
          subjects: [subject],
        },
      });
      await eventually(async () => (await listConfigMaps()) === 0, 'the RoleBinding applies');
      expect(await listNamespaces()).to.equal(403);

      // ...listing namespaces (cluster-scoped) takes a ClusterRoleBinding.
      const name = `${ns}-list-namespaces`;
      await rbac.createClusterRole({
        body: {
          metadata: { name },
          rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list'] }],
        },
      });
      await rbac.createClusterRoleBinding({
        body: {
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
          subjects: [subject],
        },
      });
      await eventually(
        async () => (await listNamespaces()) === 0,
        'the ClusterRoleBinding applies',
      );
    });
  });

  describe('namespaces', function () {
    const namespace = useFreshNamespace('fresh');
    const seen: string[] = [];

    for (const round of [1, 2]) {
      it(`gives test ${round} a new, empty, Active namespace`, async function () {
        const ns = namespace();
        expect(seen).not.to.include(ns);
        const core = plane().kubeConfig.makeApiClient(CoreV1Api);
        expect((await core.readNamespace({ name: ns })).status?.phase).to.equal('Active');
        // Whatever an earlier test left in its namespace is not here.
        expect((await core.listNamespacedConfigMap({ namespace: ns })).items).to.deep.equal([]);
        await kubectlOk(['apply', '-n', ns, '-f', '-'], {
          stdin:
            'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: marker\ndata:\n  round: "x"\n',
        });
        expect(await kubectlOk(['get', 'configmap', 'marker', '-n', ns, '-o', 'name'])).to.equal(
          'configmap/marker\n',
        );
        seen.push(ns);
      });
    }

    it('reports kubectl failures instead of throwing', async function () {
      const result = await kubectl(['get', 'configmap', 'absent', '-n', namespace()]);
      expect(result.code).to.equal(1);
      expect(result.stderr).to.match(/NotFound|not found/);
    });
  });

  describe('CRDs', function () {
    it('installs exactly the three Berth CRDs from crds/', function () {
      const fromFiles = readdirSync(crdDir)
        .filter((f) => f.endsWith('.yaml'))
        .map(
          (f) =>
            (parse(readFileSync(join(crdDir, f), 'utf8')) as { metadata: { name: string } })
              .metadata.name,
        )
        .sort();
      expect(fromFiles).to.deep.equal([
        'hostpools.berth.dev',
        'resourcerequests.berth.dev',
        'storagepools.berth.dev',
        'tenantquotas.berth.dev',
      ]);
      expect([...plane().crds].sort()).to.deep.equal(fromFiles);
    });

    it('has every CRD Established with its names accepted', async function () {
      const api = plane().kubeConfig.makeApiClient(ApiextensionsV1Api);
      for (const name of plane().crds) {
        const conditions =
          (await api.readCustomResourceDefinition({ name })).status?.conditions ?? [];
        const status = (type: string): string | undefined =>
          conditions.find((c) => c.type === type)?.status;
        expect(status('Established'), `${name} Established`).to.equal('True');
        expect(status('NamesAccepted'), `${name} NamesAccepted`).to.equal('True');
      }
    });
  });
});
