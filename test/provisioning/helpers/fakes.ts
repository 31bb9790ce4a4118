// Test doubles: capacity-limited provisioners that record every provision and release, so tests can
// assert "released exactly once, nothing leaked".
import {
  compileTemplate,
  createNode,
  type NodeRecord,
  type ProvisionContext,
  type ProvisionedNode,
  type Provisioner,
  type RequestIdentity,
  type RequestRef,
} from '../../../src/provisioning/index.js';

export class ReleaseLedger {
  readonly provisioned: string[] = [];
  readonly releases = new Map<string, number>();

  provision(id: string): void {
    this.provisioned.push(id);
  }

  release(id: string): void {
    this.releases.set(id, (this.releases.get(id) ?? 0) + 1);
  }

  /** Nodes provisioned and never released. */
  leaked(): string[] {
    return this.provisioned.filter((id) => !this.releases.has(id));
  }

  /** Nodes released more than once, or released without being provisioned. */
  overReleased(): string[] {
    return [...this.releases]
      .filter(([id, n]) => n !== 1 || !this.provisioned.includes(id))
      .map(([id]) => id);
  }

  releasedCount(): number {
    return this.releases.size;
  }
}

export interface FakeOptions {
  capacity: number;
  failSpawn?: (name: string) => boolean;
  failRelease?: (name: string) => boolean;
  throwOnGet?: Error;
  /** Override what getNodes returns (misbehaviour). */
  tamper?: (nodes: ProvisionedNode[], ctx: ProvisionContext) => unknown;
  available?: boolean;
  hang?: boolean;
  /** releaseKeys fails while this says so. */
  failSweep?: () => boolean;
}

export class FakeProvisioner implements Provisioner {
  readonly type = 'fake';
  held = 0;
  calls = 0;
  /** Names released by key (releaseKeys), in call order. */
  readonly swept: string[][] = [];
  readonly template = compileTemplate();

  constructor(
    readonly name: string,
    readonly ledger: ReleaseLedger,
    readonly opts: FakeOptions,
  ) {}

  availability() {
    return this.opts.available === false
      ? { available: false, reason: 'cooling down (fake)' }
      : { available: true };
  }

  async getNodes(count: number, ctx: ProvisionContext): Promise<ProvisionedNode[]> {
    this.calls++;
    if (this.opts.throwOnGet) throw this.opts.throwOnGet;
    if (this.opts.hang) await new Promise(() => {});
    const n = Math.max(0, Math.min(count, this.opts.capacity - this.held));
    const nodes = ctx.names.slice(0, n).map((name) => this.make(name, ctx.request.metadata));
    if (n < count) ctx.report({ reasons: { MaxNodes: count - n } });
    return (this.opts.tamper ? this.opts.tamper(nodes, ctx) : nodes) as ProvisionedNode[];
  }

  make(name: string, request: RequestIdentity): ProvisionedNode {
    const id = `${this.name}/${name}`;
    this.held++;
    this.ledger.provision(id);
    return createNode(
      { name, provisioner: this.name, address: `${this.name}.example`, port: 7000 + this.held },
      {
        spawn: async () => {
          if (this.opts.failSpawn?.(name)) throw new Error(`cannot start ${name}`);
        },
        release: async () => {
          if (this.opts.failRelease?.(name)) throw new Error(`cannot release ${name}`);
          this.ledger.release(id);
          this.held--;
        },
      },
      this.template,
      request,
    );
  }

  async releaseKeys(_request: RequestIdentity, names: readonly string[]): Promise<void> {
    if (this.opts.failSweep?.()) throw new Error('service unavailable (fake)');
    this.swept.push([...names]);
  }

  restore(record: NodeRecord, request: RequestIdentity): ProvisionedNode {
    const id = `${this.name}/${record.name}`;
    return createNode(
      { name: record.name, provisioner: this.name, address: record.address, state: record.state },
      {
        release: async () => {
          if (this.opts.failRelease?.(record.name))
            throw new Error(`cannot release ${record.name}`);
          this.ledger.release(id);
          this.held--;
        },
      },
      this.template,
      request,
    );
  }
}

export function request(
  name: string,
  count: number,
  minCount?: number,
  extra: Partial<RequestRef['spec']> = {},
): RequestRef {
  return {
    metadata: { namespace: 'ns', name, uid: `uid-${name}` },
    spec: { count, ...(minCount !== undefined ? { minCount } : {}), ...extra },
  };
}
