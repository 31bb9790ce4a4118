// Exact decimal numbers as written by people: "1.5", ".5", "2.", "-3", and JS numbers turned
// into their shortest round-trip string ("1e+21", "1e-7"). Everything is kept as a bigint over a
// power of ten, so 0.1 + 0.2 is exactly 0.3 and nothing ever becomes NaN.

/** value = sign × mantissa / 10^scale. */
export interface Decimal {
  readonly negative: boolean;
  readonly mantissa: bigint;
  readonly scale: number;
}

/** The leading signed number of `text` and what follows it, or undefined when there is none. */
export interface DecimalPrefix {
  readonly value: Decimal;
  readonly rest: string;
}

// Kubernetes' <signedNumber>: digits, digits.digits, digits., .digits — with an optional sign.
const NUMBER = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))/;

/** Longest mantissa accepted; far above any real quantity, low enough to stop pathological input. */
export const MAX_DIGITS = 64;

export function parseDecimalPrefix(text: string): DecimalPrefix | undefined {
  const m = NUMBER.exec(text);
  if (!m) return undefined;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? m[4] ?? '';
  const digits = (intPart + fracPart).replace(/^0+(?=\d)/, '');
  if (digits.length > MAX_DIGITS) return undefined;
  return {
    value: { negative: m[1] === '-', mantissa: BigInt(digits), scale: fracPart.length },
    rest: text.slice(m[0].length),
  };
}

/** 10^n as a bigint, memoised for the small n quantities use. */
const POWERS: bigint[] = [];
export function pow10(n: number): bigint {
  if (n < 0) throw new RangeError(`pow10(${n})`);
  if (n < 64) {
    let p = POWERS[n];
    if (p === undefined) {
      p = 10n ** BigInt(n);
      POWERS[n] = p;
    }
    return p;
  }
  return 10n ** BigInt(n);
}

/** Integer division rounding away from zero (how Kubernetes rounds a quantity it cannot hold). */
export function divCeilAbs(a: bigint, b: bigint): bigint {
  const negative = a < 0n !== b < 0n;
  const ua = a < 0n ? -a : a;
  const ub = b < 0n ? -b : b;
  const q = (ua + ub - 1n) / ub;
  return negative ? -q : q;
}

/** Integer division rounding towards negative infinity (used for capacities: never round up). */
export function divFloor(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}
