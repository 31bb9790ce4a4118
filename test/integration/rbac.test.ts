// Least privilege, proven on the RBAC-enabled API server:
// - the chart and manifests/ grant exactly the rules of src/deploy/rbac.ts, and docs/rbac.md
//   lists every one of them;
// - the operator, run with a token of the chart's ServiceAccount, serves requests end to end
//   (hosts, a webhook whose token is in a Secret, events, pool statuses, release on delete), and
//   the live permissions of that account are exactly the list, nothing more;
// - a tenant bound to berth-requester in one namespace asks for nodes there and nowhere else, and
//   never sees the inventory; a platform admin bound to berth-pool-admin manages the inventory.
import { AuthorizationV1Api, type V1ResourceRule } from '@kubernetes/client-node';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { HostPool, ResourceRequest, StoragePool } from '../../src/api/index.js';
import {
  OPERATOR_CLUSTER_RULES,
  OPERATOR_NAMESPACE_RULES,
  POOL_ADMIN_RULES,
  REQUESTER_RULES,
  stripWhy,
  type PolicyRule,
} from '../../src/deploy/rbac.js';
import { startFarm, type RunningFarm } from '../../examples/kvm-farm/server.js';
import {
  createNamespace,
  createServiceAccountToken,
  helm,
  kubeConfigForToken,
  kubectl,
  kubectlOk,
  repoRoot,
  useControlPlane,
} from './harness.js';
import { getJson, until } from './wait.js';
import { startOperator, type OperatorProcess } from './operator-process.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: Rule[];
}

const parseManifests = (text: string): Manifest[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null && typeof m === 'object' && 'kind' in m);

/** Every (apiGroup, resource, verb) a list of rules allows, as "group|resource|verb". */
const grants = (rules: Array<Pick<PolicyRule, 'apiGroups' | 'resources' | 'verbs'>>) => {
  const out = new Set<string>();
  for (const r of rules)
    for (const g of r.apiGroups)
      for (const res of r.resources) for (const v of r.verbs) out.add(`${g}|${res}|${v}`);
  return out;
};
const sorted = (s: Set<string>) => [...s].sort();
const minus = (a: Set<string>, b: Set<string>) => new Set([...a].filter((x) => !b.has(x)));

/** The chart's rbac.yaml for a release, rendered by helm. */
async function renderRbac(release: string, namespace: string, userRoles: boolean) {
  const r = await helm([
    'template',
    release,
    'helm/berth',
    '-n',
    namespace,
    '--show-only',
    'templates/rbac.yaml',
    '--set',
    `rbac.userRoles=${userRoles}`,
  ]);
  expect(r.code, r.stderr).to.equal(0);
  return parseManifests(r.stdout);
}

