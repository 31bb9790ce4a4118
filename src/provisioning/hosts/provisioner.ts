// The `hosts` provisioner: nodes on HostPool hosts chosen by the profile's allocator chains
// (docs/allocation.md, "The hosts provisioner"). Every profile's `hosts` provisioners in one
// operator process share one HostsBackend (src/allocation/service.ts) — one engine, one inventory,
// one ledger — and can never book the same capacity twice. Provisioners are thin views over it (a
// profile, a pool selector, a template), rebuilt freely on a config reload.
import {
  AllocationError,
  compileRequest,
  createHostAllocator,
  createStorageAllocator,
  onHost,
  ownerKey,
  type HostsBackend,
  type LedgerEntry,
  type Placement,
  type PoolInfo,
  type ResourceRequest,
  type Resources,
} from '../../allocation/index.js';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { MAX_HOST_REASONS } from '../stack-explanation.js';
import { FieldReader } from '../fields.js';
import { createNode } from '../node.js';
import type { FactoryInput, ProvisionerDeps, ProvisionerFactory } from '../provisioner-registry.js';
import type { ConfigTemplate } from '../template.js';
import { builtinConfig, resolveChains, type ChainSources } from './chains.js';
import { isExternalAllocatorType } from './extenders.js';
import { allocatorErrors, shortfallReport } from './report.js';
import { compileSelector, type LabelMatcher } from './selector.js';
import {
  silentLogger,
  type Logger,
  type NodeRecord,
  type ProvisionContext,
  type ProvisionedNode,
  type Provisioner,
  type RequestIdentity,
  type RequestRef,
} from '../types.js';

const NO_RESOURCES: Resources = new Map();

export interface HostsProvisionerOptions {
  name: string;
  template: ConfigTemplate;
  /** HostPools this provisioner may use (its `hostPoolSelector`); default: all. */
  selector?: LabelMatcher;
  /** The profile's chains; absent: the engine's default chains. */
  chains?: ChainSources;
  logger?: Logger;
}

export class HostsProvisioner implements Provisioner {
  readonly type = 'hosts';
  readonly name: string;
  private readonly scope: ((pool: PoolInfo) => boolean) | undefined;

  constructor(
    private readonly backend: HostsBackend,
    private readonly opts: HostsProvisionerOptions,
  ) {
    this.name = opts.name;
    const selector = opts.selector;
    this.scope = selector ? (pool) => selector(pool.labels) : undefined;
  }

  async getNodes(count: number, ctx: ProvisionContext): Promise<ProvisionedNode[]> {
    const names = ctx.names.slice(0, count);
    if (names.length === 0) return [];
    const request = engineRequest(ctx.request);
    const compiled = compileRequest(request);
    const chains = await resolveChains(
      this.opts.chains,
      this.backend.engine,
      ctx.request,
      compiled,
      this.scope ?? (() => true),
      ctx.signal,
    );
    // Extenders answered while we waited; if the stack gave up meanwhile, reserve nothing.
    if (ctx.signal.aborted) return [];

    // Synchronous from here: the plan and its reservations happen in one turn of the event loop,
    // so concurrent requests are serialized against the one ledger.
    const engine = this.backend.engine;
    const result = engine.plan(compiled, chains, {
      names,
      ...(this.scope ? { scope: this.scope } : {}),
      maxHostReasons: MAX_HOST_REASONS,
    });
    const nodes = result.placements.map((p) => {
      const entry = engine.ledger.entry(p.owner, p.name);
      return this.node(placementFields(p, this.name), p.owner, entry, ctx.request.metadata);
    });
    for (const line of allocatorErrors(result)) {
      (this.opts.logger ?? silentLogger).warn('allocator had no answer', {
        provisioner: this.name,
        request: compiled.owner,
        error: line,
      });
    }
    if (nodes.length < names.length) {
      const report = shortfallReport(result);
      // NoStorage alone does not say that a pool the request could have used names something
      // that is not there: say which, so the fix is in the explanation.
      if (report.reasons?.NoStorage) {
        const dangling = this.backend.danglingStoragePools();
        if (dangling.length)
          report.summary =
            `${report.summary ?? ''}; storage pools that reach no host: ` +
            dangling
              .slice(0, 3)
              .map((d) => `${d.name} (${d.missing})`)
              .join(', ') +
            (dangling.length > 3 ? `, and ${dangling.length - 3} more` : '');
      }
      ctx.report(report);
    }
    return nodes;
  }

  /**
   * For a preemption's what-if: resolves the chains once (they may ask extenders), then answers,
   * synchronously, how many of `names` this provisioner would place now. The placements are held
   * until `undo` is called, so a second provisioner of the stack sees them, as in a real run.
   */
  async probe(
    request: RequestRef,
    signal: AbortSignal,
  ): Promise<(names: readonly string[]) => { placed: number; undo: () => void }> {
    const compiled = compileRequest(engineRequest(request));
    const chains = await resolveChains(
      this.opts.chains,
      this.backend.engine,
      request,
      compiled,
      this.scope ?? (() => true),
      signal,
    );
    return (names) => {
      if (names.length === 0) return { placed: 0, undo: () => {} };
      const engine = this.backend.engine;
      const result = engine.plan(compiled, chains, {
        names,
        ...(this.scope ? { scope: this.scope } : {}),
        maxHostReasons: 0,
      });
      return {
        placed: result.placements.length,
        undo: () => {
          for (const p of result.placements) engine.ledger.release(p.owner, p.name);
        },
      };
    };
  }

