// `webhook`: an external HTTP(S) service provisions, spawns and releases nodes. Every node carries
// an idempotency key, so a retried provision returns the nodes already made instead of making more,
// and a release can be sent for a node Berth never saw an answer for. Whenever an answer is lost or
// rejected, every node the service may have made is released before the error is reported; the
// release's generation fences a provision still running at the service (docs/webhook-contract.md).
import {
  ConfigError,
  ProvisionerError,
  ProvisionerUnavailableError,
  describeError,
} from '../errors.js';
import { FieldReader } from '../fields.js';
import { createNode } from '../node.js';
import type { FactoryInput, ProvisionerFactory } from '../provisioner-registry.js';
import type { ConfigTemplate } from '../template.js';
import type {
  Availability,
  Clock,
  HeldNode,
  Logger,
  NodeRecord,
  NodeState,
  ProvisionContext,
  ProvisionedNode,
  Provisioner,
  RequestIdentity,
} from '../types.js';
import { silentLogger, systemClock } from '../types.js';
import { FailureBreaker } from './breaker.js';
import { TRANSPORT_FIELDS, WebhookClient, readWebhookSettings } from './client.js';
import {
  WEBHOOK_API_VERSION,
  checkListResponse,
  checkProvisionResponse,
  idempotencyKey,
  wireIdentity,
  wireRequest,
  type CallStamp,
  type ListRequest,
  type NodeRef,
  type ProvisionRequest,
  type ReleaseRequest,
  type SpawnRequest,
  type WireNode,
} from './contract.js';
import { WebhookError } from './transport.js';

let lastGeneration = 0;

/**
 * The generation of the next call: the clock's milliseconds, strictly increasing within the
 * process (shared by every instance, so a configuration reload never goes back). A leader that
 * takes over starts at least a lease duration after the last one stopped renewing, so its
 * generations exceed the old leader's unless their clocks differ by more than that.
 */
export function nextGeneration(clock: Clock): number {
  lastGeneration = Math.max(Math.floor(clock.now()), lastGeneration + 1);
  return lastGeneration;
}

export class WebhookProvisioner implements Provisioner {
  readonly type = 'webhook';

  constructor(
    readonly name: string,
    private readonly client: WebhookClient,
    private readonly breaker: FailureBreaker,
    private readonly template: ConfigTemplate,
    private readonly logger: Logger = silentLogger,
    private readonly clock: Clock = systemClock,
    private readonly owner: () => string | undefined = () => undefined,
  ) {}

  private stamp(): CallStamp {
    const owner = this.owner();
    return { ...(owner ? { owner } : {}), generation: nextGeneration(this.clock) };
  }

  async releaseKeys(request: RequestIdentity, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    try {
      await this.release(
        names.map((name) => ({ name, idempotencyKey: idempotencyKey(request, name) })),
        request,
      );
    } catch (err) {
      throw new Error(`release: ${describeError(err)}`);
    }
  }

  /** What the service holds for this operator through this provisioner (orphan collection). */
  async list(signal?: AbortSignal): Promise<HeldNode[]> {
    const owner = this.owner();
    // Without an owner the service cannot tell our nodes from another cluster's: list nothing.
    if (!owner) return [];
    // Not gated by the breaker: a service whose provisions time out is when orphans appear.
    const body: ListRequest = {
      apiVersion: WEBHOOK_API_VERSION,
      kind: 'ListRequest',
      provisioner: this.name,
      ...this.stamp(),
    };
    const checked = checkListResponse(await this.client.call(body, signal));
    if (!checked.ok) throw new ProvisionerError(`list: bad answer: ${checked.problem}`);
    return checked.value.nodes.map((n) => ({
      name: n.name,
      idempotencyKey: n.idempotencyKey,
      request: n.request,
      ...(n.generation !== undefined ? { generation: n.generation } : {}),
    }));
  }

  availability(): Availability {
    return this.breaker.availability();
  }

