// Small helpers shared by the benchmarks.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, `n` at a time. */
export async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, n) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** The p-th percentile (nearest rank) of ascending `xs`. */
export const pct = (xs: number[], p: number): number =>
  xs.length === 0
    ? NaN
    : xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))]!;

/** Rejects after `ms` with `what`; the timer does not keep the process alive. */
export function deadline(ms: number, what: () => string): Promise<never> {
  return new Promise((_, rej) => setTimeout(() => rej(new Error(what())), ms).unref());
}

export function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${flag}: not a positive integer: ${value}`);
  return n;
}
