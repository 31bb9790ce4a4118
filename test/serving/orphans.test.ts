// The orphan decision, table-driven: what is recorded, busy, new, waiting, due or forgotten.
import { expect } from 'chai';
import type { ResourceRequest } from '../../src/api/index.js';
import type { HeldNode } from '../../src/provisioning/index.js';
import { orphans, recordedNodes, suspectKey } from '../../src/serving/orphans.js';

const held = (name: string, uid = 'u1', request = 'vm'): HeldNode => ({
  name,
  idempotencyKey: `${uid}/${name}`,
  request: { namespace: 'team', name: request, uid },
  generation: 7,
});

const rr = (
  uid: string,
  nodes: Array<{ name: string; provisioner: string; state?: string }>,
): ResourceRequest =>
  ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ResourceRequest',
    metadata: { name: 'vm', namespace: 'team', uid },
    spec: { count: nodes.length },
    status: {
      nodes: nodes.map((n) => ({
        name: n.name,
        provisioner: n.provisioner,
        address: '10.0.0.1',
        configEntry: '',
        state: n.state ?? 'Running',
      })),
    },
  }) as ResourceRequest;

const GRACE = 60_000;

describe('orphans', () => {
  const cases: Array<{
    name: string;
    requests: ResourceRequest[];
    nodes: HeldNode[];
    busy?: string[];
    /** Suspect name → first seen (ms before now). */
    seenAgo?: Record<string, number>;
    release: string[];
    found: number;
    suspects: string[];
  }> = [
    {
      name: 'a node its request records is no orphan',
      requests: [rr('u1', [{ name: 'vm-0', provisioner: 'farm' }])],
      nodes: [held('vm-0')],
      release: [],
      found: 0,
      suspects: [],
    },
    {
      name: 'a node first seen unrecorded is suspected, not released',
      requests: [],
      nodes: [held('vm-0')],
      release: [],
      found: 1,
      suspects: ['vm-0'],
    },
    {
      name: 'a suspect seen for less than the grace period waits',
      requests: [],
      nodes: [held('vm-0')],
      seenAgo: { 'vm-0': GRACE - 1 },
      release: [],
      found: 0,
      suspects: ['vm-0'],
    },
    {
      name: 'a suspect seen for the grace period is released',
      requests: [],
      nodes: [held('vm-0')],
      seenAgo: { 'vm-0': GRACE },
      release: ['vm-0'],
      found: 0,
      suspects: ['vm-0'],
    },
    {
      name: 'a suspect recorded since is forgotten',
      requests: [rr('u1', [{ name: 'vm-0', provisioner: 'farm' }])],
      nodes: [held('vm-0')],
      seenAgo: { 'vm-0': GRACE * 10 },
      release: [],
      found: 0,
      suspects: [],
    },
    {
      name: 'a suspect the service no longer holds is forgotten',
      requests: [],
      nodes: [],
      seenAgo: { 'vm-0': GRACE * 10 },
      release: [],
      found: 0,
      suspects: [],
    },
    {
      name: 'a busy request (stack running, unwritten, being buried) is left alone',
      requests: [],
      nodes: [held('vm-0')],
      busy: ['u1'],
      seenAgo: { 'vm-0': GRACE * 10 },
      release: [],
      found: 0,
      suspects: [],
    },
    {
      name: 'recorded from another provisioner: the request was placed elsewhere',
      requests: [rr('u1', [{ name: 'vm-0', provisioner: 'hosts' }])],
      nodes: [held('vm-0')],
      seenAgo: { 'vm-0': GRACE },
      release: ['vm-0'],
      found: 0,
      suspects: ['vm-0'],
    },
    {
      name: 'recorded as Released is no record',
      requests: [rr('u1', [{ name: 'vm-0', provisioner: 'farm', state: 'Released' }])],
      nodes: [held('vm-0')],
      release: [],
      found: 1,
      suspects: ['vm-0'],
    },
    {
      name: 'a request of the same name but another uid (re-created) does not record it',
      requests: [rr('u2', [{ name: 'vm-0', provisioner: 'farm' }])],
      nodes: [held('vm-0', 'u1')],
      seenAgo: { 'vm-0': GRACE },
      release: ['vm-0'],
      found: 0,
      suspects: ['vm-0'],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const now = 1_000_000;
      const suspects = new Map(
        Object.entries(c.seenAgo ?? {}).map(([name, ago]) => [
          suspectKey('farm', held(name)),
          now - ago,
        ]),
      );
      const d = orphans({
        held: new Map([['farm', c.nodes]]),
        recorded: recordedNodes(c.requests),
        busy: (r) => (c.busy ?? []).includes(r.uid ?? ''),
        suspects,
        nowMs: now,
        graceMs: GRACE,
      });
      expect((d.release.get('farm') ?? []).map((n) => n.name)).to.deep.equal(c.release);
      expect(d.found.get('farm') ?? 0).to.equal(c.found);
      expect([...d.suspects.keys()]).to.deep.equal(
        c.suspects.map((n) => suspectKey('farm', held(n))),
      );
      // A suspect keeps the time it was first seen: the wait never restarts while it stays.
      for (const [k, since] of d.suspects)
        if (suspects.has(k)) expect(since).to.equal(suspects.get(k));
    });
  }

  it('a provisioner whose list failed keeps its suspects for the next sweep', () => {
    const key = suspectKey('down', held('vm-0'));
    const d = orphans({
      held: new Map([['farm', []]]),
      recorded: new Set(),
      busy: () => false,
      suspects: new Map([[key, 5]]),
      nowMs: 10,
      graceMs: GRACE,
    });
    expect([...d.suspects]).to.deep.equal([[key, 5]]);
  });
});
