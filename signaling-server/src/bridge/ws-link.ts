/**
 * The client side of a bridged connection whose client is a WebSocket (a GameMaker HTML5 export).
 * From the client: each message's bytes (binary or text) go to the stream in order. To the
 * client: the tab's bytes cut by a GmFramer, one unit per binary message: GameMaker's handshake
 * steps and packets whole when the tab's server speaks GameMaker's protocol, each chunk as it
 * came otherwise (raw).
 */
import type { RawData, WebSocket } from "ws";
import type { ClientLink, ClientLinkEvents } from "./client-link.js";
import type { BridgeEndReason } from "./end-reason.js";
import { GmFramer, GmFramerError } from "./gm-framer.js";

export class WsLink implements ClientLink {
  readonly kind = "websocket";
  readonly framer: GmFramer;
  private ended = false;

  constructor(
    private readonly ws: WebSocket,
    events: ClientLinkEvents,
    maxPacketBytes: number,
  ) {
    this.framer = new GmFramer({ maxPacketBytes });
    ws.binaryType = "nodebuffer";
    ws.on("message", (data: RawData) => {
      if (!this.ended) events.data(toBuffer(data));
    });
    const ended = (reason: BridgeEndReason): void => {
      if (this.ended) return;
      this.ended = true;
      events.end(reason);
    };
    ws.on("close", () => ended("client-closed"));
    ws.on("error", () => ended("client-error"));
  }

  /** Throws GmFramerError for a malformed GameMaker stream, after sending the units before the bad bytes. */
  write(bytes: Uint8Array): void {
    for (const unit of this.framer.push(bytes)) this.ws.send(unit, { binary: true });
    const error = this.framer.error;
    if (error !== undefined) throw new GmFramerError(error);
  }

  get backlog(): number {
    return this.ws.bufferedAmount;
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  end(code = 1000, reason = ""): void {
    this.ended = true;
    this.ws.close(code, reason);
  }

  destroy(): void {
    this.ended = true;
    this.ws.terminate();
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
