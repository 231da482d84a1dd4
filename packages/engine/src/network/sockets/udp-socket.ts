/**
 * A UDP socket on a virtual port (network_create_socket(network_socket_udp), _ext with a port,
 * or network_create_server with network_socket_udp). Datagrams to another engine go over a
 * WebRTC DataChannel when one is open and through the server relay otherwise; the script never
 * notices, except in network_get_stats. network_send_udp and network_send_broadcast add
 * GameMaker's 12-byte header, network_send_udp_raw does not; a received datagram that starts
 * with a valid header has it removed.
 */
import type { EngineContext } from "../../runtime/context.js";
import { formatIpv4 } from "@gmnet/protocol";
import { PAIR_SEAL_VERSION, SEAL_VERSION, SEQUENCED_SEAL_OVERHEAD, SealKind, additionalData, seal } from "../e2e.js";
import type { NetworkRuntime } from "../runtime.js";
import type { DatagramPath } from "../vsockets/datagrams.js";
import { TrafficStats } from "../stats.js";
import { GM_HEADER_SIZE, GM_PACKET_MAGIC } from "../wire/gm-wire.js";
import { emitData } from "./socket-events.js";

/** The largest UDP payload IPv4 can carry; larger sends return NETWORK_SEND_TOO_LARGE, as a real socket would fail. */
export const MAX_DATAGRAM_SIZE = 65507;
/** What a datagram may carry while end-to-end encryption is on: the sealed datagram must fit MAX_DATAGRAM_SIZE. */
export const MAX_SEALED_DATAGRAM_SIZE = MAX_DATAGRAM_SIZE - SEQUENCED_SEAL_OVERHEAD;

export class UdpSocket {
  readonly kind = "udp";
  /** network_config_enable_reliable_udp: datagrams go over a reliable, ordered channel. */
  reliable = false;
  readonly stats = new TrafficStats();
  private closed = false;
  /** The peer most recently sent to, for the RTT in network_get_stats. */
  lastPeer = 0;
  /** The WebRTC round trip to lastPeer, measured by the previous network_get_stats. */
  p2pRtt: number | undefined;

  constructor(
    readonly id: number,
    readonly type: number,
    readonly port: number,
    /** Set when made by network_create_server: data events then carry `server`. */
    readonly isServer: boolean,
    readonly context: EngineContext,
    readonly net: NetworkRuntime,
  ) {
    net.host.bindUdp(port, (peerIp, peerPort, data, via) => this.received(peerIp, peerPort, data, via));
  }

  /**
   * Sends one datagram to peerIp:peerPort; false only when this socket is closed. `payloadSize` is
   * what the stats count: the script's bytes, without the GameMaker header network_send_udp adds
   * (the receiving side strips it before counting, so both sides count the same bytes).
   */
  send(peerIp: number, peerPort: number, data: Uint8Array, payloadSize = data.length): boolean {
    if (this.closed) return false;
    this.lastPeer = peerIp;
    // Encrypted once, before the path is chosen: relay and DataChannel carry the same ciphertext.
    // Datagrams to this engine itself never leave it and are not sealed.
    if (this.net.host.isLocal(peerIp)) return this.dispatch(peerIp, peerPort, data, payloadSize);
    const e2e = this.net.e2e;
    if (e2e.mode === 2) {
      // Pair mode: sealed under the key agreed with that engine, once it is (held until then, in order).
      const plain = data.slice();
      e2e.whenPeerKey(peerIp, this.port, peerPort, (key) => {
        const seq = e2e.nextSeq();
        const aad = additionalData(SealKind.DATAGRAM, this.net.host.localIp, seq, this.port, peerPort, PAIR_SEAL_VERSION);
        e2e.datagramsOut.pipe(key.then((k) => seal(k, aad, plain, seq, PAIR_SEAL_VERSION)), (sealed) => this.dispatch(peerIp, peerPort, sealed, payloadSize));
      });
      return true;
    }
    const key = e2e.current();
    if (key === undefined) return this.dispatch(peerIp, peerPort, data, payloadSize);
    const plain = data.slice();
    const seq = this.net.e2e.nextSeq();
    const aad = additionalData(SealKind.DATAGRAM, this.net.host.localIp, seq, this.port, peerPort);
    this.net.e2e.datagramsOut.pipe(key.then((k) => seal(k, aad, plain, seq)), (sealed) => this.dispatch(peerIp, peerPort, sealed, payloadSize));
    return true;
  }

