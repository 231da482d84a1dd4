/**
 * Bytes from a real TCP (or WebSocket) client as ARBITRARY_DATA payloads on a stream, each within
 * the server's frame size: what an engine's VirtualStream does when it splits a message, done here
 * for the inbound and outbound bridges, whose clients send bytes with no frames of their own.
 */
import { ARBITRARY_DATA_HEADER } from "@gmnet/protocol";

/** The payloads for `chunk` on `connId` (seq 0: the session layer keeps order), and how many of the chunk's bytes each carries. */
export function* streamPieces(connId: number, chunk: Uint8Array, maxFrameSize: number): Generator<{ payload: Uint8Array; bytes: number }> {
  const room = maxFrameSize - ARBITRARY_DATA_HEADER;
  for (let offset = 0; offset < chunk.length; offset += room) {
    const piece = chunk.subarray(offset, Math.min(chunk.length, offset + room));
    const payload = new Uint8Array(ARBITRARY_DATA_HEADER + piece.length);
    new DataView(payload.buffer).setUint32(0, connId, true);
    payload.set(piece, ARBITRARY_DATA_HEADER);
    yield { payload, bytes: piece.length };
  }
}
