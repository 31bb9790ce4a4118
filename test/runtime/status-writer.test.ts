// The status writer on the fake API server: one PUT to /status with optimistic concurrency, an
// unchanged status never written, a conflict retried only when the caller's guard allows it.
import { expect } from 'chai';
import { KubeError, isConflict } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/objects.js';
import {
  StatusWriter,
  anyVersion,
  latest,
  type StatusWriteResult,
  type WriteGuard,
} from '../../src/runtime/status-writer.js';
import { FakeKube } from '../support/fakekube.js';

const COLL = '/apis/berth.dev/v1alpha1/hostpools';
const PATH = `${COLL}/rack`;

interface Status {
  phase?: string;
  count?: number;
  note?: string;
}
interface Thing extends KubeObject {
  spec: { size: number };
  status?: Status;
}

const thing = (status?: Status): Thing => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name: 'rack' },
  spec: { size: 1 },
  ...(status ? { status } : {}),
});

const refuses: WriteGuard<Thing> = { name: 'never', allows: () => false };
const error = (code: number, reason: string) => () => new KubeError(code, reason, reason);

/** What a result is, for a table: its kind. */
const kind = (r: StatusWriteResult<Thing>) => Object.keys(r)[0];

describe('StatusWriter', () => {
  it('does not write a status equal to the current one (key order and undefined ignored)', async () => {
    const kube = new FakeKube();
    const current = kube.seed(COLL, thing({ phase: 'Ready', count: 2 }));
    const r = await new StatusWriter(kube).write<Status, Thing>(
      PATH,
      current,
      { count: 2, phase: 'Ready', note: undefined },
      anyVersion,
    );
    expect(kind(r)).to.equal('unchanged');
    expect(kube.writes()).to.deep.equal([]);
    expect(latest(current, r)).to.equal(current);
  });

  it('writes a changed status to the /status subresource only', async () => {
    const kube = new FakeKube();
    const current = kube.seed(COLL, thing({ phase: 'Pending' }));
    const r = await new StatusWriter(kube).write<Status, Thing>(
      PATH,
      { ...current, spec: { size: 99 } },
      { phase: 'Ready' },
      anyVersion,
    );
    expect(kind(r)).to.equal('written');
    expect(kube.writes().map((c) => `${c.verb} ${c.path}`)).to.deep.equal([
      `replace ${PATH}/status`,
    ]);
    const stored = kube.peek<Thing>(PATH)!;
    expect(stored.status).to.deep.equal({ phase: 'Ready' });
    expect(stored.spec.size, 'the spec is not written through /status').to.equal(1);
    expect(latest(current, r).metadata.resourceVersion).to.equal(stored.metadata.resourceVersion);
  });

  it('sends only the identity, the version and the status: the server takes nothing else', async () => {
    const kube = new FakeKube();
    const seeded = kube.seed(COLL, thing({ phase: 'Pending' }));
    const current = {
      ...seeded,
      metadata: { ...seeded.metadata, labels: { big: 'x' }, annotations: { a: 'b' } },
    };
    await new StatusWriter(kube).write<Status, Thing>(
      PATH,
      current,
      { phase: 'Ready' },
      anyVersion,
    );
    const [put] = kube.writes();
    expect(put?.body).to.deep.equal({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'HostPool',
      metadata: {
        name: 'rack',
        uid: seeded.metadata.uid,
        resourceVersion: seeded.metadata.resourceVersion,
      },
      status: { phase: 'Ready' },
    });
  });

  describe('on a conflict (the copy is stale: someone wrote since it was read)', () => {
    const cases: Array<{
      name: string;
      guard: WriteGuard<Thing>;
      /** The status the other writer left. */
      theirs: Status;
      want: string;
      writes: number;
      stored: Status;
    }> = [
      {
        name: 'retries on the fresh copy when the guard allows it',
        guard: anyVersion,
        theirs: { phase: 'Other' },
        want: 'written',
        writes: 2,
        stored: { phase: 'Ready' },
      },
      {
        name: 'hands the fresh copy back (superseded) when the guard refuses it',
        guard: refuses,
        theirs: { phase: 'Other' },
        want: 'superseded',
        writes: 1,
        stored: { phase: 'Other' },
      },
      {
        name: 'stops (unchanged) when the fresh copy already says what we would write',
        guard: anyVersion,
        theirs: { phase: 'Ready' },
        want: 'unchanged',
        writes: 1,
        stored: { phase: 'Ready' },
      },
    ];
    for (const c of cases)
      it(c.name, async () => {
        const kube = new FakeKube();
        const stale = kube.seed(COLL, thing({ phase: 'Pending' }));
        await kube.replace(`${PATH}/status`, { ...stale, status: c.theirs });
        const before = kube.writes().length;
        let seen: { fresh: Thing; basis: Thing } | undefined;
        const guard: WriteGuard<Thing> = {
          name: c.guard.name,
          allows: (fresh, basis) => {
            seen = { fresh, basis };
            return c.guard.allows(fresh, basis);
          },
        };
        const r = await new StatusWriter(kube).write<Status, Thing>(
          PATH,
          stale,
          { phase: 'Ready' },
          guard,
        );
        expect(kind(r)).to.equal(c.want);
        expect(kube.writes().length - before).to.equal(c.writes);
        expect(kube.peek<Thing>(PATH)!.status).to.deep.equal(c.stored);
        expect(seen?.basis, 'the guard sees the copy the status was computed from').to.equal(stale);
        expect(seen?.fresh.status).to.deep.equal(c.theirs);
        if ('superseded' in r) expect(r.superseded.status).to.deep.equal(c.theirs);
        expect(latest(stale, r).metadata.resourceVersion).to.equal(
          kube.peek<Thing>(PATH)!.metadata.resourceVersion,
        );
      });
  });

  describe('an object that is gone', () => {
    const cases: Array<{ name: string; act(kube: FakeKube, current: Thing): Promise<void> }> = [
      {
        name: 'the PUT answers 404',
        act: async (kube) => kube.failNext({ verb: 'replace', path: /status$/ }, error(404, 'NF')),
      },
      {
        name: 'the object was deleted',
        act: async (kube) => void (await kube.delete(PATH)),
      },
      {
        name: 'the re-read after a conflict answers 404',
        act: async (kube) => {
          kube.failNext({ verb: 'replace', path: /status$/ }, error(409, 'Conflict'));
          kube.failNext({ verb: 'get', path: /rack$/ }, error(404, 'NotFound'));
        },
      },
      {
        name: 'it was deleted and re-created under the same name (a new uid)',
        act: async (kube) => {
          await kube.delete(PATH);
          kube.seed(COLL, thing({ phase: 'Pending' }));
        },
      },
    ];
    for (const c of cases)
      it(`is reported gone when ${c.name}`, async () => {
        const kube = new FakeKube();
        const current = kube.seed(COLL, thing({ phase: 'Pending' }));
        await c.act(kube, current);
        const r = await new StatusWriter(kube).write<Status, Thing>(
          PATH,
          current,
          { phase: 'Ready' },
          anyVersion,
        );
        expect(r).to.deep.equal({ gone: true });
        expect(latest(current, r)).to.equal(current);
        const now = kube.peek<Thing>(PATH);
        if (now)
          expect(now.status, 'a new object is not written over').to.deep.equal({
            phase: 'Pending',
          });
      });
  });

  it('reports a 422 as refused, without retrying', async () => {
    const kube = new FakeKube();
    const current = kube.seed(COLL, thing());
    kube.failNext({ verb: 'replace', path: /status$/ }, error(422, 'Invalid'));
    const r = await new StatusWriter(kube).write<Status, Thing>(
      PATH,
      current,
      { phase: 'Ready' },
      anyVersion,
    );
    expect(kind(r)).to.equal('refused');
    expect('refused' in r && (r.refused as KubeError).code).to.equal(422);
    expect(kube.writes()).to.have.length(1);
  });

  const giveUp: Array<{ attempts?: number; writes: number }> = [
    { writes: 5 },
    { attempts: 2, writes: 2 },
  ];
  for (const c of giveUp)
    it(`gives up after ${c.writes} conflicts in a row and throws the conflict`, async () => {
      const kube = new FakeKube();
      const current = kube.seed(COLL, thing());
      kube.failNext({ verb: 'replace', path: /status$/ }, error(409, 'Conflict'), 100);
      const writer = c.attempts ? new StatusWriter(kube, c.attempts) : new StatusWriter(kube);
      const err = await writer
        .write<Status, Thing>(PATH, current, { phase: 'Ready' }, anyVersion)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isConflict(err)).to.equal(true);
      expect(kube.writes()).to.have.length(c.writes);
    });

  const transient: Array<{ name: string; verb: 'replace' | 'get'; path: RegExp }> = [
    { name: 'the PUT', verb: 'replace', path: /status$/ },
    { name: 'the re-read after a conflict', verb: 'get', path: /rack$/ },
  ];
  for (const c of transient)
    it(`throws a server error of ${c.name} for the controller to retry`, async () => {
      const kube = new FakeKube();
      const current = kube.seed(COLL, thing());
      if (c.verb === 'get')
        kube.failNext({ verb: 'replace', path: /status$/ }, error(409, 'Conflict'));
      kube.failNext({ verb: c.verb, path: c.path }, error(500, 'InternalError'));
      const err = await new StatusWriter(kube)
        .write<Status, Thing>(PATH, current, { phase: 'Ready' }, anyVersion)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((err as KubeError).code).to.equal(500);
    });
});
