// The input shapes the engine accepts: plain objects as the CRDs (src/api) and the operator
// configuration produce them. They are written out here, not imported, so the engine stays a
// leaf package that the simulator and tests can use alone; the CRD types are structurally
// assignable to these. Enum-like fields are typed `string` where producers differ in how narrow
// they type them; the engine validates their values when it compiles the objects.

/** A Kubernetes quantity: "4", "500m", "16Gi", "1.5", "2e3" or a JSON number. */
export type Quantity = string | number;

/** An open resource list: `cpu`, `memory`, `nvidia.com/gpu`, `licenses/matlab`... */
export type ResourceMap = Record<string, Quantity>;

export type PoolState = 'Enabled' | 'Disabled';
export type HostState = 'Enabled' | 'Disabled' | 'Maintenance';
export type StorageScope = 'Host' | 'Cluster' | 'Zone';

export interface PortRange {
  base: number;
  count: number;
}

export interface HostSpec {
  name: string;
  address: string;
  capacity: ResourceMap;
  tags?: string[];
  /** `Enabled` (default) | `Disabled` | `Maintenance`. */
  state?: string;
  maxNodes?: number;
  ports?: PortRange;
}

export interface HostPool {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    zone: string;
    pod?: string;
    /** `Enabled` (default) | `Disabled`. */
    state?: string;
    tags?: string[];
    /** Ratio per resource; default 1. */
    overprovisioning?: Record<string, number>;
    /** Kept back on every host. */
    reserved?: ResourceMap;
    /** Per resource, a fraction in (0, 1]. */
    disableThreshold?: Record<string, number>;
    hosts: HostSpec[];
  };
}

export interface StoragePool {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    /** `Host` | `Cluster` | `Zone`. */
    scope: string;
    /** `<hostPool>/<host>`, Host scope. */
    host?: string;
    /** Cluster scope. */
    hostPool?: string;
    /** Zone scope. */
    zone?: string;
    capacity: Quantity;
    tags?: string[];
    overprovisioning?: number;
    disableThreshold?: number;
    /** `Enabled` (default) | `Disabled`. */
    state?: string;
  };
}

export interface VolumeRequest {
  name: string;
  size: Quantity;
  tags?: string[];
  /** `Host` | `Cluster` | `Zone`; absent: any. */
  scope?: string;
}

export interface PlacementHint {
  zone?: string;
  pod?: string;
  hostPool?: string;
  storagePool?: string;
}

export interface AvoidSpec {
  zones?: string[];
  pods?: string[];
  hostPools?: string[];
  /** `<hostPool>/<host>`. */
  hosts?: string[];
  storagePools?: string[];
}

/** One entry of a request's `status.nodes`: what the ledger is rebuilt from. */
export interface PlacedNode {
  name: string;
  provisioner: string;
  hostPool?: string;
  host?: string;
  address: string;
  port?: number;
  volumes?: Array<{ name: string; storagePool: string; size: Quantity }>;
  configEntry?: string;
  state?: string;
}

export interface ResourceRequest {
  /**
   * `namespace` is required in practice (requests are namespaced); it is typed optional because
   * Kubernetes' ObjectMeta types it so, and checked when the request is compiled.
   */
  metadata: { namespace?: string; name: string; uid?: string; creationTimestamp?: string };
  spec: {
    profile?: string;
    count: number;
    minCount?: number;
    resources?: ResourceMap;
    tags?: string[];
    volumes?: VolumeRequest[];
    placement?: PlacementHint;
    avoid?: AvoidSpec;
    maxNodesPerHost?: number;
  };
  status?: { nodes?: PlacedNode[] };
}

export type HostAllocatorType =
  | 'firstFit'
  | 'firstFitLeastConsumed'
  | 'bestFit'
  | 'random'
  | 'userDispersing'
  | 'userConcentrated';

export type StorageAllocatorType = 'localStorage' | 'clusterScope' | 'zoneWide' | 'random';

/** An entry of a profile's `hostAllocators` or `storageAllocators`. */
export interface AllocatorConfig {
  /** A built-in type, or any type registered in an AllocatorRegistry. */
  type: string;
  seed?: number;
  name?: string;
}
