/**
 * When queued frames leave (PROTOCOL.md §4). A priority whose tick rate is 0 (the default) is
 * flushed at the end of the current turn of the event loop: everything the handlers of one turn
 * queued for a client goes out as one WebSocket message, without waiting for anything — an idle
 * server sends at once, a busy one coalesces hundreds of frames. A priority with a tick rate N is
 * flushed N times per second instead (e.g. Low at 20 Hz for background updates, as seed 003 has it).
 */
import { Priority } from "@gmnet/protocol";
import type { ServerConfig } from "../config.js";
import type { ServerClock } from "../server-context.js";
import type { LaneMask } from "./outgoing-queue.js";

export interface Flushable {
  flush(mask: LaneMask): void;
}

interface Schedule {
  mask: LaneMask;
  readonly dirty: Set<Flushable>;
  /** Flushed by a fixed tick rather than at the end of the turn. */
  readonly ticked: boolean;
  /** An end-of-turn flush is already set up. */
  pending: boolean;
}

export class FlushScheduler {
  /** The schedule of each priority (index = Priority). */
  private readonly byPriority: Array<Schedule | undefined> = [];
  private readonly timers = new Set<unknown>();
  private stopped = false;

  constructor(
    config: Pick<ServerConfig, "tickRate" | "highTickRate" | "normalTickRate" | "lowTickRate">,
    private readonly clock: ServerClock,
  ) {
    const rates = [0, config.highTickRate ?? config.tickRate, config.normalTickRate ?? config.tickRate, config.lowTickRate ?? config.tickRate];
    const byRate = new Map<number, Schedule>();
    for (const priority of [Priority.HIGH, Priority.NORMAL, Priority.LOW]) {
      const rate = rates[priority]!;
      let schedule = byRate.get(rate);
      if (schedule === undefined) byRate.set(rate, (schedule = { mask: 0, dirty: new Set(), ticked: rate > 0, pending: false }));
      schedule.mask |= 1 << priority;
      this.byPriority[priority] = schedule;
    }
    for (const [rate, schedule] of byRate) if (rate > 0) this.tick(schedule, 1000 / rate);
  }

  /** `target` queued a frame of `priority`: make sure it is flushed at that priority's next turn or tick. */
  schedule(target: Flushable, priority: number): void {
    const schedule = this.byPriority[priority]!;
    schedule.dirty.add(target);
    if (schedule.ticked || schedule.pending || this.stopped) return;
    schedule.pending = true;
    setImmediate(() => this.run(schedule));
  }

  /** A target that is gone needs no flush. */
  forget(target: Flushable): void {
    for (const schedule of this.byPriority) schedule?.dirty.delete(target);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers.clear();
  }

  /** A fixed tick, from the injected clock: re-armed each time, so a stopped scheduler leaves no timer. */
  private tick(schedule: Schedule, intervalMs: number): void {
    const arm = (): void => {
      const timer = this.clock.setTimeout(() => {
        this.timers.delete(timer);
        if (this.stopped) return;
        this.run(schedule);
        arm();
      }, intervalMs);
      this.timers.add(timer);
    };
    arm();
  }

  private run(schedule: Schedule): void {
    schedule.pending = false;
    // A flush only writes to its own socket, so nothing is added to `dirty` while it runs.
    for (const target of schedule.dirty) target.flush(schedule.mask);
    schedule.dirty.clear();
  }
}
