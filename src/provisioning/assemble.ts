// Assembles an OperatorConfig into running profiles: every provisioner stack built, the `hosts`
// provisioners sharing one HostsBackend (hosts are physical: all profiles see the same ledger).
// The operator and `berth simulate` both start here, so they serve requests the same way.
import {
  LOCAL_PROVISIONER_TYPES,
  profileOf,
  type OperatorConfig,
  type ResourceRequest,
} from '../api/index.js';
import { HOST_ALLOCATOR_TYPES, STORAGE_ALLOCATOR_TYPES } from '../api/operatorconfig.js';
import type { HostAvailability, PreemptionProbe, ProfileRuntime, Runtime } from './runtime.js';
import { createDefaultRegistry } from './builtins.js';
import { HostsProvisioner, hostsFactory, type HostsBackend } from './hosts/index.js';
import { compileTemplate } from './template.js';
import { restoreRecords } from './records.js';
import { buildProfile, type BuiltProfile } from './profile.js';
import type { ProvisionerDeps } from './provisioner-registry.js';
import { identityOf, type NodeRecord, type Provisioner, type RequestRef } from './types.js';
import { nodeName } from './stack.js';

/** A host that comes back within a minute costs no replacement. */
export const DEFAULT_HOST_LOSS_GRACE_SECONDS = 60;

export class AssembledRuntime implements Runtime {
  private constructor(
    readonly backend: HostsBackend,
    private readonly profiles: Map<string, BuiltProfile>,
  ) {}

  /** Builds every profile; throws ConfigError naming each bad entry by its path. */
  static build(
    config: OperatorConfig,
    backend: HostsBackend,
    deps: ProvisionerDeps = {},
  ): AssembledRuntime {
    const registry = createDefaultRegistry().register('hosts', hostsFactory(backend));
    const profiles = new Map<string, BuiltProfile>();
    try {
      config.profiles.forEach((p, i) => {
        profiles.set(
          p.name,
          buildProfile(p, `profiles[${i}]`, {
            registry,
            deps,
            hostAllocatorTypes: HOST_ALLOCATOR_TYPES,
            storageAllocatorTypes: STORAGE_ALLOCATOR_TYPES,
          }),
        );
      });
    } catch (err) {
      for (const built of profiles.values()) void built.close();
      throw err;
    }
    return new AssembledRuntime(backend, profiles);
  }

  profile(name: string): ProfileRuntime | undefined {
    const built = this.profiles.get(name);
    if (!built) return undefined;
    const entry = built.entry as {
      onHostLoss?: 'Keep' | 'Replace';
      hostLossGraceSeconds?: number;
      scaleDownOrder?: 'NewestFirst' | 'OldestFirst';
      queueing?: 'BestEffortFIFO' | 'StrictFIFO';
      preemptible?: boolean;
      hostAllocators?: Array<{ type: string }>;
      storageAllocators?: Array<{ type: string }>;
    };
    const remote = built.provisioners.some((p) => !LOCAL_PROVISIONER_TYPES.has(p.type));
    const builtIn = (chain: Array<{ type: string }> | undefined, types: readonly string[]) =>
      (chain ?? []).every((a) => types.includes(a.type));
    return {
      name,
      provisioners: built.provisioners,
      remote,
      scaleDownOrder: entry.scaleDownOrder ?? 'NewestFirst',
      onHostLoss: entry.onHostLoss ?? 'Keep',
      hostLossGraceMs: (entry.hostLossGraceSeconds ?? DEFAULT_HOST_LOSS_GRACE_SECONDS) * 1000,
      queueing: entry.queueing ?? 'BestEffortFIFO',
      preemptible: entry.preemptible ?? true,
      inProcess:
        !remote &&
        builtIn(entry.hostAllocators, HOST_ALLOCATOR_TYPES) &&
        builtIn(entry.storageAllocators, STORAGE_ALLOCATOR_TYPES),
    };
  }

  async preemptionProbe(
    profile: string,
    request: RequestRef,
    needed: number,
    signal: AbortSignal,
  ): Promise<PreemptionProbe | undefined> {
    const hosts = (this.profiles.get(profile)?.provisioners ?? []).filter(
      (p): p is HostsProvisioner => p instanceof HostsProvisioner,
    );
    if (hosts.length === 0) return undefined;
    const probes: Array<Awaited<ReturnType<HostsProvisioner['probe']>>> = [];
    for (const h of hosts) probes.push(await h.probe(request, signal));
    const names = Array.from({ length: needed }, (_, i) => nodeName(request, i));
    return (owners) =>
      this.backend.withoutOwners(owners, () => {
        const undo: Array<() => void> = [];
        let placed = 0;
        try {
          // In stack order, each for what the ones before did not place, as a real run would.
          for (const probe of probes) {
            if (placed >= needed) break;
            const r = probe(names.slice(placed));
            undo.push(r.undo);
            placed += r.placed;
          }
        } finally {
          for (const u of undo) u();
        }
        return placed >= needed;
      });
  }

  profileNames(): string[] {
    return [...this.profiles.keys()];
  }

  hostAvailability(hostPool: string, host: string): HostAvailability {
    return this.backend.hostAvailability(hostPool, host);
  }

  releasers(
    profile: string,
    records: readonly { provisioner: string; hostPool?: string; host?: string }[],
  ): Provisioner[] {
    const own = this.profiles.get(profile)?.provisioners ?? [];
    const known = new Set(own.map((p) => p.name));
    const orphans = new Map<string, Provisioner>();
    for (const r of records) {
      if (!r.hostPool || !r.host || known.has(r.provisioner) || orphans.has(r.provisioner))
        continue;
      orphans.set(
        r.provisioner,
        new HostsProvisioner(this.backend, { name: r.provisioner, template: compileTemplate() }),
      );
    }
    return [...own, ...orphans.values()];
  }

  listers(): Provisioner[] {
    const out = new Map<string, Provisioner>();
    for (const built of this.profiles.values())
      for (const p of built.provisioners) if (p.list && !out.has(p.name)) out.set(p.name, p);
    return [...out.values()];
  }

  /**
   * Takes the capacity recorded in requests' status again (after a start, a leader change or a
   * config reload), so nothing recorded can be handed out twice. Returns records it could not
   * restore (their provisioner is gone from the profile): they stay in status, to be released.
   */
  restore(
    requests: readonly ResourceRequest[],
  ): Array<{ request: string; node: string; error: string }> {
    const problems: Array<{ request: string; node: string; error: string }> = [];
    for (const rr of requests) {
      const nodes = rr.status?.nodes ?? [];
      if (nodes.length === 0) continue;
      this.backend.loadRequest(rr);
      const profile = this.profiles.get(profileOf(rr));
      const identity = identityOf(rr);
      const records = nodes.filter((n) => !(n.hostPool && n.host)) as NodeRecord[];
      if (records.length === 0) continue;
      const { failures } = restoreRecords(records, identity, profile?.provisioners ?? []);
      for (const f of failures)
        problems.push({
          request: `${identity.namespace}/${identity.name}`,
          node: f.name,
          error: f.error,
        });
    }
    return problems;
  }

  async close(): Promise<void> {
    await Promise.all([...this.profiles.values()].map((p) => p.close()));
  }
}
