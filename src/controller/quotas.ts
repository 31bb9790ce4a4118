// TenantQuota status: what each quota counts, written back (status.used, .hard, .summary) like a
// ResourceQuota's. Derived, never decided: the check that matters happens, atomically, before
// every allocation (QuotaBook in src/serving/quota.ts). Keyed by the quota; a change of the
// requests of its namespace is coalesced (`coalesceMs`) so a burst of bindings costs one write.
import type { Logger } from 'winston';
import type { ResourceRequest, TenantQuota, TenantQuotaStatus } from '../api/index.js';
import { TENANT_QUOTAS } from '../api/index.js';
import type { Informer } from '../kube/informer.js';
import { keyOf } from '../kube/objects.js';
import { pathOf } from '../kube/paths.js';
import type { Metrics } from '../observability/metrics.js';
import { Controller } from '../runtime/controller.js';
import { statusOnlyChange } from '../runtime/predicates.js';
import { anyVersion, type StatusWriter } from '../runtime/status-writer.js';
import { formatUsage, quotaInfo, quotaSummary, usedBy } from '../serving/quota.js';
import type { Clock } from '../support/time.js';

export interface QuotaControllerDeps {
  quotas: Informer<TenantQuota>;
  requests: Informer<ResourceRequest>;
  /** A namespace's requests as the reconciler now sees them. */
  requestsIn(namespace: string): Iterable<ResourceRequest>;
  writer: StatusWriter;
  metrics: Metrics;
  log: Logger;
  coalesceMs: number;
  clock?: Clock;
}

/** The status a quota should have, given what it counts. */
export function quotaStatus(
  q: TenantQuota,
  requests: Iterable<ResourceRequest>,
): TenantQuotaStatus {
  const info = quotaInfo(q);
  const used = usedBy(info, requests);
  const status: TenantQuotaStatus = {
    hard: { ...q.spec.hard },
    used: formatUsage(used),
    summary: quotaSummary(info, used),
  };
  if (q.metadata.generation !== undefined) status.observedGeneration = q.metadata.generation;
  return status;
}

export class QuotaController {
  readonly controller: Controller;

  constructor(private readonly d: QuotaControllerDeps) {
    this.controller = new Controller(
      'tenantquota',
      (key) => this.reconcile(key),
      d.metrics,
      d.log,
      d.clock,
    );
    const queue = this.controller.queue;
    d.quotas.addHandlers({
      add: (q) => queue.add(keyOf(q)),
      update: (old, q) => {
        if (!statusOnlyChange(old, q)) queue.add(keyOf(q));
      },
      resync: (q) => queue.add(keyOf(q)),
    });
    const touched = (rr: ResourceRequest) => this.namespaceChanged(rr.metadata.namespace ?? '');
    d.requests.addHandlers({ add: touched, update: (_old, rr) => touched(rr), delete: touched });
  }

  /** Usage in `namespace` may have moved: its quotas' status is due, after the coalescing. */
  namespaceChanged(namespace: string): void {
    for (const q of this.d.quotas.list())
      if (q.metadata.namespace === namespace)
        this.controller.queue.addAfter(keyOf(q), this.d.coalesceMs);
  }

  enqueueAll(): void {
    for (const q of this.d.quotas.list()) this.controller.queue.add(keyOf(q));
  }

  private async reconcile(key: string): Promise<object> {
    const q = this.d.quotas.get(key);
    if (!q) return {};
    const status = quotaStatus(q, this.d.requestsIn(q.metadata.namespace ?? ''));
    const r = await this.d.writer.write(pathOf(TENANT_QUOTAS, q), q, status, anyVersion);
    if ('refused' in r)
      this.d.log.error('TenantQuota status refused', { object: key, error: r.refused.message });
    return {};
  }
}
