// A problem found in an object or in the operator configuration, located by its field path, and
// the one way to print it. Kept apart from validate.ts (which compiles every schema when loaded)
// so that layers which only report problems can print them the same way cheaply.

export interface ValidationIssue {
  /** Field path as the API server prints it: `spec.hosts[1].name`. */
  path: string;
  message: string;
  /** The same path as keys and indexes, to find the field in a YAML document. */
  segments: Array<string | number>;
}

/** `path: message`, or the message alone when the problem is the whole object. */
export function formatIssue(issue: { readonly path: string; readonly message: string }): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

export class ValidationError extends Error {
  constructor(
    readonly issues: ValidationIssue[],
    what = 'object',
  ) {
    super(`invalid ${what}: ${issues.map(formatIssue).join('; ')}`);
    this.name = 'ValidationError';
  }
}
