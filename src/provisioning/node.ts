// A ProvisionedNode built from plain fields plus spawn/release hooks. Every provisioner uses it so
// that idempotency (spawn twice, release twice, concurrent releases) is implemented exactly once.
import type { ConfigTemplate } from './template.js';
import type {
  NodeRecord,
  NodeState,
  ProvisionedNode,
  RequestIdentity,
  VolumeRecord,
} from './types.js';

export interface NodeFields {
  name: string;
  provisioner: string;
  address: string;
  port?: number;
  hostPool?: string;
  host?: string;
  volumes?: VolumeRecord[];
  attributes?: Record<string, string>;
  /** `Provisioned` for a new node; a restored node starts in the state of its record. */
  state?: NodeState;
  /** Overrides the template, e.g. a restored record's entry or one an external module computed. */
  configEntry?: string;
}

export interface NodeHooks {
  spawn?(signal?: AbortSignal): Promise<void>;
  release(signal?: AbortSignal): Promise<void>;
}

export function createNode(
  fields: NodeFields,
  hooks: NodeHooks,
  template: ConfigTemplate,
  request: RequestIdentity,
): ProvisionedNode {
  let state: NodeState = fields.state ?? 'Provisioned';
  let spawning: Promise<void> | undefined;
  let releasing: Promise<void> | undefined;
  const entry =
    fields.configEntry ??
    template.render({
      name: fields.name,
      address: fields.address,
      port: fields.port,
      host: fields.host,
      hostPool: fields.hostPool,
      provisioner: fields.provisioner,
      namespace: request.namespace,
      request: request.name,
    });

  const node: ProvisionedNode = {
    name: fields.name,
    provisioner: fields.provisioner,
    address: fields.address,
    ...(fields.port !== undefined ? { port: fields.port } : {}),
    ...(fields.hostPool !== undefined ? { hostPool: fields.hostPool } : {}),
    ...(fields.host !== undefined ? { host: fields.host } : {}),
    ...(fields.volumes !== undefined ? { volumes: fields.volumes.map((v) => ({ ...v })) } : {}),
    ...(fields.attributes !== undefined ? { attributes: { ...fields.attributes } } : {}),
    get state() {
      return state;
    },
    configEntry: () => entry,
    spawn(signal) {
      if (state === 'Running') return Promise.resolve();
      if (state === 'Released' || state === 'Releasing' || releasing) {
        return Promise.reject(new Error(`node ${fields.name} cannot start: it was released`));
      }
      // Concurrent callers share one attempt; a failed attempt may be retried later.
      spawning ??= (hooks.spawn ? hooks.spawn(signal) : Promise.resolve()).then(
        () => {
          state = 'Running';
        },
        (err: unknown) => {
          spawning = undefined;
          state = 'Failed';
          throw err;
        },
      );
      return spawning;
    },
    release(signal) {
      if (state === 'Released') return Promise.resolve();
      // In flight or done: never a second release call to the provisioner.
      releasing ??= hooks.release(signal).then(
        () => {
          state = 'Released';
        },
        (err: unknown) => {
          // Still holding capacity somewhere: `Releasing` tells the controller to try again.
          releasing = undefined;
          state = 'Releasing';
          throw err;
        },
      );
      return releasing;
    },
    toRecord(): NodeRecord {
      return {
        name: fields.name,
        provisioner: fields.provisioner,
        ...(fields.hostPool !== undefined ? { hostPool: fields.hostPool } : {}),
        ...(fields.host !== undefined ? { host: fields.host } : {}),
        address: fields.address,
        ...(fields.port !== undefined ? { port: fields.port } : {}),
        ...(fields.volumes !== undefined ? { volumes: fields.volumes.map((v) => ({ ...v })) } : {}),
        configEntry: entry,
        state,
        ...(fields.attributes !== undefined ? { attributes: { ...fields.attributes } } : {}),
      };
    },
  };
  return node;
}
