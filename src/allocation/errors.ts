// Typed errors of the allocation engine. Callers (controller, simulator, CLI) tell bad input
// apart from bugs by class, and every message names the offending value so a status line or a
// log entry is enough to fix it.

/** Base class: anything the engine throws on purpose. */
export class AllocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A Kubernetes quantity that does not parse, or is out of the supported range. */
export class QuantityError extends AllocationError {
  constructor(
    readonly value: unknown,
    readonly why: string,
  ) {
    super(`invalid quantity ${describeValue(value)}: ${why}`);
  }
}

/** A spec field the engine cannot use (negative capacity, unknown scope, bad ratio...). */
export class InvalidSpecError extends AllocationError {
  constructor(
    /** The object, e.g. `HostPool rack-a1` or `ResourceRequest team/web`. */
    readonly object: string,
    /** The field path, e.g. `spec.hosts[2].capacity.memory`. */
    readonly field: string,
    readonly why: string,
  ) {
    super(`${object}: ${field}: ${why}`);
  }
}

/** A config entry naming an allocator type nobody registered. */
export class UnknownAllocatorError extends AllocationError {
  constructor(
    readonly kind: 'host' | 'storage',
    readonly type: string,
  ) {
    super(`unknown ${kind} allocator type "${type}"`);
  }
}

/** Misuse of the ledger: reserving a node name twice for one owner. */
export class LedgerError extends AllocationError {}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
