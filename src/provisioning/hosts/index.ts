// The `hosts` provisioner, its allocator chains and extenders: the one door between provisioning
// and the allocation engine (docs/layers.md). The rest of src/provisioning reaches the engine's
// owner and its host states only through these re-exports.
export type { HostAvailability, HostsBackend } from '../../allocation/index.js';
export { HostsProvisioner, hostsFactory, type HostsProvisionerOptions } from './provisioner.js';
export {
  AllocatorChainExtensions,
  EXTERNAL_ALLOCATOR_TYPES,
  createExternalAllocator,
  isExternalAllocatorType,
} from './extenders.js';
