import { describe, expect, it } from "vitest";
import { AsyncEventQueue } from "../src/events/async-events.js";
import { type Clock, createEngine, createMemoryStorage } from "../src/index.js";
import { freshEngine } from "./helpers.js";

/** A clock whose timers fire only when the test says so. */
function manualClock(): Clock & { fire(): void } {
  let timers: Array<() => void> = [];
  return {
    now: () => 0,
    setTimeout: (callback) => {
      timers.push(callback);
      return callback;
    },
    clearTimeout: (handle) => {
      timers = timers.filter((timer) => timer !== handle);
    },
    fire: () => {
      const due = timers;
      timers = [];
      due.forEach((timer) => timer());
    },
  };
}

describe("async event queue", () => {
  it("dispatches oldest first and leaves events queued by handlers for the next dispatch", () => {
    const clock = manualClock();
    const queue = new AsyncEventQueue(clock);
    queue.push(1, { id: 1 });
    queue.push(2, { id: 2 });
    const seen: number[] = [];
    expect(queue.dispatch((load) => {
      seen.push(load.id as number);
      queue.push(3, { id: 3 });
    })).toBe(2);
    expect(seen).toEqual([1, 2]);
    expect(queue.pending).toBe(2);
  });

  it("releases an event's resources even when the handler throws, and keeps the rest", () => {
    const queue = new AsyncEventQueue(manualClock());
    const released: number[] = [];
    queue.push(1, { id: 1 }, () => released.push(1));
    queue.push(1, { id: 2 }, () => released.push(2));
    queue.push(1, { id: 3 }, () => released.push(3));
    expect(() => queue.dispatch((load) => {
      if (load.id === 2) throw new Error("script bug");
    })).toThrow("script bug");
    expect(released).toEqual([1, 2]);
    expect(queue.pending).toBe(1);
    const later: unknown[] = [];
    queue.dispatch((load) => later.push(load.id));
    expect(later).toEqual([3]);
  });

  it("wait resolves true when an event arrives and false at the timeout", async () => {
    const clock = manualClock();
    const queue = new AsyncEventQueue(clock);
    const arrived = queue.wait(1000);
    queue.push(1, {});
    expect(await arrived).toBe(true);
    queue.dispatch(() => undefined);
    const timedOut = queue.wait(1000);
    clock.fire();
    expect(await timedOut).toBe(false);
  });

  it("engines have separate queues", async () => {
    // Memory storage: the default (./data/files in Node) would write the saved file into the repository.
    const a = createEngine({ storage: createMemoryStorage(), clock: manualClock() });
    const b = freshEngine();
    const buffer = a.buffer_create(1, a.buffer_fixed, 1);
    expect(b.buffer_exists(buffer)).toBe(false);
    a.buffer_save_async(buffer, "x", 0, 1);
    expect(await a.async_event_wait(1000)).toBe(true);
    expect(b.async_event_pending()).toBe(0);
    expect(() => a.async_event_dispatch("nope" as never)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
  });
});
