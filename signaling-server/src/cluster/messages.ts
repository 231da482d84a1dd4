/**
 * What nodes tell each other through their Redis streams (PROTOCOL.md §15). Every address in a
 * message was stamped by the sending node from its own session (§13): the receiving node trusts
 * the bus, never a client. A message is a JSON header plus, for stream data and datagrams, the
 * bytes (relayed as they are).
 */
export type BusMessage =
  /** A SOCKET_STATUS/CONNECTION_REQUEST for `ip` on the receiving node; routingId was allocated by the sender. */
  | { t: "req"; kind: "status" | "connect"; appKey: string; ip: number; routingId: number; peerIp: number; peerPort: number; localPort: number }
  /** The target's status answer to `routingId`. */
  | { t: "status"; routingId: number; listening: boolean }
  /** The request `routingId` ended without an answer (FailReason: OFFLINE, REFUSED, GONE). */
  | { t: "fail"; routingId: number; reason: number }
  /** The target accepted: the stream `connId` is open on the sender, to `peerIp:peerPort` there. */
  | { t: "conn"; routingId: number; connId: number; peerIp: number; peerPort: number }
  /** ARBITRARY_DATA on `connId`, the whole payload in the message's data. */
  | { t: "data"; connId: number }
  /** The other end closed `connId` (CloseReason). */
  | { t: "closed"; connId: number; reason: number }
  /** A DATAGRAM for `ip:port` on the receiving node from `srcIp:srcPort`, the bytes in the message's data. */
  | { t: "dgram"; appKey: string; ip: number; port: number; srcIp: number; srcPort: number }
  /** A BROADCAST to port `port` of the app key from `srcIp:srcPort`, for the receiving node's bound sessions; the bytes in the message's data. */
  | { t: "bcast"; appKey: string; port: number; srcIp: number; srcPort: number }
  /** A frame on app channel `channel` from `fromIp`, for the receiving node's members; the sender's payload in the message's data. */
  | { t: "chan"; appKey: string; channel: number; type: number; priority: number; fromIp: number };

export type BusType = BusMessage["t"];
export type BusMessageOf<T extends BusType> = Extract<BusMessage, { t: T }>;
