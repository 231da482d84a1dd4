/**
 * One WebSocket of the signaling client (signaling-client.ts), from `new WebSocket` until the
 * client lets go of it: its events passed on, its messages' frames decoded, and its end told as a
 * fault — never opened (nothing answers at that URL) or closed after it opened (4000: the server
 * shut down). Once released it reports nothing more, so a socket given up on cannot touch the
 * next connection.
 */
import { type Frame, FrameDecoder } from "@gmnet/protocol";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import { type CloseEventLike, type MessageEventLike, WS_OPEN, type WebSocketConstructor, type WebSocketLike, errorMessageOf } from "../transport/websocket-like.js";

export interface SignalingSocketEvents {
  /** The socket is open: time for HELLO. */
  opened(): void;
  message(data: unknown): void;
  /** The socket closed before it opened: the URL is wrong (host, port, path) or nothing serves it. */
  unreachable(problem: NetworkFault, code: number): void;
  /** The socket closed after it opened. */
  ended(problem: NetworkFault, code: number): void;
}

/** Largest frame the server may send us: its maxFrameSize plus the relay headers, with room to spare. */
const MAX_INCOMING_PAYLOAD = 16 * 1024 * 1024;

export class SignalingSocket {
  private readonly socket: WebSocketLike;
  private readonly decoder = new FrameDecoder({ maxPayload: MAX_INCOMING_PAYLOAD });

  /** Throws when the URL is malformed. */
  constructor(WebSocket: WebSocketConstructor, url: string, events: SignalingSocketEvents) {
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    let opened = false;
    socket.onopen = () => {
      opened = true;
      events.opened();
    };
    socket.onmessage = (event: MessageEventLike) => events.message(event.data);
    // Node's ws says why a socket never opened ("connect ECONNREFUSED …", "Unexpected server
    // response: 404") in its error event; browsers say nothing. onclose follows either way.
    let notOpened: string | undefined;
    socket.onerror = (event: unknown) => void (notOpened = errorMessageOf(event));
    socket.onclose = (event: CloseEventLike) => {
      if (!opened) {
        const why = notOpened ?? "no WebSocket server accepted the connection there (wrong host, port or path, or the server is down)";
        events.unreachable(fault(NetworkError.SIGNALING, `could not connect to ${url}: ${why} (${event.code})`), event.code);
      } else {
        events.ended(endFault(event.code, event.reason), event.code);
      }
    };
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** The frames of one message from this socket; throws FrameError when the server broke the framing. */
  decode(bytes: Uint8Array): Frame[] {
    return this.decoder.push(bytes);
  }

  get isOpen(): boolean {
    return this.socket.readyState === WS_OPEN;
  }

  send(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  /** Stops passing on opens, messages and errors (a close is still passed on until close()). */
  release(): void {
    this.socket.onopen = null;
    this.socket.onmessage = null;
    // ws reports closing a socket that is still connecting as an error event; keep a listener.
    this.socket.onerror = () => {};
  }

  /** Closes the socket without reporting its close. */
  close(code: number, reason: string): void {
    this.socket.onclose = null;
    try {
      this.socket.close(code, reason);
    } catch {
      // already closing
    }
  }
}

/** Why an open socket closed, from its close code (and, for 4000 and up, the server's reason). */
function endFault(code: number, reason: string): NetworkFault {
  const code4xxx = code >= 4000 ? ` (${code}${reason ? ` ${reason}` : ""})` : ` (${code})`;
  return code === 4000 ? fault(NetworkError.SHUTDOWN, `the signaling server shut down${code4xxx}`) : fault(NetworkError.SIGNALING, `the connection to the signaling server ended${code4xxx}`);
}
