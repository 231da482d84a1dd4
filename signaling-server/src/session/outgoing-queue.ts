/**
 * A connection's unsent frames, batched per tick: High, then Normal, then Low, each in the order
 * queued. Critical frames bypass the queue (the connection sends them at once). Frames of one
 * virtual socket always share a priority, so batching never reorders a stream.
 */
import { Priority, concatFrames } from "@gmnet/engine/protocol";

export class OutgoingQueue {
  private readonly lanes: Uint8Array[][] = [[], [], [], []];
  private queuedBytes = 0;

  get bytes(): number {
    return this.queuedBytes;
  }

  get empty(): boolean {
    return this.queuedBytes === 0;
  }

  push(frame: Uint8Array, priority: number): void {
    this.lanes[priority]!.push(frame);
    this.queuedBytes += frame.length;
  }

  /** Everything queued, as one WebSocket message, highest priority first; undefined when empty. */
  take(): Uint8Array | undefined {
    if (this.queuedBytes === 0) return undefined;
    const frames: Uint8Array[] = [];
    for (let priority = Priority.HIGH; priority <= Priority.LOW; priority++) {
      const lane = this.lanes[priority]!;
      for (const frame of lane) frames.push(frame);
      lane.length = 0;
    }
    const message = concatFrames(frames, this.queuedBytes);
    this.queuedBytes = 0;
    return message;
  }

  clear(): void {
    for (const lane of this.lanes) lane.length = 0;
    this.queuedBytes = 0;
  }
}
