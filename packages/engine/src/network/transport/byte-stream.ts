/**
 * A reliable, ordered, two-way pipe of messages: a virtual TCP stream through the signaling
 * server, a WebSocket, or an in-engine loopback pair. Sockets are built on this one shape, so the
 * GameMaker wire format and the raw mode work the same over every transport (and a native
 * GameMaker TCP bridge can later carry the same bytes).
 *
 * Messages that arrive before the owner calls `start` are held, so nothing is lost between the
 * moment a transport opens and the moment a socket takes it over.
 */
import { NetworkError, type NetworkFault, fault } from "../errors.js";

/** Why this end closes a stream, as the other end is told: an ordinary close, a refused oversized message, a refused GameMaker handshake. */
export type StreamCloseReason = "closed" | "too-large" | "bad-handshake";

/** What the other end of a stream closed with "too-large" sees, whatever the transport. */
export function peerRefusedTooLarge(): NetworkFault {
  return fault(NetworkError.MESSAGE_TOO_LARGE, "the other end refused a message over its size limit (its network_config_message_size_limit) and closed the connection");
}

/** What the other end of a stream closed with "bad-handshake" sees, whatever the transport. */
export function peerRefusedHandshake(): NetworkFault {
  return fault(NetworkError.HANDSHAKE, "the other end refused the GameMaker handshake (is one side connected with network_connect_raw, or not a GameMaker peer?)");
}

/** The fault the far end's close reason means for this end; undefined for an ordinary close. */
export function peerCloseFault(reason: StreamCloseReason): NetworkFault | undefined {
  if (reason === "too-large") return peerRefusedTooLarge();
  if (reason === "bad-handshake") return peerRefusedHandshake();
  return undefined;
}

export interface StreamHandlers {
  onMessage(data: Uint8Array, text: boolean): void;
  /** The other end or the network closed the stream; not called for a local close(). */
  onClose(fault: NetworkFault): void;
}

export interface ByteStream {
  /** Takes over delivery; messages received so far are handed over at once, in order. */
  start(handlers: StreamHandlers): void;
  /** Sends one message (split in several if longer than the transport carries). False when closed. */
  send(data: Uint8Array, text?: boolean): boolean;
  /** Closes the stream (telling the other end why, where the transport can); idempotent, never throws. */
  close(reason?: StreamCloseReason): void;
  readonly closed: boolean;
  /** Bytes accepted by send but not yet handed to the network. */
  readonly bufferedAmount: number;
}

/** The delivery half every transport shares: buffering until start, and the closed state. */
export abstract class StreamBase implements ByteStream {
  closed = false;
  private handlers: StreamHandlers | undefined;
  private held: Array<{ data: Uint8Array; text: boolean }> = [];
  private heldClose: NetworkFault | undefined;

  abstract send(data: Uint8Array, text?: boolean): boolean;
  abstract get bufferedAmount(): number;
  /** Transport-specific close; called once. */
  protected abstract closeTransport(reason: StreamCloseReason): void;

  start(handlers: StreamHandlers): void {
    this.handlers = handlers;
    const held = this.held;
    this.held = [];
    for (const message of held) handlers.onMessage(message.data, message.text);
    if (this.heldClose !== undefined) handlers.onClose(this.heldClose);
  }

  close(reason: StreamCloseReason = "closed"): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    this.closeTransport(reason);
  }

  /** For the transport: a message arrived. */
  protected deliver(data: Uint8Array, text: boolean): void {
    if (this.closed) return;
    if (this.handlers === undefined) this.held.push({ data, text });
    else this.handlers.onMessage(data, text);
  }

  /** For the transport: the stream ended from the far side or the network. */
  protected ended(fault: NetworkFault): void {
    if (this.closed) return;
    this.closed = true;
    if (this.handlers === undefined) this.heldClose = fault;
    else this.handlers.onClose(fault);
  }
}
