// What the reconcilers need from the configured operator: the provisioner stack of each profile
// and what the inventory says about a host. Implemented by AssembledRuntime (assemble.ts), built
// from the OperatorConfig and the shared HostsBackend; an interface so reconcilers stay small.
import type { HostAvailability } from './hosts/index.js';
import type { Provisioner, RequestRef } from './types.js';

export type { HostAvailability };

/** What the decisions read of a profile (src/serving/request-lifecycle.ts, ServingView). */
export interface ProfilePolicy {
  /** True when a provisioner talks to something outside (webhook, module): may be slow. */
  remote: boolean;
  /** Which nodes a scale-down releases first (default NewestFirst). */
  scaleDownOrder?: 'NewestFirst' | 'OldestFirst';
  /** What happens to nodes on a lost host (default Keep). */
  onHostLoss?: 'Keep' | 'Replace';
  /** Replace: how long a host must stay lost first (ms). */
  hostLossGraceMs?: number;
  /** How the profile's queue is served (default BestEffortFIFO). */
  queueing?: 'BestEffortFIFO' | 'StrictFIFO';
  /** Whether its requests may be preempted (default true). */
  preemptible?: boolean;
  /**
   * Its stack makes no call out of the process (local provisioners, built-in allocators only):
   * it can run in priority order behind a lock without holding anyone up on a network call.
   */
  inProcess?: boolean;
}

export interface ProfileRuntime extends ProfilePolicy {
  name: string;
  provisioners: readonly Provisioner[];
}

/**
 * A preemption's what-if for one request: whether at least `needed` of its nodes would be placed
 * if the requests `owners` (`<namespace>/<name>`) held nothing. Synchronous: the ledger is put
 * back before it returns.
 */
export type PreemptionProbe = (owners: readonly string[]) => boolean;

export interface Runtime {
  profile(name: string): ProfileRuntime | undefined;
  profileNames(): string[];
  hostAvailability(hostPool: string, host: string): HostAvailability;
  /**
   * The provisioners that can give back `records` of a request of `profile`: the profile's own,
   * plus, for nodes on HostPool hosts whose provisioner the configuration no longer has, a hosts
   * provisioner of that name — the hosts are still there, so their capacity can still come back.
   */
  releasers(
    profile: string,
    records: readonly { provisioner: string; hostPool?: string; host?: string }[],
  ): Provisioner[];
  /**
   * The provisioners whose service can say what it holds (`list`), once per name across
   * profiles: what the orphan collector sweeps.
   */
  listers(): Provisioner[];
  /**
   * The what-if of preemption for a request of `profile`, through its `hosts` provisioners (the
   * capacity the engine owns); undefined when the profile has none.
   */
  preemptionProbe?(
    profile: string,
    request: RequestRef,
    needed: number,
    signal: AbortSignal,
  ): Promise<PreemptionProbe | undefined>;
}
