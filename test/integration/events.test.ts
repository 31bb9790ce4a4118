// Events on the real API server: it decides which namespace an Event may live in, so the
// recorder's choice is proven here — namespaced objects in their own namespace, cluster-scoped ones
// (HostPools, StoragePools, a Namespace) only in `default`, as Node events are.
import { expect } from 'chai';
import { KubeRest, loadKubeConfig } from '../../src/kube/rest.js';
import { KubeEventRecorder } from '../../src/runtime/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import { kubectlOk, useControlPlane } from './harness.js';
import { until } from './wait.js';

describe('integration: Events about cluster-scoped objects', function () {
  this.timeout(60_000);
  const cp = useControlPlane();

  it('an Event about a HostPool is accepted and listed in default', async () => {
    const rest = new KubeRest(loadKubeConfig(cp().kubeconfigPath));
    const recorder = new KubeEventRecorder(
      rest,
      { controller: 'berth.dev/operator', instance: 'events-test' },
      silentLogger(),
    );
    const reason = `Probe${Date.now()}`;
    recorder.event(
      { apiVersion: 'berth.dev/v1alpha1', kind: 'HostPool', metadata: { name: 'events-probe' } },
      'Warning',
      reason,
      'Observe',
      'an event about a cluster-scoped object',
    );
    const out = await until('the Event', async () => {
      const text = await kubectlOk(['events', '-n', 'default']);
      return text.includes(reason) ? text : undefined;
    });
    expect(out).to.match(new RegExp(`${reason}\\s+HostPool/events-probe`));
    // Why not the operator's namespace: the API server refuses it (422, involvedObject.namespace).
    const refused = await rest
      .create('/apis/events.k8s.io/v1/namespaces/kube-public/events', {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: `probe.${Date.now()}`, namespace: 'kube-public' },
        eventTime: new Date().toISOString().replace('Z', '000Z'),
        reportingController: 'berth.dev/operator',
        reportingInstance: 'events-test',
        action: 'Observe',
        reason,
        type: 'Warning',
        note: 'elsewhere',
        regarding: { apiVersion: 'berth.dev/v1alpha1', kind: 'HostPool', name: 'events-probe' },
      })
      .then(
        () => 'accepted',
        (err: Error) => err.message,
      );
    expect(refused).to.match(/422/);
    await rest.close();
  });
});
