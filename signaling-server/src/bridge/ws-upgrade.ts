/**
 * WebSocket clients on a bridge port (GameMaker HTML5 exports: network_connect with
 * network_socket_ws). The bridge reads a connection's first bytes: an HTTP `GET` request whose
 * header asks for `Upgrade: websocket` is a WebSocket client, a TLS ClientHello a TLS client
 * (whose decrypted bytes are read the same way again), anything else is a plain TCP client
 * (sniffClient). A WebSocket client's socket, with the bytes already read put back, goes to an
 * http.Server that never listens (its request parser), whose 'upgrade' hands it to a `ws`
 * WebSocketServer in noServer mode.
 */
import { type IncomingMessage, type Server as HttpServer, type ServerResponse, createServer as createHttpServer } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";

/** The longest HTTP request header read while deciding; a longer one makes the connection plain TCP. */
export const MAX_UPGRADE_HEADER_BYTES = 8 * 1024;

const GET = Buffer.from("GET ", "latin1");
const HEADER_END = Buffer.from("\r\n\r\n", "latin1");
const UPGRADE_WEBSOCKET = /^upgrade[ \t]*:[ \t]*websocket[ \t]*$/im;

export type ClientKind = "tcp" | "websocket" | "tls";

/**
 * What a connection's first bytes say it is: with `tls`, "tls" for the header of a TLS handshake
 * record (a ClientHello: 0x16, then version 0x03 0x00–0x04); "more" while they are a prefix of
 * that header, of `GET `, or an unfinished request header that starts with it. Without `tls` (no
 * certificate), a ClientHello is "tcp" like any other bytes.
 */
export function sniffClient(bytes: Uint8Array, tls = true): ClientKind | "more" {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (tls) {
    const hello = sniffTls(head);
    if (hello !== "no") return hello === "yes" ? "tls" : "more";
  }
  const start = Math.min(head.length, GET.length);
  if (!head.subarray(0, start).equals(GET.subarray(0, start))) return "tcp";
  if (head.length < GET.length) return "more";
  const end = head.indexOf(HEADER_END);
  if (end < 0) return head.length > MAX_UPGRADE_HEADER_BYTES ? "tcp" : "more";
  if (end > MAX_UPGRADE_HEADER_BYTES) return "tcp";
  return UPGRADE_WEBSOCKET.test(head.subarray(0, end).toString("latin1")) ? "websocket" : "tcp";
}

/** TLS record content type "handshake": the first byte of a ClientHello. */
const TLS_HANDSHAKE = 0x16;

/** Whether bytes start with a TLS handshake record header (for a log line when TLS is not configured). */
export function looksLikeTls(bytes: Uint8Array): boolean {
  return sniffTls(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) === "yes";
}

function sniffTls(head: Buffer): "yes" | "no" | "more" {
  if (head.length === 0 || head[0] !== TLS_HANDSHAKE) return "no";
  if (head.length >= 2 && head[1] !== 0x03) return "no";
  if (head.length >= 3 && head[2]! > 0x04) return "no";
  return head.length >= 3 ? "yes" : "more";
}

export class WsUpgrader {
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly waiting = new WeakMap<Duplex, (ws: WebSocket) => void>();

  /** `maxPayload`: the largest message a client may send (larger closes with 1009). */
  constructor(maxPayload: number) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false, clientTracking: false });
    this.http = createHttpServer();
    this.http.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const done = this.waiting.get(socket);
      this.waiting.delete(socket);
      if (done === undefined) return socket.destroy();
      // On a bad handshake ws answers 400 and destroys the socket: the connection ends on 'close'.
      this.wss.handleUpgrade(request, socket, head, (ws) => done(ws));
    });
    // A GET with `Upgrade: websocket` but no `Connection: Upgrade`.
    this.http.on("request", (_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(426, { Connection: "close", "Content-Type": "text/plain", Upgrade: "websocket" });
      response.end("This port takes GameMaker clients: plain TCP or a WebSocket upgrade.\n");
    });
    this.http.on("clientError", (_error: Error, socket: Duplex) => socket.destroy());
  }

  /**
   * Parses the request on `socket` (`head`: the bytes already read from it, put back first) and
   * calls `done` with the WebSocket once the handshake is answered. The socket must be paused.
   */
  upgrade(socket: Socket, head: Buffer, done: (ws: WebSocket) => void): void {
    this.waiting.set(socket, done);
    socket.unshift(head);
    this.http.emit("connection", socket);
    socket.resume();
  }
}
