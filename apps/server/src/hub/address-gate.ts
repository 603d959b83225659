import { RateLimiter } from '../sessions/rate-limit';

export interface AddressLimits {
  /** Sockets open at once from one address. */
  socketsPerAddress: number;
  /** New sockets from one address: a burst, then a steady rate. */
  connectsPerAddress: { burst: number; perSecond: number };
}

/**
 * Admits a hub's sockets per client address: at most so many open at once
 * and so many new ones per second, before any byte of the protocol is read,
 * so one address cannot hold the hub open or churn it.
 */
export class AddressGate {
  private readonly open = new Map<string, number>();
  private readonly connects: RateLimiter;

  constructor(
    private readonly limits: AddressLimits,
    now: () => number,
  ) {
    this.connects = new RateLimiter(limits.connectsPerAddress.burst, limits.connectsPerAddress.perSecond, now);
  }

  /** Whether a new socket from `address` may open; when it may, `release` must follow when it closes. */
  admit(address: string): boolean {
    const open = this.open.get(address) ?? 0;
    if (open >= this.limits.socketsPerAddress || !this.connects.take(address)) return false;
    this.open.set(address, open + 1);
    return true;
  }

  release(address: string): void {
    const open = (this.open.get(address) ?? 1) - 1;
    if (open > 0) this.open.set(address, open);
    else this.open.delete(address);
  }
}
