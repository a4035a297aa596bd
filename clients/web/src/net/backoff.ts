/* How long to wait before reconnecting (docs/sync.md, "Reconnect"), as libveille's backoff.c:
 * exponential backoff with full jitter. Each wait is drawn uniformly in [0, bound); the bound
 * starts at 0.5 s, doubles after each draw up to 30 s, and starts over after a successful
 * authentication. Full jitter spreads the reconnections of many desks after a server restart
 * instead of having them all knock at the same instants. */

export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_CAP_MS = 30_000;

export class Backoff {
  private boundMs = BACKOFF_FIRST_MS;

  /** random: uniform in [0, 1), as Math.random (jitter needs no secret randomness). */
  constructor(private readonly random: () => number = Math.random) {}

  reset(): void {
    this.boundMs = BACKOFF_FIRST_MS;
  }

  /** The next wait in whole milliseconds, in [0, bound); then the bound doubles (capped). */
  next(): number {
    const bound = this.boundMs;
    const wait = Math.min(Math.max(Math.floor(this.random() * bound), 0), bound - 1);
    this.boundMs = Math.min(bound * 2, BACKOFF_CAP_MS);
    return wait;
  }
}
