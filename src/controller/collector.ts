// Garbage collection of orphan nodes on external provisioners, on the leader only: what a service
// holds for this operator that no request records (a provision answered after its deadline, a
// leader killed mid-provision, a request placed elsewhere by the next leader). Karpenter collects
// cloud instances no NodeClaim owns the same way. The decision is pure (src/serving/orphans.ts);
// this file lists, releases, counts and says so.
import type { Logger } from 'winston';
import type { ResourceRequest } from '../api/index.js';
import type { KubeObject } from '../kube/objects.js';
import type { Metrics } from '../observability/metrics.js';
import { releaseRecords, type HeldNode, type NodeRecord } from '../provisioning/index.js';
import type { Runtime } from '../provisioning/runtime.js';
import type { EventRecorder } from '../runtime/events.js';
import { orphans, recordedNodes, suspectKey } from '../serving/orphans.js';
import { sleep } from '../support/time.js';

export interface CollectorDeps {
  runtime(): Runtime;
  /** The requests as cached (every namespace). */
  requests(): readonly ResourceRequest[];
  /** True while the request reconciler holds the request's nodes in memory. */
  busy(request: HeldNode['request']): boolean;
  recorder: EventRecorder;
  /** What the Event of a release is about: the leader-election Lease, else the namespace. */
  regarding: KubeObject;
  metrics: Metrics;
  log: Logger;
  now(): number;
  /** Between sweeps. */
  intervalMs: number;
  /** How long a node must be seen orphaned before it is released. */
  graceMs: number;
}

export interface SweepResult {
  /** Provisioner → nodes released in this sweep. */
  released: Map<string, string[]>;
  errors: string[];
}

export class OrphanCollector {
  private suspects = new Map<string, number>();

  constructor(private readonly d: CollectorDeps) {}

  /** Sweeps at once (a takeover), then every interval, until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.suspects.clear(); // a new term: nothing seen by an earlier one counts
    while (!signal.aborted) {
      await this.sweep(signal);
      await sleep(this.d.intervalMs, signal);
    }
  }

  async sweep(signal?: AbortSignal): Promise<SweepResult> {
    const errors: string[] = [];
    const held = new Map<string, HeldNode[]>();
    const listers = this.d.runtime().listers();
    for (const p of listers) {
      try {
        held.set(p.name, await p.list!(signal));
      } catch (err) {
        errors.push(`list ${p.name}: ${message(err)}`);
      }
    }
    // The records are read after the lists: a node bound between the two is recorded here.
    const decision = orphans({
      held,
      recorded: recordedNodes(this.d.requests()),
      busy: (r) => this.d.busy(r),
      suspects: this.suspects,
      nowMs: this.d.now(),
      graceMs: this.d.graceMs,
    });
    this.suspects = decision.suspects;
    for (const [provisioner, n] of decision.found) {
      this.d.metrics.orphansFound.inc({ provisioner }, n);
      this.d.log.info('a provisioner holds nodes no request records', {
        provisioner,
        nodes: n,
        graceMs: this.d.graceMs,
      });
    }
    const released = new Map<string, string[]>();
    for (const [name, nodes] of decision.release) {
      const p = listers.find((x) => x.name === name);
      if (!p) continue;
      // Looked at again right before: a request may have recorded (or started to provision) the
      // node while the lists and the earlier releases were on the wire. A window stays: a stack
      // that starts for the same request while this release is on the wire could be answered
      // the node being released (an idempotent service); closing it needs a fence per request.
      const recordedNow = recordedNodes(this.d.requests());
      const still = nodes.filter(
        (n) => !recordedNow.has(suspectKey(name, n)) && !this.d.busy(n.request),
      );
      const done = still.length ? await this.release(name, p, still, errors) : [];
      if (done.length) released.set(name, done);
    }
    this.d.metrics.orphanSweeps.inc({ result: errors.length ? 'error' : 'success' });
    for (const e of errors) this.d.log.warn('orphan collection', { error: e });
    return { released, errors };
  }

  private async release(
    provisioner: string,
    p: ReturnType<Runtime['listers']>[number],
    nodes: readonly HeldNode[],
    errors: string[],
  ): Promise<string[]> {
    const byRequest = new Map<string, HeldNode[]>();
    for (const n of nodes) {
      const k = `${n.request.namespace}/${n.request.name}/${n.request.uid ?? ''}`;
      byRequest.set(k, [...(byRequest.get(k) ?? []), n]);
    }
    const done: string[] = [];
    for (const group of byRequest.values()) {
      const request = group[0]!.request;
      const records: NodeRecord[] = group.map((n) => ({
        name: n.name,
        provisioner,
        address: '',
        configEntry: '',
        state: 'Releasing',
      }));
      const { released, failures } = await releaseRecords(records, request, [p]);
      for (const f of failures) errors.push(`release ${provisioner} ${f.name}: ${f.error}`);
      for (const r of released) {
        const node = group.find((n) => n.name === r.name)!;
        this.suspects.delete(suspectKey(provisioner, node));
        done.push(node.idempotencyKey);
      }
      if (released.length === 0) continue;
      this.d.metrics.orphansReleased.inc({ provisioner }, released.length);
      const names = released.map((r) => r.name).join(', ');
      const generations = group
        .filter((n) => n.generation !== undefined)
        .map((n) => n.generation)
        .join(', ');
      const note =
        `released ${released.length} node(s) provisioner ${provisioner} held for ` +
        `${request.namespace}/${request.name} (uid ${request.uid ?? 'none'}) that no request ` +
        `records: ${names}${generations ? ` (generations ${generations})` : ''}`;
      this.d.log.info('released orphan nodes', { provisioner, request, nodes: names });
      this.d.recorder.event(this.d.regarding, 'Normal', 'OrphansReleased', 'Collect', note);
    }
    return done;
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
