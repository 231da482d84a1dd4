/**
 * At most `maxActive` tasks at once and at most `maxQueued` waiting for a turn; beyond that a
 * task is refused at once instead of piling up (PROTOCOL.md §16.3: the password hasher's queue).
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly maxActive: number,
    private readonly maxQueued: number,
  ) {}

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` when a slot is free; undefined (and `task` never runs) when the queue is full. */
  tryRun<T>(task: () => Promise<T>): Promise<T> | undefined {
    if (this.active < this.maxActive) {
      this.active++;
      return this.runHeld(task);
    }
    if (this.waiting.length >= this.maxQueued) return undefined;
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.runHeld(task));
  }

  /** Runs with a slot already held, and hands the slot to the next waiter (or frees it) after. */
  private async runHeld<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active--;
    }
  }
}
