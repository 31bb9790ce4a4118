// HostsBackend.withoutOwners: a preemption's what-if sets requests' reservations aside and puts
// the very same entries back, so nothing outside can tell it happened.
import { expect } from 'chai';
import { HostsBackend } from '../../src/allocation/service.js';
import { chainsOf, makeHostPool, makeRequest } from './builders.js';

describe('HostsBackend.withoutOwners', () => {
  const setup = () => {
    const backend = new HostsBackend();
    const pool = makeHostPool('rack')
      .host('h1', { cpu: '4', memory: '8Gi' }, { ports: { base: 7000, count: 2 } })
      .obj();
    backend.setInventory([pool]);
    const engine = backend.engine;
    const ask = (name: string, cpu: string) =>
      engine.plan(makeRequest('t', name).resources({ cpu }).obj(), chainsOf(['firstFit']));
    return { backend, engine, ask };
  };

  it('the request fits with the owners set aside, and everything is back as it was after', () => {
    const { backend, engine, ask } = setup();
    expect(ask('a', '3').placements).to.have.length(1);
    const entry = engine.ledger.entry('t/a', 'a-0')!;
    const snapshot = () => {
      const u = engine.ledger.hostUsage('rack/h1');
      return { nodes: u.nodes, allocated: [...u.allocated], ports: [...u.ports] };
    };
    const usage = snapshot();
    const fits = backend.withoutOwners(
      ['t/a'],
      () =>
        engine.plan(makeRequest('t', 'b').resources({ cpu: '4' }).obj(), chainsOf(['firstFit']), {
          dryRun: true,
        }).complete,
    );
    expect(fits).to.equal(true);
    // The same object (node handles release by identity), and the same usage, port included.
    expect(engine.ledger.entry('t/a', 'a-0')).to.equal(entry);
    expect(snapshot()).to.deep.equal(usage);
    expect(ask('c', '2').placements).to.have.length(0);
  });

  it('a node handle made before the what-if still releases its capacity after it', () => {
    const { backend, engine, ask } = setup();
    ask('a', '3');
    const entry = engine.ledger.entry('t/a', 'a-0')!;
    backend.withoutOwners(['t/a'], () => undefined);
    // What HostsProvisioner's handle does: release only the entry it was made for.
    if (engine.ledger.entry('t/a', 'a-0') === entry) engine.ledger.release('t/a', 'a-0');
    expect(engine.ledger.nodeCount('t/a')).to.equal(0);
    expect(ask('b', '4').placements).to.have.length(1);
  });
});
