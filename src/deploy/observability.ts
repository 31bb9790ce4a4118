// The Grafana dashboard and the Prometheus alert rules the chart ships, from one place: every
// PromQL expression is written here once, the generator writes them into helm/berth/files/, and
// a test scrapes a running operator to prove each metric they query is one it exports
// (test/integration/observability.test.ts).

export interface Panel {
  title: string;
  description: string;
  /** PromQL, one per series group, with its legend. */
  targets: Array<{ expr: string; legend: string }>;
  unit: string;
  kind: 'timeseries' | 'stat';
}

const LEASE = 'berth-operator';

export const PANELS: Panel[] = [
  {
    title: 'Pool utilisation',
    description: 'Allocated over allocatable, per HostPool and resource.',
    targets: [
      {
        expr: 'berth_pool_allocated{kind="HostPool"} / berth_pool_capacity{kind="HostPool"}',
        legend: '{{pool}} {{resource}}',
      },
    ],
    unit: 'percentunit',
    kind: 'timeseries',
  },
  {
    title: 'Bindings',
    description: 'Nodes placed per second, by profile.',
    targets: [
      { expr: 'sum by (profile) (rate(berth_allocations_total[5m]))', legend: '{{profile}}' },
    ],
    unit: 'ops',
    kind: 'timeseries',
  },
  {
    title: 'Failures by reason',
    description: 'Requests not (fully) served per second, by reason.',
    targets: [
      {
        expr: 'sum by (reason) (rate(berth_allocation_failures_total[5m]))',
        legend: '{{reason}}',
      },
    ],
    unit: 'ops',
    kind: 'timeseries',
  },
  {
    title: 'Pending requests',
    description: 'Requests waiting for capacity, and how long the oldest has waited.',
    targets: [
      { expr: 'berth_pending_requests', legend: 'pending' },
      { expr: 'berth_pending_request_oldest_seconds', legend: 'oldest (s)' },
    ],
    unit: 'short',
    kind: 'timeseries',
  },
  {
    title: 'Reconcile latency (p99)',
    description: 'Time of one reconcile, per controller.',
    targets: [
      {
        expr: 'histogram_quantile(0.99, sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket[5m])))',
        legend: '{{controller}}',
      },
    ],
    unit: 's',
    kind: 'timeseries',
  },
  {
    title: 'Reconcile errors',
    description: 'Reconciles that failed, per second and controller.',
    targets: [
      {
        expr: 'sum by (controller) (rate(controller_runtime_reconcile_errors_total[5m]))',
        legend: '{{controller}}',
      },
    ],
    unit: 'ops',
    kind: 'timeseries',
  },
  {
    title: 'Work queue depth',
    description: 'Keys waiting for a worker, per controller.',
    targets: [{ expr: 'sum by (name) (workqueue_depth)', legend: '{{name}}' }],
    unit: 'short',
    kind: 'timeseries',
  },
  {
    title: 'Provisioners taking calls',
    description: '0 while a webhook circuit breaker is open.',
    targets: [
      {
        expr: 'min by (profile, provisioner) (berth_provisioner_available)',
        legend: '{{profile}}/{{provisioner}}',
      },
    ],
    unit: 'short',
    kind: 'timeseries',
  },
  {
    title: 'Leader changes (1h)',
    description: 'How often leadership moved between replicas.',
    targets: [
      {
        expr: `sum(changes(leader_election_master_status{name="${LEASE}"}[1h]))`,
        legend: 'changes',
      },
    ],
    unit: 'short',
    kind: 'stat',
  },
  {
    title: 'Orphan nodes released',
    description: 'Nodes external provisioners held that no request recorded, released.',
    targets: [
      {
        expr: 'sum by (provisioner) (increase(berth_orphan_nodes_released_total[1h]))',
        legend: '{{provisioner}}',
      },
    ],
    unit: 'short',
    kind: 'timeseries',
  },
];

export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  severity: 'warning' | 'critical';
  summary: string;
}

export const ALERTS: AlertRule[] = [
  {
    alert: 'BerthRequestsPendingTooLong',
    expr: 'max(berth_pending_request_oldest_seconds) > 1800',
    for: '10m',
    severity: 'warning',
    summary: 'A ResourceRequest has waited for capacity for more than 30 minutes.',
  },
  {
    alert: 'BerthReconcileErrors',
    expr: 'sum by (controller) (rate(controller_runtime_reconcile_errors_total[5m])) > 0.1',
    for: '15m',
    severity: 'warning',
    summary: 'Berth reconciles keep failing: see the operator log and the objects\u2019 Events.',
  },
  {
    alert: 'BerthWebhookBreakerOpen',
    expr: 'min by (profile, provisioner) (berth_provisioner_available) == 0',
    for: '5m',
    severity: 'warning',
    summary: 'A webhook provisioner has been skipped for 5 minutes: its service keeps failing.',
  },
  {
    alert: 'BerthNoLeader',
    expr: `absent(leader_election_master_status{name="${LEASE}"} == 1)`,
    for: '5m',
    severity: 'critical',
    summary: 'No Berth replica has led for 5 minutes: nothing is being bound or released.',
  },
];

/** A Grafana dashboard (schema of Grafana 10+), found by the sidecar through its ConfigMap label. */
export function grafanaDashboard(): Record<string, unknown> {
  return {
    title: 'Berth',
    uid: 'berth-operator',
    tags: ['berth', 'kubernetes'],
    timezone: 'browser',
    schemaVersion: 39,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        {
          name: 'datasource',
          type: 'datasource',
          query: 'prometheus',
          label: 'Data source',
        },
      ],
    },
    panels: PANELS.map((p, i) => ({
      id: i + 1,
      type: p.kind,
      title: p.title,
      description: p.description,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.targets.map((t, j) => ({
        refId: String.fromCharCode(65 + j),
        expr: t.expr,
        legendFormat: t.legend,
      })),
    })),
  };
}

/** The `spec` of a PrometheusRule (and the `groups` of a plain Prometheus rule file). */
export function prometheusRules(): Record<string, unknown> {
  return {
    groups: [
      {
        name: 'berth',
        rules: ALERTS.map((a) => ({
          alert: a.alert,
          expr: a.expr,
          for: a.for,
          labels: { severity: a.severity },
          annotations: { summary: a.summary },
        })),
      },
    ],
  };
}

/** Every PromQL expression the dashboard and the rules evaluate. */
export const allExpressions = (): string[] => [
  ...PANELS.flatMap((p) => p.targets.map((t) => t.expr)),
  ...ALERTS.map((a) => a.expr),
];

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'le',
]);

/**
 * The metric names an expression reads: identifiers that are neither functions (followed by a
 * parenthesis), nor keywords, nor label names (inside braces or a by/without list).
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = stripped.slice((m.index ?? 0) + word.length).trimStart();
    if (after.startsWith('(') || PROMQL_WORDS.has(word)) continue;
    names.add(word);
  }
  return [...names];
}
