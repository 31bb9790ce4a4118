// `module` and `webhook` host allocators: extenders that filter and order a candidate host list,
// as kube-scheduler extenders do. The allocation engine is synchronous and pure, so it cannot call
// out; instead the caller runs `resolve` first (async, at the edge) and hands the engine the
// answers as `fixedOrder` entries in the same chain positions. The engine still applies every fit
// rule to a fixed order: an extender can narrow and reorder, never overbook.
import { isNativeAllocator } from '../../allocation/index.js';
import { ConfigError, describeError, type ConfigIssue } from '../errors.js';
import { FieldReader, type Entry } from '../fields.js';
import { ExtensionModule, resolveModulePath } from '../module-loader.js';
import type { RequestRef, ServiceDeps, VolumeSpec } from '../types.js';
import { silentLogger, systemClock } from '../types.js';
import { FailureBreaker } from '../webhook/breaker.js';
import { TRANSPORT_FIELDS, WebhookClient, readWebhookSettings } from '../webhook/client.js';
import {
  WEBHOOK_API_VERSION,
  checkFilterResponse,
  wireRequest,
  wireVolume,
  type FilterCandidate,
  type FilterRequest,
  type FilterTarget,
} from '../webhook/contract.js';

export type { FilterCandidate, FilterTarget } from '../webhook/contract.js';

export const EXTERNAL_ALLOCATOR_TYPES = ['module', 'webhook'] as const;
export type ExternalAllocatorType = (typeof EXTERNAL_ALLOCATOR_TYPES)[number];

export function isExternalAllocatorType(type: unknown): type is ExternalAllocatorType {
  return type === 'module' || type === 'webhook';
}

export interface FilterInput {
  request: RequestRef;
  target: FilterTarget;
  /** For `storagePools`: the volume being placed. */
  volume?: VolumeSpec;
  /** Candidates the engine considers: hosts named `<hostPool>/<host>`, or storage pools. */
  candidates: readonly FilterCandidate[];
}

export interface FilterOutcome {
  allocator: string;
  type: ExternalAllocatorType;
  /** Candidate names that fit, best first; empty when it failed. */
  order: string[];
  /** Candidate name → reason code given by the extender. */
  failed: Record<string, string>;
  /** Set when the extender failed; the chain then moves on, as with an empty answer. */
  error?: string;
  /** Set when a module returned an engine-native allocator instead of an extender. */
  native?: NativeAllocator;
}

export interface ExternalAllocator {
  readonly name: string;
  readonly type: ExternalAllocatorType;
  /** Never throws: a failure is an outcome with `error` and an empty order. */
  filter(input: FilterInput, signal?: AbortSignal): Promise<FilterOutcome>;
  close?(): Promise<void>;
}

/** The engine-facing stand-in for an external allocator once it has answered. */
export interface FixedOrderEntry {
  type: 'fixedOrder';
  name: string;
  source: ExternalAllocatorType;
  order: string[];
  failed: Record<string, string>;
  error?: string;
}

/**
 * An allocator module may instead return an engine-native allocator (src/allocation: synchronous
 * `allocate` or `allocateToPool` over the planning view). It is handed to the engine's chain as is;
 * nothing needs to be asked in advance.
 */
export interface NativeAllocator {
  readonly name: string;
  readonly type: string;
  readonly [member: string]: unknown;
}

const isNative = (v: unknown): v is NativeAllocator => isNativeAllocator(v);

/** What a module's createAllocator(init) returns when it is an extender. */
export interface ModuleAllocatorImpl {
  filter(input: FilterInput):
    | { candidates: string[]; failed?: Record<string, string> }
    | Promise<{
        candidates: string[];
        failed?: Record<string, string>;
      }>;
  close?(): unknown;
}

function names(input: FilterInput): string[] {
  return input.candidates.map((c) => c.name);
}

/** Gives a native allocator the name its entry implies, unless it names itself. */
function withIdentity(impl: NativeAllocator, name: string): NativeAllocator {
  const o = impl as unknown as { name?: unknown; type?: unknown };
  if (typeof o.name !== 'string' || !o.name) Object.defineProperty(impl, 'name', { value: name });
  if (typeof o.type !== 'string' || !o.type)
    Object.defineProperty(impl, 'type', { value: 'module' });
  return impl;
}

class ModuleAllocator implements ExternalAllocator {
  readonly type: ExternalAllocatorType = 'module';

  constructor(
    readonly name: string,
    private readonly module: ExtensionModule<ModuleAllocatorImpl>,
  ) {}

  async filter(input: FilterInput): Promise<FilterOutcome> {
    const base: FilterOutcome = { allocator: this.name, type: this.type, order: [], failed: {} };
    let answer: unknown;
    try {
      const impl = await this.module.get();
      if (isNative(impl)) {
        return { ...base, native: withIdentity(impl, this.name) };
      }
      try {
        answer = await impl.filter({ ...input, candidates: [...input.candidates] });
      } catch (err) {
        return { ...base, error: `${this.module.label}: filter threw: ${describeError(err)}` };
      }
    } catch (err) {
      return { ...base, error: describeError(err) };
    }
    const checked = checkFilterResponse(answer, names(input));
    if (!checked.ok) {
      return { ...base, error: `${this.module.label}: filter returned ${checked.problem}` };
    }
    return { ...base, order: checked.value.candidates, failed: checked.value.failed ?? {} };
  }

  async close(): Promise<void> {
    try {
      await (await this.module.get()).close?.();
    } catch {
      // Never loaded: nothing to close.
    }
  }
}

class WebhookAllocator implements ExternalAllocator {
  readonly type: ExternalAllocatorType = 'webhook';

