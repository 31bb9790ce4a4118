import { expect } from 'chai';
import { explainRequest } from '../../src/cli/explain.js';
import type { ResourceRequest } from '../../src/api/index.js';

const base: ResourceRequest = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'ResourceRequest',
  metadata: { name: 'web', namespace: 'team' },
  spec: { count: 3, minCount: 2, resources: { cpu: '2' }, tags: ['ssd'] },
};

describe('berth explain (text)', () => {
  it('says when a request was never reconciled', () => {
    expect(explainRequest(base)).to.equal(
      'ResourceRequest team/web: not yet reconciled\n  asks: 3 node(s), at least 2, profile default, each cpu=2, tags ssd\n',
    );
  });

  it('lists nodes, conditions and the why, most frequent reasons first', () => {
    const text = explainRequest({
      ...base,
      status: {
        phase: 'Ready',
        ready: '2/3',
        nodes: [
          {
            name: 'web-0',
            provisioner: 'onprem',
            hostPool: 'p',
            host: 'h1',
            address: '10.0.0.1',
            port: 7000,
            state: 'Running',
            volumes: [{ name: 'd', storagePool: 'sp', size: '10Gi' }],
          },
        ],
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'NodesRunning',
            message: '2/3',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
        explanation: {
          summary: '2/3 nodes',
          provisioners: [
            {
              provisioner: 'onprem',
              type: 'hosts',
              asked: 3,
              got: 2,
              reasons: { MaxNodes: 1, 'Insufficient cpu': 4 },
              allocators: [
                {
                  allocator: 'firstFit',
                  considered: 5,
                  chosen: 2,
                  reasons: { 'Insufficient cpu': 4 },
                },
              ],
            },
          ],
          hosts: [{ host: 'p/h2', reason: 'Insufficient cpu' }],
        },
      },
    });
    expect(text).to.include(
      '  web-0  Running  p/h1  10.0.0.1:7000  [onprem]  volumes: d→sp (10Gi)',
    );
    expect(text).to.include('  Ready=True  NodesRunning: 2/3  (since 2026-01-01T00:00:00Z)');
    expect(text).to.include('    reasons: 4 Insufficient cpu, 1 MaxNodes');
    expect(text).to.include('    allocator firstFit: considered 5, chose 2; 4 Insufficient cpu');
    expect(text).to.include('    p/h2: Insufficient cpu');
  });
});
