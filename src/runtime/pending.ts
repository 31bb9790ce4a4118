// The keys waiting in a work queue: first in, first out, or — when the controller gives an
// order — the least key first (a binary heap), so a controller that must serve its objects by
// age or priority does so whatever order the events came in.
export interface Pending<K> {
  readonly length: number;
  push(key: K): void;
  /** Removes and returns the next key. */
  shift(): K | undefined;
  clear(): void;
}

export class Fifo<K> implements Pending<K> {
  private items: K[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }
  push(key: K): void {
    this.items.push(key);
  }
  shift(): K | undefined {
    if (this.head >= this.items.length) return undefined;
    const key = this.items[this.head++];
    // Compact now and then, so a long-lived queue does not keep every key it ever held.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return key;
  }
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class Ordered<K> implements Pending<K> {
  private readonly heap: K[] = [];

  /** `order(a, b) < 0` when `a` goes first; read when a key is queued and taken. */
  constructor(private readonly order: (a: K, b: K) => number) {}

  get length(): number {
    return this.heap.length;
  }
  push(key: K): void {
    const h = this.heap;
    h.push(key);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (this.order(h[i]!, h[parent]!) >= 0) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }
  shift(): K | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.order(h[l]!, h[m]!) < 0) m = l;
        if (r < h.length && this.order(h[r]!, h[m]!) < 0) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
  clear(): void {
    this.heap.length = 0;
  }
}
