// Consecutive-failure breaker: after `threshold` failures in a row the endpoint is skipped for
// `cooldownMs`, so the stack falls through at once instead of paying every timeout again. After
// the cooldown one call is let through; one more failure opens it again, a success closes it.
// The webhook provisioner counts a failed provision and a failed spawn alike, and a provision that
// made nodes only succeeds once they spawn, so a service whose spawns always fail opens it too.
import type { Availability, Clock } from '../types.js';

export class FailureBreaker {
  private failures = 0;
  private openedAt: number | undefined;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly clock: Clock,
  ) {}

  get consecutiveFailures(): number {
    return this.failures;
  }

  availability(): Availability {
    if (this.openedAt === undefined) return { available: true };
    const until = this.openedAt + this.cooldownMs;
    if (this.clock.now() >= until) return { available: true };
    return {
      available: false,
      reason: `cooling down after ${this.failures} consecutive failures until ${new Date(until).toISOString()}`,
    };
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
  }

  failure(): void {
    this.failures++;
    if (this.failures >= this.threshold) this.openedAt = this.clock.now();
  }
}
