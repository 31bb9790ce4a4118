// A labelled HostPool of small hosts, as the integration suites create them: h1, h2, … of 4 CPU
// and 8Gi at `<subnet>.1`, `<subnet>.2`, … Each suite uses its own name, label and subnet.
import { stringify } from 'yaml';
import { kubectlOk } from './harness.js';

export function applyHostPool(o: {
  name: string;
  labels: Record<string, string>;
  zone: string;
  hosts: number;
  subnet: string;
}): Promise<string> {
  return kubectlOk(['apply', '-f', '-'], {
    stdin: stringify({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'HostPool',
      metadata: { name: o.name, labels: o.labels },
      spec: {
        zone: o.zone,
        hosts: Array.from({ length: o.hosts }, (_, i) => ({
          name: `h${i + 1}`,
          address: `${o.subnet}.${i + 1}`,
          capacity: { cpu: '4', memory: '8Gi' },
        })),
      },
    }),
  });
}
