/**
 * ws / wss sockets: a real WebSocket to any URL, as a ByteStream. Binary messages stay binary,
 * text messages arrive as their UTF-8 bytes flagged as text (GameMaker's message_type).
 */
import type { Clock } from "../../runtime/clock.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import { StreamBase, type StreamCloseReason, peerRefusedHandshake, peerRefusedTooLarge } from "./byte-stream.js";
import { type CloseEventLike, type MessageEventLike, WS_OPEN, type WebSocketConstructor, type WebSocketLike, messageBytes } from "./websocket-like.js";

export interface WebSocketStreamOptions {
  /**
   * Send a copy of each message: for ws's server-side sockets, which may hold the caller's bytes
   * until the kernel takes them (a browser's WebSocket and ws's client copy them anyway).
   */
  copySends?: boolean;
}

export class WebSocketStream extends StreamBase {
  constructor(
    private readonly socket: WebSocketLike,
    private readonly options: WebSocketStreamOptions = {},
  ) {
    super();
    socket.onmessage = (event: MessageEventLike) => {
      const message = messageBytes(event.data);
      if (message !== undefined) this.deliver(message.bytes, message.text);
    };
    socket.onclose = (event: CloseEventLike) => this.ended(closeFault(event));
    socket.onerror = () => {}; // onclose follows with the code
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  send(data: Uint8Array, text = false): boolean {
    if (this.closed || this.socket.readyState !== WS_OPEN) return false;
    this.socket.send(text ? new TextDecoder().decode(data) : this.options.copySends === true ? data.slice() : data);
    return true;
  }

  protected closeTransport(reason: StreamCloseReason): void {
    this.socket.onclose = null;
    this.socket.onmessage = null;
    try {
      if (reason === "too-large") this.socket.close(MESSAGE_TOO_BIG, "message over the size limit");
      else if (reason === "bad-handshake") this.socket.close(PROTOCOL_ERROR, "bad GameMaker handshake");
      else this.socket.close(1000, "network_destroy");
    } catch {
      // already closing
    }
  }
}

export interface WebSocketOpenRequest {
  WebSocket: WebSocketConstructor;
  url: string;
  protocols: string[];
  timeoutMs: number;
  clock: Clock;
  opened(stream: WebSocketStream): void;
  failed(fault: NetworkFault): void;
}

/** Opens a WebSocket; exactly one of opened/failed is called, never synchronously. Returns a cancel function. */
export function openWebSocket(request: WebSocketOpenRequest): () => void {
  const { clock } = request;
  let settled = false;
  let socket: WebSocketLike | undefined;
  const settle = (): boolean => {
    if (settled) return false;
    settled = true;
    clock.clearTimeout(timer);
    return true;
  };
  const abandon = (): boolean => {
    if (!settle()) return false;
    if (socket !== undefined) {
      socket.onopen = socket.onclose = null;
      // ws reports closing a connecting socket as an error event; it must have a listener.
      socket.onerror = () => {};
      try {
        socket.close();
      } catch {
        // not open yet
      }
    }
    return true;
  };
  const fail = (problem: NetworkFault): void => {
    if (abandon()) request.failed(problem);
  };
  const timer = clock.setTimeout(() => fail(fault(NetworkError.TIMEOUT, `no WebSocket connection to ${request.url} within ${request.timeoutMs} ms`)), request.timeoutMs);
  try {
    socket = new request.WebSocket(request.url, request.protocols.length > 0 ? request.protocols : undefined);
  } catch (error) {
    const problem = fault(NetworkError.WEBSOCKET, `cannot open ${request.url}: ${(error as Error).message}`);
    queueMicrotask(() => fail(problem));
    return () => settle();
  }
  const opening = socket;
  opening.binaryType = "arraybuffer";
  // Messages can follow the open event at once: the stream is created before any can be lost.
  opening.onopen = () => {
    if (!settle()) return;
    request.opened(new WebSocketStream(opening));
  };
  opening.onerror = () => {};
  opening.onclose = (event: CloseEventLike) => fail(closeFault(event, `could not connect to ${request.url}`));
  return () => void abandon();
}

/** RFC 6455's close codes for "a message too big for me to process" and "a protocol error". */
const MESSAGE_TOO_BIG = 1009;
const PROTOCOL_ERROR = 1002;

function closeFault(event: CloseEventLike, prefix = "the WebSocket closed"): NetworkFault {
  if (event.code === MESSAGE_TOO_BIG) return peerRefusedTooLarge();
  if (event.code === PROTOCOL_ERROR) return peerRefusedHandshake();
  const detail = `${prefix} (${event.code}${event.reason ? ` ${event.reason}` : ""})`;
  return event.code === 1000 || event.code === 1001 ? fault(NetworkError.CLOSED, detail) : fault(NetworkError.WEBSOCKET, detail);
}
