// `module`: a provisioner written as an ES module (docs/extending.md). The module returns plain
// node objects; this adapter checks them, names every failure after the module, and wraps them so
// the stack's guarantees (idempotent, exactly-once release) do not depend on the module's care.
import { ConfigError, ProvisionerError, describeError } from './errors.js';
import { FieldReader } from './fields.js';
import { ExtensionModule, resolveModulePath } from './module-loader.js';
import { createNode } from './node.js';
import type { FactoryInput, ProvisionerFactory } from './provisioner-registry.js';
import type { ConfigTemplate } from './template.js';
import type {
  HeldNode,
  NodeRecord,
  ProvisionContext,
  ProvisionedNode,
  Provisioner,
  RequestIdentity,
  VolumeRecord,
} from './types.js';
import { silentLogger } from './types.js';
import { checkAttributes, checkListResponse } from './webhook/contract.js';

/** status.nodes[].configEntry is capped by the API. */
export const MAX_CONFIG_ENTRY = 1024;

/** What a module's getNodes/restore returns for each node. */
export interface ModuleNode {
  name: string;
  address: string;
  port?: number;
  host?: string;
  hostPool?: string;
  volumes?: VolumeRecord[];
  attributes?: Record<string, string>;
  /** Overrides the entry's configTemplate for this node. */
  configEntry?: string;
  spawn?(): unknown;
  release(): unknown;
}

/** What a module's createProvisioner(init) returns. */
export interface ModuleProvisionerImpl {
  getNodes(count: number, ctx: ProvisionContext): ModuleNode[] | Promise<ModuleNode[]>;
  /** Needed to release nodes known only from `status.nodes` (after an operator restart). */
  restore?(record: NodeRecord, request: RequestIdentity): ModuleNode | Promise<ModuleNode>;
  /**
   * What the module's backend holds for this operator, as the webhook `list` call answers
   * (docs/webhook-contract.md); lets the orphan collector release what no request records.
   */
  list?(): HeldNode[] | Promise<HeldNode[]>;
  close?(): unknown;
}

function checkImpl(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'no object';
  const o = v as Record<string, unknown>;
  if (typeof o.getNodes !== 'function') return 'an object without getNodes()';
  if (o.restore !== undefined && typeof o.restore !== 'function') return 'a non-function restore';
  if (o.list !== undefined && typeof o.list !== 'function') return 'a non-function list';
  return undefined;
}

/** Why `n` is not a usable ModuleNode, or undefined. */
export function checkModuleNode(n: unknown): string | undefined {
  if (typeof n !== 'object' || n === null) return 'a node that is not an object';
  const o = n as Record<string, unknown>;
  const name = typeof o.name === 'string' && o.name ? `node "${o.name}"` : 'a node';
  if (typeof o.name !== 'string' || !o.name) return 'a node with an empty name';
  if (typeof o.release !== 'function') return `${name} without release()`;
  if (o.spawn !== undefined && typeof o.spawn !== 'function') {
    return `${name} with a non-function spawn`;
  }
  if (typeof o.address !== 'string' || !o.address) return `${name} without an address`;
  if (
    o.port !== undefined &&
    !(Number.isInteger(o.port) && (o.port as number) >= 1 && (o.port as number) <= 65535)
  ) {
    return `${name} with port ${JSON.stringify(o.port)}, not 1..65535`;
  }
  for (const key of ['host', 'hostPool', 'configEntry'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') {
      return `${name} with a non-string ${key}`;
    }
  }
  if (typeof o.configEntry === 'string' && o.configEntry.length > MAX_CONFIG_ENTRY) {
    return `${name} with a configEntry longer than ${MAX_CONFIG_ENTRY} characters`;
  }
  if (o.attributes !== undefined) {
    const problem = checkAttributes(o.attributes);
    if (problem) return `${name} with ${problem}`;
  }
  return undefined;
}

export class ModuleProvisioner implements Provisioner {
  readonly type = 'module';
  /** Restores waiting for the module: getNodes lets them finish first so reservations are known. */
  private readonly restoring = new Set<Promise<unknown>>();

  constructor(
    readonly name: string,
    private readonly module: ExtensionModule<ModuleProvisionerImpl>,
    private readonly template: ConfigTemplate,
  ) {}

  get file(): string {
    return this.module.file;
  }

  async getNodes(count: number, ctx: ProvisionContext): Promise<ProvisionedNode[]> {
    const impl = await this.module.get();
    await Promise.allSettled([...this.restoring]);
    let raw: unknown;
    try {
      raw = await impl.getNodes(count, ctx);
    } catch (err) {
      throw new Error(`${this.module.label}: getNodes threw: ${describeError(err)}`);
    }
    const problem = this.checkAnswer(raw, ctx.names.slice(0, count));
    if (problem) {
      const unreleased = await releaseRaw(raw);
      throw new ProvisionerError(`${this.module.label}: getNodes returned ${problem}`, unreleased);
    }
    return (raw as ModuleNode[]).map((n) =>
      this.wrap(n, ctx.request.metadata, 'Provisioned', Promise.resolve(n)),
    );
  }

