/**
 * The layout of one UDP datagram inside a peer link's WebRTC DataChannel (one DataChannel
 * message = one datagram). The virtual IPs are implied by the link (each link joins exactly two
 * engines), so only the ports travel:
 *
 *   offset 0  u16 LE  srcPort   the sender's local port (1..65535)
 *   offset 2  u16 LE  dstPort   the receiver's port (1..65535)
 *   offset 4  …       data      the datagram's bytes (may be empty)
 *
 * Pure functions, no state.
 */

/** Bytes in front of the data. */
export const P2P_DATAGRAM_HEADER_SIZE = 4;

export interface P2pDatagram {
  srcPort: number;
  dstPort: number;
  /** A view into the decoded message (not a copy). */
  data: Uint8Array;
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 0xffff;
}

/** `[u16 srcPort LE][u16 dstPort LE][data]` in a new array. Throws RangeError for a port outside 1..65535. */
export function encodeP2pDatagram(srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  if (!isPort(srcPort)) throw new RangeError(`invalid source port ${srcPort}`);
  if (!isPort(dstPort)) throw new RangeError(`invalid destination port ${dstPort}`);
  const out = new Uint8Array(P2P_DATAGRAM_HEADER_SIZE + data.length);
  out[0] = srcPort & 0xff;
  out[1] = srcPort >>> 8;
  out[2] = dstPort & 0xff;
  out[3] = dstPort >>> 8;
  out.set(data, P2P_DATAGRAM_HEADER_SIZE);
  return out;
}

/** The datagram in `bytes`, or undefined when it is shorter than the header or either port is 0. Never throws. */
export function decodeP2pDatagram(bytes: Uint8Array): P2pDatagram | undefined {
  if (bytes.length < P2P_DATAGRAM_HEADER_SIZE) return undefined;
  const srcPort = (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8);
  const dstPort = (bytes[2] ?? 0) | ((bytes[3] ?? 0) << 8);
  if (srcPort === 0 || dstPort === 0) return undefined;
  return { srcPort, dstPort, data: bytes.subarray(P2P_DATAGRAM_HEADER_SIZE) };
}
