// hostPoolSelector: metav1.LabelSelector semantics over HostPool labels.
import { expect } from 'chai';
import type { ConfigIssue } from '../../src/provisioning/index.js';
import { compileSelector } from '../../src/provisioning/hosts/selector.js';

function compile(raw: unknown) {
  const issues: ConfigIssue[] = [];
  const match = compileSelector(raw, 'sel', issues);
  return { match, issues };
}

describe('hostPoolSelector', () => {
  const onprem = { tier: 'onprem', rack: 'r1' };
  const cloud = { tier: 'cloud' };
  const none = {};

  const cases: Array<[string, unknown, [boolean, boolean, boolean]]> = [
    ['absent', undefined, [true, true, true]],
    ['empty', {}, [true, true, true]],
    ['matchLabels', { matchLabels: { tier: 'onprem' } }, [true, false, false]],
    [
      'matchLabels, two keys',
      { matchLabels: { tier: 'onprem', rack: 'r2' } },
      [false, false, false],
    ],
    [
      'In',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['cloud', 'x'] }] },
      [false, true, false],
    ],
    [
      'NotIn (absent key matches)',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['cloud'] }] },
      [true, false, true],
    ],
    ['Exists', { matchExpressions: [{ key: 'rack', operator: 'Exists' }] }, [true, false, false]],
    [
      'DoesNotExist',
      { matchExpressions: [{ key: 'rack', operator: 'DoesNotExist', values: [] }] },
      [false, true, true],
    ],
    [
      'matchLabels and matchExpressions together (all must hold)',
      {
        matchLabels: { tier: 'onprem' },
        matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['r1'] }],
      },
      [false, false, false],
    ],
  ];
  for (const [what, raw, expected] of cases) {
    it(`matches by ${what}`, () => {
      const { match, issues } = compile(raw);
      expect(issues).to.deep.equal([]);
      expect([match(onprem), match(cloud), match(none)]).to.deep.equal(expected);
    });
  }

  it('does not treat inherited properties as labels', () => {
    const { match } = compile({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] });
    expect(match({})).to.equal(false);
  });

  it('reports every problem with its path and then selects nothing', () => {
    const { match, issues } = compile({
      matchLabels: [],
      matchExpressions: [{ key: '', operator: 'In', values: [1] }, 'x'],
      other: 1,
    });
    expect(issues).to.deep.equal([
      { path: 'sel.other', message: 'unknown field' },
      { path: 'sel.matchLabels', message: 'must be a map of strings' },
      { path: 'sel.matchExpressions[0].key', message: 'required, a non-empty string' },
      { path: 'sel.matchExpressions[0].values', message: 'must be a list of strings' },
      { path: 'sel.matchExpressions[0].values', message: 'required, non-empty, for operator In' },
      { path: 'sel.matchExpressions[1]', message: 'must be an object' },
    ]);
    expect(match(onprem)).to.equal(false);
    expect(compile('tier=onprem').issues).to.deep.equal([
      { path: 'sel', message: 'must be an object (a LabelSelector)' },
    ]);
  });
});
