/**
 * A socket's conversation over a ByteStream, in one of GameMaker's two modes:
 *
 * - "gm" (network_connect / network_create_server): the GM:Studio-Connect handshake, then every
 *   network_send_packet travels as a 12-byte 0xDEADC0DE header plus payload, and each packet
 *   arrives as one message however the transport cut the bytes.
 * - "raw" (network_connect_raw / network_create_server_raw): no handshake, bytes as they are,
 *   one message per transport message (text frames flagged as text on WebSockets).
 *
 * network_send_packet always adds the header and network_send_raw never does, whatever the mode,
 * exactly as in GameMaker (mixing them is the script's mistake, and shows as malformed data).
 */
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import type { ByteStream, StreamCloseReason } from "../transport/byte-stream.js";
import { GmClientHandshake, type GmDecoded, GmPacketDecoder, GmServerHandshake, encodeGmPacket } from "./gm-wire.js";

export type WireMode = "gm" | "raw";
export type WireRole = "client" | "server";

export interface ConnectionEvents {
  /** The handshake is done (at once in raw mode): the connection is usable. */
  established(): void;
  message(data: Uint8Array, text: boolean): void;
  /** The stream ended from the far side, the handshake failed, or incoming data broke a limit. */
  closed(problem: NetworkFault): void;
}

export interface ConnectionOptions {
  mode: WireMode;
  role: WireRole;
  /** Largest incoming message (network_config_message_size_limit). */
  maxMessageSize: number;
  events: ConnectionEvents;
}

type Phase = "handshake" | "open" | "closed";

export class SocketConnection {
  private phase: Phase = "handshake";
  private readonly clientHandshake: GmClientHandshake | undefined;
  private readonly serverHandshake: GmServerHandshake | undefined;
  private readonly decoder: GmPacketDecoder | undefined;
  bytesSent = 0;
  bytesReceived = 0;

  constructor(
    private readonly stream: ByteStream,
    private readonly options: ConnectionOptions,
  ) {
    const gm = options.mode === "gm";
    if (gm) this.decoder = new GmPacketDecoder({ maxPacketSize: options.maxMessageSize });
    if (gm && options.role === "client") this.clientHandshake = new GmClientHandshake();
    if (gm && options.role === "server") this.serverHandshake = new GmServerHandshake();
  }

  /** Starts reading; a GameMaker server greets the client at once. */
  start(): void {
    this.stream.start({
      onMessage: (data, text) => this.receive(data, text),
      onClose: (problem) => this.ended(problem),
    });
    if (this.serverHandshake !== undefined) this.write(this.serverHandshake.greeting());
    else if (this.clientHandshake === undefined) this.establish();
  }

  get open(): boolean {
    return this.phase === "open";
  }

  get bufferedAmount(): number {
    return this.stream.bufferedAmount;
  }

  /** network_config_message_size_limit changed for this socket: applies to the next message. */
  setMessageLimit(bytes: number): void {
    this.options.maxMessageSize = bytes;
    if (this.decoder !== undefined) this.decoder.maxPacketSize = bytes;
  }

  /** network_send_packet: header + payload. */
  sendPacket(payload: Uint8Array): boolean {
    return this.phase === "open" && this.write(encodeGmPacket(payload));
  }

  /** network_send_raw: the bytes as they are (as a text frame on WebSockets when `text`). */
  sendRaw(data: Uint8Array, text: boolean): boolean {
    return this.phase === "open" && this.write(data, text);
  }

  close(): void {
    this.phase = "closed";
    this.stream.close();
  }

  private write(data: Uint8Array, text = false): boolean {
    if (!this.stream.send(data, text)) return false;
    this.bytesSent += data.length;
    return true;
  }

  private establish(): void {
    this.phase = "open";
    this.options.events.established();
  }

  private receive(data: Uint8Array, text: boolean): void {
    if (this.phase === "closed") return;
    this.bytesReceived += data.length;
    if (this.phase === "handshake") return this.handshake(data);
    this.deliver(data, text);
  }

  private handshake(data: Uint8Array): void {
    const step = (this.clientHandshake ?? this.serverHandshake)!.push(data);
    // The other end is told why (E_NETWORK_HANDSHAKE there too), not just that the stream ended.
    if (step.error !== undefined) return this.fail(fault(NetworkError.HANDSHAKE, `GameMaker handshake failed: ${step.error}`), "bad-handshake");
    if (step.reply !== undefined) this.write(step.reply);
    if (!step.done) return;
    this.establish();
    if (step.rest !== undefined && step.rest.length > 0 && this.phase === "open") this.deliver(step.rest, false);
  }

  private deliver(data: Uint8Array, text: boolean): void {
    if (this.decoder === undefined) {
      if (data.length > this.options.maxMessageSize) return this.tooLarge(data.length);
      return this.options.events.message(data, text);
    }
    for (const item of this.decoder.push(data)) {
      if (this.phase !== "open") return;
      this.deliverDecoded(item);
    }
  }

  private deliverDecoded(item: GmDecoded): void {
    switch (item.kind) {
      case "packet":
        return this.options.events.message(item.payload, false);
      case "malformed":
        // GameMaker hands bytes that do not start with a packet header over as they are.
        return this.options.events.message(item.bytes, false);
      case "too-large":
        return this.tooLarge(item.size);
    }
  }

  private tooLarge(size: number): void {
    // The other end is told why (E_NETWORK_MESSAGE_TOO_LARGE there too), not just that the stream ended.
    this.fail(fault(NetworkError.MESSAGE_TOO_LARGE, `an incoming message of ${size} bytes is over the limit of ${this.options.maxMessageSize}`), "too-large");
  }

  private fail(problem: NetworkFault, reason: StreamCloseReason = "closed"): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.stream.close(reason);
    this.options.events.closed(problem);
  }

  private ended(problem: NetworkFault): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.options.events.closed(problem);
  }
}
