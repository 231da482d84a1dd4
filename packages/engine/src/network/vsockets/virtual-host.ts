/**
 * This engine as a host on the virtual network (seed 002, PROTOCOL.md §8), put together from one
 * part per concern, each named as the server's half of it in signaling-server/src/services/vsockets:
 *
 *   handshake.ts  the connect flow, both sides, and the bridge to real hosts
 *   streams.ts    established streams by connId
 *   datagrams.ts  UDP bindings, relayed and local datagrams
 *   names.ts      resolving and claiming host names
 *   ports.ts      the TCP ports in use and the ephemeral range (the engine's own business)
 *
 * This file keeps what spans them: one request id sequence, the engine's address, and what
 * happens to all of them when the connection to the server opens, ends or changes address.
 *
 * Everything is callback-driven and synchronous with frame delivery, so data that arrives in the
 * same batch as SOCKET_CONNECTED is never lost.
 */
import { Channel } from "@gmnet/protocol";
import type { Clock } from "../../runtime/clock.js";
import type { NetworkFault } from "../errors.js";
import type { PayloadCrypto } from "../e2e.js";
import type { ErrorFrame, SignalingClient } from "../signaling/signaling-client.js";
import { type DatagramPath, type DatagramSink, Datagrams } from "./datagrams.js";
import { type ConnectCallbacks, Handshake, type Listener } from "./handshake.js";
import { type HostContext, LOOPBACK_IP } from "./host-context.js";
import { Names } from "./names.js";
import { Ports } from "./ports.js";
import { Streams } from "./streams.js";

export interface VirtualHostDeps {
  signaling: SignalingClient;
  clock: Clock;
  /** End-to-end encryption: streams opened while it is on are sealed (not bridged ones). */
  e2e?: PayloadCrypto;
  /** A reservation for an accepted request whose SOCKET_CONNECTED never came is dropped after this long. */
  reservationTimeoutMs?: number;
}

export class VirtualHost {
  private readonly signaling: SignalingClient;
  private readonly ports = new Ports();
  private readonly streams: Streams;
  private readonly handshake: Handshake;
  private readonly datagrams: Datagrams;
  private readonly names: Names;
  private nextReqId = 0;

  constructor(deps: VirtualHostDeps) {
    this.signaling = deps.signaling;
    const context: HostContext = {
      signaling: deps.signaling,
      clock: deps.clock,
      localIp: () => this.localIp,
      isLocal: (ip) => this.isLocal(ip),
      requestId: () => this.requestId(),
    };
    this.streams = new Streams(context, deps.e2e);
    this.handshake = new Handshake(context, this.streams, deps.reservationTimeoutMs ?? 30_000);
    this.datagrams = new Datagrams(context);
    this.names = new Names(context);
  }

  /** This engine's virtual IP, 0 before the first WELCOME. */
  get localIp(): number {
    return this.signaling.welcome?.virtualIp ?? 0;
  }

  get hostname(): string | undefined {
    return this.names.hostname;
  }

  isLocal(ip: number): boolean {
    return ip === LOOPBACK_IP || (ip !== 0 && ip === this.localIp);
  }

  private requestId(): number {
    this.nextReqId = this.nextReqId >= 0xffffffff ? 1 : this.nextReqId + 1;
    return this.nextReqId;
  }

  // ---------------------------------------------------------------- ports

  /** Takes a TCP port for a listener or a client socket; 0 picks a free ephemeral one. Returns 0 if taken. */
  takeTcpPort(port: number): number {
    return this.ports.takeTcpPort(port);
  }

  releaseTcpPort(port: number): void {
    this.ports.releaseTcpPort(port);
  }

  /** A free UDP port (0 if none). */
  freeUdpPort(): number {
    return this.ports.ephemeral((candidate) => !this.datagrams.isBound(candidate));
  }

  // ---------------------------------------------------------------- handshake

  listen(port: number, listener: Listener): void {
    this.handshake.listen(port, listener);
  }

  unlisten(port: number): void {
    this.handshake.unlisten(port);
  }

  /** See Handshake.connect: exactly one callback runs, never synchronously; returns a cancel function. */
  connect(peerIp: number, peerPort: number, localPort: number, callbacks: ConnectCallbacks): () => void {
    return this.handshake.connect(peerIp, peerPort, localPort, callbacks);
  }

  /** See Handshake.connectBridge (PROTOCOL.md §8.4). */
  connectBridge(host: string, port: number, localPort: number, callbacks: ConnectCallbacks, faults: { notAllowed: NetworkFault; unsupported: NetworkFault }): () => void {
    return this.handshake.connectBridge(host, port, localPort, callbacks, faults);
  }

  /** ERROR frames that answer one of our requests end that request. */
  onServerError(error: ErrorFrame): boolean {
    if (error.refChannel !== Channel.VSOCKET) return false;
    return this.handshake.onServerError(error) || this.names.onServerError(error) || this.streams.onServerError(error);
  }

  // ---------------------------------------------------------------- datagrams

  bindUdp(port: number, sink: DatagramSink): void {
    this.datagrams.bindUdp(port, sink);
  }

  unbindUdp(port: number): void {
    this.datagrams.unbindUdp(port);
  }

  /** Delivers to a local binding (loopback) or sends through the server relay. False if it could not be sent. */
  sendDatagram(peerIp: number, peerPort: number, localPort: number, data: Uint8Array): boolean {
    return this.datagrams.sendDatagram(peerIp, peerPort, localPort, data);
  }

  broadcast(port: number, localPort: number, data: Uint8Array): boolean {
    return this.datagrams.broadcast(port, localPort, data);
  }

  /** A datagram that came over a WebRTC link, for the same bindings as relayed ones. */
  deliverDatagram(peerIp: number, peerPort: number, localPort: number, data: Uint8Array, via: DatagramPath): void {
    this.datagrams.deliverDatagram(peerIp, peerPort, localPort, data, via);
  }

  // ---------------------------------------------------------------- names

  /** The cached address of a name, a dotted quad's value, or undefined. */
  cachedAddress(name: string): number | undefined {
    return this.names.cachedAddress(name);
  }

  /** Asks the server for a name's address; `done(0)` when unknown or not connected. */
  resolve(name: string, done: (ip: number) => void): void {
    this.names.resolve(name, done);
  }

  claimHostname(name: string, done: (ok: boolean) => void): void {
    this.names.claimHostname(name, done);
  }

  // ---------------------------------------------------------------- signaling lifecycle

  /** After (re)connecting: the server forgot our UDP bindings and host name with the old connection. */
  signalingOpened(): void {
    this.datagrams.bindAgain();
    this.names.claimAgain();
  }

  /** The connection to the server ended: every stream and pending request ends with it. */
  signalingLost(problem: NetworkFault): void {
    this.streams.endAll(problem);
    this.handshake.endRequests(problem, "fail connects");
    this.names.endRequests();
  }

  /**
   * The server moved this connection to another virtual IP (VSOCKET VIRTUAL_IP: a master login,
   * logout or resume; PROTOCOL.md §16.3) and dropped everything bound to the old one. The
   * connection itself stays, so name lookups still get their answers; streams end as after a
   * lost connection, and bindings and the host name are made again as after a reconnect.
   * Connects under way start again from the new address, so a script that logs in while it
   * connects (in whichever order its calls happen to run) still gets its connection. Listeners
   * stay: listening is this engine's own business. Call after the new address is in place (localIp).
   */
  addressChanged(problem: NetworkFault): void {
    this.streams.endAll(problem);
    this.handshake.endRequests(problem, "restart connects");
    this.names.repeatClaims();
    this.signalingOpened();
  }
}
