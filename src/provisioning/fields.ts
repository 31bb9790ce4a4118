// Field checks for config entries. The OperatorConfig schema (ajv) rejects most mistakes first;
// these checks keep a provisioner from ever being built from a malformed entry when it is created
// programmatically (tests, the simulator) and give messages that name the exact path.
import type { ConfigIssue } from './errors.js';

export type Entry = Readonly<Record<string, unknown>>;

export class FieldReader {
  readonly issues: ConfigIssue[] = [];

  constructor(
    readonly entry: Entry,
    readonly path: string,
  ) {}

  fail(key: string, message: string): void {
    this.issues.push({ path: key ? `${this.path}.${key}` : this.path, message });
  }

  string(key: string, required: true): string;
  string(key: string, required?: false): string | undefined;
  string(key: string, required = false): string | undefined {
    const v = this.entry[key];
    if (v === undefined) {
      if (required) this.fail(key, 'required');
      return required ? '' : undefined;
    }
    if (typeof v !== 'string' || v === '') {
      this.fail(key, 'must be a non-empty string');
      return required ? '' : undefined;
    }
    return v;
  }

  integer(key: string, min: number, max: number, required: true): number;
  integer(key: string, min: number, max: number, required?: false): number | undefined;
  integer(key: string, min: number, max: number, required = false): number | undefined {
    const v = this.entry[key];
    if (v === undefined) {
      if (required) this.fail(key, 'required');
      return required ? min : undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(key, `must be an integer from ${min} to ${max}`);
      return required ? min : undefined;
    }
    return v;
  }

  number(key: string, min: number, max: number): number | undefined {
    const v = this.entry[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.fail(key, `must be a number from ${min} to ${max}`);
      return undefined;
    }
    return v;
  }

  record(key: string): Record<string, unknown> | undefined {
    const v = this.entry[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.fail(key, 'must be an object');
      return undefined;
    }
    return v as Record<string, unknown>;
  }

  /** Reports any field not in `known`, so a misspelt option is not silently ignored. */
  only(known: readonly string[]): void {
    for (const key of Object.keys(this.entry)) {
      if (!known.includes(key)) this.fail(key, 'unknown field');
    }
  }
}