  private dispatch(peerIp: number, peerPort: number, data: Uint8Array, payloadSize: number): boolean {
    if (this.closed) return false;
    const { net } = this;
    const copy = net.conditioner.active ? data.slice() : data;
    const reliable = this.reliable;
    const scheduled = net.conditioner.datagram(() => {
      if (this.closed) return;
      const p2p = !net.host.isLocal(peerIp) && net.links.trySend(peerIp, this.port, peerPort, copy, reliable);
      const via: DatagramPath = p2p ? "p2p" : net.host.isLocal(peerIp) ? "local" : "relay";
      if (!p2p) net.host.sendDatagram(peerIp, peerPort, this.port, copy);
      this.stats.sent(payloadSize, via);
      net.totals.sent(payloadSize, via);
    });
    if (!scheduled) {
      this.stats.simulatedLoss++;
      net.totals.simulatedLoss++;
    }
    return true;
  }

  broadcast(port: number, data: Uint8Array, payloadSize = data.length): boolean {
    if (this.closed) return false;
    const key = this.net.e2e.current();
    if (key === undefined) return this.dispatchBroadcast(port, data, payloadSize);
    const plain = data.slice();
    const seq = this.net.e2e.nextSeq();
    const aad = additionalData(SealKind.DATAGRAM, this.net.host.localIp, seq, this.port, port);
    this.net.e2e.datagramsOut.pipe(key.then((k) => seal(k, aad, plain, seq)), (sealed) => this.dispatchBroadcast(port, sealed, payloadSize));
    return true;
  }

  private dispatchBroadcast(port: number, data: Uint8Array, payloadSize: number): boolean {
    if (this.closed) return false;
    this.net.conditioner.datagram(() => {
      if (this.closed) return;
      this.net.host.broadcast(port, this.port, data);
      this.stats.sent(payloadSize, "relay");
      this.net.totals.sent(payloadSize, "relay");
    });
    return true;
  }

  private received(peerIp: number, peerPort: number, data: Uint8Array, via: DatagramPath): void {
    if (this.closed) return;
    const e2e = this.net.e2e;
    if (via !== "local" && e2e.mode === 2 && data[0] !== SEAL_VERSION) {
      // Pair mode: a key datagram, or one sealed under the pair key (version 1, the shared key, is a broadcast).
      if (e2e.keyDatagram(peerIp, peerPort, this.port, data)) return;
      const pairKey = e2e.peerKey(peerIp, peerPort, this.port);
      if (pairKey === undefined) return void e2e.reject("datagram", peerIp, "decrypt", peerPort);
      const sealed = data.slice();
      e2e.datagramsIn.pipe(e2e.openSequenced(pairKey, SealKind.DATAGRAM, peerIp, peerPort, this.port, sealed, PAIR_SEAL_VERSION), (plain) => {
        if (plain !== undefined) this.deliver(peerIp, peerPort, plain, via);
      });
      return;
    }
    const key = via === "local" ? undefined : e2e.current();
    if (key === undefined) return this.deliver(peerIp, peerPort, data, via);
    // Opened as they arrive, delivered in arrival order; one that fails, a replay or plaintext is
    // dropped, counted and reported (openSequenced checks the replay window again once opened).
    const sealed = data.slice();
    this.net.e2e.datagramsIn.pipe(this.net.e2e.openSequenced(key, SealKind.DATAGRAM, peerIp, peerPort, this.port, sealed), (plain) => {
      if (plain !== undefined) this.deliver(peerIp, peerPort, plain, via);
    });
  }

  private deliver(peerIp: number, peerPort: number, data: Uint8Array, via: DatagramPath): void {
    if (this.closed) return;
    const payload = stripGmHeader(data);
    this.stats.received(payload.length, via);
    this.net.totals.received(payload.length, via);
    const keys: Record<string, unknown> = { id: this.id, ip: formatIpv4(peerIp), port: peerPort, via };
    if (this.isServer) keys.server = this.id;
    emitData(this, keys, payload, false);
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.net.host.unbindUdp(this.port);
  }
}

/** The payload of a datagram sent with network_send_udp (12-byte GameMaker header), or the datagram itself. */
function stripGmHeader(data: Uint8Array): Uint8Array {
  if (data.length < GM_HEADER_SIZE) return data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const framed = view.getUint32(0, true) === GM_PACKET_MAGIC && view.getUint32(4, true) === GM_HEADER_SIZE && view.getUint32(8, true) === data.length - GM_HEADER_SIZE;
  return framed ? data.subarray(GM_HEADER_SIZE) : data;
}
