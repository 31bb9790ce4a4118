// Reads the YAML fixtures and examples the tests share: the example inventory, the invalid
// corpus (each file names the field its error must mention in a `# expect:` header).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface InvalidCase {
  file: string;
  expect: string;
  doc: Record<string, unknown>;
  text: string;
}

export function yamlFiles(dir: string, recursive = false): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (recursive) out.push(...yamlFiles(full, true));
    } else if (/\.ya?ml$/.test(entry)) {
      out.push(full);
    }
  }
  return out;
}

export function loadDocuments(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null);
}

export function invalidCases(folder: 'invalid' | 'invalid-config'): InvalidCase[] {
  const dir = join(repoRoot, 'test/fixtures', folder);
  return yamlFiles(dir).map((file) => {
    const text = readFileSync(file, 'utf8');
    const expect = /^# expect: (.+)$/m.exec(text)?.[1]?.trim();
    if (!expect) throw new Error(`${file} has no "# expect:" header`);
    const [doc] = loadDocuments(file);
    if (!doc) throw new Error(`${file} has no document`);
    return { file: file.slice(repoRoot.length + 1), expect, doc, text };
  });
}

/** True when `path` is the expected field or lies inside it. */
export function namesField(path: string, expected: string): boolean {
  return path === expected || path.startsWith(`${expected}.`) || path.startsWith(`${expected}[`);
}