  /** The module's own list, checked like a webhook's answer; none when it has no list(). */
  async list(): Promise<HeldNode[]> {
    const impl = await this.module.get();
    if (!impl.list) return [];
    let raw: unknown;
    try {
      raw = await impl.list();
    } catch (err) {
      throw new Error(`${this.module.label}: list threw: ${describeError(err)}`);
    }
    const checked = checkListResponse({ nodes: raw });
    if (!checked.ok) throw new Error(`${this.module.label}: list returned ${checked.problem}`);
    return checked.value.nodes.map((n) => ({ ...n, request: { ...n.request } }));
  }

  restore(record: NodeRecord, request: RequestIdentity): ProvisionedNode {
    // restore is synchronous but loading is not: the module's restore runs as soon as it is loaded.
    const raw = this.module.get().then(async (impl) => {
      if (!impl.restore) {
        throw new Error(
          `${this.module.label} has no restore(); node ${record.name} cannot be rebuilt from its record`,
        );
      }
      let n: unknown;
      try {
        n = await impl.restore(record, request);
      } catch (err) {
        throw new Error(`${this.module.label}: restore threw: ${describeError(err)}`);
      }
      const problem = checkModuleNode(n);
      if (problem) throw new Error(`${this.module.label}: restore returned ${problem}`);
      return n as ModuleNode;
    });
    const tracked = raw.catch(() => undefined);
    this.restoring.add(tracked);
    void tracked.finally(() => this.restoring.delete(tracked));
    return this.wrap(
      {
        name: record.name,
        address: record.address,
        configEntry: record.configEntry,
        ...(record.port !== undefined ? { port: record.port } : {}),
        ...(record.host !== undefined ? { host: record.host } : {}),
        ...(record.hostPool !== undefined ? { hostPool: record.hostPool } : {}),
        ...(record.volumes !== undefined ? { volumes: record.volumes } : {}),
        ...(record.attributes !== undefined ? { attributes: record.attributes } : {}),
        release: () => undefined,
      },
      request,
      record.state,
      raw,
    );
  }

  async close(): Promise<void> {
    try {
      const impl = await this.module.get();
      await impl.close?.();
    } catch {
      // A module that never loaded has nothing to close.
    }
  }

  private checkAnswer(raw: unknown, names: readonly string[]): string | undefined {
    if (!Array.isArray(raw)) return 'something that is not an array';
    if (raw.length > names.length) return `${raw.length} nodes, ${names.length} were asked`;
    const allowed = new Set(names);
    const seen = new Set<string>();
    for (const n of raw as unknown[]) {
      const problem = checkModuleNode(n);
      if (problem) return problem;
      const name = (n as ModuleNode).name;
      if (seen.has(name)) return `node name "${name}" twice`;
      if (!allowed.has(name)) return `node "${name}", which was not among the names given`;
      seen.add(name);
    }
    return undefined;
  }

  private wrap(
    n: ModuleNode,
    request: RequestIdentity,
    state: NodeRecord['state'],
    raw: Promise<ModuleNode>,
  ): ProvisionedNode {
    const label = this.module.label;
    return createNode(
      {
        name: n.name,
        provisioner: this.name,
        address: n.address,
        state,
        ...(n.port !== undefined ? { port: n.port } : {}),
        ...(n.host !== undefined ? { host: n.host } : {}),
        ...(n.hostPool !== undefined ? { hostPool: n.hostPool } : {}),
        ...(n.volumes !== undefined ? { volumes: n.volumes } : {}),
        ...(n.attributes !== undefined ? { attributes: n.attributes } : {}),
        ...(n.configEntry !== undefined ? { configEntry: n.configEntry } : {}),
      },
      {
        spawn: async () => {
          const node = await raw;
          try {
            await node.spawn?.();
          } catch (err) {
            throw new Error(`${label}: spawn of ${n.name} threw: ${describeError(err)}`);
          }
        },
        release: async () => {
          const node = await raw;
          try {
            await node.release();
          } catch (err) {
            throw new Error(`${label}: release of ${n.name} threw: ${describeError(err)}`);
          }
        },
      },
      this.template,
      request,
    );
  }
}

/** Gives back whatever a rejected answer holds that can be given back, each object once. */
async function releaseRaw(raw: unknown): Promise<Array<{ name: string; error: string }>> {
  if (!Array.isArray(raw)) return [];
  const unique = [...new Set(raw as unknown[])].filter(
    (n): n is ModuleNode =>
      typeof n === 'object' && n !== null && typeof (n as ModuleNode).release === 'function',
  );
  const failed: Array<{ name: string; error: string }> = [];
  await Promise.all(
    unique.map(async (n) => {
      try {
        await n.release();
      } catch (err) {
        failed.push({ name: String(n.name || '(unnamed)'), error: describeError(err) });
      }
    }),
  );
  return failed;
}

export const moduleFactory: ProvisionerFactory = ({
  entry,
  path,
  name,
  template,
  deps,
}: FactoryInput) => {
  const f = new FieldReader(entry, path);
  f.only(['name', 'type', 'configTemplate', 'path', 'options']);
  const file = f.string('path', true);
  const options = f.record('options') ?? {};
  if (f.issues.length) throw new ConfigError(f.issues);
  const module = new ExtensionModule<ModuleProvisionerImpl>(
    resolveModulePath(file, deps.baseDir),
    'createProvisioner',
    { name, options, logger: deps.logger ?? silentLogger },
    checkImpl,
  );
  return new ModuleProvisioner(name, module, template);
};
