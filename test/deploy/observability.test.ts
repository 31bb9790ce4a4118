// The PromQL of the dashboard and the alert rules: which metrics each expression reads.
import { expect } from 'chai';
import { ALERTS, PANELS, allExpressions, metricNames } from '../../src/deploy/observability.js';

describe('dashboard and alert rules', () => {
  const cases: Array<[string, string[]]> = [
    ['berth_pending_requests', ['berth_pending_requests']],
    ['sum by (profile) (rate(berth_allocations_total[5m]))', ['berth_allocations_total']],
    [
      'histogram_quantile(0.99, sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket[5m])))',
      ['controller_runtime_reconcile_time_seconds_bucket'],
    ],
    [
      'berth_pool_allocated{kind="HostPool"} / berth_pool_capacity{kind="HostPool"}',
      ['berth_pool_allocated', 'berth_pool_capacity'],
    ],
    [
      'absent(leader_election_master_status{name="berth-operator"} == 1)',
      ['leader_election_master_status'],
    ],
    [
      'min by (profile, provisioner) (berth_provisioner_available) == 0',
      ['berth_provisioner_available'],
    ],
  ];
  for (const [expr, names] of cases)
    it(`reads ${names.join(', ')} from ${expr.slice(0, 40)}…`, () =>
      expect(metricNames(expr)).to.deep.equal(names));

  it('every panel and rule reads at least one metric, and covers what a platform team watches', () => {
    for (const expr of allExpressions())
      expect(metricNames(expr), expr).to.have.length.greaterThan(0);
    expect(PANELS.map((p) => p.title)).to.include.members([
      'Pool utilisation',
      'Failures by reason',
      'Pending requests',
      'Reconcile latency (p99)',
      'Work queue depth',
      'Provisioners taking calls',
      'Leader changes (1h)',
    ]);
    expect(ALERTS.map((a) => a.alert)).to.deep.equal([
      'BerthRequestsPendingTooLong',
      'BerthReconcileErrors',
      'BerthWebhookBreakerOpen',
      'BerthNoLeader',
    ]);
  });
});
