// The one fake clock (milliseconds): timers fire only when the test advances time.
import type { Clock } from '../../src/support/time.js';

export class FakeClock implements Clock {
  constructor(private t = 0) {}
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return { cancel: () => (this.timers = this.timers.filter((x) => x.id !== id)) };
  }
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = this.timers
        .filter((x) => x.at <= until)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x.id !== due.id);
      this.t = due.at;
      due.fn();
    }
    this.t = until;
  }
  pending(): number {
    return this.timers.length;
  }
}
