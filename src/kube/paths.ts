// API paths, built in one place from a resource's group, version and plural.
export interface ApiResource {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

const base = (r: ApiResource) => (r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`);

/** The collection: in one namespace, or across all namespaces when `namespace` is omitted. */
export function collectionPath(r: ApiResource, namespace?: string): string {
  return r.namespaced && namespace
    ? `${base(r)}/namespaces/${namespace}/${r.plural}`
    : `${base(r)}/${r.plural}`;
}

export function objectPath(r: ApiResource, name: string, namespace?: string): string {
  return `${collectionPath(r, r.namespaced ? namespace : undefined)}/${name}`;
}

/** The path of a Kubernetes object of resource `r`. */
export const pathOf = (r: ApiResource, o: { metadata: { name: string; namespace?: string } }) =>
  objectPath(r, o.metadata.name, o.metadata.namespace);

export const EVENTS: ApiResource = {
  group: 'events.k8s.io',
  version: 'v1',
  plural: 'events',
  namespaced: true,
};
export const LEASES: ApiResource = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  namespaced: true,
};
export const NAMESPACES: ApiResource = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  namespaced: false,
};
export const SECRETS: ApiResource = {
  group: '',
  version: 'v1',
  plural: 'secrets',
  namespaced: true,
};
export const PRIORITY_CLASSES: ApiResource = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  plural: 'priorityclasses',
  namespaced: false,
};
