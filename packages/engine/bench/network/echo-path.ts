/**
 * What every configuration's sending end (B) is to the measurements (measure.ts), and EchoInbox,
 * which turns a callback API's echoes into what B's loop asks for.
 */

/** B's end of an echo: sends numbered messages and hands back the numbers of the echoes. */
export interface EchoPath {
  /** Sends message `seq` of `size` bytes (the number in its first 4 bytes, little-endian). */
  send(seq: number, size: number): void;
  /**
   * Waits at most `timeoutMs` for echoes, then hands every echo that has arrived to `onEcho`
   * (which may send). Returns false when none came in time.
   */
  receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean>;
  /** Deliveries (at either end) that did not come over the configuration's path; reset by the caller. */
  offPath: number;
}

export const now = (): number => performance.now();

/** Echo numbers taken from a callback API (ws, RTCDataChannel) until B's loop asks for them. */
export class EchoInbox {
  private queue: number[] = [];
  private wake: (() => void) | undefined;
  closed: string | undefined;

  push(seq: number): void {
    this.queue.push(seq);
    this.wake?.();
  }

  close(why: string): void {
    this.closed = why;
    this.wake?.();
  }

  async receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean> {
    if (this.queue.length === 0 && this.closed === undefined) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.wake = done;
      });
    }
    if (this.closed !== undefined) throw new Error(this.closed);
    const batch = this.queue;
    this.queue = [];
    for (const seq of batch) onEcho(seq);
    return batch.length > 0;
  }
}
