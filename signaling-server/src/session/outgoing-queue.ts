/**
 * A session's unsent frames, one FIFO lane per priority (High, Normal, Low). A flush takes some
 * lanes, highest priority first, each in the order queued; Critical frames bypass the queue (the
 * session sends them at once). Frames of one virtual socket always share a priority, so batching
 * never reorders a stream.
 */
import { Priority } from "@gmnet/protocol";

/** A set of priorities as bits: bit p stands for Priority p. */
export type LaneMask = number;
export const ALL_LANES: LaneMask = (1 << Priority.HIGH) | (1 << Priority.NORMAL) | (1 << Priority.LOW);

export class OutgoingQueue {
  private readonly lanes: Uint8Array[][] = [[], [], [], []];
  private readonly laneBytes = [0, 0, 0, 0];
  private queuedBytes = 0;

  get bytes(): number {
    return this.queuedBytes;
  }

  get empty(): boolean {
    return this.queuedBytes === 0;
  }

  push(frame: Uint8Array, priority: number): void {
    this.lanes[priority]!.push(frame);
    this.laneBytes[priority]! += frame.length;
    this.queuedBytes += frame.length;
  }

  /** Appends the frames of the lanes in `mask` to `out`, highest priority first, and empties those lanes. */
  takeInto(out: Uint8Array[], mask: LaneMask = ALL_LANES): void {
    for (let priority = Priority.HIGH; priority <= Priority.LOW; priority++) {
      const lane = this.lanes[priority]!;
      if ((mask & (1 << priority)) === 0 || lane.length === 0) continue;
      for (const frame of lane) out.push(frame);
      lane.length = 0;
      this.queuedBytes -= this.laneBytes[priority]!;
      this.laneBytes[priority] = 0;
    }
  }

  /** Drops the queued frames of one lane (datagrams for a client that is away). */
  clearLane(priority: number): void {
    this.queuedBytes -= this.laneBytes[priority]!;
    this.laneBytes[priority] = 0;
    this.lanes[priority]!.length = 0;
  }

  clear(): void {
    for (let priority = 0; priority < this.lanes.length; priority++) this.clearLane(priority);
  }
}
