// What the reconcilers need from the configured operator: the provisioner stack of each profile
// and what the inventory says about a host. Built from the OperatorConfig and the informers'
// caches (runtime-builder.ts); an interface so reconcilers stay small.
import type { Provisioner } from './types.js';

export interface ProfileRuntime {
  name: string;
  provisioners: readonly Provisioner[];
  /** True when a provisioner talks to something outside (webhook, module): may be slow. */
  remote: boolean;
}

export type HostAvailability =
  'Available' | 'Disabled' | 'Maintenance' | 'Missing' | 'PoolDisabled';

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
}
