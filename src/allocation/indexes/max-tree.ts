// A segment tree over a fixed list of hosts (in declared order) holding, per dimension, the
// maximum free amount below each node. "Leftmost host at or after position p whose free amount
// is ≥ the ask in every dimension" then costs O(log n) per step instead of a scan: a subtree whose
// maximum in some dimension is below the ask cannot hold a fitting host and is skipped whole.
//
// Values are float64 approximations of exact bigint amounts. Number() rounding is monotone, so
// `exact ≥ ask` implies `approx(exact) ≥ approx(ask)`: the tree may offer a host that then fails
// the exact check, but never hides one that fits.

export class MaxTree {
  private readonly size: number;
  /** dims × (2 × size) maxima; leaf i of dimension d sits at d * 2size + size + i. */
  private readonly values: Float64Array;

  constructor(
    readonly length: number,
    readonly dims: number,
  ) {
    let size = 1;
    while (size < length) size <<= 1;
    this.size = size;
    this.values = new Float64Array(dims * 2 * size).fill(-Infinity);
  }

  /** Sets leaf `pos` to `leaf[d]` for every dimension and refreshes its ancestors. */
  set(pos: number, leaf: ArrayLike<number>): void {
    const { size, values } = this;
    const stride = 2 * size;
    for (let d = 0; d < this.dims; d++) {
      const base = d * stride;
      let node = size + pos;
      values[base + node] = leaf[d]!;
      node >>= 1;
      while (node >= 1) {
        const l = values[base + 2 * node]!;
        const r = values[base + 2 * node + 1]!;
        const m = l > r ? l : r;
        if (values[base + node] === m) break;
        values[base + node] = m;
        node >>= 1;
      }
    }
  }

  /** Bulk load: leaves[d][pos]; then builds every ancestor once (O(n·dims)). */
  load(leaf: (pos: number, d: number) => number): void {
    const { size, values } = this;
    const stride = 2 * size;
    for (let d = 0; d < this.dims; d++) {
      const base = d * stride;
      for (let i = 0; i < this.length; i++) values[base + size + i] = leaf(i, d);
      for (let node = size - 1; node >= 1; node--) {
        const l = values[base + 2 * node]!;
        const r = values[base + 2 * node + 1]!;
        values[base + node] = l > r ? l : r;
      }
    }
  }

  /**
   * First position in [from, to) whose value is ≥ need[d] for every d in `active`, or -1.
   * `active` lists the dimensions worth checking (those with a positive ask, plus eligibility).
   */
  findFirst(from: number, to: number, need: ArrayLike<number>, active: readonly number[]): number {
    if (from >= to) return -1;
    return this.search(1, 0, this.size, from, Math.min(to, this.length), need, active);
  }

  private feasible(node: number, need: ArrayLike<number>, active: readonly number[]): boolean {
    const stride = 2 * this.size;
    for (let k = 0; k < active.length; k++) {
      const d = active[k]!;
      if (this.values[d * stride + node]! < need[d]!) return false;
    }
    return true;
  }

  private search(
    node: number,
    lo: number,
    hi: number,
    from: number,
    to: number,
    need: ArrayLike<number>,
    active: readonly number[],
  ): number {
    if (hi <= from || lo >= to) return -1;
    if (!this.feasible(node, need, active)) return -1;
    if (hi - lo === 1) return lo;
    const mid = (lo + hi) >> 1;
    const left = this.search(2 * node, lo, mid, from, to, need, active);
    if (left >= 0) return left;
    return this.search(2 * node + 1, mid, hi, from, to, need, active);
  }
}