  constructor(
    readonly name: string,
    private readonly client: WebhookClient,
    private readonly breaker: FailureBreaker,
  ) {}

  async filter(input: FilterInput, signal?: AbortSignal): Promise<FilterOutcome> {
    const base: FilterOutcome = { allocator: this.name, type: this.type, order: [], failed: {} };
    const open = this.breaker.availability();
    if (!open.available) return { ...base, error: `skipped: ${open.reason ?? 'unavailable'}` };
    const body: FilterRequest = {
      apiVersion: WEBHOOK_API_VERSION,
      kind: 'FilterRequest',
      allocator: this.name,
      target: input.target,
      request: wireRequest(input.request),
      ...(input.volume ? { volume: wireVolume(input.volume) } : {}),
      candidates: [...input.candidates],
    };
    let answer: unknown;
    try {
      answer = await this.client.call(body, signal);
    } catch (err) {
      if (!signal?.aborted) this.breaker.failure();
      return { ...base, error: `filter: ${describeError(err)}` };
    }
    const checked = checkFilterResponse(answer, names(input));
    if (!checked.ok) {
      this.breaker.failure();
      return { ...base, error: `filter: bad answer from ${this.client.url}: ${checked.problem}` };
    }
    this.breaker.success();
    return { ...base, order: checked.value.candidates, failed: checked.value.failed ?? {} };
  }
}

/** Builds the adapter for one `module`/`webhook` allocator entry at `path`. */
export function createExternalAllocator(
  entry: Entry,
  path: string,
  deps: ServiceDeps = {},
): ExternalAllocator {
  const f = new FieldReader(entry, path);
  const label = typeof entry.name === 'string' && entry.name ? entry.name : path;
  if (entry.type === 'module') {
    f.only(['type', 'name', 'path', 'options']);
    const file = f.string('path', true);
    const options = f.record('options') ?? {};
    if (f.issues.length) throw new ConfigError(f.issues);
    return new ModuleAllocator(
      label,
      new ExtensionModule<ModuleAllocatorImpl>(
        resolveModulePath(file, deps.baseDir),
        'createAllocator',
        { name: label, options, logger: deps.logger ?? silentLogger },
        (v) =>
          isNative(v) ||
          (typeof v === 'object' &&
            v !== null &&
            typeof (v as ModuleAllocatorImpl).filter === 'function')
            ? undefined
            : 'an object with neither filter() nor allocate()/allocateToPool()',
      ),
    );
  }
  if (entry.type === 'webhook') {
    f.only(['type', 'name', ...TRANSPORT_FIELDS]);
    const settings = readWebhookSettings(f, deps);
    if (f.issues.length) throw new ConfigError(f.issues);
    const breaker = new FailureBreaker(
      settings.failureThreshold,
      settings.cooldownMs,
      deps.clock ?? systemClock,
    );
    return new WebhookAllocator(label, new WebhookClient(settings, deps), breaker);
  }
  throw new ConfigError([
    { path: `${path}.type`, message: `not an external allocator type: "${String(entry.type)}"` },
  ]);
}

/**
 * A profile's allocator chain with its external entries built. `builtinTypes` are the engine's
 * allocator types; any other type that is not `module`/`webhook` is an error naming its path.
 */
export class AllocatorChainExtensions {
  private constructor(
    private readonly entries: readonly Entry[],
    private readonly external: ReadonlyMap<number, ExternalAllocator>,
  ) {}

  static create(
    entries: readonly unknown[],
    path: string,
    builtinTypes: readonly string[],
    deps: ServiceDeps = {},
  ): AllocatorChainExtensions {
    const issues: ConfigIssue[] = [];
    const external = new Map<number, ExternalAllocator>();
    const kept: Entry[] = [];
    entries.forEach((raw, i) => {
      const at = `${path}[${i}]`;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        issues.push({ path: at, message: 'must be an object' });
        return;
      }
      const entry = raw as Entry;
      kept.push(entry);
      if (isExternalAllocatorType(entry.type)) {
        try {
          external.set(i, createExternalAllocator(entry, at, deps));
        } catch (err) {
          if (err instanceof ConfigError) issues.push(...err.issues);
          else issues.push({ path: at, message: describeError(err) });
        }
      } else if (typeof entry.type !== 'string' || !builtinTypes.includes(entry.type)) {
        const known = [...builtinTypes, ...EXTERNAL_ALLOCATOR_TYPES].sort().join(', ');
        issues.push({
          path: `${at}.type`,
          message: `unknown allocator type "${String(entry.type)}" (known: ${known})`,
        });
      }
    });
    if (issues.length) throw new ConfigError(issues);
    return new AllocatorChainExtensions(kept, external);
  }

  get hasExternal(): boolean {
    return this.external.size > 0;
  }

  /**
   * Asks every external allocator (concurrently; they are independent) and returns the chain with
   * each replaced by its `fixedOrder` answer. Built-in entries pass through untouched.
   */
  async resolve(
    input: FilterInput,
    signal?: AbortSignal,
  ): Promise<Array<Entry | FixedOrderEntry | NativeAllocator>> {
    const answers = new Map<number, FilterOutcome>();
    await Promise.all(
      [...this.external].map(async ([i, a]) => {
        answers.set(i, await a.filter(input, signal));
      }),
    );
    return this.entries.map((entry, i) => {
      const a = answers.get(i);
      if (!a) return entry;
      if (a.native) return a.native;
      return {
        type: 'fixedOrder',
        name: a.allocator,
        source: a.type,
        order: a.order,
        failed: a.failed,
        ...(a.error ? { error: a.error } : {}),
      } satisfies FixedOrderEntry;
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.external.values()].map((a) => a.close?.()));
  }
}
