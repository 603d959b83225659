/**
 * When an agent refused as busy should come back (the 503's `Retry-After`):
 * each refusal is booked into the earliest coming second with room left, at
 * most `perSecond` a second. After a node dies its thousands of agents all
 * arrive at once; refused together, they come back spread at the pace a
 * node proves them, instead of in waves of exponential backoff that leave
 * the node idle between them. A node slower than `perSecond` refuses some
 * again and books them later: it corrects itself.
 */
export class RetrySlots {
  /** Whole seconds (since the epoch) → refusals told to come back in it. */
  private readonly booked = new Map<number, number>();

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {}

  /** Seconds from now, at least 1. */
  next(): number {
    const current = Math.floor(this.now() / 1000);
    for (const second of this.booked.keys()) if (second <= current) this.booked.delete(second);
    for (let second = current + 1; ; second += 1) {
      const count = this.booked.get(second) ?? 0;
      if (count < this.perSecond) {
        this.booked.set(second, count + 1);
        return second - current;
      }
    }
  }
}
