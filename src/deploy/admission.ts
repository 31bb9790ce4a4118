// The MutatingAdmissionPolicy that adds `berth.dev/release` to a ResourceRequest at create time
// when its profile has an external provisioner, so the operator binds it in one pass without a
// finalizer patch of its own (docs/install.md, "Writes per binding"). The profiles come from the
// `remote-profiles` key of the operator's ConfigMap (the policy's param), which the chart and
// manifests/ render next to config.yaml from the same profiles; when the key is stale or the
// policy is not installed, the operator adds the finalizer itself (one more write).
import { FINALIZER } from '../api/index.js';

export const REMOTE_PROFILES_KEY = 'remote-profiles';
export const POLICY_NAME = 'berth-release-finalizer';

const expression = [
  `(has(object.spec.profile) ? object.spec.profile : 'default') in`,
  `params.data['${REMOTE_PROFILES_KEY}'].split(',')`,
  `? Object{metadata: Object.metadata{finalizers: ['${FINALIZER}']}}`,
  `: Object{}`,
].join(' ');

export function releaseFinalizerPolicy(
  configMap: { name: string; namespace: string },
  labels: Record<string, string>,
  name = POLICY_NAME,
): unknown[] {
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicy',
      metadata: { name, labels },
      spec: {
        paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['berth.dev'],
              apiVersions: ['*'],
              operations: ['CREATE'],
              resources: ['resourcerequests'],
            },
          ],
        },
        // Fail: a request of a remote profile created without the finalizer is still safe (the
        // operator adds it before provisioning), but a policy that cannot run is worth seeing.
        failurePolicy: 'Fail',
        reinvocationPolicy: 'Never',
        mutations: [{ patchType: 'ApplyConfiguration', applyConfiguration: { expression } }],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicyBinding',
      metadata: { name, labels },
      spec: {
        policyName: name,
        paramRef: { ...configMap, parameterNotFoundAction: 'Allow' },
      },
    },
  ];
}

/** The policy's mutation, for the chart template (rendered verbatim). */
export const POLICY_EXPRESSION = expression;
