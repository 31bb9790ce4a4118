// The Helm chart's values, as a schema: helm/berth/values.schema.json is generated from it, so a
// wrong type or an unknown key fails `helm install` with the schema's message. The profiles are
// the OperatorConfig's own schema (one source of truth).
import { Type } from '@sinclair/typebox';
import { Profile } from '../api/operatorconfig.js';

const closed = <T extends Parameters<typeof Type.Object>[0]>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, description });

const anyObject = (description: string) =>
  Type.Object({}, { additionalProperties: true, description });

export const ChartValues = closed(
  {
    replicaCount: Type.Integer({
      minimum: 1,
      maximum: 10,
      description: 'Operator replicas; one leads, the others stand by.',
    }),
    image: closed(
      {
        repository: Type.String({ minLength: 1, description: 'Image repository.' }),
        tag: Type.String({ description: 'Image tag; default: the chart appVersion.' }),
        pullPolicy: Type.Union(
          [Type.Literal('Always'), Type.Literal('IfNotPresent'), Type.Literal('Never')],
          {
            description: 'Image pull policy.',
          },
        ),
      },
      'Operator image.',
    ),
    imagePullSecrets: Type.Array(closed({ name: Type.String() }, 'A pull secret.'), {
      description: 'Pull secrets.',
    }),
    logLevel: Type.Union(
      [Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug')],
      {
        description: 'Log level.',
      },
    ),
    workers: Type.Integer({
      minimum: 1,
      maximum: 64,
      description: 'Concurrent ResourceRequest reconciles.',
    }),
    orphanCollection: closed(
      {
        interval: Type.String({
          pattern: '^[0-9]+(s|m|h)$',
          description: 'How often the leader asks external provisioners what they hold, e.g. 5m.',
        }),
        grace: Type.String({
          pattern: '^[0-9]+(s|m|h)$',
          description: 'How long a node no request records is left before it is released, e.g. 2m.',
        }),
      },
      'Garbage collection of nodes external provisioners hold that no request records.',
    ),
    leaderElection: closed(
      {
        leaseDuration: Type.String({ pattern: '^[0-9]+s$', description: 'e.g. 15s' }),
        renewDeadline: Type.String({ pattern: '^[0-9]+s$', description: 'e.g. 10s' }),
        retryPeriod: Type.String({ pattern: '^[0-9]+s$', description: 'e.g. 2s' }),
      },
      'Lease timing.',
    ),
    config: closed(
      { profiles: Type.Array(Profile, { minItems: 1, description: 'OperatorConfig profiles.' }) },
      'The OperatorConfig.',
    ),
    crds: closed(
      {
        install: Type.Boolean({ description: 'Install and upgrade the CRDs with the chart.' }),
        keep: Type.Boolean({
          description: 'Keep the CRDs (and so every request and pool) on helm uninstall.',
        }),
      },
      'CRD handling.',
    ),
    admissionPolicy: closed(
      {
        enabled: Type.Boolean({
          description:
            'Install the MutatingAdmissionPolicy that adds berth.dev/release at create time to requests of profiles with webhook or module provisioners (saves the operator a finalizer patch per request).',
        }),
      },
      'Admission policy.',
    ),
    rbac: closed(
      {
        userRoles: Type.Boolean({
          description: 'Create the berth-requester and berth-pool-admin ClusterRoles.',
        }),
      },
      'RBAC.',
    ),
    serviceAccount: closed(
      {
        create: Type.Boolean({ description: 'Create the ServiceAccount.' }),
        name: Type.String({ description: 'Name; default: the release fullname.' }),
        annotations: Type.Record(Type.String(), Type.String(), { description: 'Annotations.' }),
      },
      'ServiceAccount.',
    ),
    resources: anyObject('Container resources.'),
    podSecurityContext: anyObject('Pod securityContext.'),
    securityContext: anyObject('Container securityContext.'),
    podDisruptionBudget: closed(
      {
        enabled: Type.Boolean({ description: 'Create a PodDisruptionBudget.' }),
        minAvailable: Type.Integer({ minimum: 0, description: 'Replicas that must stay.' }),
      },
      'PodDisruptionBudget.',
    ),
    metrics: closed(
      {
        port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Metrics port.' }),
        serviceMonitor: closed(
          {
            enabled: Type.Boolean({ description: 'Create a Prometheus Operator ServiceMonitor.' }),
            interval: Type.String({ description: 'Scrape interval.' }),
            labels: Type.Record(Type.String(), Type.String(), { description: 'Extra labels.' }),
          },
          'ServiceMonitor.',
        ),
      },
      'Metrics.',
    ),
    grafana: closed(
      {
        dashboard: closed(
          {
            enabled: Type.Boolean({
              description:
                "Ship the Berth Grafana dashboard in a ConfigMap that Grafana's dashboard sidecar loads.",
            }),
            labels: Type.Record(Type.String(), Type.String(), {
              description: 'Labels the sidecar selects on (grafana_dashboard: "1" by default).',
            }),
          },
          'Grafana dashboard.',
        ),
      },
      'Grafana.',
    ),
    prometheusRule: closed(
      {
        enabled: Type.Boolean({
          description:
            'Ship the alert rules as a PrometheusRule (rendered only where the monitoring.coreos.com/v1 CRD is served).',
        }),
        labels: Type.Record(Type.String(), Type.String(), {
          description: "Extra labels, e.g. the Prometheus Operator's ruleSelector.",
        }),
      },
      'Prometheus alert rules.',
    ),
    healthPort: Type.Integer({
      minimum: 1,
      maximum: 65535,
      description: 'Probe port (/healthz, /readyz).',
    }),
    networkPolicy: closed(
      {
        enabled: Type.Boolean({ description: 'Restrict ingress to the metrics and probe ports.' }),
        metricsFrom: Type.Array(anyObject('A NetworkPolicyPeer.'), {
          description: 'Who may scrape metrics.',
        }),
      },
      'NetworkPolicy.',
    ),
    nodeSelector: Type.Record(Type.String(), Type.String(), { description: 'Node selector.' }),
    tolerations: Type.Array(anyObject('A toleration.'), { description: 'Tolerations.' }),
    affinity: anyObject('Affinity.'),
    podAnnotations: Type.Record(Type.String(), Type.String(), { description: 'Pod annotations.' }),
  },
  'Values of the berth chart.',
);
