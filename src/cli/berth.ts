#!/usr/bin/env node
// The `berth` executable. It imports nothing at the top, so that on a Node.js older than Berth
// needs it can still hand over to the project's own Node (bin/node, which `make setup` installs)
// or say clearly what is missing, instead of failing inside a dependency.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 19)) {
  await import('./main.js');
} else {
  const projectNode = join(dirname(fileURLToPath(import.meta.url)), '../../../bin/node');
  if (existsSync(projectNode)) {
    const r = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
    });
    process.exit(r.status ?? 1);
  }
  console.error(
    `berth needs Node.js 22.19 or newer (this is ${process.version}); run \`make setup\`, which installs Node 24 into bin/.`,
  );
  process.exit(1);
}
