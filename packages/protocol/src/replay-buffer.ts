/**
 * One direction of a resumable session (PROTOCOL.md §14): the sequenced frames this end has
 * transmitted and the other end has not yet acknowledged, oldest first. The server and the
 * engine keep one each, for what they send; after a reconnect the other end says how many of
 * our frames it received, and `since` hands back exactly the ones it is missing.
 *
 * Numbers are implicit: the n-th sequenced frame of the session is number n (u32, wrapping;
 * compared in serial-number arithmetic, RFC 1982). The buffer is bounded by bytes: past the bound
 * the oldest frames are evicted, and a resume that would need them is refused (`since` answers
 * undefined) instead of delivering a stream with a hole in it.
 */
export class ReplayBuffer {
  /** Number of the last sequenced frame recorded (0 before the first). */
  sent = 0;
  private frames: Uint8Array[] = [];
  private head = 0;
  private held = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes held for replay now. */
  get bytes(): number {
    return this.held;
  }

  /** Frames held for replay now. */
  get length(): number {
    return this.frames.length - this.head;
  }

  /** Number of the oldest frame still held, minus one: the smallest `received` that `since` can serve. */
  get base(): number {
    return (this.sent - this.length) >>> 0;
  }

  /** Records the next sequenced frame as transmitted; evicts the oldest ones past the byte bound. */
  record(frame: Uint8Array): void {
    this.sent = (this.sent + 1) >>> 0;
    this.frames.push(frame);
    this.held += frame.length;
    while (this.held > this.maxBytes && this.length > 0) this.dropOldest();
  }

  /** The other end received every frame up to `received`: forget them. Numbers outside what was sent are ignored. */
  acknowledge(received: number): void {
    const count = (received - this.base) >>> 0;
    if (count > this.length) return;
    for (let i = 0; i < count; i++) this.dropOldest();
  }

  /**
   * The frames after `received`, in order, or undefined when the other end claims more than was
   * sent, or needs frames already evicted.
   */
  since(received: number): Uint8Array[] | undefined {
    const skip = (received - this.base) >>> 0;
    if (skip > this.length) return undefined;
    return this.frames.slice(this.head + skip);
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.held = 0;
  }

  private dropOldest(): void {
    this.held -= this.frames[this.head]!.length;
    this.frames[this.head] = EMPTY;
    this.head++;
    // Compact now and then, so the array does not grow without bound while the head moves on.
    if (this.head >= 1024 && this.head * 2 >= this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
