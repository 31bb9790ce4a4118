import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@marcbachmann/cel-js';
import { KINDS, renderCrd } from '../../src/api/index.js';
import { generatedFiles } from '../../src/deploy/generate.js';
import { repoRoot } from '../support/fixtures.js';

type Node = Record<string, unknown>;

/** Every schema node reachable through properties/items/additionalProperties, with its path. */
function* walk(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Node>))
    yield* walk(v, `${path}.${k}`);
  if (node.items && typeof node.items === 'object') yield* walk(node.items as Node, `${path}[]`);
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    yield* walk(node.additionalProperties as Node, `${path}{}`);
}

describe('CRDs', () => {
  it('the committed files are what src/api generates', () => {
    for (const [path, content] of generatedFiles()) {
      expect(
        readFileSync(join(repoRoot, path), 'utf8'),
        `${path} is stale: run make generate`,
      ).to.equal(content);
    }
  });

  for (const def of KINDS) {
    describe(def.kind, () => {
      const crd = renderCrd(def) as Node;
      const version = ((crd.spec as Node).versions as Node[])[0] as Node;
      const root = (version.schema as Node).openAPIV3Schema as Node;
      const spec = (root.properties as Record<string, Node>).spec as Node;
      const status = (root.properties as Record<string, Node>).status as Node;

      it('describes every field of spec and status (kubectl explain)', () => {
        const missing = [...walk(spec, 'spec'), ...walk(status, 'status')]
          .filter(([, n]) => typeof n.description !== 'string' || n.description.length === 0)
          .map(([p]) => p);
        expect(missing).to.deep.equal([]);
      });

      it('is structural: no additionalProperties:false, no const, no propertyNames', () => {
        const text = JSON.stringify(root);
        expect(text).to.not.include('"additionalProperties":false');
        expect(text).to.not.include('"const"');
        expect(text).to.not.include('"propertyNames"');
      });

      it('bounds every string, list and map so CEL cost estimates are finite', () => {
        const unbounded = [...walk(spec, 'spec')]
          .filter(
            ([, n]) =>
              (n.type === 'string' && n.maxLength === undefined && !n.enum) ||
              (n.type === 'array' && n.maxItems === undefined) ||
              (n.type === 'object' &&
                n.additionalProperties !== undefined &&
                n.maxProperties === undefined),
          )
          .map(([p]) => p);
        expect(unbounded).to.deep.equal([]);
      });

      it('has CEL rules that parse', () => {
        const rules = JSON.stringify(root).match(/"rule":"((?:[^"\\]|\\.)*)"/g) ?? [];
        expect(rules.length).to.be.greaterThan(0);
        for (const r of rules) {
          const rule = JSON.parse(`{${r}}`).rule as string;
          expect(() => parse(rule), rule).to.not.throw();
        }
      });

      it('has the status subresource, short name, category and printer columns', () => {
        // A ResourceRequest scales (kubectl scale rr/x --replicas=N): count is its replicas.
        expect(version.subresources).to.deep.equal(
          def.kind === 'ResourceRequest'
            ? {
                status: {},
                scale: {
                  specReplicasPath: '.spec.count',
                  statusReplicasPath: '.status.readyNodes',
                },
              }
            : { status: {} },
        );
        const names = (crd.spec as Node).names as Node;
        expect(names.shortNames).to.deep.equal(def.shortNames);
        expect(names.categories).to.deep.equal(['berth']);
        expect((version.additionalPrinterColumns as Node[]).map((c) => c.name)).to.include('Age');
      });
    });
  }
});
