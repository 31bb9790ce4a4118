import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { createDefaultRegistry, releaseRecords, runStack } from '../../src/provisioning/index.js';
import { request } from './helpers/fakes.js';
import { startFarmProcess } from './helpers/servers.js';

describe('kvm-farm example as a process', () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    child = undefined;
  });

  it('serves the contract on the port it is given, with its own capacity', async () => {
    const started = await startFarmProcess(['--port', '0', '--capacity', '3']);
    child = started.child;
    expect(started.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/provision$/);
    const p = createDefaultRegistry().create(
      { name: 'farm', type: 'webhook', url: started.url, timeoutSeconds: 5 },
      'profiles[0].provisioners[0]',
    );
    const r = await runStack([p], request('proc', 5, 2));
    expect(r.outcome).to.equal('Provisioned');
    expect(r.nodes).to.have.length(3);
    expect(r.explanation.provisioners[0]?.summary).to.equal('2 MaxNodes (farm full: 3/3 VMs)');
    const out = await releaseRecords(
      r.nodes.map((n) => n.toRecord()),
      request('proc', 5).metadata,
      [p],
    );
    expect(out.failures).to.deep.equal([]);
    const ledger = (await (await fetch(started.url.replace('/provision', '/ledger'))).json()) as {
      vms: Array<{ state: string; releaseRequests: number }>;
    };
    expect(ledger.vms.map((vm) => [vm.state, vm.releaseRequests])).to.deep.equal([
      ['Released', 1],
      ['Released', 1],
      ['Released', 1],
    ]);
  });

  it('refuses bad flags with a message and a non-zero exit', async () => {
    const failed = startFarmProcess(['--capacity', 'lots']);
    child = undefined;
    await failed.then(
      () => expect.fail('should not start'),
      (err: Error) =>
        expect(err.message).to.match(/exited with 1: kvm-farm: --capacity: not a count: lots/),
    );
  });
});
