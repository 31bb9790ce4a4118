// Loads an extension ES module from a configured path (the analogue of a JAR on CloudStack's
// classpath). Loading is lazy and retried after a failure, so a module that appears later, or a
// transient error, does not need an operator restart; a successful load is kept.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeError } from './errors.js';
import type { Logger } from './types.js';

export interface ModuleInit {
  /** The entry's name (provisioner) or `hostAllocators[i]` label (allocator). */
  name: string;
  options: Readonly<Record<string, unknown>>;
  logger: Logger;
}

export function resolveModulePath(file: string, baseDir?: string): string {
  return path.resolve(baseDir ?? process.cwd(), file);
}

/**
 * A lazily built extension object: the module's `factoryExport` (or its default export) called
 * once with `init`; `check` vets what the factory returned.
 */
export class ExtensionModule<T> {
  private instance: Promise<T> | undefined;

  constructor(
    readonly file: string,
    private readonly factoryExport: string,
    private readonly init: ModuleInit,
    private readonly check: (value: unknown) => string | undefined,
  ) {}

  /** `module /x/y.js`: how errors name it. */
  get label(): string {
    return `module ${this.file}`;
  }

  get(): Promise<T> {
    this.instance ??= this.build().catch((err: unknown) => {
      this.instance = undefined;
      throw err;
    });
    return this.instance;
  }

  private async build(): Promise<T> {
    try {
      await access(this.file);
    } catch {
      throw new Error(`${this.label}: file not found`);
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(this.file).href)) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${this.label}: failed to load: ${describeError(err)}`);
    }
    const factory = mod[this.factoryExport] ?? mod.default;
    if (typeof factory !== 'function') {
      throw new Error(
        `${this.label}: exports neither ${this.factoryExport}() nor a default function`,
      );
    }
    let value: unknown;
    try {
      value = await (factory as (init: ModuleInit) => unknown)(this.init);
    } catch (err) {
      throw new Error(`${this.label}: ${this.factoryExport}() threw: ${describeError(err)}`);
    }
    const problem = this.check(value);
    if (problem) throw new Error(`${this.label}: ${this.factoryExport}() returned ${problem}`);
    return value as T;
  }
}
