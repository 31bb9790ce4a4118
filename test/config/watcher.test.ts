import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigFileError, loadOperatorConfig } from '../../src/config/load.js';
import { ConfigWatcher } from '../../src/config/watcher.js';
import { silentLogger } from '../../src/observability/logger.js';
import { repoRoot } from '../support/fixtures.js';

const example = readFileSync(join(repoRoot, 'examples/config/operatorconfig.yaml'), 'utf8');

describe('OperatorConfig loading', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
    file = join(dir, 'config.yaml');
    writeFileSync(file, example);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the example', () => {
    expect(loadOperatorConfig(file).config.profiles.map((p) => p.name)).to.deep.equal([
      'default',
      'burst',
    ]);
  });

  it('names file, line and field of a bad profile', () => {
    writeFileSync(file, example.replace('type: multilocal', 'type: multilocl'));
    try {
      loadOperatorConfig(file);
      expect.fail('accepted');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigFileError);
      expect((err as Error).message).to.match(
        new RegExp(
          `^${file}:\\d+: profiles\\[1\\]\\.provisioners\\[1\\]\\.type: unknown type "multilocl"`,
        ),
      );
    }
  });

  it('keeps the last good configuration when the file turns bad, and takes the next good one', () => {
    const applied: string[][] = [];
    const results: boolean[] = [];
    const w = new ConfigWatcher(
      file,
      silentLogger(),
      (c) => applied.push(c.config.profiles.map((p) => p.name)),
      (ok) => results.push(ok),
    );
    writeFileSync(file, 'apiVersion: berth.dev/v1alpha1\nkind: OperatorConfig\nprofiles: []\n');
    expect(w.reload()).to.equal(false);
    expect(w.lastError).to.match(/profiles/);
    expect(w.current.config.profiles).to.have.length(2);
    expect(w.reload(), 'the same bad file is reported once').to.equal(false);
    writeFileSync(file, example.replace('name: burst', 'name: spill'));
    expect(w.reload()).to.equal(true);
    expect(w.lastError).to.equal(undefined);
    expect(applied).to.deep.equal([['default', 'spill']]);
    expect(results).to.deep.equal([false, true]);
  });

  it('refuses to start on an invalid file', () => {
    writeFileSync(file, 'kind: OperatorConfig\n');
    expect(() => new ConfigWatcher(file, silentLogger(), () => {})).to.throw(ConfigFileError);
  });
});
