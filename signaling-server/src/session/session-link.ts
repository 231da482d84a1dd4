import type { SessionCloseCause } from "./session.js";

/** What a session needs of the WebSocket it is attached to (session/connection.ts). */
export interface SessionLink {
  readonly remoteAddress: string;
  /** Bytes handed to the socket and not yet written to the kernel. */
  readonly bufferedAmount: number;
  transmit(message: Uint8Array): void;
  /** Ends the socket with a close handshake. */
  closeSocket(code: number, reason: string): void;
  /** Ends the socket at once, without a handshake (an unresponsive or too slow reader, or a resume elsewhere). */
  cutSocket(cause: SessionCloseCause): void;
  /** The client's later frames wait until `settled` settles (Session.holdFramesUntil). */
  holdUntil(settled: Promise<unknown>): void;
}
