// Seeded randomness for `random` allocators. docs/design.md: no randomness without a seed, and the
// same inputs give the same answer. The generator for one decision is derived from the configured
// seed and what is being placed (owner, node, volume), not from a shared running state, so an
// answer does not depend on what was planned before it or on an operator restart.

/** FNV-1a over the strings, folded into a 32-bit seed. */
export function hashSeed(seed: number, ...parts: readonly string[]): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      h ^= part.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h ^= 0xff; // separator, so ("ab","c") and ("a","bc") differ
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough to shuffle candidates. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A lazy Fisher–Yates permutation of [0, n): each draw costs O(1) and only the positions touched
 * are stored, so taking the first few of 50,000 hosts does not shuffle all of them.
 */
export function* lazyPermutation(
  n: number,
  random: () => number,
): Generator<number, void, undefined> {
  const swapped = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (n - i));
    const vi = swapped.get(i) ?? i;
    const vj = swapped.get(j) ?? j;
    swapped.set(j, vi);
    swapped.delete(i);
    yield vj;
  }
}
