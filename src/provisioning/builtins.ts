// The registry with every built-in type this layer owns. `hosts` (src/provisioning/hosts/, which
// needs the allocation engine) is added by assemble.ts: `.register('hosts', hostsFactory(backend))`.
import { moduleFactory } from './module.js';
import { multilocalFactory } from './multilocal.js';
import { ProvisionerRegistry } from './provisioner-registry.js';
import { webhookFactory } from './webhook/provisioner.js';

export function createDefaultRegistry(): ProvisionerRegistry {
  return new ProvisionerRegistry()
    .register('multilocal', multilocalFactory)
    .register('webhook', webhookFactory)
    .register('module', moduleFactory);
}
