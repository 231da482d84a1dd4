/**
 * GameMaker delivers results of asynchronous work (file saves, http, network traffic, master services) as async
 * events carrying an `async_load` map. gmnet queues them per engine; a game loop drains the queue
 * once per step with `async_event_dispatch(handler)`, so handlers run at a predictable point of
 * the frame and never in the middle of other game code.
 */
import type { Clock } from "../runtime/clock.js";

/** Event subtypes, with GameMaker's values. */
export const ev_async_web = 62;
export const ev_async_web_networking = 68;
/** master_* results and pushed master events (GameMaker's value for its social/online-services events). */
export const ev_async_social = 70;
export const ev_async_save_load = 72;

export type AsyncLoad = Readonly<Record<string, unknown>>;
export type AsyncEventHandler = (async_load: AsyncLoad, event_type: number) => void;

interface QueuedEvent {
  readonly type: number;
  readonly load: AsyncLoad;
  /** Runs after the handler returns, e.g. to delete the event's data buffer as GameMaker does. */
  readonly release: (() => void) | undefined;
}

export class AsyncEventQueue {
  private events: QueuedEvent[] = [];
  private waiters: Array<() => void> = [];

  constructor(private readonly clock: Clock) {}

  get pending(): number {
    return this.events.length;
  }

  push(type: number, load: AsyncLoad, release?: () => void): void {
    this.events.push({ type, load, release });
    const waiters = this.waiters;
    if (waiters.length > 0) {
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Hands every event queued before the call to `handler`, oldest first, and returns how many.
   * Events queued by the handler itself wait for the next dispatch, so one step cannot loop forever.
   * If the handler throws, that event is still released and the rest stay queued for next time.
   */
  dispatch(handler: AsyncEventHandler): number {
    const batch = this.events;
    this.events = [];
    let handled = 0;
    try {
      for (; handled < batch.length; handled++) {
        const event = batch[handled]!;
        try {
          handler(event.load, event.type);
        } finally {
          event.release?.();
        }
      }
    } finally {
      if (handled + 1 < batch.length) this.events = batch.slice(handled + 1).concat(this.events);
    }
    return handled;
  }

  /** Resolves true as soon as an event is pending, or false after `timeoutMs`. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.events.length > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = (): void => {
        this.clock.clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }
}
