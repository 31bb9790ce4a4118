import { expect } from 'chai';
import { join } from 'node:path';
import { validateDocument, formatIssue } from '../../src/api/index.js';
import { evaluateRules } from '../../src/api/cel.js';
import { IMMUTABLE_SPEC_FIELDS, ResourceRequestSpec } from '../../src/api/resourcerequest.js';
import { QUANTITY_PATTERN, type CelRule } from '../../src/api/kit.js';
import {
  invalidCases,
  loadDocuments,
  namesField,
  repoRoot,
  yamlFiles,
} from '../support/fixtures.js';

describe('api validation', () => {
  describe('examples/', () => {
    const files = yamlFiles(join(repoRoot, 'examples'), true);
    it('has the inventory the README describes', () => {
      const docs = files.flatMap(loadDocuments);
      const of = (kind: string) => docs.filter((d) => d.kind === kind);
      const hosts = of('HostPool').flatMap((p) => (p.spec as { hosts: unknown[] }).hosts);
      expect(of('HostPool')).to.have.length(3);
      expect(hosts).to.have.length(12);
      expect(of('StoragePool')).to.have.length(4);
      expect(
        new Set(of('StoragePool').map((p) => (p.spec as { scope: string }).scope)),
      ).to.have.keys('Host', 'Cluster', 'Zone');
      // `kubectl apply -f examples/` applies six; examples/preemption/ holds a seventh, applied
      // after them (make demo), that the recursive walk of berth simulate/validate reads too.
      expect(of('ResourceRequest')).to.have.length(7);
      const preemption = files
        .filter((f) => f.startsWith(join(repoRoot, 'examples/preemption') + '/'))
        .flatMap(loadDocuments);
      expect(
        preemption.map((d) => `${d.kind}/${(d.metadata as { name: string }).name}`),
      ).to.deep.equal(['ResourceRequest/demo-day']);
      expect(
        new Set(of('ResourceRequest').map((r) => (r.metadata as { namespace: string }).namespace))
          .size,
      ).to.equal(2);
      expect(of('OperatorConfig')).to.have.length(1);
      expect(of('PriorityClass').map((d) => (d.metadata as { name: string }).name)).to.deep.equal([
        'berth-batch',
        'berth-interactive',
      ]);
      expect(of('TenantQuota')).to.have.length(2);
    });
    for (const file of files) {
      it(`${file.slice(repoRoot.length + 1)} validates`, () => {
        for (const doc of loadDocuments(file)) {
          if (doc.apiVersion !== 'berth.dev/v1alpha1') continue;
          expect(validateDocument(doc).map(formatIssue)).to.deep.equal([]);
        }
      });
    }
  });

  for (const folder of ['invalid', 'invalid-config'] as const) {
    describe(`test/fixtures/${folder}`, () => {
      const cases = invalidCases(folder);
      it('is a real corpus', () =>
        expect(cases.length).to.be.greaterThan(folder === 'invalid' ? 30 : 10));
      for (const c of cases) {
        it(`${c.file} is rejected naming ${c.expect}`, () => {
          const issues = validateDocument(c.doc);
          expect(issues, 'no error at all').to.have.length.greaterThan(0);
          const named = issues.filter((i) => namesField(i.path, c.expect));
          expect(
            named,
            `errors were: ${issues.map(formatIssue).join('; ')}`,
          ).to.have.length.greaterThan(0);
        });
      }
    });
  }

  describe('messages', () => {
    const rr = (spec: unknown) => ({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ResourceRequest',
      metadata: { name: 'a', namespace: 'ns' },
      spec,
    });
    const table: Array<[string, unknown, string]> = [
      [
        'minCount above count',
        { count: 2, minCount: 3 },
        'spec.minCount: minCount must not exceed count',
      ],
      ['unknown field', { count: 1, extra: 1 }, 'spec.extra: unknown field'],
      ['missing count', {}, 'spec.count: Required value'],
      [
        'negative quantity',
        { count: 1, resources: { cpu: '-1' } },
        'spec.resources.cpu: invalid quantity "-1"',
      ],
      [
        'non-quantity type',
        { count: 1, resources: { cpu: [] } },
        'spec.resources.cpu: must be an integer or a string',
      ],
    ];
    for (const [name, spec, message] of table) {
      it(name, () => {
        const lines = validateDocument(rr(spec)).map(formatIssue);
        expect(
          lines.some((l) => l.startsWith(message)),
          lines.join('\n'),
        ).to.equal(true);
      });
    }
    it('rejects an unknown kind and apiVersion, naming them', () => {
      expect(
        validateDocument({ apiVersion: 'berth.dev/v1alpha1', kind: 'Nope' })[0]?.path,
      ).to.equal('kind');
      expect(validateDocument({ apiVersion: 'v1', kind: 'HostPool' })[0]?.path).to.equal(
        'apiVersion',
      );
      expect(validateDocument('text')[0]?.message).to.match(/object/);
    });
  });

  describe('CEL rules', () => {
    const rules = (ResourceRequestSpec as unknown as { 'x-kubernetes-validations': CelRule[] })[
      'x-kubernetes-validations'
    ];
    const spec = ResourceRequestSpec as unknown as Record<string, unknown>;
    const messages = (next: Record<string, unknown>, old?: Record<string, unknown>) =>
      evaluateRules(rules, spec, next, old).map((f) => `${f.rule.fieldPath}: ${f.rule.message}`);
    it('lets count, minCount and the expiry change, nothing else of the spec', () => {
      expect(messages({ count: 2 })).to.deep.equal([]);
      expect(
        messages({ count: 2, activeDeadlineSeconds: 600 }, { count: 2, activeDeadlineSeconds: 60 }),
      ).to.deep.equal([]);
      expect(messages({ count: 2, expiresAt: '2027-01-01T00:00:00Z' }, { count: 2 })).to.deep.equal(
        [],
      );
      expect(messages({ count: 3, minCount: 1 }, { count: 2 })).to.deep.equal([]);
      expect(messages({ count: 2, profile: 'vm' }, { count: 2, profile: 'default' })).to.deep.equal(
        [
          '.profile: profile is immutable; only count, minCount, activeDeadlineSeconds and expiresAt may change (delete and recreate the ResourceRequest to change it)',
        ],
      );
      // Adding or removing an optional field is a change too.
      expect(messages({ count: 2, tags: ['ssd'] }, { count: 2 })).to.have.length(1);
      expect(messages({ count: 2 }, { count: 2, resources: { cpu: '1' } })).to.deep.equal([
        '.resources: resources is immutable; only count, minCount, activeDeadlineSeconds and expiresAt may change (delete and recreate the ResourceRequest to change it)',
      ]);
      expect(
        messages(
          { count: 2, resources: { cpu: '1' }, volumes: [{ name: 'a', size: '1Gi' }] },
          { count: 2, resources: { cpu: '2' }, volumes: [{ name: 'a', size: '1Gi' }] },
        ),
      ).to.have.length(1);
    });
    it('refuses setting, changing or removing priorityClassName once created', () => {
      const refused = [
        '.priorityClassName: priorityClassName is immutable; only count, minCount, activeDeadlineSeconds and expiresAt may change (delete and recreate the ResourceRequest to change it)',
      ];
      const low = { count: 2, priorityClassName: 'low' };
      expect(messages({ count: 2, priorityClassName: 'high' }, low)).to.deep.equal(refused);
      expect(messages({ count: 2, priorityClassName: 'high' }, { count: 2 })).to.deep.equal(
        refused,
      );
      expect(messages({ count: 2 }, low)).to.deep.equal(refused);
      // Unchanged, it does not stand in the way of a resize.
      expect(messages({ count: 3, priorityClassName: 'low' }, low)).to.deep.equal([]);
      // On create there is no old object: any valid class may be named.
      expect(messages({ count: 2, priorityClassName: 'high' })).to.deep.equal([]);
    });
    it('names every spec field but the size and the expiry as immutable', () => {
      const mutable = ['count', 'minCount', 'activeDeadlineSeconds', 'expiresAt'];
      const fields = Object.keys(spec.properties as object).filter((f) => !mutable.includes(f));
      expect([...IMMUTABLE_SPEC_FIELDS].sort()).to.deep.equal(fields.sort());
    });
    it('compares integers as integers', () => {
      expect(evaluateRules(rules, spec, { count: 5, minCount: 5 })).to.deep.equal([]);
      expect(evaluateRules(rules, spec, { count: 5, minCount: 6 })).to.have.length(1);
    });
  });

  describe('quantity pattern', () => {
    const re = new RegExp(QUANTITY_PATTERN);
    for (const ok of ['0', '4', '500m', '16Gi', '1.5', '.5', '2e3', '1E-3', '100M', '+5', '10Ki']) {
      it(`accepts ${ok}`, () => expect(re.test(ok)).to.equal(true));
    }
    for (const bad of ['-1', '16GB', '1.5.5', 'Gi', '', '1 Gi', '5mi', '0x10']) {
      it(`rejects ${JSON.stringify(bad)}`, () => expect(re.test(bad)).to.equal(false));
    }
  });
});