  /**
   * Binds a recorded node to its ledger entry, taking the capacity again when the ledger does not
   * hold it yet. The record has no per-node resources; they come from `loadRequest` (the intended
   * path) or from a sibling node of the same request, else the node is held without resources.
   */
  restore(record: NodeRecord, request: RequestIdentity): ProvisionedNode {
    if (!onHost(record)) {
      throw new Error(`node ${record.name}: the record names no hostPool/host`);
    }
    const owner = ownerKey(request.namespace, request.name);
    const ledger = this.backend.engine.ledger;
    let entry: LedgerEntry | undefined;
    if (record.state !== 'Released') {
      entry = ledger.entry(owner, record.name);
      if (!entry) {
        const sibling = ledger.entriesOf(owner).find((e) => e.hostKey !== undefined);
        if (!sibling) {
          (this.opts.logger ?? silentLogger).warn(
            'restored a hosts node without its resources; call HostsBackend.loadRequest first',
            { provisioner: this.name, request: owner, node: record.name },
          );
        }
        entry = ledger.restoreNode(
          request.namespace,
          request.name,
          record,
          sibling?.resources ?? NO_RESOURCES,
        );
      }
    }
    return this.node(
      {
        name: record.name,
        provisioner: this.name,
        address: record.address,
        hostPool: record.hostPool,
        host: record.host,
        ...(record.port !== undefined ? { port: record.port } : {}),
        ...(record.volumes?.length ? { volumes: record.volumes.map((v) => ({ ...v })) } : {}),
        state: record.state,
        configEntry: record.configEntry,
      },
      owner,
      entry,
      request,
    );
  }

  private node(
    fields: Parameters<typeof createNode>[0],
    owner: string,
    entry: LedgerEntry | undefined,
    request: RequestIdentity,
  ): ProvisionedNode {
    const ledger = this.backend.engine.ledger;
    return createNode(
      fields,
      {
        // Only the reservation this handle was made for: a stale handle (an earlier attempt under
        // the same node name) must never drop a newer reservation.
        release: async () => {
          if (entry && ledger.entry(owner, fields.name) === entry)
            ledger.release(owner, fields.name);
        },
      },
      this.opts.template,
      request,
    );
  }
}

function placementFields(p: Placement, provisioner: string): Parameters<typeof createNode>[0] {
  return {
    name: p.name,
    provisioner,
    address: p.address,
    hostPool: p.hostPool,
    host: p.host,
    ...(p.port !== undefined ? { port: p.port } : {}),
    ...(p.volumes.length
      ? {
          volumes: p.volumes.map((v) => ({
            name: v.name,
            storagePool: v.storagePool,
            size: v.size,
          })),
        }
      : {}),
  };
}

/** The stack's request as the engine reads it; the engine validates every field it compiles. */
function engineRequest(ref: RequestRef): ResourceRequest {
  return {
    metadata: {
      namespace: ref.metadata.namespace,
      name: ref.metadata.name,
      ...(ref.metadata.uid !== undefined ? { uid: ref.metadata.uid } : {}),
    },
    spec: ref.spec as unknown as ResourceRequest['spec'],
  };
}

/** Built-in chain entries are built once here so that a bad one (a seed) fails the config. */
function checkBuiltins(deps: ProvisionerDeps, issues: ConfigIssue[]): void {
  const profile = deps.profile;
  if (!profile) return;
  for (const [key, build] of [
    ['hostAllocators', createHostAllocator],
    ['storageAllocators', createStorageAllocator],
  ] as const) {
    const list = profile.entry[key];
    if (!Array.isArray(list)) continue;
    list.forEach((raw: unknown, i) => {
      if (typeof raw !== 'object' || raw === null) return;
      const entry = raw as Record<string, unknown>;
      if (isExternalAllocatorType(entry.type)) return;
      try {
        build(builtinConfig(entry));
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        issues.push({ path: `${profile.path}.${key}[${i}]`, message: err.message });
      }
    });
  }
}

/** `registry.register('hosts', hostsFactory(backend))`. */
export function hostsFactory(backend: HostsBackend): ProvisionerFactory {
  return ({ entry, path, name, template, deps }: FactoryInput) => {
    const f = new FieldReader(entry, path);
    f.only(['name', 'type', 'configTemplate', 'hostPoolSelector']);
    const selector =
      entry.hostPoolSelector === undefined
        ? undefined
        : compileSelector(entry.hostPoolSelector, `${path}.hostPoolSelector`, f.issues);
    checkBuiltins(deps, f.issues);
    if (f.issues.length) throw new ConfigError(f.issues);
    return new HostsProvisioner(backend, {
      name,
      template,
      ...(selector ? { selector } : {}),
      ...(deps.profile
        ? {
            chains: {
              hostAllocators: deps.profile.hostAllocators,
              storageAllocators: deps.profile.storageAllocators,
            },
          }
        : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
  };
}
