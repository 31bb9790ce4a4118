// `multilocal` (VURM's multilocal): every node on one address, told apart by port, counted from
// `basePort`. Reservations live in this instance; the node records (status.nodes) bring them back
// after a restart through `restore`. Spawning has nothing to start: the workload manager runs its
// daemon from the config entry, so a node is Running once handed over.
import { ConfigError } from './errors.js';
import { FieldReader } from './fields.js';
import { createNode } from './node.js';
import type { FactoryInput, ProvisionerFactory } from './provisioner-registry.js';
import type { ConfigTemplate } from './template.js';
import type {
  NodeRecord,
  ProvisionContext,
  ProvisionedNode,
  Provisioner,
  RequestIdentity,
} from './types.js';

export const MAX_PORT = 65535;

export interface MultilocalOptions {
  name: string;
  address: string;
  basePort: number;
  maxNodes?: number;
  template: ConfigTemplate;
}

export class MultilocalProvisioner implements Provisioner {
  readonly type = 'multilocal';
  readonly name: string;
  /** slot (port − basePort) → owner key, so a restore of the same node is idempotent. */
  private readonly slots = new Map<number, string>();

  constructor(private readonly opts: MultilocalOptions) {
    this.name = opts.name;
  }

  /** Nodes held right now. */
  get size(): number {
    return this.slots.size;
  }

  async getNodes(count: number, ctx: ProvisionContext): Promise<ProvisionedNode[]> {
    const nodes: ProvisionedNode[] = [];
    let reason: 'MaxNodes' | 'PortsExhausted' | undefined;
    for (const name of ctx.names.slice(0, count)) {
      if (this.opts.maxNodes !== undefined && this.slots.size >= this.opts.maxNodes) {
        reason = 'MaxNodes';
        break;
      }
      const slot = this.freeSlot();
      if (slot === undefined) {
        reason = 'PortsExhausted';
        break;
      }
      nodes.push(this.bind(slot, name, ctx.request.metadata, 'Provisioned'));
    }
    if (reason) {
      const short = count - nodes.length;
      const cap = reason === 'MaxNodes' ? `maxNodes ${this.opts.maxNodes}` : `port ${MAX_PORT}`;
      ctx.report({
        reasons: { [reason]: short },
        summary: `${short} ${reason} (${this.slots.size} held, ${cap})`,
      });
    }
    return nodes;
  }

  restore(record: NodeRecord, request: RequestIdentity): ProvisionedNode {
    const slot = (record.port ?? -1) - this.opts.basePort;
    if (record.port === undefined || slot < 0 || record.port > MAX_PORT) {
      throw new Error(
        `node ${record.name}: port ${String(record.port)} is outside ${this.opts.basePort}..${MAX_PORT}`,
      );
    }
    const key = ownerKey(request, record.name);
    const owner = this.slots.get(slot);
    if (owner !== undefined && owner !== key) {
      throw new Error(`node ${record.name}: port ${record.port} is already held by ${owner}`);
    }
    return this.bind(slot, record.name, request, record.state, record.configEntry);
  }

  private freeSlot(): number | undefined {
    for (let slot = 0; this.opts.basePort + slot <= MAX_PORT; slot++) {
      if (!this.slots.has(slot)) return slot;
    }
    return undefined;
  }

  private bind(
    slot: number,
    name: string,
    request: RequestIdentity,
    state: NodeRecord['state'],
    configEntry?: string,
  ): ProvisionedNode {
    const key = ownerKey(request, name);
    this.slots.set(slot, key);
    return createNode(
      {
        name,
        provisioner: this.name,
        address: this.opts.address,
        port: this.opts.basePort + slot,
        state,
        ...(configEntry !== undefined ? { configEntry } : {}),
      },
      {
        release: async () => {
          // Only the owner frees the slot: a stale handle must not free a reused port.
          if (this.slots.get(slot) === key) this.slots.delete(slot);
        },
      },
      this.opts.template,
      request,
    );
  }
}

function ownerKey(request: RequestIdentity, node: string): string {
  return `${request.namespace}/${request.name}/${node}`;
}

export const multilocalFactory: ProvisionerFactory = ({
  entry,
  path,
  name,
  template,
}: FactoryInput) => {
  const f = new FieldReader(entry, path);
  f.only(['name', 'type', 'configTemplate', 'address', 'basePort', 'maxNodes']);
  const address = f.string('address', true);
  const basePort = f.integer('basePort', 1, MAX_PORT, true);
  const maxNodes = f.integer('maxNodes', 0, MAX_PORT);
  if (f.issues.length) throw new ConfigError(f.issues);
  return new MultilocalProvisioner({
    name,
    address,
    basePort,
    template,
    ...(maxNodes !== undefined ? { maxNodes } : {}),
  });
};
