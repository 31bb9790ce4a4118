// Errors with enough context to land in `status.explanation` or a validation report verbatim.
import { formatIssue } from '../api/issues.js';

/** One problem in the operator configuration, located by its path (`profiles[0].provisioners[2].type`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A configuration entry that cannot be turned into a provisioner or allocator. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('; '));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Raised by a provisioner that is skipped on purpose (cooldown after repeated failures). */
export class ProvisionerUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisionerUnavailableError';
  }
}

/**
 * A provisioner broke its contract or failed. `unreleased` names what it could not give back, so the
 * caller can keep those records and release them later instead of leaking them.
 */
export class ProvisionerError extends Error {
  readonly unreleased: ReadonlyArray<{ name: string; error: string }>;

  constructor(message: string, unreleased: ReadonlyArray<{ name: string; error: string }> = []) {
    super(message);
    this.name = 'ProvisionerError';
    this.unreleased = unreleased;
  }
}

/** The message of anything thrown, on one line (explanations are single lines). */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.replace(/\s+/g, ' ').trim();
}
