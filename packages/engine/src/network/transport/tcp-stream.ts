/**
 * A real TCP connection (a node:net Socket, Node only) as a ByteStream: a byte stream, so each
 * message is whatever chunk the network delivered; GameMaker mode reassembles packets above it.
 * A native GameMaker client that connected to a Node host's real port talks through one of these.
 *
 * Typed by the small shape gmnet uses, so that this file imports nothing from Node and browser
 * bundles never see node:net (the listener loads it lazily, transport/node-listener.ts).
 */
import { NetworkError, fault } from "../errors.js";
import { StreamBase } from "./byte-stream.js";

/** The part of node:net's Socket a TcpStream uses. */
export interface TcpSocketLike {
  readonly writableLength: number;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  write(data: Uint8Array): boolean;
  end(callback?: () => void): unknown;
  destroy(): unknown;
  setNoDelay(noDelay?: boolean): unknown;
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "close", listener: () => void): unknown;
}

export class TcpStream extends StreamBase {
  private error: Error | undefined;

  constructor(private readonly socket: TcpSocketLike) {
    super();
    socket.setNoDelay(true);
    socket.on("data", (chunk) => this.deliver(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), false));
    // An error (a reset) is always followed by close; without a listener Node would throw it.
    socket.on("error", (error) => (this.error = error));
    socket.on("close", () => {
      const error = this.error;
      this.ended(error === undefined ? fault(NetworkError.CLOSED, "the TCP connection was closed") : fault(NetworkError.PEER_GONE, `the TCP connection failed: ${error.message}`));
    });
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  send(data: Uint8Array): boolean {
    if (this.closed) return false;
    // Copied: the socket may hold the bytes until the kernel takes them, and the caller's buffer may change meanwhile.
    this.socket.write(data.slice());
    return true;
  }

  /** TCP cannot say why; both reasons close gracefully once what was sent is flushed. */
  protected closeTransport(): void {
    this.socket.end(() => this.socket.destroy());
  }
}
