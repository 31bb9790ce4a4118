// Leader election on a coordination.k8s.io/v1 Lease, with client-go's timing rules:
//  - a candidate takes the lease only when the holder has not renewed it for leaseDuration,
//    measured on the candidate's own clock from when it last saw the record change (so clock
//    skew between machines cannot steal a lease);
//  - the leader renews every retryPeriod; if it cannot renew for renewDeadline it stops leading
//    at once (onStoppedLeading), before the lease can expire and another replica take over;
//  - on shutdown the leader releases the lease so a standby takes over without waiting.
import type { Logger } from 'winston';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from '../kube/client.js';
import { LEASES, collectionPath, objectPath } from '../kube/paths.js';
import { microTime, realClock, sleep, type Clock } from '../support/time.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const defaultLeaderElection = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

export class LeaderElector {
  private observed: { record: string; at: number } | undefined;
  private leading = false;

  constructor(
    private readonly rest: KubeClient,
    private readonly cfg: LeaderElectionConfig,
    private readonly log: Logger,
    private readonly onLeadershipChange: (leading: boolean) => void = () => {},
    private readonly clock: Clock = realClock,
  ) {}

  private get path() {
    return objectPath(LEASES, this.cfg.name, this.cfg.namespace);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until leading, then renews until the lease is lost or the signal aborts.
   * Resolves with 'lost' when leadership was lost (the caller must stop working at once) or
   * 'stopped' when the signal aborted (the lease is released).
   */
  async run(signal: AbortSignal, onStartedLeading: () => void): Promise<'lost' | 'stopped'> {
    while (!signal.aborted && !(await this.tryAcquireOrRenew()))
      await sleep(this.cfg.retryPeriodMs, signal, this.clock);
    if (signal.aborted) return 'stopped';
    this.setLeading(true);
    this.log.info('became leader', {
      lease: `${this.cfg.namespace}/${this.cfg.name}`,
      identity: this.cfg.identity,
    });
    onStartedLeading();
    let lastRenew = this.clock.now();
    while (!signal.aborted) {
      await sleep(this.cfg.retryPeriodMs, signal, this.clock);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = this.clock.now();
      } else if (this.clock.now() - lastRenew > this.cfg.renewDeadlineMs) {
        this.setLeading(false);
        this.log.error('lost leadership: could not renew the lease in time', {
          renewDeadlineMs: this.cfg.renewDeadlineMs,
        });
        return 'lost';
      }
    }
    await this.release();
    this.setLeading(false);
    return 'stopped';
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.onLeadershipChange(leading);
  }

  /** True when we hold the lease after this call. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    let lease: Lease;
    try {
      lease = await this.rest.get<Lease>(this.path);
    } catch (err) {
      if (!isNotFound(err)) {
        this.log.warn('reading the lease failed', { error: String(err) });
        return false;
      }
      try {
        await this.rest.create(collectionPath(LEASES, this.cfg.namespace), this.fresh(now, 0));
        this.observed = undefined;
        return true;
      } catch (createErr) {
        if (!isAlreadyExists(createErr))
          this.log.warn('creating the lease failed', { error: String(createErr) });
        return false;
      }
    }
    const spec = lease.spec;
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseTransitions]);
    if (!this.observed || this.observed.record !== record) this.observed = { record, at: now };
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    const mine = holder === this.cfg.identity;
    if (!mine && holder !== '' && this.observed.at + durationMs > now) return false;
    const next = this.fresh(now, (spec.leaseTransitions ?? 0) + (mine ? 0 : 1));
    if (mine && spec.acquireTime) next.spec.acquireTime = spec.acquireTime;
    next.metadata.resourceVersion = lease.metadata.resourceVersion;
    try {
      await this.rest.replace(this.path, next);
      return true;
    } catch (err) {
      if (!isConflict(err)) this.log.warn('updating the lease failed', { error: String(err) });
      return false;
    }
  }

  private fresh(now: number, transitions: number): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.cfg.name, namespace: this.cfg.namespace },
      spec: {
        holderIdentity: this.cfg.identity,
        leaseDurationSeconds: Math.ceil(this.cfg.leaseDurationMs / 1000),
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: transitions,
      },
    };
  }

  /** Gives the lease up so a standby need not wait for it to expire. */
  private async release(): Promise<void> {
    try {
      const lease = await this.rest.get<Lease>(this.path);
      if (lease.spec.holderIdentity !== this.cfg.identity) return;
      lease.spec = {
        ...lease.spec,
        holderIdentity: null,
        leaseDurationSeconds: 1,
        acquireTime: null,
        renewTime: null,
      };
      await this.rest.replace(this.path, lease);
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn('releasing the lease failed', { error: String(err) });
    }
  }
}
