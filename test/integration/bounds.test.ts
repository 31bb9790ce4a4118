// Objects the API server accepts are objects Berth can write back, on a real API server:
// - the largest HostPool the schema allows (200 hosts, every field at its maximum: built from the
//   schema by test/support/maximal.ts) is created, serves requests on every host, and gets its
//   status written (it used to be refused forever: per-host detail pushed it past etcd's limit);
// - a StoragePool that names a HostPool which does not exist says Ready=False, MissingReference,
//   naming it, and becomes Ready when the HostPool is created; a request that needs it is Pending
//   with an explanation naming the pool and what it lacks, and is served once it is there.
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { HostPool, ResourceRequest, StoragePool } from '../../src/api/index.js';
import { LIMITS } from '../../src/api/kit.js';
import { maximalHostPool, maximalResourceNames } from '../support/maximal.js';
import { createNamespace, kubectl, kubectlOk, useControlPlane } from './harness.js';
import { startOperator, type OperatorProcess } from './operator-process.js';
import { getJson, until } from './wait.js';

const LABELS = { suite: 'bounds' };
const MISSING_POOL = 'bounds-rack-x';
const STORAGE_POOL = 'bounds-shared';

type Condition = { type: string; status: string; reason: string; message: string };
const readyOf = (o: { status?: { conditions?: Condition[] } }) =>
  o.status?.conditions?.find((c) => c.type === 'Ready');

