// Events (events.k8s.io/v1) about a controller's objects: what `kubectl events` shows. Events
// inform without flooding: a repeat of the same event (same object, type, reason and note) is an
// event series — counted on the first Event object, and written at most once per `seriesFlushMs`
// however often it repeats (client-go's EventSeries, with its aggregation).
import type { Logger } from 'winston';
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../kube/client.js';
import type { KubeObject } from '../kube/objects.js';
import { EVENTS, collectionPath, objectPath } from '../kube/paths.js';
import { microTime, realClock, type Clock } from '../support/time.js';

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
  /** The count the server has. */
  written: number;
  flushing: boolean;
}

export interface EventRecorderOptions {
  controller: string;
  instance: string;
  /** Longest a repeat waits before the series count is written. */
  seriesFlushMs?: number;
  clock?: Clock;
  /**
   * Series remembered at most (oldest forgotten first); 4,096 by default, as client-go's event
   * correlator. Every binding's Normal event is a series of its own, so this bounds the memory
   * they take on a busy fleet.
   */
  maxSeries?: number;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly series = new Map<string, SeriesState>();
  private readonly clock: Clock;

  constructor(
    private readonly client: KubeClient,
    private readonly o: EventRecorderOptions,
    private readonly log: Logger,
  ) {
    this.clock = o.clock ?? realClock;
  }

  event(
    obj: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    note: string,
  ): void {
    note = note.slice(0, 1024);
    const id = `${obj.metadata.uid ?? obj.metadata.name}/${type}/${reason}/${note}`;
    const seen = this.series.get(id);
    if (seen) {
      seen.count++;
      this.scheduleFlush(seen);
      return;
    }
    // The API server takes an Event about a cluster-scoped object (a HostPool, a Namespace) only
    // in `default`, where Node events live too.
    const namespace = obj.metadata.namespace ?? 'default';
    const state: SeriesState = {
      name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`,
      namespace,
      count: 1,
      written: 1,
      flushing: false,
    };
    if (this.series.size >= (this.o.maxSeries ?? 4096))
      this.series.delete(this.series.keys().next().value!);
    this.series.set(id, state);
    void this.client
      .create(collectionPath(EVENTS, namespace), {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: state.name, namespace },
        eventTime: microTime(this.clock.now()),
        reportingController: this.o.controller,
        reportingInstance: this.o.instance,
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
      })
      .catch((err: unknown) => {
        this.series.delete(id);
        this.log.warn('could not record event', { reason, error: String(err) });
      });
  }

  private scheduleFlush(s: SeriesState): void {
    if (s.flushing) return;
    s.flushing = true;
    this.clock.setTimeout(() => {
      s.flushing = false;
      if (s.count === s.written) return;
      const count = s.count;
      void this.client
        .mergePatch(objectPath(EVENTS, s.name, s.namespace), {
          series: { count, lastObservedTime: microTime(this.clock.now()) },
        })
        .then(
          () => (s.written = Math.max(s.written, count)),
          (err: unknown) => this.log.warn('could not update event series', { error: String(err) }),
        );
    }, this.o.seriesFlushMs ?? 10_000);
  }
}
