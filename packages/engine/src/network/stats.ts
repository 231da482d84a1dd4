/**
 * Traffic counters, per socket and for the whole engine, read by network_get_stats. Payload
 * bytes and packets as the script sees them (GameMaker headers and protocol frames not counted;
 * the signaling totals count the WebSocket bytes). Datagrams are also counted by path, so a game
 * can see whether it runs peer to peer or through the relay.
 */
import type { ChannelStats } from "./channels.js";
import type { DatagramPath } from "./vsockets/datagrams.js";

export class TrafficStats {
  bytesSent = 0;
  bytesReceived = 0;
  packetsSent = 0;
  packetsReceived = 0;
  p2pSent = 0;
  relaySent = 0;
  p2pReceived = 0;
  relayReceived = 0;
  /** Datagrams the link simulation dropped on purpose. */
  simulatedLoss = 0;

  sent(bytes: number, via?: DatagramPath): void {
    this.bytesSent += bytes;
    this.packetsSent++;
    if (via === "p2p") this.p2pSent++;
    else if (via === "relay") this.relaySent++;
  }

  received(bytes: number, via?: DatagramPath): void {
    this.bytesReceived += bytes;
    this.packetsReceived++;
    if (via === "p2p") this.p2pReceived++;
    else if (via === "relay") this.relayReceived++;
  }

  /** The snake_case struct network_get_stats returns (GML style). */
  snapshot(rtt: number | undefined): NetworkStats {
    return {
      bytes_sent: this.bytesSent,
      bytes_received: this.bytesReceived,
      packets_sent: this.packetsSent,
      packets_received: this.packetsReceived,
      p2p_packets_sent: this.p2pSent,
      relay_packets_sent: this.relaySent,
      p2p_packets_received: this.p2pReceived,
      relay_packets_received: this.relayReceived,
      simulated_loss: this.simulatedLoss,
      rtt: rtt ?? -1,
    };
  }
}

export interface NetworkStats {
  bytes_sent: number;
  bytes_received: number;
  packets_sent: number;
  packets_received: number;
  p2p_packets_sent: number;
  relay_packets_sent: number;
  p2p_packets_received: number;
  relay_packets_received: number;
  simulated_loss: number;
  /** Round-trip time in ms, -1 while unknown. */
  rtt: number;
}

/** What network_get_stats(-1) adds to NetworkStats for the whole engine (docs/NETWORK.md). */
export interface NetworkTotals {
  signaling_bytes_sent: number;
  signaling_bytes_received: number;
  /** 1 while connected to the signaling server (or resuming a dropped connection). */
  connected: number;
  resumes: number;
  last_resume_ms: number;
  suspended: number;
  replay_bytes: number;
  sockets: number;
  /** App channels this engine registered, by number: packets and payload bytes each way. */
  channels: ChannelStats[];
  /** Datagrams and app channel messages dropped because they failed authentication (network_config_encryption). */
  decrypt_failures: number;
  /** Datagrams and app channel messages dropped as replays (network_config_encryption). */
  replays_dropped: number;
}
