// `berth validate -f PATH…`: checks Berth resources and OperatorConfigs offline with the same
// validators the operator uses. Fit for a CI step of a GitOps repository: exit 1 on any error.
import { formatIssue, validateDocument } from '../api/index.js';
import { lineOf, readDocuments } from '../config/documents.js';

export interface ValidateReport {
  errors: string[];
  validated: number;
  skipped: number;
}

const isBerth = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { apiVersion?: unknown }).apiVersion === 'string' &&
  (value as { apiVersion: string }).apiVersion.startsWith('berth.dev/');

export function validateFiles(paths: string[]): ValidateReport {
  const { documents, errors: parseErrors } = readDocuments(paths);
  const errors = parseErrors.map((e) => `${e.file}:${e.line}: ${e.message}`);
  let validated = 0;
  let skipped = 0;
  for (const doc of documents) {
    // Other manifests (Namespaces, Deployments...) live beside Berth's in a GitOps repository.
    if (!isBerth(doc.value)) {
      skipped++;
      continue;
    }
    validated++;
    const meta = doc.value as { kind?: unknown; metadata?: { name?: unknown } };
    const what = `${String(meta.kind)}${meta.metadata?.name ? `/${String(meta.metadata.name)}` : ''}`;
    for (const issue of validateDocument(doc.value)) {
      errors.push(`${doc.file}:${lineOf(doc, issue.segments)}: ${what}: ${formatIssue(issue)}`);
    }
  }
  return { errors, validated, skipped };
}
