/**
 * The server's heartbeat on one open connection (PROTOCOL.md §7): a PING heartbeatIntervalMs
 * after WELCOME and after each PONG; a client that leaves a PING unanswered for
 * heartbeatTimeoutMs is cut.
 */
import { Channel, ControlType, Ping, Pong } from "@gmnet/protocol";
import type { ServerContext } from "../server-context.js";

/** What the heartbeat needs of its connection. */
export interface HeartbeatLink {
  /** Whether the connection is still open (a PING is due only then). */
  isOpen(): boolean;
  /** Sends a frame of the connection's own, at once. */
  sendNow(channel: number, type: number, payload: Uint8Array): void;
  /** The client stopped answering: end the socket without a handshake. */
  unresponsive(): void;
}

export class Heartbeat {
  private timer: unknown;
  private pingNonce = 0;
  private awaitingPong = false;

  constructor(
    private readonly context: ServerContext,
    private readonly link: HeartbeatLink,
  ) {}

  /** The next PING, heartbeatIntervalMs from now. */
  schedule(): void {
    const { clock, config } = this.context;
    this.timer = clock.setTimeout(() => this.ping(), config.heartbeatIntervalMs);
  }

  pong(payload: Uint8Array): void {
    const { nonce } = Pong.decode(payload);
    if (!this.awaitingPong || nonce !== this.pingNonce) return;
    this.awaitingPong = false;
    this.context.clock.clearTimeout(this.timer);
    this.schedule();
  }

  stop(): void {
    this.context.clock.clearTimeout(this.timer);
  }

  private ping(): void {
    if (!this.link.isOpen()) return;
    const { clock, config } = this.context;
    this.pingNonce = (this.pingNonce + 1) >>> 0;
    this.awaitingPong = true;
    this.link.sendNow(Channel.CONTROL, ControlType.PING, Ping.encode({ nonce: this.pingNonce, serverTime: clock.wallNow?.() ?? Date.now() }));
    this.timer = clock.setTimeout(() => {
      // The peer is unresponsive: no close handshake, cut it now so its session detaches or ends promptly.
      if (this.awaitingPong) this.link.unresponsive();
    }, config.heartbeatTimeoutMs);
  }
}
