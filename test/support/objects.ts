// Objects the controller tests share: a HostPool `rack` of 4-core hosts and an OperatorConfig with
// one `hosts` profile served first fit.
import type { HostPool, OperatorConfig } from '../../src/api/index.js';

/** HostPool `rack`: `hosts` hosts h0, h1, … of 4 CPU / 8Gi; with `state`, h0 is in that state. */
export const rackPool = (hosts: number, state?: 'Maintenance'): HostPool => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'HostPool',
  metadata: { name: 'rack', generation: 1 },
  spec: {
    zone: 'z1',
    hosts: Array.from({ length: hosts }, (_, i) => ({
      name: `h${i}`,
      address: `10.0.0.${i + 1}`,
      capacity: { cpu: '4', memory: '8Gi' },
      ...(state && i === 0 ? { state } : {}),
    })),
  },
});

/** One `default` profile: a `hosts` provisioner over every HostPool, firstFit. */
export const HOSTS_CONFIG = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'OperatorConfig',
  profiles: [
    {
      name: 'default',
      provisioners: [{ name: 'hosts', type: 'hosts' }],
      hostAllocators: [{ type: 'firstFit' }],
    },
  ],
} as OperatorConfig;
