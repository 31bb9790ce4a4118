// Every markdown file the repository names must be in the repository: a `.md` name in source,
// tests, docs, examples, the chart or the manifests (a comment, a string, a markdown link), and
// every `#anchor` such a name or an in-page link carries. Markdown links to other local files
// (`[values.yaml](../helm/berth/values.yaml)`) must resolve too.
//
// Resolution: a markdown link target is relative to the file's folder; a bare name
// (`docs/design.md` in a comment) is tried from the file's folder, then from the repository root.
// URLs, absolute paths and patterns (`*.md`) are not checked.
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../support/fixtures.js';

/** What is scanned, from the repository root. */
const ROOTS = [
  'README.md',
  'src',
  'docs',
  'test',
  'bench',
  'hack',
  'examples',
  'helm',
  'manifests',
  'Makefile',
  'Dockerfile',
  'eslint.config.js',
  '.dependency-cruiser.mjs',
];
/** Never scanned: this test's own examples, and trees that are not ours. */
const SKIP = new Set(['node_modules', 'dist', 'bin', '.git', '.cluster']);
const SKIP_PATHS = new Set(['test/docs']);
const TEXT = /\.(ts|js|mjs|cjs|md|ya?ml|json|sh|tpl|txt)$|^(Makefile|Dockerfile)$/;

/** A `.md` name, with an optional anchor: `docs/design.md#the-status-is-the-ledger`. */
const MD_NAME = /[\w./@-]*\.md\b(?:#[\w-]*)?/g;
/** `scheme://…` up to a delimiter: removed before names are looked for. */
const URL = /\b[a-z][a-z\d+.-]*:\/\/[^\s)>\]'"`]*/gi;
/** A markdown inline link or image target: `](target)` or `](target "title")`. */
const MD_LINK = /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;

export interface Mention {
  file: string;
  line: number;
  target: string;
  /** A markdown link (relative to the file) rather than a bare name. */
  link: boolean;
}

/** Repository-relative paths of the text files under ROOTS. */
export function scannedFiles(root = repoRoot): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const full = join(root, rel);
    if (!existsSync(full) || SKIP_PATHS.has(rel)) return;
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full).sort()) {
        if (!SKIP.has(entry)) walk(rel ? `${rel}/${entry}` : entry);
      }
    } else if (TEXT.test(rel.split('/').pop() ?? '')) {
      out.push(rel);
    }
  };
  for (const r of ROOTS) walk(r);
  return out;
}

/** The `.md` names and markdown link targets of one file's text. */
export function mentions(file: string, text: string): Mention[] {
  const out: Mention[] = [];
  const markdown = file.endsWith('.md');
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const clean = raw.replace(URL, ' ');
    let rest = clean;
    if (markdown) {
      for (const m of clean.matchAll(MD_LINK)) {
        const target = m[1] ?? '';
        if (target && !/^[a-z][a-z\d+.-]*:/i.test(target))
          out.push({ file, line, target, link: true });
      }
      // A link's text and target are not bare names: `[extending.md](../../docs/extending.md)`.
      rest = clean.replace(/!?\[[^\]]*\]\([^)]*\)/g, ' ');
    }
    for (const m of rest.matchAll(MD_NAME)) {
      const name = m[0];
      if (name.startsWith('/') || name.startsWith('.md') || name.startsWith('#')) continue;
      out.push({ file, line, target: name, link: false });
    }
  });
  return out;
}

