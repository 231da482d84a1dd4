/**
 * What the sockets panel writes in a socket's state and rtt cells. Pure: no DOM, no engine.
 *
 * network_get_stats(socket).rtt is the socket's own round trip only for a UDP socket that talks
 * peer to peer (WebRTC's measurement); for every other virtual socket it is the round trip to the
 * signaling server, which relays it — not the socket's. So the rtt cell shows a number only for a
 * UDP socket whose datagrams go peer to peer now, and "server" otherwise (the server's round trip
 * in its tooltip). A ws/wss socket talks to another server directly: nothing is measured.
 */
import type { NetworkStats } from "@gmnet/engine";
import type { TrackedSocket } from "../panel-host.js";
import { formatRtt } from "./format.js";

/** The counters the path detection reads: a subset of NetworkStats. */
export type PathCounters = Pick<NetworkStats, "p2p_packets_sent" | "p2p_packets_received" | "relay_packets_sent" | "relay_packets_received">;

/** Which way a UDP socket's datagrams went last: peer to peer, through the relay, or none yet. */
export type DatagramRoute = "p2p" | "relay" | undefined;

/**
 * Follows one socket's counters from refresh to refresh: the route is the one whose count grew
 * last (when both grew, peer to peer: the relay carries the first datagrams while a link opens).
 */
export class RouteTracker {
  private p2p = 0;
  private relay = 0;
  private current: DatagramRoute;

  update(stats: PathCounters): DatagramRoute {
    const p2p = stats.p2p_packets_sent + stats.p2p_packets_received;
    const relay = stats.relay_packets_sent + stats.relay_packets_received;
    if (p2p > this.p2p) this.current = "p2p";
    else if (relay > this.relay) this.current = "relay";
    this.p2p = p2p;
    this.relay = relay;
    return this.current;
  }

  get route(): DatagramRoute {
    return this.current;
  }
}

export interface CellText {
  readonly text: string;
  readonly title: string;
}

/** The rtt cell of a socket of kind `kind` ("tcp", "udp", "ws", "wss"), given its stats and its route. */
export function rttCell(kind: string, rtt: number, route: DatagramRoute): CellText {
  if (kind === "ws" || kind === "wss") return { text: "—", title: "A WebSocket to another server: gmnet measures no round trip for it." };
  if (kind === "udp" && route === "p2p") {
    return { text: formatRtt(rtt), title: rtt < 0 ? "Peer to peer (WebRTC): the round trip is being measured." : "This socket's round trip to its peer, from WebRTC's stats." };
  }
  const server = formatRtt(rtt);
  return {
    text: "server",
    title: `No round trip of its own: this socket's traffic goes through the signaling server, whose round trip is ${server === "—" ? "not known yet" : server}.`,
  };
}

/** The state cell: "open", "connecting" … ("listening" for an open server), with why it ended in the tooltip. */
export function stateCell(socket: Pick<TrackedSocket, "state" | "role" | "kind" | "detail">): CellText {
  switch (socket.state) {
    case "created":
      return { text: "created", title: "Not connected: network_connect has not been called yet." };
    case "connecting":
      return { text: "connecting", title: "The connect is under way (network_type_non_blocking_connect tells how it ends)." };
    case "open":
      if (socket.role === "server") return { text: "listening", title: "Listening for clients (open)." };
      return { text: "open", title: socket.kind === "udp" ? "Bound: sends and receives datagrams." : "Connected." };
    case "closed":
      return { text: "closed", title: socket.detail === undefined ? "Closed." : `Closed: ${socket.detail}.` };
    case "failed":
      return { text: "failed", title: socket.detail === undefined ? "Failed." : `Failed: ${socket.detail}.` };
  }
}
