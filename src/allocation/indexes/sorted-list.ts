// A sorted list of small integers (host indices) under a caller-supplied order, kept in chunks of
// bounded size so insert and remove cost O(√n)-ish memmoves instead of O(n). It backs the
// by-free-capacity orders of bestFit and firstFitLeastConsumed.
//
// The comparator reads keys that live outside the list; a caller must remove an item *before*
// changing its key and insert it again afterwards.

/** Items per chunk before a split; tests pass a small one to exercise splits and merges. */
const CHUNK = 512;

export type Compare = (a: number, b: number) => number;

export class SortedIndexList {
  private chunks: number[][] = [];
  private count = 0;

  constructor(
    private readonly cmp: Compare,
    private readonly chunkSize = CHUNK,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Builds from unsorted items in one go. */
  static from(items: readonly number[], cmp: Compare, chunkSize = CHUNK): SortedIndexList {
    const list = new SortedIndexList(cmp, chunkSize);
    const sorted = [...items].sort(cmp);
    for (let i = 0; i < sorted.length; i += chunkSize) list.chunks.push(sorted.slice(i, i + chunkSize));
    list.count = sorted.length;
    return list;
  }

  /** Index of the first chunk whose last item is ≥ x, or the last chunk. */
  private chunkFor(x: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid]!;
      if (this.cmp(c[c.length - 1]!, x) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound(chunk: readonly number[], x: number, cmp: Compare): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(chunk[mid]!, x) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(x: number): void {
    if (this.chunks.length === 0) {
      this.chunks.push([x]);
      this.count = 1;
      return;
    }
    const ci = this.chunkFor(x);
    const chunk = this.chunks[ci]!;
    chunk.splice(SortedIndexList.lowerBound(chunk, x, this.cmp), 0, x);
    this.count += 1;
    if (chunk.length > this.chunkSize * 2) {
      this.chunks.splice(ci, 1, chunk.slice(0, this.chunkSize), chunk.slice(this.chunkSize));
    }
  }

  /** Removes x (located by its current key); false when it is not there. */
  remove(x: number): boolean {
    if (this.chunks.length === 0) return false;
    const ci = this.chunkFor(x);
    const chunk = this.chunks[ci]!;
    const i = SortedIndexList.lowerBound(chunk, x, this.cmp);
    if (chunk[i] !== x) return false;
    chunk.splice(i, 1);
    this.count -= 1;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  /**
   * Items in ascending order starting at the first one for which `atOrAfter` holds; `atOrAfter`
   * must be monotone along the order (false…false, true…true).
   */
  *ascending(atOrAfter?: (x: number) => boolean): Generator<number, void, undefined> {
    let ci = 0;
    let i = 0;
    if (atOrAfter) {
      let lo = 0;
      let hi = this.chunks.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const c = this.chunks[mid]!;
        if (atOrAfter(c[c.length - 1]!)) hi = mid;
        else lo = mid + 1;
      }
      ci = lo;
      const c = this.chunks[ci];
      if (c) {
        let a = 0;
        let b = c.length;
        while (a < b) {
          const mid = (a + b) >> 1;
          if (atOrAfter(c[mid]!)) b = mid;
          else a = mid + 1;
        }
        i = a;
      }
    }
    for (; ci < this.chunks.length; ci++, i = 0) {
      const c = this.chunks[ci]!;
      for (; i < c.length; i++) yield c[i]!;
    }
  }

  /** Items in descending order. */
  *descending(): Generator<number, void, undefined> {
    for (let ci = this.chunks.length - 1; ci >= 0; ci--) {
      const c = this.chunks[ci]!;
      for (let i = c.length - 1; i >= 0; i--) yield c[i]!;
    }
  }

  toArray(): number[] {
    return this.chunks.flat();
  }
}
