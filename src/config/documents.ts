// Reads YAML documents from files and folders, keeping where each one came from so an error
// can name the file and line. Used by `berth validate` and `berth simulate`.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';

export interface SourceDocument {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  value: unknown;
  yaml: Document;
  lines: LineCounter;
}

export interface SourceError {
  file: string;
  line: number;
  message: string;
}

/** Files named by the arguments; folders are walked recursively for .yaml, .yml and .json. */
export function expandPaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    if (statSync(path).isDirectory()) {
      const entries = readdirSync(path).sort();
      for (const entry of entries) {
        const full = join(path, entry);
        if (statSync(full).isDirectory()) out.push(...expandPaths([full]));
        else if (/\.(ya?ml|json)$/.test(entry)) out.push(full);
      }
    } else {
      out.push(path);
    }
  }
  return out;
}

export function readDocuments(paths: string[]): {
  documents: SourceDocument[];
  errors: SourceError[];
} {
  const documents: SourceDocument[] = [];
  const errors: SourceError[] = [];
  for (const file of expandPaths(paths)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      errors.push({ file, line: 0, message: (err as Error).message });
      continue;
    }
    const lines = new LineCounter();
    const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
    const docs = Array.isArray(parsed) ? parsed : [parsed];
    docs.forEach((yaml, index) => {
      for (const e of yaml.errors) {
        errors.push({ file, line: lines.linePos(e.pos[0]).line, message: e.message });
      }
      if (yaml.errors.length > 0) return;
      const value: unknown = yaml.toJS();
      if (value !== null && value !== undefined)
        documents.push({ file, index, value, yaml, lines });
    });
  }
  return { documents, errors };
}

/** Line of the deepest node on `segments` that exists (a missing field points at its parent). */
export function lineOf(doc: SourceDocument, segments: Array<string | number>): number {
  for (let n = segments.length; n >= 0; n--) {
    const node = n === 0 ? doc.yaml.contents : doc.yaml.getIn(segments.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return doc.lines.linePos(range[0]).line;
  }
  return 1;
}
