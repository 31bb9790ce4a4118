// Pool names the API server accepts are names Berth can write back: a HostPool or StoragePool
// named like a DNS subdomain (dots, longer than 63 characters) serves requests, and the request's
// status — which names the pools — is written (it used to be refused forever, silently).
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { ResourceRequest } from '../../src/api/index.js';
import { createNamespace, kubectl, kubectlOk, useControlPlane } from './harness.js';
import { startOperator, type OperatorProcess } from './operator-process.js';
import { getJson, until } from './wait.js';

const HOST_POOL = `rack.a.${'x'.repeat(70)}.example`;
const STORAGE_POOL = 'shared.volumes.example';

describe('integration: pool names are object names', function () {
  this.timeout(120_000);
  const cp = useControlPlane();
  let ns: string;
  let op: OperatorProcess | undefined;

  before(async () => {
    ns = await createNamespace('names');
    await kubectlOk(['apply', '-f', '-'], {
      stdin: [
        {
          apiVersion: 'berth.dev/v1alpha1',
          kind: 'HostPool',
          metadata: { name: HOST_POOL, labels: { suite: 'names' } },
          spec: {
            zone: 'zone-names',
            hosts: [{ name: 'h1', address: '10.66.0.1', capacity: { cpu: '4', memory: '8Gi' } }],
          },
        },
        {
          apiVersion: 'berth.dev/v1alpha1',
          kind: 'StoragePool',
          metadata: { name: STORAGE_POOL },
          spec: { scope: 'Cluster', hostPool: HOST_POOL, capacity: '100Gi' },
        },
      ]
        .map((o) => stringify(o))
        .join('---\n'),
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
            name: 'names',
            provisioners: [
              {
                name: 'rack',
                type: 'hosts',
                hostPoolSelector: { matchLabels: { suite: 'names' } },
              },
            ],
            hostAllocators: [{ type: 'firstFit' }],
            storageAllocators: [{ type: 'clusterScope' }],
          },
        ],
      }),
    });
  });

  after(async () => {
    await kubectl(['delete', 'rr', '--all', '-n', ns, '--timeout=30s']);
    await op?.stop();
    await kubectl(['delete', 'sp', STORAGE_POOL, '--ignore-not-found']);
    await kubectl(['delete', 'hp', HOST_POOL, '--ignore-not-found']);
  });

  it('binds a request to them and writes their names into its status', async () => {
    await kubectlOk(['apply', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'berth.dev/v1alpha1',
        kind: 'ResourceRequest',
        metadata: { name: 'dotted', namespace: ns },
        spec: {
          profile: 'names',
          count: 1,
          resources: { cpu: '1' },
          volumes: [{ name: 'data', size: '10Gi' }],
          placement: { hostPool: HOST_POOL, storagePool: STORAGE_POOL },
        },
      }),
    });
    const rr = await until('dotted Ready', async () => {
      const r = await getJson<ResourceRequest>(['get', 'rr', 'dotted', '-n', ns]);
      return r.status?.phase === 'Ready' ? r : undefined;
    });
    expect(rr.status?.nodes?.[0]?.hostPool).to.equal(HOST_POOL);
    expect(rr.status?.nodes?.[0]?.volumes?.[0]?.storagePool).to.equal(STORAGE_POOL);
    expect(op?.logs()).not.to.match(/status write refused|Invalid value/);
  });
});
