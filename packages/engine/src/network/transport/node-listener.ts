/**
 * A server socket's real port, in Node (createEngine({ network: { listen } }), docs/NETWORK.md
 * "Real ports"): a TCP listener (node:net) for network_socket_tcp servers, a WebSocket listener
 * (the `ws` package) for network_socket_ws ones. Every accepted connection is handed over as a
 * ByteStream with the client's real address, exactly as the virtual host hands over virtual ones,
 * so one server socket serves native GameMaker clients, GameMaker HTML5 clients and browser tabs.
 *
 * node:net and ws are imported lazily by a computed name, only when a server asks for a real port:
 * browser bundles never see them.
 */
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import type { ByteStream } from "./byte-stream.js";
import { TcpStream, type TcpSocketLike } from "./tcp-stream.js";
import type { WebSocketLike } from "./websocket-like.js";
import { WebSocketStream } from "./websocket-stream.js";

/** What node:net's Server and ws's WebSocketServer have in common, as far as gmnet uses it. */
interface RealServerLike {
  on(event: "listening", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  address(): { port: number } | string | null;
  close(): unknown;
}

interface NetModule {
  createServer(listener: (socket: TcpSocketLike) => void): RealServerLike & { listen(port: number, host: string): unknown };
}

/** The part of the `ws` package's WebSocketServer gmnet uses (pass `WebSocketServer` from "ws"). */
export interface WebSocketServerLike extends RealServerLike {
  on(event: "listening", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "connection", listener: (socket: WebSocketLike, request: { socket: { remoteAddress?: string | undefined; remotePort?: number | undefined } }) => void): unknown;
}

export type WebSocketServerConstructor = new (options: { host: string; port: number; maxPayload: number }) => WebSocketServerLike;

export interface RealListenRequest {
  /** "tcp": plain TCP (native GameMaker clients); "ws": WebSocket (GameMaker HTML5 clients, browsers). */
  kind: "tcp" | "ws";
  host: string;
  /** 0 = any free port. */
  port: number;
  /** ws's WebSocketServer; imported from "ws" when not given. */
  WebSocketServer?: WebSocketServerConstructor | undefined;
  accepted(stream: ByteStream, ip: string, port: number): void;
  /** Bound: `port` is the real one (the chosen one when 0 was asked). */
  listening(port: number): void;
  failed(problem: NetworkFault): void;
}

/** What ws may buffer for one message: the largest message size limit plus a packet header. The socket's own limit applies above it. */
const MAX_WEBSOCKET_PAYLOAD = 64 * 1024 * 1024 + 12;

/** import() by a computed name, so that bundlers leave Node's modules out of browser builds. */
const loadModule = (name: string): Promise<unknown> => import(/* @vite-ignore */ name);

/**
 * Starts listening. Exactly one of listening/failed is called, never synchronously, unless the
 * returned stop function is called first; stop closes the listener (accepted streams stay theirs).
 */
export function listenOnRealPort(request: RealListenRequest): () => void {
  let stopped = false;
  let server: RealServerLike | undefined;
  const where = `${request.host}:${request.port}`;
  const fail = (message: string): void => {
    if (stopped) return;
    stopped = true;
    closeQuietly(server);
    request.failed(fault(NetworkError.LISTEN, `cannot listen on ${where}: ${message}`));
  };
  const watch = (listening: RealServerLike): void => {
    server = listening;
    if (stopped) return closeQuietly(listening);
    let bound = false;
    listening.on("error", (error) => {
      if (!bound) fail(error.message);
    });
    listening.on("listening", () => {
      bound = true;
      if (stopped) return closeQuietly(listening);
      const address = listening.address();
      request.listening(typeof address === "object" && address !== null ? address.port : request.port);
    });
  };
  const open = async (): Promise<void> => {
    if (request.kind === "tcp") {
      const net = (await loadModule("node:net")) as NetModule;
      if (stopped) return;
      const tcp = net.createServer((socket) => request.accepted(new TcpStream(socket), plainAddress(socket.remoteAddress), socket.remotePort ?? 0));
      watch(tcp);
      tcp.listen(request.port, request.host);
      return;
    }
    const WebSocketServer = request.WebSocketServer ?? ((await loadModule("ws")) as { WebSocketServer: WebSocketServerConstructor }).WebSocketServer;
    if (stopped) return;
    const ws = new WebSocketServer({ host: request.host, port: request.port, maxPayload: MAX_WEBSOCKET_PAYLOAD });
    ws.on("connection", (socket, incoming) => {
      socket.binaryType = "arraybuffer";
      request.accepted(new WebSocketStream(socket, { copySends: true }), plainAddress(incoming.socket.remoteAddress), incoming.socket.remotePort ?? 0);
    });
    watch(ws);
  };
  open().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
  return () => {
    stopped = true;
    closeQuietly(server);
  };
}

function closeQuietly(server: RealServerLike | undefined): void {
  try {
    server?.close();
  } catch {
    // not listening
  }
}

/** An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d; scripts get a.b.c.d. */
function plainAddress(address: string | undefined): string {
  if (address === undefined) return "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
