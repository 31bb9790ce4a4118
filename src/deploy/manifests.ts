// The kustomize base in manifests/ (the GitOps way to install), rendered from the same sources
// as the chart: the CRDs from src/api, the RBAC rules from rbac.ts, the default configuration.
import { parse } from 'yaml';
import { remoteProfiles, type OperatorConfig } from '../api/index.js';
import { REMOTE_PROFILES_KEY, releaseFinalizerPolicy } from './admission.js';
import {
  OPERATOR_CLUSTER_RULES,
  OPERATOR_NAMESPACE_RULES,
  POOL_ADMIN_RULES,
  REQUESTER_RULES,
  stripWhy,
} from './rbac.js';

export const NAMESPACE = 'berth-system';
export const NAME = 'berth';
export const IMAGE = 'ghcr.io/berth-dev/berth:0.1.0';

const labels = { 'app.kubernetes.io/name': NAME, 'app.kubernetes.io/part-of': NAME };

/** Flags of `berth run` in a cluster; the chart's deployment template passes the same ones. */
export const operatorArgs = (namespace: string) => [
  'run',
  '--config=/etc/berth/config.yaml',
  '--leader-elect=true',
  `--lease-namespace=${namespace}`,
  '--metrics-bind-address=0.0.0.0:8080',
  '--health-probe-bind-address=0.0.0.0:8081',
  '--log-level=info',
];

export const restrictedContainerSecurityContext = {
  runAsNonRoot: true,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export const DEFAULT_CONFIG = `apiVersion: berth.dev/v1alpha1
kind: OperatorConfig
profiles:
  - name: default
    provisioners:
      - name: hosts
        type: hosts
    hostAllocators: [{ type: firstFit }]
    storageAllocators: [{ type: localStorage }, { type: clusterScope }, { type: zoneWide }]
`;

export function manifestObjects(): Record<string, unknown[]> {
  const ns = NAMESPACE;
  return {
    'namespace.yaml': [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } }],
    'rbac.yaml': [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: ns, labels } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: NAME, labels },
        rules: stripWhy(OPERATOR_CLUSTER_RULES),
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: NAME, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: NAME },
        subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: ns }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: NAME, namespace: ns, labels },
        rules: stripWhy(OPERATOR_NAMESPACE_RULES),
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: NAME, namespace: ns, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NAME },
        subjects: [{ kind: 'ServiceAccount', name: NAME, namespace: ns }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: {
          name: 'berth-requester',
          labels: {
            ...labels,
            'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
            'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
          },
        },
        rules: stripWhy(REQUESTER_RULES),
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'berth-pool-admin', labels },
        rules: stripWhy(POOL_ADMIN_RULES),
      },
    ],
    'configmap.yaml': [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${NAME}-config`, namespace: ns, labels },
        data: {
          'config.yaml': DEFAULT_CONFIG,
          [REMOTE_PROFILES_KEY]: remoteProfiles(parse(DEFAULT_CONFIG) as OperatorConfig).join(','),
        },
      },
    ],
    'admission.yaml': releaseFinalizerPolicy({ name: `${NAME}-config`, namespace: ns }, labels),
    'deployment.yaml': [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: NAME, namespace: ns, labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: NAME,
              securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [
                {
                  name: 'operator',
                  image: IMAGE,
                  args: operatorArgs(ns),
                  ports: [
                    { name: 'metrics', containerPort: 8080 },
                    { name: 'health', containerPort: 8081 },
                  ],
                  livenessProbe: {
                    httpGet: { path: '/healthz', port: 'health' },
                    periodSeconds: 10,
                  },
                  readinessProbe: {
                    httpGet: { path: '/readyz', port: 'health' },
                    periodSeconds: 5,
                  },
                  resources: {
                    requests: { cpu: '100m', memory: '128Mi' },
                    limits: { memory: '512Mi' },
                  },
                  securityContext: restrictedContainerSecurityContext,
                  volumeMounts: [{ name: 'config', mountPath: '/etc/berth', readOnly: true }],
                },
              ],
              volumes: [{ name: 'config', configMap: { name: `${NAME}-config` } }],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `${NAME}-metrics`, namespace: ns, labels },
        spec: { selector: labels, ports: [{ name: 'metrics', port: 8080, targetPort: 'metrics' }] },
      },
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: NAME, namespace: ns, labels },
        spec: { minAvailable: 1, selector: { matchLabels: labels } },
      },
    ],
  };
}
