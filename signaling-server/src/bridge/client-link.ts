/** The client's side of a bridged connection as a transport: a plain TCP socket here, a WebSocket in ws-link.ts. */
import type { Socket } from "node:net";
import type { BridgeEndReason } from "./end-reason.js";

/** The client's side of a bridged connection: a TCP socket, or a WebSocket (ws-link.ts). */
export interface ClientLink {
  readonly kind: "tcp" | "websocket";
  /** Tab → client. May throw GmFramerError (a WebSocket client and a malformed GameMaker stream). */
  write(bytes: Uint8Array): void;
  /** Bytes written and not sent yet. */
  readonly backlog: number;
  pause(): void;
  resume(): void;
  /** An orderly end (TCP FIN; WebSocket close with `code`). */
  end(code?: number, reason?: string): void;
  destroy(): void;
}

/** What a link reports to its connection. */
export interface ClientLinkEvents {
  data(chunk: Buffer): void;
  end(reason: BridgeEndReason): void;
}

export class TcpLink implements ClientLink {
  readonly kind = "tcp";

  constructor(
    private readonly socket: Socket,
    events: ClientLinkEvents,
  ) {
    socket.on("data", (chunk: Buffer) => events.data(chunk));
  }

  write(bytes: Uint8Array): void {
    // A copy: the payload may be a view of the tab's WebSocket message.
    this.socket.write(Buffer.from(bytes));
  }

  get backlog(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
