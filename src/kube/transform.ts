// Cache transforms (controller-runtime's cache.TransformFunc): what the informers keep of an
// object. The controller never reads managedFields or kubectl's last-applied copy of the object,
// and together they are often most of its size, so the caches drop them; and the string values
// that many objects repeat are kept once (`internStrings`).
import type { KubeObject } from './objects.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops metadata.managedFields and the last-applied-configuration annotation, in place (the
 * object was just decoded for the cache). Safe for the writes the operator makes from cached
 * objects: a PUT without managedFields keeps the server's, and a PUT to /status ignores metadata;
 * a PUT of a whole object taken from the cache would drop the annotation, so do not do that.
 */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  if (!meta) return obj;
  if (meta.managedFields !== undefined) delete meta.managedFields;
  const annotations = meta.annotations;
  if (annotations && LAST_APPLIED_ANNOTATION in annotations) {
    delete annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(annotations).length === 0) delete meta.annotations;
  }
  return obj;
}

/**
 * One copy of each string value that many cached objects repeat: condition types, reasons and
 * messages, timestamps (every request bound in the same second shares one), phases, namespaces,
 * apiVersion and kind. JSON.parse gives each object its own copy of every value longer than a
 * few characters: 10,000 bound requests held about 280,000 strings, most of them repeats.
 * Bounded: once it holds `max` values it starts again, which only loses the sharing of what it
 * held.
 */
export class StringPool {
  private readonly values = new Map<string, string>();
  constructor(private readonly max = 8192) {}

  intern(value: string): string {
    const known = this.values.get(value);
    if (known !== undefined) return known;
    if (this.values.size >= this.max) this.values.clear();
    this.values.set(value, value);
    return value;
  }

  get size(): number {
    return this.values.size;
  }
}

/** Values unique to one object, or nearly: pooling them would only fill the pool. */
const UNIQUE_KEYS = new Set(['name', 'generateName', 'uid', 'resourceVersion', 'configEntry']);
/** Longer values are rarely repeated (a last-applied copy, a long explanation). */
const MAX_POOLED_LENGTH = 256;

/** Replaces the repeated string values of `obj` by the pool's copies, in place. */
export function internStrings<T>(obj: T, pool: StringPool): T {
  internIn(obj, pool);
  return obj;
}

function internIn(value: unknown, pool: StringPool): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'string') {
        if (item.length <= MAX_POOLED_LENGTH) value[i] = pool.intern(item);
      } else internIn(item, pool);
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const v = record[key];
    if (typeof v === 'string') {
      if (v.length <= MAX_POOLED_LENGTH && !UNIQUE_KEYS.has(key)) record[key] = pool.intern(v);
    } else internIn(v, pool);
  }
}

const cachePool = new StringPool();

/** The informers' default transform: `stripManagedFields`, then `internStrings`. */
export function cacheTransform<T extends KubeObject>(obj: T): T {
  return internStrings(stripManagedFields(obj), cachePool);
}