describe('integration: bounded objects and dangling references', function () {
  this.timeout(240_000);
  const cp = useControlPlane();
  const big = maximalHostPool(undefined, { labels: LABELS });
  const bigName = big.metadata.name;
  let ns: string;
  let op: OperatorProcess | undefined;

  before(async () => {
    ns = await createNamespace('bounds');
    // `create`, not `apply`: client-side apply would copy the spec into an annotation, which the
    // API server caps at 256 KiB (docs/api.md, "Bounded objects").
    await kubectlOk(['create', '-f', '-'], { stdin: JSON.stringify(big) });
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'StoragePool',
        metadata: { name: STORAGE_POOL },
        spec: { scope: 'Cluster', hostPool: MISSING_POOL, capacity: '1Ti' },
      }),
    });
    op = await startOperator({
      kubeconfig: cp().kubeconfigPath,
      leaseNamespace: ns,
      leaderElect: false,
      config: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'OperatorConfig',
        profiles: [
          {
            name: 'bounds',
            provisioners: [
              { name: 'rack', type: 'hosts', hostPoolSelector: { matchLabels: LABELS } },
            ],
            hostAllocators: [{ type: 'firstFit' }],
            storageAllocators: [{ type: 'clusterScope' }],
          },
        ],
      }),
    });
  });

  after(async () => {
    await kubectl(['delete', 'rr', '--all', '-n', ns, '--timeout=60s']);
    await op?.stop();
    await kubectl(['delete', 'sp', STORAGE_POOL, '--ignore-not-found']);
    await kubectl(['delete', 'hp', bigName, MISSING_POOL, '--ignore-not-found']);
  });

  it('writes the status of the largest HostPool the schema allows, every host in use', async () => {
    const stored = await getJson<HostPool>(['get', 'hp', bigName]);
    expect(stored.spec.hosts).to.have.length(LIMITS.hosts);
    expect(JSON.stringify(stored.spec).length).to.be.above(700_000);

    // One node on every host, taking every resource the hosts declare, and a few more requests.
    const resources = Object.fromEntries(maximalResourceNames(big).map((r) => [r, '1']));
    const requests = [
      { name: 'fill', count: LIMITS.hosts, maxNodesPerHost: 1 },
      { name: 'one', count: 1 },
      { name: 'two', count: 2 },
    ];
    await kubectlOk(['apply', '-f', '-'], {
      stdin: requests
        .map(({ name, ...spec }) =>
          stringify({
            apiVersion: 'berth.dev/v1alpha1',
            kind: 'ResourceRequest',
            metadata: { name, namespace: ns },
            spec: { profile: 'bounds', resources, ...spec },
          }),
        )
        .join('---\n'),
    });
    for (const { name } of requests) {
      await until(`${name} Ready`, async () => {
        const rr = await getJson<ResourceRequest>(['get', 'rr', name, '-n', ns]);
        return rr.status?.phase === 'Ready' ? rr : undefined;
      });
    }

    const nodes = LIMITS.hosts + 3;
    const line = await until('the pool status counts every node', async () => {
      const out = await kubectlOk([
        'get',
        'hp',
        bigName,
        '-o',
        'jsonpath={.metadata.generation} {.status.observedGeneration} {.status.nodes}',
      ]);
      return out.split(' ')[2] === String(nodes) ? out : undefined;
    });
    const [generation, observed] = line.split(' ');
    expect(observed).to.equal(generation);

    const pool = await getJson<HostPool>(['get', 'hp', bigName]);
    const status = pool.status!;
    expect(readyOf(pool)).to.include({ status: 'True', reason: 'Available' });
    expect(status.hostCount).to.equal(LIMITS.hosts);
    expect(status.hosts).to.have.length(LIMITS.hosts);
    for (const h of status.hosts!) {
      expect(Object.keys(h.allocated ?? {})).to.have.length(LIMITS.hostResources);
      expect(h).not.to.have.property('allocatable');
    }
    expect(JSON.stringify(status)).not.to.match(/\d+[nu]"/);

    // The printer columns still read from single fields.
    const row = (await kubectlOk(['get', 'hp', bigName, '--no-headers'])).trim().split(/\s+/);
    expect(row.slice(0, 3)).to.deep.equal([bigName, big.spec.zone, String(LIMITS.hosts)]);
    expect(op?.logs()).not.to.match(/status write refused|request is too large/);
  });

  it('a StoragePool naming a HostPool that does not exist is not Ready until it does', async () => {
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'needs-volume', namespace: ns },
        spec: { profile: 'bounds', count: 1, volumes: [{ name: 'data', size: '10Gi' }] },
      }),
    });
    const pending = await until('needs-volume Pending', async () => {
      const rr = await getJson<ResourceRequest>(['get', 'rr', 'needs-volume', '-n', ns]);
      return rr.status?.phase === 'Pending' ? rr : undefined;
    });
    expect(pending.status?.explanation?.summary).to.match(
      new RegExp(
        `NoStorage; storage pools that reach no host: ${STORAGE_POOL} \\(hostPool ${MISSING_POOL} does not exist\\)`,
      ),
    );
    const missing = await until('MissingReference', async () => {
      const sp = await getJson<StoragePool>(['get', 'sp', STORAGE_POOL]);
      return readyOf(sp)?.reason === 'MissingReference' ? readyOf(sp) : undefined;
    });
    expect(missing).to.include({
      status: 'False',
      message: `hostPool ${MISSING_POOL} does not exist: the storage pool takes no new volumes`,
    });

    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'HostPool',
        metadata: { name: MISSING_POOL, labels: LABELS },
        spec: {
          zone: 'zone-bounds',
          hosts: [{ name: 'h1', address: '10.77.0.1', capacity: { cpu: '4', memory: '8Gi' } }],
        },
      }),
    });
    const ready = await until('Ready once the HostPool exists', async () => {
      const sp = await getJson<StoragePool>(['get', 'sp', STORAGE_POOL]);
      return readyOf(sp)?.status === 'True' ? readyOf(sp) : undefined;
    });
    expect(ready).to.include({ reason: 'Available' });
    const served = await until('needs-volume Ready on the new pool', async () => {
      const rr = await getJson<ResourceRequest>(['get', 'rr', 'needs-volume', '-n', ns]);
      return rr.status?.phase === 'Ready' ? rr : undefined;
    });
    expect(served.status?.nodes?.[0]).to.include({ hostPool: MISSING_POOL, host: 'h1' });
    expect(served.status?.nodes?.[0]?.volumes?.[0]).to.include({ storagePool: STORAGE_POOL });
    // Its printer columns too: the new pool's CPU column reads allocated/allocatable.
    const row = (await kubectlOk(['get', 'hp', MISSING_POOL, '--no-headers'])).trim().split(/\s+/);
    expect(row.slice(0, 5)).to.deep.equal([MISSING_POOL, 'zone-bounds', '1', '0/4', '0/8Gi']);
  });
});
