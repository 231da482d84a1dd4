/**
 * UDP on the virtual host (the server's half: services/vsockets/datagrams.ts): the ports this
 * engine receives datagrams on (UDP_BIND/UDP_UNBIND, bound again after every reconnect, since
 * the server forgets them with the connection), DATAGRAM and BROADCAST through the server relay
 * at Priority.LOW, and delivery of what arrives, by relay or by a WebRTC link, to the binding.
 * A datagram to this engine's own address never leaves it.
 */
import { Broadcast, Channel, Datagram, Priority, UdpBind, VSocketType } from "@gmnet/protocol";
import { type HostContext, LOOPBACK_IP } from "./host-context.js";

/** How a datagram came: through the server relay, a WebRTC DataChannel, or from this engine itself. */
export type DatagramPath = "relay" | "p2p" | "local";
export type DatagramSink = (peerIp: number, peerPort: number, data: Uint8Array, via: DatagramPath) => void;

export class Datagrams {
  private readonly udp = new Map<number, DatagramSink>();

  constructor(private readonly host: HostContext) {
    host.signaling.on(Channel.VSOCKET, VSocketType.DATAGRAM, (p) => this.onDatagram(p));
  }

  /** Whether a UDP socket of this engine is bound to `port`. */
  isBound(port: number): boolean {
    return this.udp.has(port);
  }

  bindUdp(port: number, sink: DatagramSink): void {
    this.udp.set(port, sink);
    this.host.signaling.send(Channel.VSOCKET, VSocketType.UDP_BIND, UdpBind.encode({ port }));
  }

  unbindUdp(port: number): void {
    if (!this.udp.delete(port)) return;
    this.host.signaling.send(Channel.VSOCKET, VSocketType.UDP_UNBIND, UdpBind.encode({ port }));
  }

  /** After (re)connecting: the server forgot our bindings with the old connection. */
  bindAgain(): void {
    for (const port of this.udp.keys()) this.host.signaling.send(Channel.VSOCKET, VSocketType.UDP_BIND, UdpBind.encode({ port }));
  }

  /** Delivers to a local binding (loopback) or sends through the server relay. False if it could not be sent. */
  sendDatagram(peerIp: number, peerPort: number, localPort: number, data: Uint8Array): boolean {
    if (this.host.isLocal(peerIp)) {
      const sink = this.udp.get(peerPort);
      const copy = data.slice();
      const from = this.host.localIp() || LOOPBACK_IP;
      if (sink !== undefined) queueMicrotask(() => this.udp.get(peerPort)?.(from, localPort, copy, "local"));
      return true;
    }
    return this.host.signaling.send(Channel.VSOCKET, VSocketType.DATAGRAM, Datagram.encode({ peerIp, peerPort, localPort, data }), Priority.LOW);
  }

  broadcast(port: number, localPort: number, data: Uint8Array): boolean {
    return this.host.signaling.send(Channel.VSOCKET, VSocketType.BROADCAST, Broadcast.encode({ port, localPort, data }), Priority.LOW);
  }

  /** A datagram that came over a WebRTC link, for the same bindings as relayed ones. */
  deliverDatagram(peerIp: number, peerPort: number, localPort: number, data: Uint8Array, via: DatagramPath): void {
    this.udp.get(localPort)?.(peerIp, peerPort, data, via);
  }

  private onDatagram(payload: Uint8Array): void {
    const { peerIp, peerPort, localPort, data } = Datagram.decode(payload);
    this.deliverDatagram(peerIp, peerPort, localPort, data, "relay");
  }
}
