// Config entry shapes for provisioners and external allocators. The OperatorConfig schema in
// src/config declares the same fields; these interfaces are the provisioning layer's view of them
// and are reconciled with the schema's generated types once both exist.

/** VURM's slurm.conf line; placeholders are documented in template.ts. */
export const DEFAULT_CONFIG_TEMPLATE = 'NodeName={name} NodeHostname={address} Port={port}';

export interface ProvisionerEntryBase {
  name: string;
  type: string;
  configTemplate?: string;
}

export interface MultilocalEntry extends ProvisionerEntryBase {
  type: 'multilocal';
  address: string;
  basePort: number;
  maxNodes?: number;
}

export interface SecretRefEntry {
  namespace?: string;
  name: string;
  key: string;
}

/** How Berth reaches an HTTP(S) extension: shared by the webhook provisioner and allocator. */
export interface WebhookTransportEntry {
  url: string;
  caFile?: string;
  /** PEM, one or more certificates. */
  caBundle?: string;
  tokenFile?: string;
  tokenSecretRef?: SecretRefEntry;
  timeoutSeconds?: number;
  retries?: number;
  retryBackoffMillis?: number;
  failureThreshold?: number;
  cooldownSeconds?: number;
}

export const WEBHOOK_DEFAULTS = {
  timeoutSeconds: 10,
  retries: 3,
  retryBackoffMillis: 200,
  failureThreshold: 3,
  cooldownSeconds: 60,
} as const;

export interface WebhookEntry extends ProvisionerEntryBase, WebhookTransportEntry {
  type: 'webhook';
}

export interface ModuleEntry extends ProvisionerEntryBase {
  type: 'module';
  path: string;
  options?: Record<string, unknown>;
}

/** A Kubernetes LabelSelector (metav1.LabelSelector). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }>;
}

/** Implemented by src/provisioning/hosts.ts on top of src/allocation. */
export interface HostsEntry extends ProvisionerEntryBase {
  type: 'hosts';
  hostPoolSelector?: LabelSelector;
}

export type ProvisionerEntry =
  MultilocalEntry | WebhookEntry | ModuleEntry | HostsEntry | ProvisionerEntryBase;

/** Allocator entries this layer adapts; built-in allocator types belong to src/allocation. */
export interface ModuleAllocatorEntry {
  type: 'module';
  name?: string;
  path: string;
  options?: Record<string, unknown>;
}

export interface WebhookAllocatorEntry extends WebhookTransportEntry {
  type: 'webhook';
  name?: string;
}

export type ExternalAllocatorEntry = ModuleAllocatorEntry | WebhookAllocatorEntry;

/** Any allocator entry of a profile's `hostAllocators`. */
export interface AllocatorEntry {
  type: string;
  name?: string;
  [field: string]: unknown;
}