  async getNodes(count: number, ctx: ProvisionContext): Promise<ProvisionedNode[]> {
    const open = this.breaker.availability();
    if (!open.available) throw new ProvisionerUnavailableError(open.reason ?? 'unavailable');
    const identity = ctx.request.metadata;
    const asked = ctx.names.slice(0, count);
    if (asked.length === 0) return [];
    const refs = asked.map((name) => ({ name, idempotencyKey: idempotencyKey(identity, name) }));
    const body: ProvisionRequest = {
      apiVersion: WEBHOOK_API_VERSION,
      kind: 'ProvisionRequest',
      provisioner: this.name,
      ...this.stamp(),
      request: wireRequest(ctx.request),
      nodes: refs,
    };

    let answer: unknown;
    try {
      answer = await this.client.call(body, ctx.signal);
    } catch (err) {
      const aborted = ctx.signal.aborted;
      if (!aborted) this.breaker.failure();
      const delivered = !(err instanceof WebhookError) || err.maybeDelivered;
      // The service may have made nodes whose answer never arrived: release them all by key.
      throw await this.failWith(
        `provision: ${describeError(err)}`,
        delivered ? refs : [],
        identity,
      );
    }

    const checked = checkProvisionResponse(answer, asked);
    if (!checked.ok) {
      this.breaker.failure();
      const extra = checked.mentioned
        .filter((n) => !asked.includes(n))
        .map((name) => ({ name, idempotencyKey: idempotencyKey(identity, name) }));
      throw await this.failWith(
        `provision: bad answer: ${checked.problem}`,
        [...refs, ...extra],
        identity,
      );
    }
    const { nodes, reasons, message } = checked.value;
    // A provision that made nodes is judged when they spawn: a service whose spawns keep failing
    // is provisioned and released on every retry, and its provisions alone would keep closing the
    // breaker. An answer with no nodes has nothing left to judge.
    if (nodes.length === 0) this.breaker.success();
    if (nodes.length < asked.length) {
      ctx.report({
        reasons: reasons ?? { Unspecified: asked.length - nodes.length },
        ...(message ? { summary: message } : {}),
      });
    }
    return nodes.map((n) => this.node(n, identity, 'Provisioned'));
  }

  restore(record: NodeRecord, request: RequestIdentity): ProvisionedNode {
    return this.node(
      {
        name: record.name,
        address: record.address,
        ...(record.port !== undefined ? { port: record.port } : {}),
        ...(record.host !== undefined ? { host: record.host } : {}),
        ...(record.attributes !== undefined ? { attributes: record.attributes } : {}),
      },
      request,
      record.state,
      record.configEntry,
    );
  }

  private node(
    n: WireNode,
    request: RequestIdentity,
    state: NodeState,
    configEntry?: string,
  ): ProvisionedNode {
    const ref: NodeRef = { name: n.name, idempotencyKey: idempotencyKey(request, n.name) };
    return createNode(
      {
        name: n.name,
        provisioner: this.name,
        address: n.address,
        state,
        ...(n.port !== undefined ? { port: n.port } : {}),
        ...(n.host !== undefined ? { host: n.host } : {}),
        ...(n.attributes !== undefined ? { attributes: n.attributes } : {}),
        ...(configEntry !== undefined ? { configEntry } : {}),
      },
      {
        spawn: async (signal) => {
          const body: SpawnRequest = {
            apiVersion: WEBHOOK_API_VERSION,
            kind: 'SpawnRequest',
            provisioner: this.name,
            ...this.stamp(),
            request: wireIdentity(request),
            nodes: [ref],
          };
          try {
            await this.client.call(body, signal);
          } catch (err) {
            if (!signal?.aborted) this.breaker.failure();
            throw new Error(`spawn: ${describeError(err)}`);
          }
          this.breaker.success();
        },
        release: async () => {
          try {
            await this.release([ref], request);
          } catch (err) {
            throw new Error(`release: ${describeError(err)}`);
          }
        },
      },
      this.template,
      request,
    );
  }

  /** Releases by key; no caller signal, so an aborted request still gives its nodes back. */
  private async release(nodes: NodeRef[], request: RequestIdentity): Promise<void> {
    const body: ReleaseRequest = {
      apiVersion: WEBHOOK_API_VERSION,
      kind: 'ReleaseRequest',
      provisioner: this.name,
      ...this.stamp(),
      request: wireIdentity(request),
      nodes,
    };
    await this.client.call(body);
  }

  private async failWith(
    message: string,
    toRelease: NodeRef[],
    request: RequestIdentity,
  ): Promise<ProvisionerError> {
    if (toRelease.length === 0) return new ProvisionerError(message);
    try {
      await this.release(toRelease, request);
      return new ProvisionerError(
        `${message}; released ${toRelease.length} node(s) it may have made`,
      );
    } catch (err) {
      const why = describeError(err);
      this.logger.error('webhook compensating release failed', {
        provisioner: this.name,
        nodes: toRelease.map((r) => r.name),
        error: why,
      });
      return new ProvisionerError(
        `${message}; releasing the node(s) it may have made failed: ${why}`,
        toRelease.map((r) => ({ name: r.name, error: why })),
      );
    }
  }
}

export const webhookFactory: ProvisionerFactory = ({
  entry,
  path,
  name,
  template,
  deps,
}: FactoryInput) => {
  const f = new FieldReader(entry, path);
  f.only(['name', 'type', 'configTemplate', ...TRANSPORT_FIELDS]);
  const settings = readWebhookSettings(f, deps);
  if (f.issues.length) throw new ConfigError(f.issues);
  const clock = deps.clock ?? systemClock;
  const breaker = new FailureBreaker(settings.failureThreshold, settings.cooldownMs, clock);
  return new WebhookProvisioner(
    name,
    new WebhookClient(settings, deps),
    breaker,
    template,
    deps.logger,
    clock,
    deps.owner,
  );
};
