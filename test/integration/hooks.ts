// Mocha root-hook plugin (loaded through "require" in .mocharc.json): stops the shared control
// plane after the whole run, whether tests passed or failed. Starting is lazy (harness.ts), so a
// run without integration suites starts nothing and this hook has nothing to do.
import type { RootHookObject } from 'mocha';
import { stopControlPlane } from './harness.js';

export const mochaHooks: RootHookObject = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopControlPlane();
  },
};
