// Defaults of provisioner and extender entries. The entries themselves are declared once, as the
// OperatorConfig schema in src/api/operatorconfig.ts; each factory checks the fields it reads.

/** VURM's slurm.conf line; placeholders are documented in template.ts. */
export const DEFAULT_CONFIG_TEMPLATE = 'NodeName={name} NodeHostname={address} Port={port}';

/** How patiently Berth calls an HTTP(S) extension (webhook provisioner and allocator). */
export const WEBHOOK_DEFAULTS = {
  timeoutSeconds: 10,
  retries: 3,
  retryBackoffMillis: 200,
  failureThreshold: 3,
  cooldownSeconds: 60,
} as const;
