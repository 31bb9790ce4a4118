// The registry with every built-in type this layer owns. `hosts` is added by src/provisioning/hosts.ts
// (it needs the allocation engine): `registry.register('hosts', hostsFactory(...))`.
import { moduleFactory } from './module.js';
import { multilocalFactory } from './multilocal.js';
import { ProvisionerRegistry } from './registry.js';
import { webhookFactory } from './webhook/provisioner.js';

export function createDefaultRegistry(): ProvisionerRegistry {
  return new ProvisionerRegistry()
    .register('multilocal', multilocalFactory)
    .register('webhook', webhookFactory)
    .register('module', moduleFactory);
}
