import { expect } from 'chai';
import {
  QuantityError,
  canonicalQuantity,
  formatQuantity,
  parseQuantity,
  parseQuantityDetailed,
  type Quantity,
} from '../../src/allocation/index.js';

const G = 1_000_000_000n; // nanos per unit

describe('allocation/quantity', () => {
  describe('parses exactly into nano-units', () => {
    const cases: Array<[Quantity, bigint, string]> = [
      ['4', 4n * G, 'DecimalSI'],
      ['500m', 500_000_000n, 'DecimalSI'],
      ['16Gi', 16n * 1024n ** 3n * G, 'BinarySI'],
      ['1.5', 1_500_000_000n, 'DecimalSI'],
      ['2e3', 2000n * G, 'DecimalExponent'],
      ['2E3', 2000n * G, 'DecimalExponent'],
      ['1E', 10n ** 18n * G, 'DecimalSI'],
      ['1e-3', 1_000_000n, 'DecimalExponent'],
      [1024, 1024n * G, 'DecimalSI'],
      [0.1, 100_000_000n, 'DecimalSI'],
      [1e21, 10n ** 21n * G, 'DecimalExponent'],
      ['0', 0n, 'DecimalSI'],
      ['.5', 500_000_000n, 'DecimalSI'],
      ['5.', 5n * G, 'DecimalSI'],
      ['+3', 3n * G, 'DecimalSI'],
      ['-3', -3n * G, 'DecimalSI'],
      ['1n', 1n, 'DecimalSI'],
      ['1u', 1000n, 'DecimalSI'],
      ['1k', 1000n * G, 'DecimalSI'],
      ['1M', 10n ** 6n * G, 'DecimalSI'],
      ['1G', 10n ** 9n * G, 'DecimalSI'],
      ['1T', 10n ** 12n * G, 'DecimalSI'],
      ['1P', 10n ** 15n * G, 'DecimalSI'],
      ['1Ki', 1024n * G, 'BinarySI'],
      ['1Mi', 1024n ** 2n * G, 'BinarySI'],
      ['1Ti', 1024n ** 4n * G, 'BinarySI'],
      ['1Pi', 1024n ** 5n * G, 'BinarySI'],
      ['8Ei', 8n * 1024n ** 6n * G, 'BinarySI'],
      ['0.1Ki', 102_400_000_000n, 'BinarySI'],
      // Finer than a nano-unit rounds up, as Kubernetes does.
      ['0.1n', 1n, 'DecimalSI'],
      ['1e-12', 1n, 'DecimalExponent'],
      ['007', 7n * G, 'DecimalSI'],
    ];
    for (const [input, nanos, format] of cases) {
      it(`${JSON.stringify(input)} → ${nanos} (${format})`, () => {
        expect(parseQuantityDetailed(input)).to.deep.equal({ nanos, format });
      });
    }

    it('adds without float drift: 0.1 + 0.2 = 0.3', () => {
      expect(parseQuantity('0.1') + parseQuantity('0.2')).to.equal(parseQuantity('0.3'));
    });
  });

  describe('refuses malformed input with a QuantityError naming the value', () => {
    const bad: unknown[] = [
      '',
      ' 1',
      '1 ',
      '1gi',
      '1K',
      '1KiB',
      'abc',
      '1.2.3',
      '1e',
      '--1',
      '.',
      'e3',
      '1e1.5',
      NaN,
      Infinity,
      -Infinity,
      null,
      undefined,
      {},
      [],
      true,
      '1e400',
      '99999999999999999999999999Ei',
    ];
    for (const input of bad) {
      it(typeof input === 'string' ? JSON.stringify(input) : String(input), () => {
        let err: unknown;
        try {
          parseQuantity(input as Quantity);
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(QuantityError);
        expect(Object.is((err as QuantityError).value, input)).to.equal(true);
        expect((err as Error).message).to.include('invalid quantity');
      });
    }
  });

  describe('formats canonically, as Kubernetes prints', () => {
    const cases: Array<[Quantity, string]> = [
      ['1.5Gi', '1536Mi'],
      ['0.5', '500m'],
      ['1500', '1500'],
      [2000, '2k'],
      ['2e3', '2e3'],
      ['100m', '100m'],
      ['1024Mi', '1Gi'],
      ['1536', '1536'],
      ['0.1Ki', '102400m'],
      ['1000Ki', '1000Ki'],
      ['0', '0'],
      ['-2k', '-2k'],
      ['1n', '1n'],
      ['1000000', '1M'],
    ];
    for (const [input, out] of cases) {
      it(`${JSON.stringify(input)} → ${out}`, () => expect(canonicalQuantity(input)).to.equal(out));
    }

    it('round-trips whatever it prints', () => {
      for (const v of [1n, 999n, 1000n, 123_456_789_000n, 17_179_869_184_000_000_000n]) {
        for (const f of ['DecimalSI', 'BinarySI', 'DecimalExponent'] as const) {
          expect(parseQuantity(formatQuantity(v, f))).to.equal(v);
        }
      }
    });
  });
});