/** GitHub's anchor for a heading text. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a markdown text defines: its headings (deduplicated as GitHub does) and ids. */
export function anchors(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const f = /^\s*(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (!fence) fence = f[1]!.slice(0, 3);
      else if (f[1]!.startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence) continue;
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]!);
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = slug(h[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Why a mention does not resolve, or undefined when it does. */
export function check(
  m: Mention,
  root: string,
  readText: (abs: string) => string,
): string | undefined {
  const [path = '', anchor] = m.target.split('#', 2);
  const here = dirname(join(root, m.file));
  let abs: string | undefined;
  if (!path) {
    abs = join(root, m.file); // `#anchor`: this file
  } else if (m.link) {
    abs = resolve(here, decodeURIComponent(path));
    if (!existsSync(abs)) return `links to ${m.target}, which does not exist`;
  } else {
    abs = [resolve(here, path), resolve(root, path)].find((p) => existsSync(p));
    if (!abs) return `names ${path}, which is not in the repository`;
  }
  const inRepo = !relative(root, abs).startsWith('..');
  if (!inRepo) return `names ${m.target}, which is outside the repository`;
  if (anchor === undefined || !abs.endsWith('.md')) return undefined;
  if (anchor === '' || anchors(readText(abs)).has(anchor)) return undefined;
  return `names ${m.target}, but ${relative(root, abs)} has no heading with anchor #${anchor}`;
}

function problems(filter: (m: Mention) => boolean): string[] {
  const cache = new Map<string, string>();
  const readText = (abs: string): string => {
    let t = cache.get(abs);
    if (t === undefined) cache.set(abs, (t = readFileSync(abs, 'utf8')));
    return t;
  };
  const out: string[] = [];
  for (const file of scannedFiles()) {
    for (const m of mentions(file, readText(join(repoRoot, file)))) {
      if (!filter(m)) continue;
      const why = check(m, repoRoot, readText);
      if (why) out.push(`${m.file}:${m.line}: ${why}`);
    }
  }
  return out;
}

const isMarkdownName = (m: Mention) => /\.md(#|$)/.test(m.target);
const isAnchor = (m: Mention) => m.target.includes('#');

describe('docs/links: every markdown file named in the repository exists', () => {
  it('scans source, tests, docs, examples, the chart and the manifests', () => {
    const files = scannedFiles();
    for (const f of ['README.md', 'docs/design.md', 'src/allocation/engine.ts'])
      expect(files).to.include(f);
    expect(files.some((f) => f.startsWith('helm/'))).to.equal(true);
    expect(files.some((f) => f.startsWith('test/docs/'))).to.equal(false);
  });

  it('every .md name points at a file in the repository', () => {
    const found = problems((m) => isMarkdownName(m) && !isAnchor(m));
    expect(found, found.join('\n')).to.deep.equal([]);
  });

  it('every #anchor of a local markdown file is a heading of that file', () => {
    const found = problems((m) => isAnchor(m) && (isMarkdownName(m) || m.target.startsWith('#')));
    expect(found, found.join('\n')).to.deep.equal([]);
  });

  it('every markdown link to a local file resolves', () => {
    const found = problems((m) => m.link && !isMarkdownName(m) && !m.target.startsWith('#'));
    expect(found, found.join('\n')).to.deep.equal([]);
  });
});

describe('docs/links: the checker', () => {
  const root = resolve(repoRoot);
  const none = (): string => '';

  it('finds .md names in comments and links in markdown, not in URLs or patterns', () => {
    const text = [
      '// see docs/nowhere.md, "Semantics" and (DESIGN.md, Ledger)',
      'https://github.com/o/r/blob/main/docs/api.md and *.md files',
      '[the contract](webhook-contract.md#allocator-calls-extenders) and [chart](../helm/x.yaml)',
      '/etc/berth/notes.md and ${name}.md',
    ].join('\n');
    const inCode = mentions('src/x.ts', text).map((m) => `${m.line}:${m.target}:${m.link}`);
    expect(inCode).to.deep.equal([
      '1:docs/nowhere.md:false',
      '1:DESIGN.md:false',
      '3:webhook-contract.md#allocator-calls-extenders:false',
    ]);
    const inDocs = mentions('docs/x.md', text).map((m) => `${m.line}:${m.target}:${m.link}`);
    expect(inDocs).to.include('3:webhook-contract.md#allocator-calls-extenders:true');
    expect(inDocs).to.include('3:../helm/x.yaml:true');
    expect(inDocs.filter((m) => m.startsWith('3:'))).to.have.length(2);
  });

  it('resolves bare names from the folder, then the root; links from the folder only', () => {
    const bare = (file: string, target: string) =>
      check({ file, line: 1, target, link: false }, root, none);
    const link = (file: string, target: string) =>
      check({ file, line: 1, target, link: true }, root, none);
    expect(bare('src/allocation/engine.ts', 'docs/allocation.md')).to.equal(undefined);
    expect(bare('docs/install.md', 'rbac.md')).to.equal(undefined);
    expect(bare('src/allocation/engine.ts', 'DESIGN.md')).to.match(/not in the repository/);
    expect(link('docs/install.md', 'rbac.md')).to.equal(undefined);
    expect(link('README.md', 'docs/api.md')).to.equal(undefined);
    expect(link('docs/install.md', 'docs/api.md')).to.match(/does not exist/);
    expect(link('docs/x.md', '../../outside.md')).to.match(/does not exist|outside/);
  });

  it('computes GitHub anchors, deduplicated, outside code fences', () => {
    expect(slug('The API in brief (`berth.dev/v1alpha1`)')).to.equal(
      'the-api-in-brief-berthdevv1alpha1',
    );
    expect(slug('CRDs: install, upgrade, uninstall')).to.equal('crds-install-upgrade-uninstall');
    expect(slug('Decide, then act')).to.equal('decide-then-act');
    expect(slug('See [the contract](x.md) — now')).to.equal('see-the-contract--now');
    const text = ['# Title', '## Notes', '```sh', '# not a heading', '```', '## Notes'].join('\n');
    expect([...anchors(text)]).to.deep.equal(['title', 'notes', 'notes-1']);
  });

  it('checks anchors against the headings of the named file', () => {
    const text = (): string => '# Design\n## The status is the ledger\n';
    const at = (target: string) =>
      check({ file: 'src/x.ts', line: 1, target, link: false }, root, text);
    expect(at('docs/api.md#the-status-is-the-ledger')).to.equal(undefined);
    expect(at('docs/api.md#ledger')).to.match(/no heading with anchor #ledger/);
  });
});
