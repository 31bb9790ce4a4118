import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDefaultRegistry, releaseRecords, runStack } from '../../src/provisioning/index.js';
import { request } from './helpers/fakes.js';

const SERVER = fileURLToPath(new URL('../../examples/kvm-farm/server.js', import.meta.url));

/** Starts the example as its own process, as a user would, and waits for its URL. */
function startProcess(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SERVER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`kvm-farm did not start: ${out}`)), 10_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kvm-farm exited with ${code}: ${out}`));
    });
  });
}

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
    const started = await startProcess(['--port', '0', '--capacity', '3']);
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
    const failed = startProcess(['--capacity', 'lots']);
    child = undefined;
    await failed.then(
      () => expect.fail('should not start'),
      (err: Error) =>
        expect(err.message).to.match(/exited with 1: kvm-farm: --capacity: not a count: lots/),
    );
  });
});
