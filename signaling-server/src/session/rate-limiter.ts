/** Token bucket: `rate` tokens per second, holding at most `burst`. Pure; time comes from the caller. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes `count` tokens if available; false means the caller is over its rate. */
  take(now: number, count = 1): boolean {
    if (this.rate <= 0) return true;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /**
   * Spends `count` tokens even if that runs into debt (the bytes already arrived); returns how
   * many ms until the balance is back to zero, 0 when there is no debt. For flow control: the
   * caller stops reading for that long.
   */
  debit(now: number, count: number): number {
    if (this.rate <= 0) return 0;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= count;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }
}
