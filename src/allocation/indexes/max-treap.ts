// An ordered set of hosts (by free amount of one resource) where every subtree also knows the
// maximum free amount of every resource below it. "The host with the least free CPU that still
// has ≥ 2 CPU and ≥ 8Gi of memory free" is then one O(log n) descent: the order answers the CPU
// part, the subtree maxima skip whole subtrees without enough memory. A plain sorted list would
// have to step over every host that has the CPU but not the memory — and packing (bestFit) makes
// exactly those hosts pile up at the front.
//
// A treap: each node's priority is a fixed hash of its id, so the shape is deterministic (no
// randomness) and balanced in expectation. Nodes are small integer ids; the caller supplies the
// order (`cmp`) and the per-dimension values (`value`), which it must not change while the id is
// in the set (remove, change, insert).

const NIL = -1;

/** A fixed 32-bit mix (murmur3 finalizer): well-spread priorities without a random source. */
function priority(id: number): number {
  let h = (id + 0x9e3779b9) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class MaxTreap {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly prio: Uint32Array;
  /** dims × capacity subtree maxima; node t, dimension d at d * capacity + t. */
  private readonly max: Float64Array;
  private root = NIL;
  private count = 0;

  constructor(
    private readonly capacity: number,
    private readonly dims: number,
    private readonly cmp: (a: number, b: number) => number,
    private readonly value: (id: number, d: number) => number,
  ) {
    this.left = new Int32Array(capacity).fill(NIL);
    this.right = new Int32Array(capacity).fill(NIL);
    this.prio = new Uint32Array(capacity);
    for (let i = 0; i < capacity; i++) this.prio[i] = priority(i);
    this.max = new Float64Array(dims * capacity);
  }

  get size(): number {
    return this.count;
  }

  private pull(t: number): void {
    const l = this.left[t]!;
    const r = this.right[t]!;
    const cap = this.capacity;
    for (let d = 0; d < this.dims; d++) {
      let m = this.value(t, d);
      if (l !== NIL) {
        const x = this.max[d * cap + l]!;
        if (x > m) m = x;
      }
      if (r !== NIL) {
        const x = this.max[d * cap + r]!;
        if (x > m) m = x;
      }
      this.max[d * cap + t] = m;
    }
  }

  /** Splits t into (keys < id, keys ≥ id). */
  private split(t: number, id: number): [number, number] {
    if (t === NIL) return [NIL, NIL];
    if (this.cmp(t, id) < 0) {
      const [a, b] = this.split(this.right[t]!, id);
      this.right[t] = a;
      this.pull(t);
      return [t, b];
    }
    const [a, b] = this.split(this.left[t]!, id);
    this.left[t] = b;
    this.pull(t);
    return [a, t];
  }

  private merge(a: number, b: number): number {
    if (a === NIL) return b;
    if (b === NIL) return a;
    if (this.prio[a]! > this.prio[b]!) {
      this.right[a] = this.merge(this.right[a]!, b);
      this.pull(a);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b]!);
    this.pull(b);
    return b;
  }

  private insertAt(t: number, id: number): number {
    if (t === NIL) {
      this.left[id] = NIL;
      this.right[id] = NIL;
      this.pull(id);
      return id;
    }
    if (this.prio[id]! > this.prio[t]!) {
      const [a, b] = this.split(t, id);
      this.left[id] = a;
      this.right[id] = b;
      this.pull(id);
      return id;
    }
    if (this.cmp(id, t) < 0) this.left[t] = this.insertAt(this.left[t]!, id);
    else this.right[t] = this.insertAt(this.right[t]!, id);
    this.pull(t);
    return t;
  }

  private removeAt(t: number, id: number): number {
    if (t === NIL) return NIL;
    if (t === id) return this.merge(this.left[t]!, this.right[t]!);
    if (this.cmp(id, t) < 0) this.left[t] = this.removeAt(this.left[t]!, id);
    else this.right[t] = this.removeAt(this.right[t]!, id);
    this.pull(t);
    return t;
  }

  insert(id: number): void {
    this.root = this.insertAt(this.root, id);
    this.count++;
  }

  remove(id: number): void {
    this.root = this.removeAt(this.root, id);
    this.count--;
  }

  private fitsNode(t: number, need: ArrayLike<number>, active: readonly number[]): boolean {
    for (let k = 0; k < active.length; k++) {
      const d = active[k]!;
      if (this.value(t, d) < need[d]!) return false;
    }
    return true;
  }

  private fitsBelow(t: number, need: ArrayLike<number>, active: readonly number[]): boolean {
    const cap = this.capacity;
    for (let k = 0; k < active.length; k++) {
      const d = active[k]!;
      if (this.max[d * cap + t]! < need[d]!) return false;
    }
    return true;
  }

  /**
   * The first id in order for which `from` holds (monotone: false…false, true…true) and whose
   * values meet `need` in every active dimension; −1 when none.
   */
  first(from: (id: number) => boolean, need: ArrayLike<number>, active: readonly number[]): number {
    const go = (t: number, bounded: boolean): number => {
      if (t === NIL || !this.fitsBelow(t, need, active)) return NIL;
      if (bounded && !from(t)) return go(this.right[t]!, true);
      const l = go(this.left[t]!, bounded);
      if (l !== NIL) return l;
      if (this.fitsNode(t, need, active)) return t;
      return go(this.right[t]!, false);
    };
    return go(this.root, true);
  }

  /**
   * The last id in order for which `before` holds (monotone: true…true, false…false) and whose
   * values meet `need`; −1 when none.
   */
  last(
    before: (id: number) => boolean,
    need: ArrayLike<number>,
    active: readonly number[],
  ): number {
    const go = (t: number, bounded: boolean): number => {
      if (t === NIL || !this.fitsBelow(t, need, active)) return NIL;
      if (bounded && !before(t)) return go(this.left[t]!, true);
      const r = go(this.right[t]!, bounded);
      if (r !== NIL) return r;
      if (this.fitsNode(t, need, active)) return t;
      return go(this.left[t]!, false);
    };
    return go(this.root, true);
  }

  /** Ids in order (tests). */
  toArray(): number[] {
    const out: number[] = [];
    const walk = (t: number): void => {
      if (t === NIL) return;
      walk(this.left[t]!);
      out.push(t);
      walk(this.right[t]!);
    };
    walk(this.root);
    return out;
  }
}
