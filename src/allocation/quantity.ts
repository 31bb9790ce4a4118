// Kubernetes quantities ("4", "500m", "16Gi", "1.5", "2e3", 1024), parsed exactly into bigint
// nano-units: the finest unit Kubernetes itself keeps, so every valid quantity is represented
// without loss and arithmetic on capacities never drifts. Malformed input throws a QuantityError
// that names the value; nothing here returns NaN.
import { divCeilAbs, parseDecimalPrefix, pow10 } from './decimal.js';
import { QuantityError } from './errors.js';
import type { Quantity } from './model.js';

/** How a quantity was written, so it can be printed back the same way (as Kubernetes does). */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface ParsedQuantity {
  /** The value in nano-units (1 = 10^-9 of the unit): "1" → 1_000_000_000n, "1Ki" → 1024 × 10^9. */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

export const NANOS_PER_UNIT = 1_000_000_000n;

/**
 * Largest magnitude accepted, in units: 2^63 × 1024. Kubernetes' own limit is int64 for most
 * practical uses; a little headroom keeps "8Ei" and friends valid while refusing "1e400".
 */
const MAX_UNITS = (1n << 63n) * 1024n;
const MAX_NANOS = MAX_UNITS * NANOS_PER_UNIT;

// Decimal SI suffixes as powers of ten.
const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

// Binary SI suffixes as powers of 1024.
const BINARY_SUFFIX: Readonly<Record<string, number>> = {
  Ki: 1,
  Mi: 2,
  Gi: 3,
  Ti: 4,
  Pi: 5,
  Ei: 6,
};

const EXPONENT = /^[eE]([+-]?\d{1,4})$/;

function toText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new QuantityError(input, 'not a finite number');
    // The shortest round-trip form ("1e+21", "1.5") is exactly what a YAML/JSON number meant.
    return String(input);
  }
  throw new QuantityError(input, 'expected a string or a number');
}

// Specs repeat the same few strings ("1", "2Gi") thousands of times; remembering recent answers
// skips the regex and bigint work. Bounded, and only valid results are kept.
const CACHE_LIMIT = 4096;
const cache = new Map<string, ParsedQuantity>();

/** Parses a quantity, keeping how it was written. */
export function parseQuantityDetailed(input: Quantity): ParsedQuantity {
  if (typeof input === 'string') {
    const hit = cache.get(input);
    if (hit) return hit;
    const parsed = parse(input);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(input, parsed);
    return parsed;
  }
  return parse(input);
}

function parse(input: Quantity): ParsedQuantity {
  const text = toText(input);
  const prefix = parseDecimalPrefix(text);
  if (!prefix) throw new QuantityError(input, 'must start with a number, e.g. "4", "500m", "16Gi"');
  const { negative, mantissa, scale } = prefix.value;
  const suffix = prefix.rest;

  // value = mantissa × 10^(tenExp - scale) × 1024^binExp, in units; scaled by 10^9 for nanos.
  let tenExp: number;
  let binExp = 0;
  let format: QuantityFormat;
  const decimal = DECIMAL_SUFFIX[suffix];
  const binary = BINARY_SUFFIX[suffix];
  if (decimal !== undefined) {
    tenExp = decimal;
    format = 'DecimalSI';
  } else if (binary !== undefined) {
    tenExp = 0;
    binExp = binary;
    format = 'BinarySI';
  } else {
    const e = EXPONENT.exec(suffix);
    if (!e) throw new QuantityError(input, `unknown suffix "${suffix}"`);
    tenExp = Number(e[1]);
    format = 'DecimalExponent';
  }

  if (mantissa === 0n) return { nanos: 0n, format };
  const shift = tenExp - scale + 9;
  if (shift > 120) throw new QuantityError(input, 'too large');
  let numerator = mantissa * (1n << (10n * BigInt(binExp)));
  let denominator = 1n;
  if (shift >= 0) numerator *= pow10(shift);
  else denominator = pow10(-shift);
  // Finer than a nano-unit: round up, as Kubernetes does, so a request never shrinks.
  let nanos = denominator === 1n ? numerator : divCeilAbs(numerator, denominator);
  if (nanos > MAX_NANOS) throw new QuantityError(input, 'too large');
  if (negative) nanos = -nanos;
  return { nanos, format };
}

/** Parses a quantity into nano-units. */
export function parseQuantity(input: Quantity): bigint {
  return parseQuantityDetailed(input).nanos;
}

/** Like parseQuantity, but refuses negative values (capacities, requests and sizes). */
export function parseNonNegativeQuantity(input: Quantity): bigint {
  const n = parseQuantity(input);
  if (n < 0n) throw new QuantityError(input, 'must not be negative');
  return n;
}

const DECIMAL_BY_EXP: Readonly<Record<number, string>> = {
  [-9]: 'n',
  [-6]: 'u',
  [-3]: 'm',
  0: '',
  3: 'k',
  6: 'M',
  9: 'G',
  12: 'T',
  15: 'P',
  18: 'E',
};
const BINARY_BY_EXP = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/**
 * The canonical text of a nano-unit amount, as Kubernetes prints it: the largest suffix that
 * keeps the number whole ("2k", "1500", "500m", "1536Mi"). BinarySI falls back to DecimalSI for
 * amounts that are not whole units, as Kubernetes does.
 */
export function formatQuantity(nanos: bigint, format: QuantityFormat = 'DecimalSI'): string {
  if (nanos === 0n) return '0';
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  if (format === 'BinarySI' && abs % NANOS_PER_UNIT === 0n) {
    let units = abs / NANOS_PER_UNIT;
    let exp = 0;
    while (exp < 6 && units % 1024n === 0n) {
      units /= 1024n;
      exp += 1;
    }
    return `${sign}${units}${BINARY_BY_EXP[exp]}`;
  }
  // Largest power-of-1000 exponent (in units) that leaves a whole mantissa.
  let exp = -9;
  let mantissa = abs;
  while (exp < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exp += 3;
  }
  if (format === 'DecimalExponent') return `${sign}${mantissa}${exp === 0 ? '' : `e${exp}`}`;
  return `${sign}${mantissa}${DECIMAL_BY_EXP[exp]}`;
}

/** Parse and print back canonically: "1.5Gi" → "1536Mi", "0.5" → "500m", 2048 → "2048". */
export function canonicalQuantity(input: Quantity): string {
  const q = parseQuantityDetailed(input);
  return formatQuantity(q.nanos, q.format);
}

/** Nano-units → units as a JS number (for display and ordering only, never for decisions). */
export function approxUnits(nanos: bigint): number {
  return Number(nanos) / 1e9;
}
