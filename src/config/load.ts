// Loads and validates the OperatorConfig file. Errors name file, line and field.
import { readFileSync } from 'node:fs';
import { formatIssue, validateOperatorConfig, type OperatorConfig } from '../api/index.js';
import { lineOf, readDocuments } from './documents.js';

/**
 * The OperatorConfig file cannot be used: it does not parse, holds no single OperatorConfig, or
 * fails the schema. Each problem is a `file:line: field: message` line. (A configuration that is
 * valid here but whose entries cannot be built raises provisioning's ConfigError instead.)
 */
export class ConfigFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigFileError';
  }
}

export interface LoadedConfig {
  config: OperatorConfig;
  /** The file's text, to tell a real change from a touch. */
  text: string;
  path: string;
}

export function loadOperatorConfig(path: string): LoadedConfig {
  const text = readFileSync(path, 'utf8');
  const { documents, errors } = readDocuments([path]);
  if (errors.length > 0)
    throw new ConfigFileError(errors.map((e) => `${e.file}:${e.line}: ${e.message}`));
  const configs = documents.filter(
    (d) => (d.value as { kind?: unknown }).kind === 'OperatorConfig',
  );
  if (configs.length !== 1) {
    throw new ConfigFileError([
      `${path}: expected exactly one document of kind OperatorConfig, found ${configs.length}`,
    ]);
  }
  const doc = configs[0]!;
  const issues = validateOperatorConfig(doc.value);
  if (issues.length > 0) {
    throw new ConfigFileError(
      issues.map((i) => `${path}:${lineOf(doc, i.segments)}: ${formatIssue(i)}`),
    );
  }
  return { config: doc.value as OperatorConfig, text, path };
}
