// The operator's permissions: exactly the calls src/kube and src/controller make, nothing more.
// docs/rbac.md explains each rule; a test on the real API server proves they are sufficient and
// another that the generated role grants nothing beyond this list.
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** Why the operator needs it (docs/rbac.md). */
  why: string;
}

/** Cluster-wide: the four kinds, PriorityClasses and events. */
export const OPERATOR_CLUSTER_RULES: PolicyRule[] = [
  {
    apiGroups: ['berth.dev'],
    resources: ['resourcerequests'],
    verbs: ['get', 'list', 'watch', 'patch'],
    why: 'watch requests; add and remove the berth.dev/release finalizer (merge patch)',
  },
  {
    apiGroups: ['berth.dev'],
    resources: ['resourcerequests/status'],
    verbs: ['update'],
    why: 'write phase, conditions, nodes and explanation (optimistic concurrency)',
  },
  {
    apiGroups: ['berth.dev'],
    resources: ['hostpools', 'storagepools'],
    verbs: ['get', 'list', 'watch'],
    why: 'read the inventory',
  },
  {
    apiGroups: ['berth.dev'],
    resources: ['hostpools/status', 'storagepools/status'],
    verbs: ['update'],
    why: 'write usage aggregates and the Ready condition',
  },
  {
    apiGroups: ['berth.dev'],
    resources: ['tenantquotas'],
    verbs: ['get', 'list', 'watch'],
    why: 'read the quotas of every namespace',
  },
  {
    apiGroups: ['berth.dev'],
    resources: ['tenantquotas/status'],
    verbs: ['update'],
    why: 'write what each quota counts (status.used)',
  },
  {
    apiGroups: ['scheduling.k8s.io'],
    resources: ['priorityclasses'],
    verbs: ['get', 'list', 'watch'],
    why: "resolve a request's spec.priorityClassName (read only)",
  },
  {
    apiGroups: ['events.k8s.io'],
    resources: ['events'],
    verbs: ['create', 'patch'],
    why: 'record Events on requests and pools; patch counts a repeated event',
  },
  {
    apiGroups: [''],
    resources: ['namespaces'],
    verbs: ['get'],
    why: "read the uid of the operator's own namespace: who it is to external provisioners (orphan collection)",
  },
];

/** In the operator's namespace only: its Lease, and Secrets holding webhook tokens. */
export const OPERATOR_NAMESPACE_RULES: PolicyRule[] = [
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'create', 'update'],
    why: 'leader election',
  },
  {
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['get'],
    why: 'read bearer tokens of webhook provisioners (tokenSecretRef)',
  },
];

/** Tenants: ask for nodes in their namespaces, see what they got; never the inventory. */
export const REQUESTER_RULES: PolicyRule[] = [
  {
    apiGroups: ['berth.dev'],
    resources: ['resourcerequests'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
    why: 'manage their own ResourceRequests',
  },
  {
    apiGroups: ['berth.dev'],
    resources: ['resourcerequests/status'],
    verbs: ['get'],
    why: 'read status',
  },
  {
    apiGroups: ['berth.dev'],
    resources: ['resourcerequests/scale'],
    verbs: ['get', 'update', 'patch'],
    why: 'kubectl scale rr/NAME --replicas=N (and an HPA or KEDA acting for them)',
  },
  {
    apiGroups: ['berth.dev'],
    resources: ['tenantquotas', 'tenantquotas/status'],
    verbs: ['get', 'list', 'watch'],
    why: "read their namespace's quotas and what they count; never change them",
  },
];

/** Platform team: manage the inventory and see every request. */
export const POOL_ADMIN_RULES: PolicyRule[] = [
  {
    apiGroups: ['berth.dev'],
    resources: ['hostpools', 'storagepools', 'tenantquotas'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
    why: "manage the inventory and the tenants' quotas",
  },
  {
    apiGroups: ['berth.dev'],
    resources: [
      'hostpools/status',
      'storagepools/status',
      'resourcerequests',
      'resourcerequests/status',
      'tenantquotas/status',
    ],
    verbs: ['get', 'list', 'watch'],
    why: 'see usage and every request',
  },
  {
    apiGroups: ['scheduling.k8s.io'],
    resources: ['priorityclasses'],
    verbs: ['get', 'list', 'watch'],
    why: 'see the priorities requests name (berth simulate --from-cluster reads them)',
  },
];

export const stripWhy = (rules: PolicyRule[]) =>
  rules.map(({ apiGroups, resources, verbs }) => ({ apiGroups, resources, verbs }));
