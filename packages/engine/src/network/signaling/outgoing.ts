/**
 * The frames that wait to leave for the signaling server: queued for the next batch, or held
 * while the session is suspended (PROTOCOL.md §14); and how they leave as WebSocket messages,
 * cut in order into batches of at most MAX_BATCH_BYTES, since the server closes the connection
 * (1009) on a message over its maxMessageSize (also for the retransmission after a resume).
 */
import { Priority } from "@gmnet/protocol";

/**
 * Largest batch sent as one WebSocket message: half the server's default maxMessageSize (1 MiB),
 * which WELCOME does not announce; frames themselves are at most maxFrameSize (256 KiB) + 12.
 */
export const MAX_BATCH_BYTES = 512 * 1024;

/** Cuts `frames` into batches of at most MAX_BATCH_BYTES, in order; a frame larger than the cap goes alone. */
export function sendInBatches(frames: Uint8Array[], send: (batch: Uint8Array[], bytes: number) => void): void {
  if (frames.length === 1) return send(frames, frames[0]!.length);
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < frames.length; i++) {
    const size = frames[i]!.length;
    if (i > start && bytes + size > MAX_BATCH_BYTES) {
      send(frames.slice(start, i), bytes);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < frames.length) send(frames.slice(start), bytes);
}

/** Frames queued (or held) in order, and their bytes. */
export class OutgoingFrames {
  private frames: Uint8Array[] = [];
  private queuedBytes = 0;

  get bytes(): number {
    return this.queuedBytes;
  }

  get length(): number {
    return this.frames.length;
  }

  push(frame: Uint8Array): void {
    this.frames.push(frame);
    this.queuedBytes += frame.length;
  }

  /** Everything queued, in order; the queue is empty afterwards. */
  take(): Uint8Array[] {
    const frames = this.frames;
    this.clear();
    return frames;
  }

  /** Datagrams queued for the old socket would arrive stale: drop them, keep everything else. */
  dropDatagrams(): void {
    const kept = this.frames.filter((frame) => frame[4] !== Priority.LOW);
    this.frames = kept;
    this.queuedBytes = kept.reduce((sum, frame) => sum + frame.length, 0);
  }

  clear(): void {
    this.frames = [];
    this.queuedBytes = 0;
  }
}
