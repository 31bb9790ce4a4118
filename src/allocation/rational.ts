// Exact ratios for overprovisioning factors and disable thresholds. The CRDs carry them as JSON
// numbers (1.5, 0.85); comparing `allocated / total > 0.85` in floating point would let a
// placement slip past the threshold by rounding, so they become num/den bigints once, here.
import { parseDecimalPrefix, pow10 } from './decimal.js';

export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

export const ONE: Ratio = { num: 1n, den: 1n };

/**
 * The exact value of the decimal a JS number prints as (0.85 → 85/100). Undefined for NaN,
 * infinities and numbers whose decimal form is absurdly long.
 */
export function ratioOf(value: number): Ratio | undefined {
  if (!Number.isFinite(value)) return undefined;
  const text = String(value);
  const prefix = parseDecimalPrefix(text);
  if (!prefix) return undefined;
  let exponent = 0;
  if (prefix.rest !== '') {
    const e = /^e([+-]?\d+)$/.exec(prefix.rest);
    if (!e) return undefined;
    exponent = Number(e[1]);
  }
  const { negative, mantissa, scale } = prefix.value;
  const signed = negative ? -mantissa : mantissa;
  const shift = exponent - scale;
  if (Math.abs(shift) > 400) return undefined;
  return shift >= 0 ? { num: signed * pow10(shift), den: 1n } : { num: signed, den: pow10(-shift) };
}

export function isPositive(r: Ratio): boolean {
  return r.num > 0n;
}

/** floor(amount × r), for allocatable capacity: overprovisioning never invents a fraction. */
export function scaleFloor(amount: bigint, r: Ratio): bigint {
  const p = amount * r.num;
  const q = p / r.den;
  return p % r.den !== 0n && p < 0n ? q - 1n : q;
}

/** Whether `part / whole > r`, exactly; a zero whole counts as exceeded once part is positive. */
export function exceeds(part: bigint, whole: bigint, r: Ratio): boolean {
  if (whole <= 0n) return part > 0n;
  return part * r.den > r.num * whole;
}
