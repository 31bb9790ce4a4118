import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/fixtures.js';

const berth = (...args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
  });

describe('berth validate', () => {
  it('accepts examples/ and skips the non-Berth manifests in it', () => {
    const r = berth('validate', '-f', 'examples/');
    expect(r.status, r.stderr).to.equal(0);
    // 3 HostPools, 4 StoragePools, 7 ResourceRequests (examples/preemption/ too), 2 TenantQuotas
    // and the OperatorConfig; skipped: 2 Namespaces and 2 PriorityClasses.
    expect(r.stdout).to.match(/17 Berth document\(s\) checked, 4 other\(s\) skipped: valid/);
  });

  it('names file, line and field, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-validate-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: berth.dev/v1alpha1',
          'kind: ResourceRequest',
          'metadata: { name: ok, namespace: ns }',
          'spec: { count: 1 }',
          '---',
          'apiVersion: berth.dev/v1alpha1',
          'kind: ResourceRequest',
          'metadata:',
          '  name: bad',
          '  namespace: ns',
          'spec:',
          '  count: 2',
          '  minCount: 3',
          '  resources:',
          '    cpu: lots',
          '',
        ].join('\n'),
      );
      const r = berth('validate', '-f', file);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include(
        `${file}:13: ResourceRequest/bad: spec.minCount: minCount must not exceed count`,
      );
      expect(r.stderr).to.include(
        `${file}:15: ResourceRequest/bad: spec.resources.cpu: invalid quantity "lots"`,
      );
      expect(r.stderr).to.not.include('ResourceRequest/ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports YAML syntax errors with their line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-validate-'));
    try {
      const file = join(dir, 'broken.yaml');
      writeFileSync(file, 'apiVersion: berth.dev/v1alpha1\nkind: HostPool\nspec: { zone: [\n');
      const r = berth('validate', '-f', file);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(new RegExp(`${file}:\\d+: `));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails every file of the invalid corpus', () => {
    const r = berth(
      'validate',
      '-f',
      'test/fixtures/invalid',
      '-f',
      'test/fixtures/invalid-config',
    );
    expect(r.status).to.equal(1);
    expect(r.stdout).to.match(/61 Berth document\(s\) checked/);
  });

  it('prints usage and exits 2 without files', () => {
    expect(berth('validate').status).to.equal(2);
    expect(berth('frobnicate').status).to.equal(2);
  });
});
