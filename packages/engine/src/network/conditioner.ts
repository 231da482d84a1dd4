/**
 * Simulated bad networks (network_config_simulate_latency / _jitter / _loss), applied to what
 * this engine sends, so a game can be tried under lag and loss on one machine.
 *
 * Streams stay streams: their data is delayed but never dropped or reordered (each lane keeps
 * its order, as TCP's retransmissions would), while datagrams can be dropped and overtaken.
 */
import type { Clock } from "../runtime/clock.js";

export interface ConditionerSettings {
  latencyMs: number;
  jitterMs: number;
  /** Share of datagrams dropped, 0…1. */
  loss: number;
}

export class LinkConditioner {
  readonly settings: ConditionerSettings = { latencyMs: 0, jitterMs: 0, loss: 0 };
  /** Per ordered lane (a stream socket): its delayed sends, oldest first, run by one timer at a time. */
  private readonly lanes = new WeakMap<object, Array<{ at: number; send: () => void }>>();

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
  ) {}

  get active(): boolean {
    const { latencyMs, jitterMs, loss } = this.settings;
    return latencyMs > 0 || jitterMs > 0 || loss > 0;
  }

  /**
   * Runs `send` now or after the simulated delay; the sends of one `lane` always run in the order
   * given (timers with equal deadlines may fire in any order, so a lane has one queue and one timer).
   */
  stream(lane: object, send: () => void): void {
    let queue = this.lanes.get(lane);
    if (!this.active && queue === undefined) return send();
    const at = this.clock.now() + this.delay();
    if (queue === undefined) {
      this.lanes.set(lane, (queue = [{ at, send }]));
      this.runLane(lane, queue);
    } else {
      queue.push({ at: Math.max(at, queue[queue.length - 1]!.at), send });
    }
  }

  private runLane(lane: object, queue: Array<{ at: number; send: () => void }>): void {
    const now = this.clock.now();
    while (queue.length > 0 && queue[0]!.at <= now) queue.shift()!.send();
    if (queue.length === 0) {
      this.lanes.delete(lane);
      return;
    }
    this.clock.setTimeout(() => this.runLane(lane, queue), queue[0]!.at - now);
  }

  /** Runs `send` later, or never when the datagram is "lost". Returns whether it will be sent. */
  datagram(send: () => void): boolean {
    if (!this.active) {
      send();
      return true;
    }
    if (this.settings.loss > 0 && this.random() < this.settings.loss) return false;
    const delay = this.delay();
    if (delay <= 0) send();
    else this.clock.setTimeout(send, delay);
    return true;
  }

  private delay(): number {
    return this.settings.latencyMs + (this.settings.jitterMs > 0 ? this.random() * this.settings.jitterMs : 0);
  }
}
