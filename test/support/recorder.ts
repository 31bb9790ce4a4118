// An EventRecorder that keeps what it was told (Kueue's recording recorder), for assertions.
import type { EventRecorder } from '../../src/runtime/events.js';
import type { KubeObject } from '../../src/kube/objects.js';

export interface RecordedEvent {
  object: string;
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

export class RecordingRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  event(
    obj: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    note: string,
  ): void {
    const object = obj.metadata.namespace
      ? `${obj.metadata.namespace}/${obj.metadata.name}`
      : obj.metadata.name;
    this.events.push({ object, type, reason, action, note });
  }

  reasons(): string[] {
    return this.events.map((e) => `${e.type}/${e.reason}`);
  }
}
