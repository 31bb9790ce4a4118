// Config entry → provisioner instance. Types are pluggable: the built-ins register here
// (builtins.ts) and assemble.ts registers `hosts` (src/provisioning/hosts/, the only provisioning
// code that imports the allocation engine; this module must not, so that the webhook, module and
// multilocal code stays usable without it).
import { ConfigError, type ConfigIssue } from './errors.js';
import type { Entry } from './fields.js';
import type { AllocatorChainExtensions } from './hosts/extenders.js';
import { compileTemplate, type ConfigTemplate } from './template.js';
import type { Provisioner, ServiceDeps } from './types.js';

/** What the operator hands every provisioner it builds: the services, and the profile. */
export interface ProvisionerDeps extends ServiceDeps {
  /** The profile being built; set by buildProfile. The `hosts` provisioner reads its chains here. */
  profile?: ProfileContext;
}

export interface ProfileContext {
  name: string;
  /** `profiles[i]`. */
  path: string;
  /** The raw profile entry (its `hostAllocators`/`storageAllocators` as configured). */
  entry: Entry;
  /** The allocator chains with their `module`/`webhook` entries built (see hosts/extenders.ts). */
  hostAllocators: AllocatorChainExtensions;
  storageAllocators: AllocatorChainExtensions;
}

export interface FactoryInput {
  /** The raw entry (already schema-checked when it comes from an OperatorConfig file). */
  entry: Entry;
  /** Where the entry sits, e.g. `profiles[0].provisioners[2]`; prefix of every issue. */
  path: string;
  name: string;
  template: ConfigTemplate;
  deps: ProvisionerDeps;
}

/** Builds one provisioner; throws ConfigError (issues under `input.path`) for a bad entry. */
export type ProvisionerFactory = (input: FactoryInput) => Provisioner;

export class ProvisionerRegistry {
  private readonly factories = new Map<string, ProvisionerFactory>();

  register(type: string, factory: ProvisionerFactory): this {
    if (this.factories.has(type))
      throw new Error(`provisioner type "${type}" is already registered`);
    this.factories.set(type, factory);
    return this;
  }

  has(type: string): boolean {
    return this.factories.has(type);
  }

  types(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** Builds one provisioner from its entry at `path`. */
  create(entry: unknown, path: string, deps: ProvisionerDeps = {}): Provisioner {
    const issues: ConfigIssue[] = [];
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ConfigError([{ path, message: 'must be an object' }]);
    }
    const e = entry as Entry;
    const { name, type, configTemplate } = e;
    if (typeof name !== 'string' || name === '') {
      issues.push({ path: `${path}.name`, message: 'required, a non-empty string' });
    }
    let factory: ProvisionerFactory | undefined;
    if (typeof type !== 'string' || type === '') {
      issues.push({ path: `${path}.type`, message: 'required, a non-empty string' });
    } else {
      factory = this.factories.get(type);
      if (!factory) {
        issues.push({
          path: `${path}.type`,
          message: `unknown provisioner type "${type}" (known: ${this.types().join(', ') || 'none registered'})`,
        });
      }
    }
    let template: ConfigTemplate | undefined;
    if (configTemplate !== undefined && typeof configTemplate !== 'string') {
      issues.push({ path: `${path}.configTemplate`, message: 'must be a string' });
    } else {
      try {
        template = compileTemplate(configTemplate);
      } catch (err) {
        issues.push({ path: `${path}.configTemplate`, message: (err as Error).message });
      }
    }
    if (issues.length || !factory || !template) throw new ConfigError(issues);
    return factory({ entry: e, path, name: name as string, template, deps });
  }

  /**
   * Builds a profile's stack. Every entry is checked, so one run reports every problem; names must
   * be unique because node records point at provisioners by name.
   */
  createAll(entries: readonly unknown[], path: string, deps: ProvisionerDeps = {}): Provisioner[] {
    const issues: ConfigIssue[] = [];
    const built: Provisioner[] = [];
    const seen = new Map<string, number>();
    entries.forEach((entry, i) => {
      const at = `${path}[${i}]`;
      try {
        const p = this.create(entry, at, deps);
        const first = seen.get(p.name);
        if (first !== undefined) {
          issues.push({
            path: `${at}.name`,
            message: `"${p.name}" is already used by ${path}[${first}]`,
          });
        } else {
          seen.set(p.name, i);
        }
        built.push(p);
      } catch (err) {
        if (err instanceof ConfigError) issues.push(...err.issues);
        else issues.push({ path: at, message: (err as Error).message });
      }
    });
    if (issues.length) {
      // Nothing half-built survives a rejected configuration.
      for (const p of built) void p.close?.();
      throw new ConfigError(issues);
    }
    return built;
  }

  /** The issues `createAll` would raise, without keeping anything built. */
  validate(entries: readonly unknown[], path: string, deps: ProvisionerDeps = {}): ConfigIssue[] {
    try {
      for (const p of this.createAll(entries, path, deps)) void p.close?.();
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return [...err.issues];
      return [{ path, message: (err as Error).message }];
    }
  }
}
