// One profile of the operator configuration, built: its provisioner stack and its allocator chains
// with the external (`module`/`webhook`) allocators ready to be asked. Every problem of the profile
// is reported at once, each under its path.
import { ConfigError, type ConfigIssue } from './errors.js';
import type { Entry } from './fields.js';
import { AllocatorChainExtensions } from './hosts/extenders.js';
import type {
  ProfileContext,
  ProvisionerDeps,
  ProvisionerRegistry,
} from './provisioner-registry.js';
import type { Provisioner } from './types.js';

export interface BuildProfileOptions {
  registry: ProvisionerRegistry;
  deps?: ProvisionerDeps;
  /** The built-in allocator types (src/api HOST_/STORAGE_ALLOCATOR_TYPES). */
  hostAllocatorTypes: readonly string[];
  storageAllocatorTypes: readonly string[];
}

export interface BuiltProfile extends ProfileContext {
  provisioners: Provisioner[];
  close(): Promise<void>;
}

/** Builds `profile` found at `path` (e.g. `profiles[0]`); throws ConfigError with every issue. */
export function buildProfile(
  profile: unknown,
  path: string,
  opts: BuildProfileOptions,
): BuiltProfile {
  if (typeof profile !== 'object' || profile === null || Array.isArray(profile)) {
    throw new ConfigError([{ path, message: 'must be an object' }]);
  }
  const entry = profile as Entry;
  const issues: ConfigIssue[] = [];
  const name = typeof entry.name === 'string' && entry.name ? entry.name : '';
  if (!name) issues.push({ path: `${path}.name`, message: 'required, a non-empty string' });

  const chain = (key: 'hostAllocators' | 'storageAllocators', types: readonly string[]) => {
    const list = entry[key] ?? [];
    if (!Array.isArray(list)) {
      issues.push({ path: `${path}.${key}`, message: 'must be a list' });
      return AllocatorChainExtensions.create([], `${path}.${key}`, types, opts.deps);
    }
    try {
      return AllocatorChainExtensions.create(list, `${path}.${key}`, types, opts.deps);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues);
      return AllocatorChainExtensions.create([], `${path}.${key}`, types, opts.deps);
    }
  };
  const hostAllocators = chain('hostAllocators', opts.hostAllocatorTypes);
  const storageAllocators = chain('storageAllocators', opts.storageAllocatorTypes);
  const context: ProfileContext = { name, path, entry, hostAllocators, storageAllocators };

  let provisioners: Provisioner[] = [];
  const list = entry.provisioners;
  if (!Array.isArray(list) || list.length === 0) {
    issues.push({ path: `${path}.provisioners`, message: 'required, a non-empty list' });
  } else {
    try {
      provisioners = opts.registry.createAll(list, `${path}.provisioners`, {
        ...opts.deps,
        profile: context,
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues);
    }
  }
  const close = async () => {
    await Promise.all([
      ...provisioners.map((p) => p.close?.()),
      hostAllocators.close(),
      storageAllocators.close(),
    ]);
  };
  if (issues.length) {
    void close();
    throw new ConfigError(issues);
  }
  return { ...context, provisioners, close };
}
