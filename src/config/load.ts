// Loads and validates the OperatorConfig file. Errors name file, line and field.
import { readFileSync } from 'node:fs';
import { formatIssue, validateOperatorConfig, type OperatorConfig } from '../api/index.js';
import { lineOf, readDocuments } from './documents.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
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
    throw new ConfigError(errors.map((e) => `${e.file}:${e.line}: ${e.message}`));
  const configs = documents.filter(
    (d) => (d.value as { kind?: unknown }).kind === 'OperatorConfig',
  );
  if (configs.length !== 1) {
    throw new ConfigError([
      `${path}: expected exactly one document of kind OperatorConfig, found ${configs.length}`,
    ]);
  }
  const doc = configs[0]!;
  const issues = validateOperatorConfig(doc.value);
  if (issues.length > 0) {
    throw new ConfigError(
      issues.map((i) => `${path}:${lineOf(doc, i.segments)}: ${formatIssue(i)}`),
    );
  }
  return { config: doc.value as OperatorConfig, text, path };
}
