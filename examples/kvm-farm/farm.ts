// A simulated KVM farm: a fixed number of VM slots spread over a few hypervisors. It implements the
// provider side of Berth's webhook contract (docs/webhook-contract.md) with the properties the
// contract asks of every service: provision is idempotent per idempotency key; release of a node
// it does not know (or already released) succeeds; a release fences the keys it names, so a
// provision still being made (or arriving late) with an older generation leaves nothing held; and
// `list` answers what it holds for an owner through a provisioner. Making a VM may take a while
// (`makeMs`), as on a real farm. It keeps a ledger so tests can check that every VM was released
// exactly once.
import type {
  ListRequest,
  ListResponse,
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
  /** How long making one VM takes (ms); 0 answers at once. */
  makeMs?: number;
  /** Fences remembered at most (oldest forgotten first); a fence must outlive any provision. */
  maxFences?: number;
  /**
   * false: behave like a service that breaks the fencing rule — a release that arrives while a
   * VM is being made does not know it, and a late provision is made whatever was released. For
   * watching Berth's orphan collector at work (and testing it).
   */
  fencing?: boolean;
}

export type VmState = 'Making' | 'Provisioned' | 'Running' | 'Released';

export interface Vm {
  id: number;
  key: string;
  name: string;
  slot: number;
  address: string;
  port: number;
  host: string;
  state: VmState;
  /** Who asked (the operator's owner) and through which of its provisioners. */
  owner?: string;
  provisioner: string;
  request: { namespace: string; name: string; uid?: string };
  /** The generation of the provision call that made it. */
  generation: number;
  /** True when a release fenced it while it was being made: released as soon as it was made. */
  fenced?: boolean;
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
  /** VMs being made: a provision of the same key waits for the same VM. */
  private readonly making = new Map<string, Promise<void>>();
  /** Key → highest generation a release named: provisions at or below it must hold nothing. */
  private readonly fences = new Map<string, number>();
  private readonly makeMs: number;
  private readonly maxFences: number;
  private readonly fencing: boolean;
  /** Releases for keys the farm never provisioned (harmless; Berth sends them after lost answers). */
  unknownReleases = 0;
  /** Provisions refused because a release had fenced their key and generation. */
  fencedProvisions = 0;

  constructor(opts: FarmOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 0)
      throw new Error('capacity must be ≥ 0');
    this.capacity = opts.capacity;
    this.hypervisors = Math.max(1, opts.hypervisors ?? 2);
    this.subnet = opts.subnet ?? '192.168.122';
    this.nodePort = opts.nodePort ?? 6818;
    this.makeMs = opts.makeMs ?? 0;
    this.maxFences = opts.maxFences ?? 100_000;
    this.fencing = opts.fencing ?? true;
  }

  /** VMs held: made or being made, not released. */
  held(): Vm[] {
    return [...this.live.values()];
  }

  get used(): number {
    return this.live.size;
  }

  async provision(req: ProvisionRequest): Promise<ProvisionResponse> {
    const refs = checkRefs(req.nodes);
    const generation = generationOf(req);
    const made: Array<Vm | undefined> = [];
    let short = 0;
    let fenced = 0;
    const waits: Array<Promise<void>> = [];
    for (const ref of refs) {
      const fence = this.fences.get(ref.idempotencyKey);
      if (this.fencing && fence !== undefined && generation <= fence) {
        // A release already named this key at a later generation: this call is a late one.
        fenced++;
        this.fencedProvisions++;
        made.push(undefined);
        continue;
      }
      const existing = this.live.get(ref.idempotencyKey);
      if (existing) {
        // A retry of a provision already done (or being done): the same VM, nothing new.
        existing.provisionRequests++;
        const pending = this.making.get(existing.key);
        if (pending) waits.push(pending);
        made.push(existing);
        continue;
      }
      const slot = this.freeSlot();
      if (slot === undefined) {
        short++;
        made.push(undefined);
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
        state: this.makeMs > 0 ? 'Making' : 'Provisioned',
        ...(req.owner ? { owner: req.owner } : {}),
        provisioner: req.provisioner,
        request: {
          namespace: req.request.namespace,
          name: req.request.name,
          ...(req.request.uid ? { uid: req.request.uid } : {}),
        },
        generation,
        provisionRequests: 1,
        releaseRequests: 0,
      };
      this.vms.push(vm);
      this.live.set(vm.key, vm);
      this.byKey.set(vm.key, vm);
      if (this.makeMs > 0) {
        const done = new Promise<void>((resolve) => setTimeout(resolve, this.makeMs)).then(() => {
          this.making.delete(vm.key);
          if (vm.state === 'Making') vm.state = 'Provisioned';
        });
        this.making.set(vm.key, done);
        waits.push(done);
      }
      made.push(vm);
    }
    await Promise.all(waits);
    // A VM released (fenced) while it was being made is not part of the answer.
    const nodes = made.filter((vm): vm is Vm => vm !== undefined && vm.state !== 'Released');
    const lost = made.filter((vm) => vm?.state === 'Released').length;
    const reasons: Record<string, number> = {
      ...(short ? { MaxNodes: short } : {}),
      ...(fenced + lost ? { Released: fenced + lost } : {}),
    };
    return {
      kind: 'ProvisionResponse',
      nodes: nodes.map((vm) => this.wire(vm)),
      ...(short || fenced || lost
        ? {
            reasons,
            message: [
              short ? `${short} MaxNodes (farm full: ${this.used}/${this.capacity} VMs)` : '',
              fenced + lost ? `${fenced + lost} released before the provision finished` : '',
            ]
              .filter(Boolean)
              .join('; '),
          }
        : {}),
    };
  }

  /** What the farm holds for `owner` through `provisioner`: made or being made. */
  list(req: ListRequest): ListResponse {
    if (!req.owner) throw new FarmError(400, 'a list needs an "owner"');
    return {
      kind: 'ListResponse',
      nodes: this.held()
        .filter((vm) => vm.owner === req.owner && vm.provisioner === req.provisioner)
        .map((vm) => ({
          name: vm.name,
          idempotencyKey: vm.key,
          request: vm.request,
          generation: vm.generation,
        })),
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
    const generation = req.generation;
    for (const ref of checkRefs(req.nodes)) {
      if (typeof generation === 'number') this.fence(ref.idempotencyKey, generation);
      const vm = this.byKey.get(ref.idempotencyKey);
      if (!vm || (!this.fencing && vm.state === 'Making')) {
        this.unknownReleases++;
        continue;
      }
      vm.releaseRequests++;
      // A VM made by a later provision than this release is not what the release is about.
      if (
        vm.state !== 'Released' &&
        !(typeof generation === 'number' && vm.generation > generation)
      ) {
        if (vm.state === 'Making') vm.fenced = true;
        vm.state = 'Released';
        this.live.delete(vm.key);
        released.push(vm.name);
      }
    }
    return { kind: 'ReleaseResponse', released };
  }

  private fence(key: string, generation: number): void {
    const old = this.fences.get(key);
    this.fences.delete(key); // re-inserted last: the map's order is the eviction order
    this.fences.set(key, Math.max(old ?? generation, generation));
    if (this.fences.size > this.maxFences) {
      const oldest = this.fences.keys().next().value;
      if (oldest !== undefined) this.fences.delete(oldest);
    }
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

function generationOf(req: { generation?: unknown }): number {
  const g = req.generation;
  if (g === undefined) return 0;
  if (typeof g !== 'number' || !Number.isSafeInteger(g))
    throw new FarmError(400, '"generation" must be an integer');
  return g;
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
