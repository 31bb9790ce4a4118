// The layer rules and the cycle check of `make lint` (docs/layers.md), shown failing: an import
// against a layer is linted in memory under a path in src/ (nothing is written there), and a cycle
// is cruised in a throw-away tree with the repository's dependency-cruiser config.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';
import { repoRoot } from '../support/fixtures.js';

const run = promisify(execFile);

/** Messages of the layer rule for `code` linted as if it were the file `filePath`. */
async function layerErrors(eslint: ESLint, filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, filePath) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
}

describe('layer rules (eslint no-restricted-imports)', function () {
  this.timeout(60_000);
  let eslint: ESLint;

  before(() => {
    eslint = new ESLint({ cwd: repoRoot });
  });

  // [file, import, allowed]. The first group are the upward imports this repository once had.
  const cases: Array<[string, string, boolean]> = [
    ['src/kube/informer.ts', '../controller/clock.js', false],
    ['src/observability/metrics.ts', '../controller/workqueue.js', false],
    ['src/api/generate.ts', '../deploy/manifests.js', false],
    ['src/api/operatorconfig.ts', '../allocation/allocator-registry.js', false],
    ['src/allocation/_probe.ts', '../kube/client.js', false],
    ['src/allocation/indexes/_probe.ts', '../../kube/client.js', false],
    ['src/allocation/indexes/_probe.ts', '../model.js', true],
    ['src/allocation/_probe.ts', '../support/time.js', true],
    ['src/runtime/_probe.ts', '../api/index.js', false],
    ['src/runtime/_probe.ts', '../kube/client.js', true],
    ['src/provisioning/_probe.ts', '../allocation/index.js', false],
    ['src/provisioning/webhook/_probe.ts', '../../allocation/index.js', false],
    ['src/provisioning/hosts/_probe.ts', '../../allocation/index.js', true],
    ['src/provisioning/_probe.ts', '../kube/client.js', false],
    ['src/serving/_probe.ts', '../kube/client.js', false],
    ['src/serving/_probe.ts', '../controller/manager.js', false],
    ['src/serving/_probe.ts', '../runtime/status-writer.js', false],
    ['src/serving/_probe.ts', '../runtime/conditions.js', true],
    ['src/sim/_probe.ts', '../controller/manager.js', false],
    ['src/sim/_probe.ts', '../serving/request-status.js', true],
    ['src/controller/_probe.ts', '../cli/run.js', false],
    ['src/controller/_probe.ts', '../provisioning/index.js', true],
    ['src/deploy/_probe.ts', '../provisioning/index.js', false],
    ['src/api/_probe.ts', '../../package.json', false],
  ];

  for (const [file, target, allowed] of cases) {
    it(`${file} → ${target}: ${allowed ? 'allowed' : 'reported'}`, async () => {
      const errors = await layerErrors(eslint, file, `export { x } from '${target}';\n`);
      if (allowed) expect(errors).to.deep.equal([]);
      else expect(errors.join('\n')).to.match(/may import only .*docs\/layers\.md/);
    });
  }

  it('reports a type-only import as well', async () => {
    const code = `import type { Engine } from '../allocation/index.js';\nexport type E = Engine;\n`;
    expect(await layerErrors(eslint, 'src/provisioning/_probe.ts', code)).to.have.length(1);
  });

  it('gives every folder of src/ a rule, so a new folder cannot slip past them', async () => {
    const config = (await import(pathToFileURL(join(repoRoot, 'eslint.config.js')).href)) as {
      LAYERS: Array<{ dir: string }>;
    };
    const ruled = new Set(config.LAYERS.map((l) => l.dir.split('/')[0]));
    const folders = readdirSync(join(repoRoot, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(folders.filter((f) => !ruled.has(f))).to.deep.equal([]);
  });
});

describe('import cycles (dependency-cruiser no-circular)', function () {
  this.timeout(60_000);
  let dir: string;

  /** Runs the depcruise of `npm run lint` over `dir`; returns its exit code and output. */
  async function cruise(): Promise<{ code: number; output: string }> {
    const bin = join(repoRoot, 'node_modules/.bin/depcruise');
    const args = ['src', '--config', join(repoRoot, '.dependency-cruiser.mjs')];
    try {
      const { stdout } = await run(bin, [...args, '--output-type', 'err'], { cwd: dir });
      return { code: 0, output: stdout };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  }

  function write(file: string, text: string): void {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-cycle-'));
    write(
      'tsconfig.json',
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
    );
    // The shape of the cycle this repository once had, type-only on two of its three edges.
    write('src/p/types.ts', 'export interface Deps { baseDir?: string }\n');
    write(
      'src/p/registry.ts',
      "import type { Chains } from './chains.js';\nexport interface Profile { chains: Chains }\n",
    );
    write(
      'src/p/client.ts',
      "import type { Deps } from './types.js';\nexport const client = (d: Deps) => d.baseDir;\n",
    );
    write(
      'src/p/chains.ts',
      "import { client } from './client.js';\nexport class Chains { c = client; }\n",
    );
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes a tree without a cycle', async () => {
    const { code, output } = await cruise();
    expect(output).not.to.include('no-circular');
    expect(code).to.equal(0);
  });

  it('reports a cycle, even one made of type-only imports', async () => {
    write(
      'src/p/client.ts',
      "import type { Profile } from './registry.js';\nexport const client = (p: Profile) => p;\n",
    );
    const { code, output } = await cruise();
    expect(output).to.include('no-circular');
    expect(output).to.include('src/p/registry.ts');
    expect(code).to.not.equal(0);
  });
});
