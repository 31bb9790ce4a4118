// Adding and removing a finalizer on the fake API server: merge patches that carry the object's
// resourceVersion, so a stale copy gets a conflict instead of overwriting someone else's list.
import { expect } from 'chai';
import { isConflict } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/kube/objects.js';
import { addFinalizer, holds, removeFinalizer } from '../../src/runtime/finalizer.js';
import { FakeKube } from '../support/fakekube.js';

const COLL = '/apis/berth.dev/v1alpha1/namespaces/team/resourcerequests';
const PATH = `${COLL}/vm`;
const OURS = 'berth.dev/release';
const THEIRS = 'example.com/backup';

const obj = (finalizers?: string[]): KubeObject => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name: 'vm', namespace: 'team', ...(finalizers ? { finalizers } : {}) },
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('finalizer helpers', () => {
  describe('addFinalizer', () => {
    const cases: Array<{ name: string; start?: string[]; want: string[]; writes: number }> = [
      { name: 'adds it to an object without finalizers', want: [OURS], writes: 1 },
      { name: 'appends it to the others', start: [THEIRS], want: [THEIRS, OURS], writes: 1 },
      { name: 'does nothing when the object holds it', start: [OURS], want: [OURS], writes: 0 },
    ];
    for (const c of cases)
      it(c.name, async () => {
        const kube = new FakeKube();
        const current = kube.seed(COLL, obj(c.start));
        const after = await addFinalizer(kube, PATH, current, OURS);
        expect(after.metadata.finalizers).to.deep.equal(c.want);
        expect(holds(after, OURS)).to.equal(true);
        expect(kube.peek<KubeObject>(PATH)!.metadata.finalizers).to.deep.equal(c.want);
        expect(kube.writes()).to.have.length(c.writes);
        if (c.writes)
          expect(after.metadata.resourceVersion, 'the server copy is returned').to.not.equal(
            current.metadata.resourceVersion,
          );
      });

    it('a stale copy gets a conflict and leaves the other finalizers alone', async () => {
      const kube = new FakeKube();
      const stale = kube.seed(COLL, obj());
      await kube.mergePatch(PATH, { metadata: { finalizers: [THEIRS] } });
      const err = await failure(addFinalizer(kube, PATH, stale, OURS));
      expect(isConflict(err)).to.equal(true);
      expect(kube.peek<KubeObject>(PATH)!.metadata.finalizers).to.deep.equal([THEIRS]);
    });
  });

  describe('removeFinalizer', () => {
    const cases: Array<{ name: string; start?: string[]; want: string[] | undefined }> = [
      { name: 'removes ours and keeps the others', start: [THEIRS, OURS], want: [THEIRS] },
      { name: 'leaves an empty list', start: [OURS], want: [] },
      { name: 'does nothing when the object does not hold it', start: [THEIRS], want: [THEIRS] },
    ];
    for (const c of cases)
      it(c.name, async () => {
        const kube = new FakeKube();
        const current = kube.seed(COLL, obj(c.start));
        const after = await removeFinalizer(kube, PATH, current, OURS);
        expect(after?.metadata.finalizers ?? []).to.deep.equal(c.want);
        expect(kube.peek<KubeObject>(PATH)!.metadata.finalizers ?? []).to.deep.equal(c.want);
        expect(kube.writes()).to.have.length(c.start?.includes(OURS) ? 1 : 0);
      });

    it('a stale copy gets a conflict and the finalizer stays', async () => {
      const kube = new FakeKube();
      const stale = kube.seed(COLL, obj([OURS]));
      await kube.mergePatch(PATH, { metadata: { labels: { touched: 'yes' } } });
      const err = await failure(removeFinalizer(kube, PATH, stale, OURS));
      expect(isConflict(err)).to.equal(true);
      expect(kube.peek<KubeObject>(PATH)!.metadata.finalizers).to.deep.equal([OURS]);
    });

    it('on an object being deleted, removing the last finalizer lets it go', async () => {
      const kube = new FakeKube();
      kube.seed(COLL, obj([OURS]));
      const deleting = await kube.delete<KubeObject>(PATH);
      expect(deleting.metadata.deletionTimestamp).to.be.a('string');
      expect(kube.peek(PATH), 'held by the finalizer').to.not.equal(undefined);
      await removeFinalizer(kube, PATH, deleting, OURS);
      expect(kube.peek(PATH)).to.equal(undefined);
    });

    it('on an object already gone, returns undefined', async () => {
      const kube = new FakeKube();
      const current = kube.seed(COLL, obj([OURS]));
      await kube.mergePatch(PATH, { metadata: { finalizers: null } });
      await kube.delete(PATH);
      expect(await removeFinalizer(kube, PATH, current, OURS)).to.equal(undefined);
    });

    it('throws any other error', async () => {
      const kube = new FakeKube();
      const current = kube.seed(COLL, obj([OURS]));
      kube.failNext({ verb: 'mergePatch', path: /vm$/ }, () => new Error('connection reset'));
      const err = await failure(removeFinalizer(kube, PATH, current, OURS));
      expect((err as Error).message).to.equal('connection reset');
    });
  });
});
