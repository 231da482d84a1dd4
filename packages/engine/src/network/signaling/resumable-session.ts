/**
 * The engine's half of the resumable session (PROTOCOL.md §14; the server's half is
 * signaling-server/src/session/client-session.ts): the session's id and resume window, the
 * sequenced frames we sent that the server has not acknowledged (kept for replay), the count of
 * sequenced frames we received and when to acknowledge them, and the suspension between a
 * dropped socket and the RESUME that carries the session on. SignalingClient owns the socket and
 * decides when a session begins, is suspended, resumes or is forgotten; this holds what it needs.
 */
import { AckPolicy, ReplayBuffer, concatFrames, encodeAckFrame, isSequenced, isSequencedFrame } from "@gmnet/protocol";
import type { Clock } from "../../runtime/clock.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";

/** What the session needs of the connection it rides on. */
export interface SessionLink {
  /** Whether the connection is open (not connecting, suspended or closed). */
  isOpen(): boolean;
  /** Sends bytes at once, outside any batch. */
  sendNow(bytes: Uint8Array): void;
}

export class ResumableSession {
  /** The session's id, "" while there is none (a RESUME with "" asks for a new one). */
  id = "";
  /** Sequenced frames received from the server, and the count last acknowledged. */
  received = 0;
  /** The socket dropped and the session waits for RESUME: since when (clock time). */
  suspendedAt: number | undefined;
  private replay: ReplayBuffer | undefined;
  private windowMs = 0;
  private acknowledged = 0;
  private ackTimer: unknown;
  private windowTimer: unknown;

  constructor(
    private readonly clock: Clock,
    private readonly link: SessionLink,
  ) {}

  /** The socket dropped and the session waits to be resumed. */
  get suspended(): boolean {
    return this.suspendedAt !== undefined;
  }

  /** Bytes kept for replay until the server acknowledges them. */
  get replayBytes(): number {
    return this.replay?.bytes ?? 0;
  }

  /** A new session the server made resumable (its RESUMED gave a window). */
  begin(id: string, windowMs: number, maxHeldBytes: number): void {
    this.id = id;
    this.windowMs = windowMs;
    this.replay = new ReplayBuffer(maxHeldBytes);
  }

  /** What the server missed since it received `received` of ours, when we were suspended and still hold it all. */
  missedSince(received: number): Uint8Array[] | undefined {
    return this.suspended ? this.replay?.since(received) : undefined;
  }

  /** The server acknowledged `received` of our sequenced frames: they need not be kept. */
  acknowledge(received: number): void {
    this.replay?.acknowledge(received);
  }

  /** Counts a frame received from the server (sequenced ones of a resumable, open session). */
  countReceived(channel: number, type: number): void {
    if (this.replay !== undefined && this.link.isOpen() && isSequenced(channel, type)) this.received = (this.received + 1) >>> 0;
  }

  /** Sends a batch, keeping its sequenced frames for replay and carrying the ACK along when one is due. */
  sendBatch(frames: Uint8Array[], bytes: number): void {
    const replay = this.replay;
    let batch = frames;
    if (replay !== undefined) {
      for (const frame of batch) if (isSequencedFrame(frame)) replay.record(frame);
      // Piggyback the acknowledgement on a batch once a few frames are due (the timer takes care
      // of a trickle, so a ping-pong does not pay for an ACK in every message).
      if (((this.received - this.acknowledged) >>> 0) >= AckPolicy.PIGGYBACK_FRAMES) {
        this.acknowledged = this.received;
        const ack = encodeAckFrame(this.received);
        batch = [...batch, ack];
        bytes += ack.length;
      }
    }
    this.link.sendNow(batch.length === 1 ? batch[0]! : concatFrames(batch, bytes));
  }

  /** The ACK rides on our next batch; alone only past AckPolicy.EVERY_FRAMES, or when the timer (armed once per AckPolicy.DELAY_MS, not per message) finds some due. */
  scheduleAck(): void {
    if (this.replay === undefined || !this.link.isOpen() || this.received === this.acknowledged) return;
    if (((this.received - this.acknowledged) >>> 0) >= AckPolicy.EVERY_FRAMES) return this.acknowledgeNow();
    this.ackTimer ??= this.clock.setTimeout(() => this.acknowledgeNow(), AckPolicy.DELAY_MS);
  }

  private acknowledgeNow(): void {
    this.ackTimer = undefined;
    if (!this.link.isOpen() || this.received === this.acknowledged) return;
    this.acknowledged = this.received;
    this.link.sendNow(encodeAckFrame(this.received));
  }

  /** The socket is gone: no ACK timer without one. */
  stopAckTimer(): void {
    if (this.ackTimer !== undefined) this.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  /** Starts waiting for the resume; `expired` runs when the resume window passes first. */
  suspend(expired: (problem: NetworkFault) => void): void {
    this.suspendedAt = this.clock.now();
    this.windowTimer = this.clock.setTimeout(
      () => expired(fault(NetworkError.NOT_RECOVERED, `the connection to the signaling server was down for longer than the ${this.windowMs} ms resume window`)),
      this.windowMs,
    );
  }

  endSuspension(): void {
    if (this.windowTimer !== undefined) this.clock.clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    this.suspendedAt = undefined;
  }

  /** No session any more: nothing is kept for it. */
  forget(): void {
    this.endSuspension();
    this.id = "";
    this.replay = undefined;
    this.received = this.acknowledged = 0;
  }
}
