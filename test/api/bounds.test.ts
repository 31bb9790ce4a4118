// Bounded objects (docs/api.md): the largest HostPool the schema allows, with the largest status
// the operator writes for it, fits what the API server stores. etcd refuses a value over 1.5 MiB
// (its default --max-request-bytes, which the test control plane keeps); kube-apiserver's own
// 3 MiB body limit is never the one that bites. The API server drops managedFields rather than
// refuse an object they would push over (seen on v1.37), so they are not counted; annotations are,
// at their own limit (256 KiB), since `kubectl apply` and other tools put the spec there.
//
// test/integration/bounds.test.ts creates the same pool on a real API server and gets its status
// written; this file says why it fits, and fails as soon as a bound is raised past the budget.
import { expect } from 'chai';
import { HostPoolStatus, formatIssue, validateDocument } from '../../src/api/index.js';
import { LIMITS } from '../../src/api/kit.js';
import { HostsBackend } from '../../src/allocation/service.js';
import { hostPoolStatus } from '../../src/serving/pool-status.js';
import {
  MAXIMAL_POOL_NAME,
  maximal,
  maximalHostPool,
  maximalResourceNames,
} from '../support/maximal.js';

const ETCD_MAX_VALUE = 1.5 * 1024 * 1024;
const ANNOTATIONS_MAX = 256 * 1024;
/** uid, timestamps, generation, labels, finalizers: generous. */
const OTHER_METADATA = 16 * 1024;
const BUDGET = ETCD_MAX_VALUE - ANNOTATIONS_MAX - OTHER_METADATA;

const NOW = new Date('2026-03-01T12:00:00Z');
const size = (o: unknown) => Buffer.byteLength(JSON.stringify(o));

/** Every host holds one node that takes every resource the host has. */
function fullyUsed(pool: ReturnType<typeof maximalHostPool>): HostsBackend {
  const backend = new HostsBackend();
  expect(backend.setInventory([pool])).to.deep.equal([]);
  const resources = Object.fromEntries(maximalResourceNames(pool).map((r) => [r, '1']));
  const problems = backend.loadRequest({
    metadata: { namespace: 'team', name: 'fill' },
    spec: { count: pool.spec.hosts.length, resources },
    status: {
      nodes: pool.spec.hosts.map((h, i) => ({
        name: `fill-${i}`,
        provisioner: 'rack',
        hostPool: pool.metadata.name,
        host: h.name,
        address: h.address,
        port: 30001,
        state: 'Running',
      })),
    },
  } as Parameters<HostsBackend['loadRequest']>[0]);
  expect(problems).to.deep.equal([]);
  return backend;
}

describe('bounded objects: the largest HostPool and its status fit the API server', () => {
  const usable = maximalHostPool(MAXIMAL_POOL_NAME, { labels: { suite: 'bounds' } });
  const longest = maximalHostPool(MAXIMAL_POOL_NAME, { usable: false });

  it('the maximal pool is one the schema accepts, at the bounds of src/api/kit.ts', () => {
    for (const pool of [usable, longest])
      expect(validateDocument(pool).map(formatIssue)).to.deep.equal([]);
    expect(usable.spec.hosts).to.have.length(LIMITS.hosts);
    const host = usable.spec.hosts[0]!;
    expect(Object.keys(host.capacity)).to.have.length(LIMITS.hostResources);
    expect(Object.keys(host.capacity)[0]).to.have.length(LIMITS.resourceName);
    expect(host.tags).to.have.length(LIMITS.hostTags);
    expect(host.address).to.have.length(LIMITS.address);
    expect(usable.metadata.name).to.have.length(LIMITS.subdomain);
  });

  it('the largest status the schema allows (one Ready condition, as written) fits beside the largest spec', () => {
    const status = maximal(HostPoolStatus, {
      override: (path) =>
        path === 'conditions'
          ? [
              {
                type: 'Ready',
                status: 'False',
                reason: 'MissingReference',
                message: 'm'.repeat(LIMITS.message),
                lastTransitionTime: '2026-03-01T12:00:00Z',
                observedGeneration: Number.MAX_SAFE_INTEGER,
              },
            ]
          : undefined,
    });
    const total = size({ ...longest, status });
    expect(total, `spec ${size(longest.spec)} + status ${size(status)}`).to.be.at.most(BUDGET);
  });

  it('the status the operator writes for it, every host full, is valid and fits', () => {
    const backend = fullyUsed(usable);
    const status = hostPoolStatus(
      { ...usable, metadata: { ...usable.metadata, generation: 1 } },
      backend,
      NOW,
    );
    const pool = { ...usable, status };
    expect(validateDocument(pool).map(formatIssue)).to.deep.equal([]);
    expect(status.nodes).to.equal(LIMITS.hosts);
    expect(status.hosts).to.have.length(LIMITS.hosts);
    expect(Object.keys(status.hosts![0]!.allocated!)).to.have.length(LIMITS.hostResources);
    expect(size(pool)).to.be.at.most(BUDGET);
    // Per host, only what the spec does not say: no allocatable.
    expect(status.hosts![0]).to.have.keys('name', 'nodes', 'allocated');
  });

  it('an idle pool lists no host: per-host detail only where it helps', () => {
    const idle = new HostsBackend();
    idle.setInventory([usable]);
    const empty = hostPoolStatus(usable, idle, NOW);
    expect(empty.hosts).to.equal(undefined);
    expect(empty.hostCount).to.equal(LIMITS.hosts);
    expect(size(empty)).to.be.below(16 * 1024);
  });
});
