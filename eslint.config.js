import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/ (docs/layers.md): each folder, and the other top-level folders of src/ it may
 * import. A folder always may import itself; a more specific entry (provisioning/hosts) overrides
 * its parent's. An entry ending in `.js` allows that one file only; `note` is added to the
 * message. `cli` is the top: it may import everything. Cycles are found by dependency-cruiser (.dependency-cruiser.mjs).
 */
export const LAYERS = [
  { dir: 'api', may: [] },
  { dir: 'support', may: [] },
  { dir: 'allocation', may: ['support'] },
  { dir: 'kube', may: ['support'] },
  { dir: 'observability', may: ['support'] },
  { dir: 'runtime', may: ['support', 'kube', 'observability'] },
  { dir: 'config', may: ['support', 'api'] },
  {
    dir: 'provisioning',
    may: ['support', 'api', 'observability'],
    note: 'allocation only from src/provisioning/hosts/',
  },
  { dir: 'provisioning/hosts', may: ['support', 'api', 'observability', 'allocation'] },
  {
    dir: 'serving',
    may: ['support', 'api', 'allocation', 'provisioning', 'runtime/conditions.js'],
  },
  {
    dir: 'controller',
    may: [
      'support',
      'api',
      'allocation',
      'kube',
      'observability',
      'runtime',
      'config',
      'provisioning',
      'serving',
    ],
  },
  { dir: 'sim', may: ['support', 'api', 'allocation', 'provisioning', 'serving'] },
  { dir: 'deploy', may: ['support', 'api'] },
  {
    dir: 'cli',
    may: [
      'support',
      'api',
      'allocation',
      'kube',
      'observability',
      'runtime',
      'config',
      'provisioning',
      'serving',
      'controller',
      'sim',
      'deploy',
    ],
  },
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One `no-restricted-imports` block per layer and folder depth. Imports are matched as written:
 * from a file `d` folders below src/, an import that climbs `d` times has left its own folder and
 * must name an allowed folder next (an import that climbs further has left src/ and never does).
 */
function layerRules() {
  const blocks = [];
  for (const { dir, may, note } of LAYERS) {
    const own = dir.split('/')[0];
    const allowed = [own, ...may].map((m) => (m.endsWith('.js') ? `${escape(m)}$` : `${m}/`));
    const nested = LAYERS.filter((l) => l.dir.startsWith(`${dir}/`)).map((l) => `src/${l.dir}/**`);
    const message =
      `src/${dir} may import only ${[own, ...may].join(', ')}${note ? `; ${note}` : ''} ` +
      '(docs/layers.md: the layer rules).';
    for (let extra = 0; extra < 4; extra++) {
      const depth = dir.split('/').length + extra;
      blocks.push({
        files: [`src/${dir}/${'*/'.repeat(extra)}*.ts`],
        ...(nested.length ? { ignores: nested } : {}),
        rules: {
          'no-restricted-imports': [
            'error',
            { patterns: [{ regex: `^(?:\\.\\./){${depth}}(?!${allowed.join('|')})`, message }] },
          ],
        },
      });
    }
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['bin/', 'dist/', 'node_modules/', 'tools/', 'helm/', '.cluster/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  ...layerRules(),
  {
    // An ES import of node:http's values loads Node's bundled undici: ~13 MiB of the operator's
    // RSS (src/support/node-http.ts says why). Types are erased, so they may be imported.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:http', 'http'].map((name) => ({
            name,
            allowTypeImports: true,
            message: 'use `http` from src/support/node-http.ts: an ES import loads undici.',
          })),
        },
      ],
    },
  },
);
