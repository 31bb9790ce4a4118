// Public surface of the provisioning layer.
export * from './types.js';
export * from './errors.js';
export * from './stack-explanation.js';
export * from './template.js';
export { createNode, type NodeFields, type NodeHooks } from './node.js';
export * from './stack.js';
export * from './records.js';
export * from './provisioner-registry.js';
export { FieldReader, type Entry } from './fields.js';
export { createDefaultRegistry } from './builtins.js';
export { MultilocalProvisioner, multilocalFactory, type MultilocalOptions } from './multilocal.js';
export {
  ModuleProvisioner,
  moduleFactory,
  checkModuleNode,
  type ModuleNode,
  type ModuleProvisionerImpl,
} from './module.js';
export { ExtensionModule, resolveModulePath, type ModuleInit } from './module-loader.js';
export { WebhookProvisioner, webhookFactory } from './webhook/provisioner.js';
export {
  WebhookClient,
  readWebhookSettings,
  backoffDelay,
  type WebhookSettings,
} from './webhook/client.js';
export { WebhookError, postJson } from './webhook/transport.js';
export { FailureBreaker } from './webhook/breaker.js';
export * from './webhook/contract.js';
export * from './hosts/extenders.js';
export { buildProfile, type BuildProfileOptions, type BuiltProfile } from './profile.js';
