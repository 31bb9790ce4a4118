// A simulated KVM farm: a fixed number of VM slots spread over a few hypervisors. It implements the
// provider side of Berth's webhook contract (docs/webhook-contract.md) with the two properties the
// contract asks of every service: provision is idempotent per idempotency key, and release of a
// node it does not know (or already released) succeeds. It keeps a ledger so tests can check that
// every VM was released exactly once.
import type {
  NodeRef,
  ProvisionRequest,
  ProvisionResponse,
  ReleaseRequest,
  SpawnRequest,
  WireNode,
} from '../../src/provisioning/webhook/contract.js';

export interface FarmOptions {
  /** VM slots in the whole farm. */
  capacity: number;
  /** Slots are spread round-robin over this many hypervisors (hv-0, hv-1, …). */
  hypervisors?: number;
  /** VMs get addresses `${subnet}.${10 + slot}`. */
  subnet?: string;
  /** Port the workload daemon listens on in every VM (slurmd's by default). */
  nodePort?: number;
}

export type VmState = 'Provisioned' | 'Running' | 'Released';

export interface Vm {
  id: number;
  key: string;
  name: string;
  slot: number;
  address: string;
  port: number;
  host: string;
  state: VmState;
  /** Provision requests that named this VM's key while it lived (1 = no duplicate work). */
  provisionRequests: number;
  /** Release requests that reached this VM, including ones after it was released. */
  releaseRequests: number;
}

export class FarmError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class KvmFarm {
  readonly capacity: number;
  private readonly hypervisors: number;
  private readonly subnet: string;
  private readonly nodePort: number;
  /** Every VM ever made, in order: the ledger. */
  readonly vms: Vm[] = [];
  private readonly live = new Map<string, Vm>();
  private readonly byKey = new Map<string, Vm>();
  /** Releases for keys the farm never provisioned (harmless; Berth sends them after lost answers). */
  unknownReleases = 0;

  constructor(opts: FarmOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 0)
      throw new Error('capacity must be ≥ 0');
    this.capacity = opts.capacity;
    this.hypervisors = Math.max(1, opts.hypervisors ?? 2);
    this.subnet = opts.subnet ?? '192.168.122';
    this.nodePort = opts.nodePort ?? 6818;
  }

  get used(): number {
    return this.live.size;
  }

  provision(req: ProvisionRequest): ProvisionResponse {
    const refs = checkRefs(req.nodes);
    const nodes: WireNode[] = [];
    let short = 0;
    for (const ref of refs) {
      const existing = this.live.get(ref.idempotencyKey);
      if (existing) {
        // A retry of a provision already done: answer with the same VM, make nothing new.
        existing.provisionRequests++;
        nodes.push(this.wire(existing));
        continue;
      }
      const slot = this.freeSlot();
      if (slot === undefined) {
        short++;
        continue;
      }
      const vm: Vm = {
        id: this.vms.length + 1,
        key: ref.idempotencyKey,
        name: ref.name,
        slot,
        address: `${this.subnet}.${10 + slot}`,
        port: this.nodePort,
        host: `hv-${slot % this.hypervisors}`,
        state: 'Provisioned',
        provisionRequests: 1,
        releaseRequests: 0,
      };
      this.vms.push(vm);
      this.live.set(vm.key, vm);
      this.byKey.set(vm.key, vm);
      nodes.push(this.wire(vm));
    }
    return {
      kind: 'ProvisionResponse',
      nodes,
      ...(short
        ? {
            reasons: { MaxNodes: short },
            message: `${short} MaxNodes (farm full: ${this.used}/${this.capacity} VMs)`,
          }
        : {}),
    };
  }

  spawn(req: SpawnRequest): {
    kind: 'SpawnResponse';
    nodes: Array<{ name: string; state: VmState }>;
  } {
    const out: Array<{ name: string; state: VmState }> = [];
    for (const ref of checkRefs(req.nodes)) {
      const vm = this.live.get(ref.idempotencyKey);
      if (!vm) throw new FarmError(404, `no live VM for ${ref.idempotencyKey}`);
      vm.state = 'Running';
      out.push({ name: vm.name, state: vm.state });
    }
    return { kind: 'SpawnResponse', nodes: out };
  }

  release(req: ReleaseRequest): { kind: 'ReleaseResponse'; released: string[] } {
    const released: string[] = [];
    for (const ref of checkRefs(req.nodes)) {
      const vm = this.byKey.get(ref.idempotencyKey);
      if (!vm) {
        this.unknownReleases++;
        continue;
      }
      vm.releaseRequests++;
      if (vm.state !== 'Released') {
        vm.state = 'Released';
        this.live.delete(vm.key);
        released.push(vm.name);
      }
    }
    return { kind: 'ReleaseResponse', released };
  }

  private freeSlot(): number | undefined {
    const taken = new Set([...this.live.values()].map((vm) => vm.slot));
    for (let slot = 0; slot < this.capacity; slot++) if (!taken.has(slot)) return slot;
    return undefined;
  }

  private wire(vm: Vm): WireNode {
    return {
      name: vm.name,
      idempotencyKey: vm.key,
      address: vm.address,
      port: vm.port,
      host: vm.host,
      attributes: { vmId: String(vm.id), hypervisor: vm.host },
    };
  }
}

function checkRefs(nodes: unknown): NodeRef[] {
  if (!Array.isArray(nodes)) throw new FarmError(400, '"nodes" must be an array');
  for (const n of nodes as unknown[]) {
    const r = n as Partial<NodeRef> | null;
    if (
      typeof r !== 'object' ||
      r === null ||
      typeof r.name !== 'string' ||
      typeof r.idempotencyKey !== 'string' ||
      !r.idempotencyKey
    ) {
      throw new FarmError(400, 'every node needs "name" and "idempotencyKey"');
    }
  }
  return nodes as NodeRef[];
}
