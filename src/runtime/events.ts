// Events (events.k8s.io/v1) about Berth's objects: what `kubectl events` shows. Repeats of the
// same event within a series are counted on one object instead of creating a new one each time.
import type { Logger } from 'winston';
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/objects.js';

export interface EventRecorder {
  event(
    obj: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    note: string,
  ): void;
}

interface SeriesState {
  name: string;
  namespace: string;
  count: number;
}

const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class KubeEventRecorder implements EventRecorder {
  private readonly series = new Map<string, SeriesState>();

  constructor(
    private readonly rest: KubeClient,
    private readonly controller: string,
    private readonly instance: string,
    private readonly log: Logger,
    /** Namespace for events about cluster-scoped objects. */
    private readonly defaultNamespace = 'default',
  ) {}

  event(
    obj: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    note: string,
  ): void {
    void this.emit(obj, type, reason, action, note.slice(0, 1024)).catch((err: unknown) =>
      this.log.warn('could not record event', { reason, error: String(err) }),
    );
  }

  private async emit(
    obj: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    const namespace = obj.metadata.namespace ?? this.defaultNamespace;
    const id = `${obj.metadata.uid ?? obj.metadata.name}/${type}/${reason}/${note}`;
    const now = new Date();
    const seen = this.series.get(id);
    if (seen) {
      seen.count++;
      await this.rest.mergePatch(
        `/apis/events.k8s.io/v1/namespaces/${seen.namespace}/events/${seen.name}`,
        {
          series: { count: seen.count, lastObservedTime: microTime(now) },
        },
      );
      return;
    }
    const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
    await this.rest.create(`/apis/events.k8s.io/v1/namespaces/${namespace}/events`, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTime(now),
      reportingController: this.controller,
      reportingInstance: this.instance,
      action,
      reason,
      type,
      note,
      regarding: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
    });
    if (this.series.size > 10_000) this.series.clear();
    this.series.set(id, { name, namespace, count: 1 });
  }
}