const find = (objects: Manifest[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map((o) => o.kind).join(', ')}`);
  return found;
};

describe('integration: least-privilege RBAC', function () {
  this.timeout(300_000);
  useControlPlane();

  describe('the rules as written', () => {
    it('the chart grants exactly the rules of src/deploy/rbac.ts', async () => {
      const objects = await renderRbac('berth', 'berth-system', true);
      expect(find(objects, 'ClusterRole', 'berth').rules).to.deep.equal(
        stripWhy(OPERATOR_CLUSTER_RULES),
      );
      expect(find(objects, 'Role', 'berth').rules).to.deep.equal(
        stripWhy(OPERATOR_NAMESPACE_RULES),
      );
      expect(find(objects, 'ClusterRole', 'berth-requester').rules).to.deep.equal(
        stripWhy(REQUESTER_RULES),
      );
      expect(find(objects, 'ClusterRole', 'berth-pool-admin').rules).to.deep.equal(
        stripWhy(POOL_ADMIN_RULES),
      );
      // Nothing else grants anything: four roles, no more.
      expect(
        objects
          .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
          .map((o) => `${o.kind}/${o.metadata.name}`)
          .sort(),
      ).to.deep.equal([
        'ClusterRole/berth',
        'ClusterRole/berth-pool-admin',
        'ClusterRole/berth-requester',
        'Role/berth',
      ]);
      // The bindings give the operator's roles to its ServiceAccount and nobody else.
      for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
        const binding = find(objects, kind, 'berth') as Manifest & {
          subjects: unknown[];
          roleRef: { kind: string; name: string };
        };
        expect(binding.subjects).to.deep.equal([
          { kind: 'ServiceAccount', name: 'berth', namespace: 'berth-system' },
        ]);
        expect(binding.roleRef.name).to.equal('berth');
      }
      // Tenants get it through edit and admin where the aggregation controller runs.
      expect(find(objects, 'ClusterRole', 'berth-requester').metadata.labels).to.include({
        'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
        'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
      });
    });

    it('manifests/ grants exactly the same rules', async () => {
      const objects = parseManifests(await kubectlOk(['kustomize', join(repoRoot, 'manifests')]));
      const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
      expect(roles.map((o) => `${o.kind}/${o.metadata.name}`).sort()).to.deep.equal([
        'ClusterRole/berth',
        'ClusterRole/berth-pool-admin',
        'ClusterRole/berth-requester',
        'Role/berth',
      ]);
      expect(find(objects, 'ClusterRole', 'berth').rules).to.deep.equal(
        stripWhy(OPERATOR_CLUSTER_RULES),
      );
      expect(find(objects, 'Role', 'berth').rules).to.deep.equal(
        stripWhy(OPERATOR_NAMESPACE_RULES),
      );
      expect(find(objects, 'ClusterRole', 'berth-requester').rules).to.deep.equal(
        stripWhy(REQUESTER_RULES),
      );
      expect(find(objects, 'ClusterRole', 'berth-pool-admin').rules).to.deep.equal(
        stripWhy(POOL_ADMIN_RULES),
      );
    });

    it('docs/rbac.md lists every rule, and nothing the roles do not grant', () => {
      // Tables under these headings: | API group | Resources | Verbs | Why |, values in backticks.
      const sections: Array<[RegExp, PolicyRule[]]> = [
        [/^### Operator: ClusterRole/, OPERATOR_CLUSTER_RULES],
        [/^### Operator: Role/, OPERATOR_NAMESPACE_RULES],
        [/^### Tenants: ClusterRole `berth-requester`/, REQUESTER_RULES],
        [/^### Platform team: ClusterRole `berth-pool-admin`/, POOL_ADMIN_RULES],
      ];
      const documented = new Map<PolicyRule[], Set<string>>(
        sections.map(([, rules]) => [rules, new Set()]),
      );
      let current: Set<string> | undefined;
      const ticks = (cell: string) =>
        [...cell.matchAll(/`([^`]*)`/g)].map((m) => (m[1] === '""' ? '' : (m[1] ?? '')));
      for (const line of readFileSync(join(repoRoot, 'docs/rbac.md'), 'utf8').split('\n')) {
        if (line.startsWith('#')) {
          const section = sections.find(([re]) => re.test(line));
          current = section ? documented.get(section[1]) : undefined;
          continue;
        }
        if (!current || !line.startsWith('|') || /^\|\s*(-|API group)/.test(line)) continue;
        const [group, resources, verbs] = line.split('|').slice(1, 4).map(ticks);
        for (const g of group ?? [])
          for (const r of resources ?? [])
            for (const v of verbs ?? []) current.add(`${g}|${r}|${v}`);
      }
      for (const [re, rules] of sections)
        expect(sorted(documented.get(rules) ?? new Set()), String(re)).to.deep.equal(
          sorted(grants(rules)),
        );
    });
  });

  describe('the operator with the chart’s ServiceAccount', () => {
    const id = randomBytes(3).toString('hex');
    const release = `berth-rbac-${id}`;
    const pool = `rbac-${id}`;
    const label = { 'berth.dev/rbac-test': id };
    const profile = 'rbac';
    const poolOnly = 'rbac-pool-only';
    let ns: string;
    let team: string;
    let dir: string;
    let kubeconfigPath: string;
    let farm: RunningFarm;
    let op: OperatorProcess | undefined;
    let operatorRules: Manifest[];

    before(async () => {
      ns = await createNamespace('rbac-op');
      team = await createNamespace('rbac-team');
      dir = mkdtempSync(join(tmpdir(), 'berth-rbac-'));
      // The chart's own objects for the operator (no user roles): ServiceAccount, ClusterRole,
      // ClusterRoleBinding, Role, RoleBinding, as `helm install` would create them.
      operatorRules = await renderRbac(release, ns, false);
      expect(operatorRules.map((o) => o.kind).sort()).to.deep.equal([
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
        'ServiceAccount',
      ]);
      await kubectlOk(['apply', '-f', '-'], {
        stdin: operatorRules.map((o) => stringify(o)).join('---\n'),
      });
      const token = await createServiceAccountToken(ns, release);
      kubeconfigPath = join(dir, 'kubeconfig');
      writeFileSync(kubeconfigPath, kubeConfigForToken(token, release).exportConfig());

      // A webhook provisioner whose bearer token lives in a Secret in the operator's namespace.
      const farmToken = randomBytes(16).toString('hex');
      writeFileSync(join(dir, 'farm-token'), farmToken);
      farm = await startFarm(['--capacity', '4', '--token-file', join(dir, 'farm-token')]);
      await kubectlOk([
        'create',
        'secret',
        'generic',
        'farm-token',
        '-n',
        ns,
        `--from-literal=token=${farmToken}`,
      ]);

      await kubectlOk(['apply', '-f', '-'], {
        stdin: [
          {
            apiVersion: 'berth.dev/v1alpha1',
            kind: 'HostPool',
            metadata: { name: pool, labels: label },
            spec: {
              zone: `zone-${pool}`,
              hosts: [{ name: 'h1', address: '10.99.0.1', capacity: { cpu: '4', memory: '8Gi' } }],
            },
          },
          {
            apiVersion: 'berth.dev/v1alpha1',
            kind: 'StoragePool',
            metadata: { name: `${pool}-shared` },
            spec: { scope: 'Cluster', hostPool: pool, capacity: '100Gi' },
          },
        ]
          .map((o) => stringify(o))
          .join('---\n'),
      });
      const config = {
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'OperatorConfig',
        profiles: [
          {
            name: profile,
            provisioners: [
              { name: 'pool', type: 'hosts', hostPoolSelector: { matchLabels: label } },
              {
                name: 'farm',
                type: 'webhook',
                url: farm.url,
                tokenSecretRef: { name: 'farm-token', key: 'token' },
                timeoutSeconds: 5,
              },
            ],
            hostAllocators: [{ type: 'firstFit' }],
            storageAllocators: [{ type: 'clusterScope' }],
          },
          {
            name: poolOnly,
            provisioners: [
              { name: 'pool', type: 'hosts', hostPoolSelector: { matchLabels: label } },
            ],
            hostAllocators: [{ type: 'firstFit' }],
          },
        ],
      };
      op = await startOperator({
        kubeconfig: kubeconfigPath,
        config: stringify(config),
        leaseNamespace: ns,
      });
      await op.waitForLog(/became leader/);
    });

    after(async () => {
      if (op) {
        // Whatever failed, do not leave finalizers behind for later suites.
        await kubectl(['delete', 'rr', '--all', '-n', team, '--timeout=60s']);
        const code = await op.stop();
        expect(code, op.logs().slice(-3000)).to.equal(0);
      }
      await kubectl(['delete', 'hp', pool, '--ignore-not-found']);
      await kubectl(['delete', 'sp', `${pool}-shared`, '--ignore-not-found']);
      await kubectl(['delete', 'clusterrole,clusterrolebinding', release, '--ignore-not-found']);
      await farm?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('holds exactly the listed permissions on the live server, nothing more', async () => {
      // SelfSubjectRulesReview as the operator's account, minus what every authenticated
      // account gets anyway (measured with an account bound to nothing).
      const rulesOf = async (token: string, namespace: string) => {
        const api = kubeConfigForToken(token).makeApiClient(AuthorizationV1Api);
        const review = await api.createSelfSubjectRulesReview({
          body: { spec: { namespace } },
        });
        expect(review.status?.incomplete, review.status?.evaluationError).to.equal(false);
        return grants(
          (review.status?.resourceRules ?? []).map((r: V1ResourceRule) => ({
            apiGroups: r.apiGroups ?? [],
            resources: r.resources ?? [],
            verbs: r.verbs,
          })),
        );
      };
      const operator = await createServiceAccountToken(ns, release);
      const nobody = await createServiceAccountToken(ns, 'rbac-nobody');
      for (const [namespace, expected] of [
        [ns, grants([...OPERATOR_CLUSTER_RULES, ...OPERATOR_NAMESPACE_RULES])],
        [team, grants(OPERATOR_CLUSTER_RULES)],
      ] as const) {
        const baseline = await rulesOf(nobody, namespace);
        const extra = minus(await rulesOf(operator, namespace), baseline);
        expect(sorted(extra), `in ${namespace}`).to.deep.equal(sorted(minus(expected, baseline)));
      }
      // And the live objects are the rendered ones.
      const live = await getJson<Manifest>(['get', 'clusterrole', release]);
      expect(live.rules).to.deep.equal(stripWhy(OPERATOR_CLUSTER_RULES));
    });

    it('serves requests to Ready with only those permissions', async () => {
      const requests = [
        {
          // On the pool, with a volume on its shared storage.
          metadata: { name: 'on-pool', namespace: team },
          spec: {
            profile,
            count: 1,
            resources: { cpu: '2', memory: '2Gi' },
            volumes: [{ name: 'data', size: '10Gi' }],
          },
        },
        {
          // One node fits on the pool; the webhook (token read from the Secret) makes two more.
          metadata: { name: 'spills-over', namespace: team },
          spec: { profile, count: 3, resources: { cpu: '2' } },
        },
      ];
      for (const rr of requests) {
        await kubectlOk(['apply', '-f', '-'], {
          stdin: stringify({ apiVersion: 'berth.dev/v1alpha1', kind: 'ResourceRequest', ...rr }),
        });
        const ready = await until(`${rr.metadata.name} Ready`, async () => {
          const live = await getJson<ResourceRequest>(['get', 'rr', rr.metadata.name, '-n', team]);
          return live.status?.phase === 'Ready' ? live : undefined;
        });
        expect(ready.metadata.finalizers).to.include('berth.dev/release');
      }
      const spills = await getJson<ResourceRequest>(['get', 'rr', 'spills-over', '-n', team]);
      expect((spills.status?.nodes ?? []).map((n) => n.provisioner)).to.deep.equal([
        'pool',
        'farm',
        'farm',
      ]);
      expect(farm.farm.used).to.equal(2);

      await until(`${pool} status`, async () => {
        const hp = await getJson<HostPool>(['get', 'hp', pool]);
        return hp.status?.nodes === 2 && hp.status.allocated?.cpu === '4' ? hp : undefined;
      });
      await until(`${pool}-shared status`, async () => {
        const sp = await getJson<StoragePool>(['get', 'sp', `${pool}-shared`]);
        return sp.status?.allocated === '10Gi' && sp.status.volumes === 1 ? sp : undefined;
      });
      const events = await kubectlOk(['events', '-n', team]);
      expect(events).to.match(/Allocated\s+ResourceRequest\/on-pool/);
      expect(events).to.match(/Allocated\s+ResourceRequest\/spills-over/);
      const lease = await getJson<{ spec: { holderIdentity?: string } }>([
        'get',
        'lease',
        'berth-operator',
        '-n',
        ns,
      ]);
      expect(lease.spec.holderIdentity).to.be.a('string').and.not.equal('');
      expect(op?.logs()).not.to.match(/forbidden|\b403\b/i);
    });

    it('returns every node on delete: finalizer, pool statuses, webhook releases', async () => {
      await kubectlOk(['delete', 'rr', '--all', '-n', team, '--timeout=60s']);
      await until(`${pool} empty`, async () => {
        const hp = await getJson<HostPool>(['get', 'hp', pool]);
        return hp.status?.nodes === 0 &&
          Object.values(hp.status.allocated ?? {}).every((v) => v === '0')
          ? hp
          : undefined;
      });
      await until(`${pool}-shared empty`, async () => {
        const sp = await getJson<StoragePool>(['get', 'sp', `${pool}-shared`]);
        return sp.status?.allocated === '0' && sp.status.volumes === 0 ? sp : undefined;
      });
      expect(farm.farm.vms.map((vm) => [vm.state, vm.releaseRequests])).to.deep.equal([
        ['Released', 1],
        ['Released', 1],
      ]);
      expect(op?.logs()).not.to.match(/forbidden|\b403\b/i);
      expect(op?.exited()).to.equal(false);
    });

    it('counts a repeated event on the first one (the events patch verb)', async () => {
      await kubectlOk(['apply', '-f', '-'], {
        stdin: stringify({
          apiVersion: 'berth.dev/v1alpha1',
          kind: 'ResourceRequest',
          metadata: { name: 'too-big', namespace: team },
          spec: { profile: poolOnly, count: 1, resources: { cpu: '64' } },
        }),
      });
      const summaryIs = (text: string) => async () => {
        const rr = await getJson<ResourceRequest>(['get', 'rr', 'too-big', '-n', team]);
        return rr.status?.phase === 'Pending' && rr.status.explanation?.summary.includes(text)
          ? rr
          : undefined;
      };
      const setHost = (state: 'Enabled' | 'Maintenance') =>
        kubectlOk([
          'patch',
          'hp',
          pool,
          '--type=merge',
          '-p',
          JSON.stringify({
            spec: {
              hosts: [
                { name: 'h1', address: '10.99.0.1', capacity: { cpu: '4', memory: '8Gi' }, state },
              ],
            },
          }),
        ]);
      // Insufficient cpu -> HostMaintenance -> Insufficient cpu: the third is a repeat.
      await until('too-big: Insufficient cpu', summaryIs('Insufficient cpu'));
      await setHost('Maintenance');
      await until('too-big: HostMaintenance', summaryIs('HostMaintenance'));
      await setHost('Enabled');
      await until('too-big: Insufficient cpu again', summaryIs('Insufficient cpu'));
      await until('a FailedToAllocate event with series.count 2', async () => {
        const list = await getJson<{
          items: Array<{ reason: string; regarding: { name: string }; series?: { count: number } }>;
        }>(['get', 'events.events.k8s.io', '-n', team]);
        return list.items.find(
          (e) =>
            e.reason === 'FailedToAllocate' &&
            e.regarding.name === 'too-big' &&
            (e.series?.count ?? 0) >= 2,
        );
      });
      expect(op?.logs()).not.to.match(/forbidden|\b403\b|could not record event/i);
      await kubectlOk(['delete', 'rr', 'too-big', '-n', team, '--timeout=30s']);
    });
  });

  describe('tenants and the platform team', () => {
    const id = randomBytes(3).toString('hex');
    const alice = `alice-${id}`;
    const bob = `bob-${id}`;
    const bobPool = `rbac-bob-${id}`;
    let a: string;
    let b: string;

    const rr = (namespace: string, name: string) =>
      stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name, namespace },
        spec: { count: 1, resources: { cpu: '1' } },
      });
    const canI = async (user: string, args: string[]) => {
      const r = await kubectl(['auth', 'can-i', ...args, `--as=${user}`]);
      return r.stdout.trim();
    };

    before(async () => {
      a = await createNamespace('rbac-a');
      b = await createNamespace('rbac-b');
      // The two user roles as the chart renders them (a release elsewhere may not exist).
      const roles = (await renderRbac('berth', 'berth-system', true)).filter((o) =>
        ['berth-requester', 'berth-pool-admin'].includes(o.metadata.name),
      );
      expect(roles).to.have.length(2);
      await kubectlOk(['apply', '-f', '-'], {
        stdin: roles.map((o) => stringify(o)).join('---\n'),
      });
      await kubectlOk([
        'create',
        'rolebinding',
        'berth-requester',
        '--clusterrole=berth-requester',
        `--user=${alice}`,
        '-n',
        a,
      ]);
      await kubectlOk([
        'create',
        'clusterrolebinding',
        `berth-pool-admin-${id}`,
        '--clusterrole=berth-pool-admin',
        `--user=${bob}`,
      ]);
    });

    after(async () => {
      await kubectl(['delete', 'rr', '--all', '-n', a, '--ignore-not-found']);
      await kubectl(['delete', 'hp', bobPool, '--ignore-not-found']);
      await kubectl([
        'delete',
        'clusterrolebinding',
        `berth-pool-admin-${id}`,
        '--ignore-not-found',
      ]);
      await kubectl([
        'delete',
        'clusterrole',
        'berth-requester',
        'berth-pool-admin',
        '--ignore-not-found',
      ]);
    });

    it('a requester asks for nodes in her namespace (kubectl auth can-i)', async () => {
      for (const verb of ['create', 'get', 'list', 'watch', 'delete'])
        expect(await canI(alice, [verb, 'resourcerequests.berth.dev', '-n', a]), verb).to.equal(
          'yes',
        );
      // She reads her namespace's quotas and what they count; only the platform team sets them.
      for (const verb of ['get', 'list', 'watch'])
        expect(await canI(alice, [verb, 'tenantquotas.berth.dev', '-n', a]), verb).to.equal('yes');
      // She sizes her requests herself (kubectl scale), in her namespace only.
      for (const verb of ['get', 'update', 'patch'])
        expect(
          await canI(alice, [verb, 'resourcerequests.berth.dev', '--subresource=scale', '-n', a]),
          `${verb} scale`,
        ).to.equal('yes');
      const no: string[][] = [
        ['create', 'resourcerequests.berth.dev', '-n', b],
        ['list', 'resourcerequests.berth.dev', '-n', b],
        ['list', 'resourcerequests.berth.dev', '--all-namespaces'],
        ['get', 'hostpools.berth.dev'],
        ['list', 'hostpools.berth.dev'],
        ['list', 'storagepools.berth.dev'],
        ['create', 'hostpools.berth.dev'],
        // The status is the ledger of what she holds: only the operator writes it.
        ['update', 'resourcerequests.berth.dev', '--subresource=status', '-n', a],
        ['patch', 'resourcerequests.berth.dev', '--subresource=status', '-n', a],
        ['update', 'resourcerequests.berth.dev', '--subresource=scale', '-n', b],
        ['create', 'tenantquotas.berth.dev', '-n', a],
        ['update', 'tenantquotas.berth.dev', '-n', a],
        ['patch', 'tenantquotas.berth.dev', '-n', a],
        ['delete', 'tenantquotas.berth.dev', '-n', a],
        ['update', 'tenantquotas.berth.dev', '--subresource=status', '-n', a],
        ['list', 'tenantquotas.berth.dev', '-n', b],
      ];
      for (const args of no) expect(await canI(alice, args), args.join(' ')).to.equal('no');
    });

    it('a requester creates, reads and deletes requests in A; real calls elsewhere are Forbidden', async () => {
      const as = [`--as=${alice}`];
      await kubectlOk(['apply', '-f', '-', ...as], { stdin: rr(a, 'mine') });
      expect(await kubectlOk(['get', 'rr', '-n', a, '-o', 'name', ...as])).to.include(
        'resourcerequest.berth.dev/mine',
      );
      const denied = async (args: string[], stdin?: string) => {
        const r = await kubectl([...args, ...as], stdin ? { stdin } : {});
        expect(r.code, args.join(' ')).not.to.equal(0);
        expect(r.stderr, args.join(' ')).to.include('Forbidden');
        return r.stderr;
      };
      expect(await denied(['get', 'hp'])).to.include(
        `User "${alice}" cannot list resource "hostpools" in API group "berth.dev" at the cluster scope`,
      );
      await denied(['get', 'sp']);
      await denied(['get', 'rr', '-n', b]);
      expect(await denied(['apply', '-f', '-'], rr(b, 'theirs'))).to.include(
        `cannot get resource "resourcerequests" in API group "berth.dev" in the namespace "${b}"`,
      );
      await denied(['create', '-f', '-'], rr(b, 'theirs'));
      await denied([
        'patch',
        'rr',
        'mine',
        '-n',
        a,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"phase":"Ready"}}',
      ]);
      await kubectlOk(['scale', 'rr/mine', '-n', a, '--replicas=2', ...as]);
      expect(
        await kubectlOk(['get', 'rr', 'mine', '-n', a, '-o', 'jsonpath={.spec.count}']),
      ).to.equal('2');
      await kubectlOk(['delete', 'rr', 'mine', '-n', a, ...as]);
    });

    it('a pool admin manages the inventory and sees every request, but writes no request or status', async () => {
      for (const verb of ['create', 'update', 'patch', 'delete', 'list', 'watch'])
        for (const kind of [
          'hostpools.berth.dev',
          'storagepools.berth.dev',
          'tenantquotas.berth.dev',
        ])
          expect(await canI(bob, [verb, kind]), `${verb} ${kind}`).to.equal('yes');
      expect(await canI(bob, ['list', 'resourcerequests.berth.dev', '--all-namespaces'])).to.equal(
        'yes',
      );
      // The priorities requests name (what berth simulate --from-cluster reads), read only.
      expect(await canI(bob, ['list', 'priorityclasses.scheduling.k8s.io'])).to.equal('yes');
      expect(await canI(bob, ['create', 'priorityclasses.scheduling.k8s.io'])).to.equal('no');
      for (const args of [
        ['create', 'resourcerequests.berth.dev', '-n', a],
        ['delete', 'resourcerequests.berth.dev', '-n', a],
        ['update', 'hostpools.berth.dev', '--subresource=status'],
        ['get', 'secrets', '-n', a],
      ])
        expect(await canI(bob, args), args.join(' ')).to.equal('no');

      const as = [`--as=${bob}`];
      await kubectlOk(['apply', '-f', '-', ...as], {
        stdin: stringify({
          apiVersion: 'berth.dev/v1alpha1',
          kind: 'HostPool',
          metadata: { name: bobPool },
          spec: {
            zone: `zone-${bobPool}`,
            hosts: [{ name: 'h1', address: '10.98.0.1', capacity: { cpu: '1' } }],
          },
        }),
      });
      await kubectlOk(['label', 'hp', bobPool, 'tier=lab', ...as]);
      await kubectlOk(['get', 'rr', '-A', ...as]);
      const r = await kubectl(['create', '-f', '-', ...as], { stdin: rr(a, 'bobs') });
      expect(r.stderr).to.include('Forbidden');
      await kubectlOk(['delete', 'hp', bobPool, ...as]);
    });
  });
});
