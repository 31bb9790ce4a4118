// dependency-cruiser: import cycles among the files of src/, type-only imports included (the one
// cycle this repository had was type-only). The layer rules live in eslint.config.js; both are
// explained in docs/layers.md. Run by `npm run lint` (and so `make lint`).
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle: these files cannot be understood, tested or moved one without the other. ' +
        'Break it by moving the shared part (often a type) down into a file both can import ' +
        '(docs/layers.md).',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
