// Public API of the allocation engine. See docs/allocation.md.
export type {
  AllocatorConfig,
  AvoidSpec,
  HostAllocatorType,
  HostPool,
  HostSpec,
  HostState,
  PlacedNode,
  PlacementHint,
  PoolState,
  PortRange,
  Quantity,
  ResourceMap,
  ResourceRequest,
  StorageAllocatorType,
  StoragePool,
  StorageScope,
  VolumeRequest,
} from './model.js';
export {
  AllocationError,
  InvalidSpecError,
  LedgerError,
  QuantityError,
  UnknownAllocatorError,
} from './errors.js';
export {
  NANOS_PER_UNIT,
  canonicalQuantity,
  formatQuantity,
  parseNonNegativeQuantity,
  parseQuantity,
  parseQuantityDetailed,
  type ParsedQuantity,
  type QuantityFormat,
} from './quantity.js';
export {
  add,
  compareResourceNames,
  fitsWithin,
  formatFor,
  formatResources,
  parseResources,
  subtract,
  type Resources,
} from './resources.js';
export { REASON_CODES, formatReasonCounts, type ReasonCode, type Rejection } from './reasons.js';
export {
  buildInventory,
  type HostInfo,
  type Inventory,
  type InventoryProblem,
  type PoolInfo,
  type StoragePoolInfo,
} from './inventory.js';
export { compileRequest, ownerKey, type CompiledRequest, type VolumeAsk } from './request.js';
export {
  Ledger,
  type HostUsage,
  type LedgerChange,
  type LedgerEntry,
  type LedgerVolume,
  type ReserveInput,
  type StorageUsage,
} from './ledger.js';
export { ExcludeList } from './exclude.js';
export { checkHost, checkStoragePool, reachable } from './fit.js';
export type {
  AllocatorChains,
  DeploymentPlan,
  HostAllocator,
  HostQueries,
  PlanningView,
  StorageAllocator,
} from './allocator.js';
export {
  BestFitAllocator,
  BuiltinHostAllocator,
  FirstFitAllocator,
  FirstFitLeastConsumedAllocator,
  RandomHostAllocator,
  UserConcentratedAllocator,
  UserDispersingAllocator,
  recordRest,
  screen,
} from './host-allocators.js';
export { RandomStorageAllocator, ScopedStorageAllocator } from './storage-allocators.js';
export {
  FixedOrderHostAllocator,
  FixedOrderStorageAllocator,
  extenderRejection,
  type FixedOrderConfig,
} from './fixed-order.js';
export {
  AllocatorRegistry,
  DEFAULT_HOST_CHAIN,
  DEFAULT_STORAGE_CHAIN,
  createChains,
  createHostAllocator,
  createStorageAllocator,
  defaultRegistry,
  isNativeAllocator,
  type AllocatorProfile,
  type HostAllocatorFactory,
  type StorageAllocatorFactory,
} from './allocator-registry.js';
export {
  DEFAULT_MAX_HOST_REASONS,
  summaryLine,
  type AllocatorAttempt,
  type Explanation,
  type HostReason,
} from './explanation.js';
export {
  Engine,
  planNodes,
  type PlacedVolume,
  type Placement,
  type PlanOptions,
  type PlanResult,
} from './engine.js';
export {
  affectedNodes,
  hostPoolUsage,
  storagePoolUsage,
  type AffectedNode,
  type HostPoolUsageStatus,
  type HostUsageStatus,
  type StoragePoolUsageStatus,
} from './usage.js';
export { HostsBackend, onHost, type HostAvailability } from './service.js';
