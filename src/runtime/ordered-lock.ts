// A lock granted in an order, not in arrival order: of everyone waiting when it frees, the least
// (by `order`) gets it. A free lock is not granted at once but on the next turn of the event
// loop, so callers that arrive together (workers handed a burst of keys) are all weighed, and
// the first to ask is not the first served unless it also comes first. Generic: the request
// reconciler uses it so that requests competing for the same freed capacity plan by priority.

interface Waiter<T> {
  order: T;
  grant: () => void;
}

export class OrderedLock<T> {
  private held = false;
  private granting = false;
  private readonly waiting: Waiter<T>[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Resolves with the release function once this caller's turn has come. */
  acquire(order: T): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({
        order,
        grant: () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.held = false;
            this.schedule();
          });
        },
      });
      this.schedule();
    });
  }

  /** How many wait (for tests). */
  get queued(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    if (this.held || this.granting || this.waiting.length === 0) return;
    this.granting = true;
    setImmediate(() => {
      this.granting = false;
      if (this.held || this.waiting.length === 0) return;
      let best = 0;
      for (let i = 1; i < this.waiting.length; i++)
        if (this.compare(this.waiting[i]!.order, this.waiting[best]!.order) < 0) best = i;
      const [next] = this.waiting.splice(best, 1);
      this.held = true;
      next!.grant();
    });
  }
}
