/**
 * This engine as a host on the virtual network (seed 002, PROTOCOL.md §8): it answers the
 * server's status and connection requests for the ports it listens on, runs the requester's
 * side of the connect flow, owns the virtual streams by connId and the UDP port bindings, and
 * resolves and claims host names. Connections to its own address (or 127.0.0.1) never leave the
 * engine: the server refuses loopback, so they are served here with a loopback pair.
 *
 * Everything is callback-driven and synchronous with frame delivery, so data that arrives in the
 * same batch as SOCKET_CONNECTED is never lost.
 */
import {
  BridgeConnect,
  Broadcast,
  Channel,
  CloseReason,
  Datagram,
  FailReason,
  HostnameClaim,
  HostnameResult,
  Priority,
  ProtocolError,
  RequestFailed,
  ResolveRequest,
  ResolveResponse,
  SocketClosed,
  SocketConnected,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  UdpBind,
  VSocketType,
  ARBITRARY_DATA_HEADER,
  FrameError,
  MAX_BRIDGE_HOST_BYTES,
  arbitraryDataConnId,
  parseIpv4,
} from "../../protocol/index.js";
import type { Clock } from "../../runtime/clock.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import type { PayloadCrypto } from "../e2e.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { createLoopbackPair } from "../transport/loopback-stream.js";
import type { ErrorFrame, SignalingClient } from "./signaling-client.js";
import { type StreamSeal, VirtualStream, closeReasonFault } from "./virtual-stream.js";

export const LOOPBACK_IP = 0x7f000001;

export interface Listener {
  /** Whether one more client may connect now (max_client). A yes holds a place until `accepted` or `abandoned`. */
  reserve(): boolean;
  /** Gives back a place taken by `reserve` that never became a connection. */
  abandoned(): void;
  accepted(stream: ByteStream, peerIp: number, peerPort: number): void;
}

export interface ConnectCallbacks {
  opened(stream: ByteStream): void;
  failed(problem: NetworkFault): void;
}

/** How a datagram came: through the server relay, a WebRTC DataChannel, or from this engine itself. */
export type DatagramPath = "relay" | "p2p" | "local";
export type DatagramSink = (peerIp: number, peerPort: number, data: Uint8Array, via: DatagramPath) => void;

interface OutgoingRequest {
  readonly peerIp: number;
  readonly peerPort: number;
  readonly localPort: number;
  readonly callbacks: ConnectCallbacks;
  stage: "status" | "connect";
}

/** A BRIDGE_CONNECT under way (PROTOCOL.md §8.4). */
interface BridgeRequest {
  readonly host: string;
  readonly port: number;
  readonly localPort: number;
  readonly callbacks: ConnectCallbacks;
  /** What to report when the server will not bridge to host:port (FailReason.NOT_ALLOWED). */
  readonly notAllowed: NetworkFault;
  /** What to report when the server does not know BRIDGE_CONNECT (a server older than the bridge). */
  readonly unsupported: NetworkFault;
}

interface IncomingReservation {
  readonly listener: Listener;
  readonly peerIp: number;
  readonly peerPort: number;
  readonly timer: unknown;
}

export interface VirtualHostDeps {
  signaling: SignalingClient;
  clock: Clock;
  /** End-to-end encryption: streams opened while it is on are sealed (not bridged ones). */
  e2e?: PayloadCrypto;
  /** A reservation for an accepted request whose SOCKET_CONNECTED never came is dropped after this long. */
  reservationTimeoutMs?: number;
}

const FIRST_EPHEMERAL_PORT = 49152;
const PORT_COUNT = 65536;

export class VirtualHost {
  private readonly signaling: SignalingClient;
  private readonly clock: Clock;
  private readonly listeners = new Map<number, Listener>();
  private readonly streams = new Map<number, VirtualStream>();
  private readonly outgoing = new Map<number, OutgoingRequest>();
  private readonly bridging = new Map<number, BridgeRequest>();
  private readonly incoming = new Map<number, IncomingReservation>();
  private readonly udp = new Map<number, DatagramSink>();
  private readonly tcpPortsInUse = new Set<number>();
  private readonly resolving = new Map<number, (ip: number) => void>();
  private readonly claims = new Map<number, { name: string; done: (ok: boolean) => void }>();
  private readonly names = new Map<string, number>();
  private ownName: string | undefined;
  private nextReqId = 0;
  private nextEphemeral = FIRST_EPHEMERAL_PORT;

  constructor(private readonly deps: VirtualHostDeps) {
    this.signaling = deps.signaling;
    this.clock = deps.clock;
    const on = (type: number, handler: (payload: Uint8Array) => void): void => this.signaling.on(Channel.VSOCKET, type, handler);
    on(VSocketType.SOCKET_STATUS_REQUEST, (p) => this.onStatusRequest(p));
    on(VSocketType.SOCKET_STATUS_RESPONSE, (p) => this.onStatusResponse(p));
    on(VSocketType.SOCKET_CONNECTION_REQUEST, (p) => this.onConnectionRequest(p));
    on(VSocketType.SOCKET_CONNECTED, (p) => this.onConnected(p));
    on(VSocketType.REQUEST_FAILED, (p) => this.onRequestFailed(p));
    on(VSocketType.ARBITRARY_DATA, (p) => this.onData(p));
    on(VSocketType.SOCKET_CLOSED, (p) => this.onClosed(p));
    on(VSocketType.DATAGRAM, (p) => this.onDatagram(p));
    on(VSocketType.RESOLVE_RESPONSE, (p) => this.onResolved(p));
    on(VSocketType.HOSTNAME_RESULT, (p) => this.onHostname(p));
  }

  /** This engine's virtual IP, 0 before the first WELCOME. */
  get localIp(): number {
    return this.signaling.welcome?.virtualIp ?? 0;
  }

  get hostname(): string | undefined {
    return this.ownName;
  }

  isLocal(ip: number): boolean {
    return ip === LOOPBACK_IP || (ip !== 0 && ip === this.localIp);
  }

  // ---------------------------------------------------------------- ports

  /** Takes a TCP port for a listener or a client socket; 0 picks a free ephemeral one. Returns 0 if taken. */
  takeTcpPort(port: number): number {
    const chosen = port === 0 ? this.ephemeral((candidate) => !this.tcpPortsInUse.has(candidate)) : port;
    if (chosen === 0 || this.tcpPortsInUse.has(chosen)) return 0;
    this.tcpPortsInUse.add(chosen);
    return chosen;
  }

  releaseTcpPort(port: number): void {
    this.tcpPortsInUse.delete(port);
  }

  /** A free UDP port (0 if none). */
  freeUdpPort(): number {
    return this.ephemeral((candidate) => !this.udp.has(candidate));
  }

  private ephemeral(free: (port: number) => boolean): number {
    for (let tries = 0; tries < PORT_COUNT - FIRST_EPHEMERAL_PORT; tries++) {
      const port = this.nextEphemeral;
      this.nextEphemeral = port + 1 >= PORT_COUNT ? FIRST_EPHEMERAL_PORT : port + 1;
      if (free(port)) return port;
    }
    return 0;
  }

  // ---------------------------------------------------------------- listening

  listen(port: number, listener: Listener): void {
    this.listeners.set(port, listener);
  }

  unlisten(port: number): void {
    this.listeners.delete(port);
  }

  private onStatusRequest(payload: Uint8Array): void {
    const request = SocketRequest.decode(payload);
    const answer = SocketStatusResponse.encode({ reqId: request.reqId, listening: this.listeners.has(request.localPort) });
    this.signaling.send(Channel.VSOCKET, VSocketType.SOCKET_STATUS_RESPONSE, answer);
  }

  private onConnectionRequest(payload: Uint8Array): void {
    const request = SocketRequest.decode(payload);
    const listener = this.listeners.get(request.localPort);
    const accepted = listener !== undefined && listener.reserve();
    if (accepted) {
      const timer = this.clock.setTimeout(() => {
        if (this.incoming.delete(request.reqId)) listener.abandoned();
      }, this.deps.reservationTimeoutMs ?? 30_000);
      this.incoming.set(request.reqId, { listener, peerIp: request.peerIp, peerPort: request.peerPort, timer });
    }
    this.signaling.send(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse.encode({ reqId: request.reqId, accepted }));
  }

  // ---------------------------------------------------------------- connecting

  /**
   * Connects localPort to peerIp:peerPort. Exactly one callback runs, never synchronously.
   * Returns a cancel function (after which neither runs and a late connection is closed).
   */
  connect(peerIp: number, peerPort: number, localPort: number, callbacks: ConnectCallbacks): () => void {
    if (this.isLocal(peerIp)) return this.connectLocally(peerPort, localPort, callbacks);
    const reqId = this.requestId();
    const request: OutgoingRequest = { peerIp, peerPort, localPort, callbacks, stage: "status" };
    this.outgoing.set(reqId, request);
    this.sendRequest(VSocketType.SOCKET_STATUS_REQUEST, reqId, request);
    return () => this.cancel(request);
  }

  /**
   * Connects localPort to a real TCP host:port through the server's outbound GameMaker bridge
   * (PROTOCOL.md §8.4). As connect(): exactly one callback runs, never synchronously; returns a cancel function.
   */
  connectBridge(host: string, port: number, localPort: number, callbacks: ConnectCallbacks, faults: { notAllowed: NetworkFault; unsupported: NetworkFault }): () => void {
    const reqId = this.requestId();
    const request: BridgeRequest = { host, port, localPort, callbacks, ...faults };
    this.bridging.set(reqId, request);
    this.sendBridge(reqId, request);
    return () => {
      for (const [id, candidate] of this.bridging) if (candidate === request) this.bridging.delete(id);
    };
  }

  private sendBridge(reqId: number, request: BridgeRequest): void {
    if (new TextEncoder().encode(request.host).length > MAX_BRIDGE_HOST_BYTES) return this.failBridge(reqId, request.notAllowed);
    const payload = BridgeConnect.encode({ reqId, host: request.host, port: request.port, localPort: request.localPort });
    if (!this.signaling.send(Channel.VSOCKET, VSocketType.BRIDGE_CONNECT, payload)) this.failBridge(reqId, fault(NetworkError.SIGNALING, "not connected to the signaling server"));
  }

  private failBridge(reqId: number, problem: NetworkFault): void {
    const request = this.bridging.get(reqId);
    if (request === undefined) return;
    this.bridging.delete(reqId);
    queueMicrotask(() => request.callbacks.failed(problem));
  }

  private connectLocally(peerPort: number, localPort: number, callbacks: ConnectCallbacks): () => void {
    let cancelled = false;
    queueMicrotask(() => {
      if (cancelled) return;
      const listener = this.listeners.get(peerPort);
      if (listener === undefined) return callbacks.failed(fault(NetworkError.NOT_LISTENING, `nothing listens on port ${peerPort} of this engine`));
      if (!listener.reserve()) return callbacks.failed(fault(NetworkError.REFUSED, `the server on port ${peerPort} refused the connection`));
      const [clientEnd, serverEnd] = createLoopbackPair();
      listener.accepted(serverEnd, this.localIp || LOOPBACK_IP, localPort);
      callbacks.opened(clientEnd);
    });
    return () => {
      cancelled = true;
    };
  }

  private sendRequest(type: number, reqId: number, request: OutgoingRequest): void {
    const payload = SocketRequest.encode({ reqId, peerIp: request.peerIp, peerPort: request.peerPort, localPort: request.localPort });
    if (!this.signaling.send(Channel.VSOCKET, type, payload)) this.fail(reqId, fault(NetworkError.SIGNALING, "not connected to the signaling server"));
  }

  private cancel(request: OutgoingRequest): void {
    for (const [reqId, candidate] of this.outgoing) if (candidate === request) this.outgoing.delete(reqId);
  }

  private requestId(): number {
    this.nextReqId = this.nextReqId >= 0xffffffff ? 1 : this.nextReqId + 1;
    return this.nextReqId;
  }

  private fail(reqId: number, problem: NetworkFault): void {
    const request = this.outgoing.get(reqId);
    if (request === undefined) return;
    this.outgoing.delete(reqId);
    // Never from inside the caller's own connect(): failures are always asynchronous.
    queueMicrotask(() => request.callbacks.failed(problem));
  }

  private onStatusResponse(payload: Uint8Array): void {
    const { reqId, listening } = SocketStatusResponse.decode(payload);
    const request = this.outgoing.get(reqId);
    if (request === undefined || request.stage !== "status") return;
    if (!listening) return this.fail(reqId, fault(NetworkError.NOT_LISTENING, "nothing listens on that port"));
    this.outgoing.delete(reqId);
    const next = this.requestId();
    request.stage = "connect";
    this.outgoing.set(next, request);
    this.sendRequest(VSocketType.SOCKET_CONNECTION_REQUEST, next, request);
  }

  private onRequestFailed(payload: Uint8Array): void {
    const { reqId, reason } = RequestFailed.decode(payload);
    const bridge = this.bridging.get(reqId);
    if (bridge !== undefined) return this.failBridge(reqId, bridgeFailFault(reason, bridge));
    this.fail(reqId, failReasonFault(reason));
  }

  private onConnected(payload: Uint8Array): void {
    const message = SocketConnected.decode(payload);
    const bridge = this.bridging.get(message.reqId);
    if (bridge !== undefined) {
      this.bridging.delete(message.reqId);
      // A real host through the bridge cannot decrypt: bridged streams are never sealed.
      return bridge.callbacks.opened(this.openStream(message.connId, undefined));
    }
    const request = this.outgoing.get(message.reqId);
    if (request !== undefined && request.stage === "connect") {
      this.outgoing.delete(message.reqId);
      return request.callbacks.opened(this.openStream(message.connId, request.peerIp));
    }
    const reservation = this.incoming.get(message.reqId);
    if (reservation !== undefined) {
      this.incoming.delete(message.reqId);
      this.clock.clearTimeout(reservation.timer);
      return reservation.listener.accepted(this.openStream(message.connId, message.peerIp), message.peerIp, message.peerPort);
    }
    // A connection nobody waits for any more (cancelled, timed out): close it at once.
    this.signaling.send(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed.encode({ connId: message.connId, reason: CloseReason.CLOSED }));
  }

  /**
   * A stream with the engine at `peerIp`, sealed when encryption is on then (undefined: a bridged
   * real host, never sealed): with the shared key, or in pair mode with a key the stream agrees.
   */
  private openStream(connId: number, peerIp: number | undefined): VirtualStream {
    const e2e = peerIp === undefined ? undefined : this.deps.e2e;
    const salt = e2e?.pairSalt();
    const key = e2e?.current();
    let sealWith: StreamSeal | undefined;
    if (peerIp !== undefined && salt !== undefined) sealWith = { pair: { salt, clock: this.clock }, localIp: this.localIp, peerIp };
    else if (peerIp !== undefined && key !== undefined) sealWith = { key, localIp: this.localIp, peerIp };
    const stream = new VirtualStream(connId, this.signaling, (id) => this.streams.delete(id), sealWith);
    this.streams.set(connId, stream);
    return stream;
  }

  private onData(payload: Uint8Array): void {
    // The hot path, read by hand: connId u32, seq u32 (unused: the session layer keeps order), data.
    if (payload.length < ARBITRARY_DATA_HEADER) throw new FrameError(ProtocolError.MALFORMED_PAYLOAD, `ArbitraryData needs ${ARBITRARY_DATA_HEADER} bytes, got ${payload.length}`);
    this.streams.get(arbitraryDataConnId(payload))?.receive(payload.subarray(ARBITRARY_DATA_HEADER));
  }

  private onClosed(payload: Uint8Array): void {
    const { connId, reason } = SocketClosed.decode(payload);
    const stream = this.streams.get(connId);
    if (stream === undefined) return;
    this.streams.delete(connId);
    stream.end(closeReasonFault(reason));
  }

  /** ERROR frames that answer one of our requests end that request. */
  onServerError(error: ErrorFrame): boolean {
    if (error.refChannel !== Channel.VSOCKET) return false;
    if (error.refType === VSocketType.SOCKET_STATUS_REQUEST || error.refType === VSocketType.SOCKET_CONNECTION_REQUEST) {
      const code = error.code === ProtocolError.INVALID_PORT ? NetworkError.NOT_LISTENING : NetworkError.LIMIT;
      this.fail(error.refId, fault(code, `the server refused the request: ${error.message}`));
      return true;
    }
    if (error.refType === VSocketType.BRIDGE_CONNECT) {
      const bridge = this.bridging.get(error.refId);
      if (bridge === undefined) return true;
      const problem = error.code === ProtocolError.UNKNOWN_PACKET_TYPE
        ? bridge.unsupported
        : fault(error.code === ProtocolError.INVALID_PORT ? NetworkError.NOT_LISTENING : NetworkError.LIMIT, `the server refused the request: ${error.message}`);
      this.failBridge(error.refId, problem);
      return true;
    }
    if (error.refType === VSocketType.HOSTNAME_CLAIM) {
      this.finishClaim(error.refId, false);
      return true;
    }
    if (error.refType === VSocketType.ARBITRARY_DATA && error.code === ProtocolError.UNKNOWN_SOCKET) {
      // Data for a stream the server no longer knows was not delivered: the script must hear of it.
      const stream = this.streams.get(error.refId);
      if (stream === undefined) return false;
      this.streams.delete(error.refId);
      stream.end(fault(NetworkError.CLOSED, "the signaling server no longer knows this stream; data sent on it was not delivered"));
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- datagrams

  bindUdp(port: number, sink: DatagramSink): void {
    this.udp.set(port, sink);
    this.signaling.send(Channel.VSOCKET, VSocketType.UDP_BIND, UdpBind.encode({ port }));
  }

  unbindUdp(port: number): void {
    if (!this.udp.delete(port)) return;
    this.signaling.send(Channel.VSOCKET, VSocketType.UDP_UNBIND, UdpBind.encode({ port }));
  }

  /** Delivers to a local binding (loopback) or sends through the server relay. False if it could not be sent. */
  sendDatagram(peerIp: number, peerPort: number, localPort: number, data: Uint8Array): boolean {
    if (this.isLocal(peerIp)) {
      const sink = this.udp.get(peerPort);
      const copy = data.slice();
      const from = this.localIp || LOOPBACK_IP;
      if (sink !== undefined) queueMicrotask(() => this.udp.get(peerPort)?.(from, localPort, copy, "local"));
      return true;
    }
    return this.signaling.send(Channel.VSOCKET, VSocketType.DATAGRAM, Datagram.encode({ peerIp, peerPort, localPort, data }), Priority.LOW);
  }

  broadcast(port: number, localPort: number, data: Uint8Array): boolean {
    return this.signaling.send(Channel.VSOCKET, VSocketType.BROADCAST, Broadcast.encode({ port, localPort, data }), Priority.LOW);
  }

  /** A datagram that came over a WebRTC link, for the same bindings as relayed ones. */
  deliverDatagram(peerIp: number, peerPort: number, localPort: number, data: Uint8Array, via: DatagramPath): void {
    this.udp.get(localPort)?.(peerIp, peerPort, data, via);
  }

  private onDatagram(payload: Uint8Array): void {
    const { peerIp, peerPort, localPort, data } = Datagram.decode(payload);
    this.deliverDatagram(peerIp, peerPort, localPort, data, "relay");
  }

  // ---------------------------------------------------------------- names

  /** The cached address of a name, a dotted quad's value, or undefined. */
  cachedAddress(name: string): number | undefined {
    const literal = parseIpv4(name);
    if (literal !== undefined) return literal;
    const key = name.toLowerCase();
    if (key === "localhost") return LOOPBACK_IP;
    if (key === this.ownName) return this.localIp || undefined;
    return this.names.get(key);
  }

  /** Asks the server for a name's address; `done(0)` when unknown or not connected. */
  resolve(name: string, done: (ip: number) => void): void {
    const known = this.cachedAddress(name);
    if (known !== undefined) return queueMicrotask(() => done(known));
    const reqId = this.requestId();
    const key = name.toLowerCase();
    this.resolving.set(reqId, (ip) => {
      if (ip !== 0) this.names.set(key, ip);
      done(ip);
    });
    if (!this.signaling.send(Channel.VSOCKET, VSocketType.RESOLVE_REQUEST, ResolveRequest.encode({ reqId, name }))) this.finishResolve(reqId, 0);
  }

  private onResolved(payload: Uint8Array): void {
    const { reqId, ip } = ResolveResponse.decode(payload);
    this.finishResolve(reqId, ip);
  }

  private finishResolve(reqId: number, ip: number): void {
    const done = this.resolving.get(reqId);
    if (done === undefined) return;
    this.resolving.delete(reqId);
    queueMicrotask(() => done(ip));
  }

  claimHostname(name: string, done: (ok: boolean) => void): void {
    const reqId = this.requestId();
    this.claims.set(reqId, { name: name.toLowerCase(), done });
    if (!this.signaling.send(Channel.VSOCKET, VSocketType.HOSTNAME_CLAIM, HostnameClaim.encode({ reqId, name }))) this.finishClaim(reqId, false);
  }

  private onHostname(payload: Uint8Array): void {
    const { reqId, ok } = HostnameResult.decode(payload);
    this.finishClaim(reqId, ok);
  }

  private finishClaim(reqId: number, ok: boolean): void {
    const claim = this.claims.get(reqId);
    if (claim === undefined) return;
    this.claims.delete(reqId);
    if (ok) this.ownName = claim.name;
    queueMicrotask(() => claim.done(ok));
  }

  // ---------------------------------------------------------------- signaling lifecycle

  /** After (re)connecting: the server forgot our UDP bindings and host name with the old connection. */
  signalingOpened(): void {
    for (const port of this.udp.keys()) this.signaling.send(Channel.VSOCKET, VSocketType.UDP_BIND, UdpBind.encode({ port }));
    const name = this.ownName;
    if (name !== undefined) {
      this.ownName = undefined;
      this.claimHostname(name, () => {});
    }
  }

  /** The connection to the server ended: every stream and pending request ends with it. */
  signalingLost(problem: NetworkFault): void {
    this.endConnections(problem);
    for (const reqId of [...this.resolving.keys()]) this.finishResolve(reqId, 0);
    for (const reqId of [...this.claims.keys()]) this.finishClaim(reqId, false);
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
    this.endConnections(problem, "restart connects");
    // A claim the server handled before the move was dropped with the old address; one handled
    // after it stands. Which of the two is unknown here, so ask again: a repeated claim of a
    // name this connection holds is answered ok, and only the first answer counts.
    for (const [reqId, claim] of this.claims) this.signaling.send(Channel.VSOCKET, VSocketType.HOSTNAME_CLAIM, HostnameClaim.encode({ reqId, name: claim.name }));
    this.signalingOpened();
  }

  /**
   * Ends what belongs to the connection's address: streams, places held for incoming connects,
   * and connects under way — or, after a move, asks for those again under new request ids (an
   * answer to an old id is then ignored, and a stream it opened is closed as unwanted).
   */
  private endConnections(problem: NetworkFault, connects: "fail connects" | "restart connects" = "fail connects"): void {
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) stream.end(problem);
    for (const [reqId, request] of [...this.outgoing]) {
      if (connects === "fail connects") {
        this.fail(reqId, problem);
        continue;
      }
      this.outgoing.delete(reqId);
      const next = this.requestId();
      request.stage = "status";
      this.outgoing.set(next, request);
      this.sendRequest(VSocketType.SOCKET_STATUS_REQUEST, next, request);
    }
    for (const [reqId, request] of [...this.bridging]) {
      if (connects === "fail connects") {
        this.failBridge(reqId, problem);
        continue;
      }
      this.bridging.delete(reqId);
      const next = this.requestId();
      this.bridging.set(next, request);
      this.sendBridge(next, request);
    }
    for (const [reqId, reservation] of this.incoming) {
      this.clock.clearTimeout(reservation.timer);
      reservation.listener.abandoned();
      this.incoming.delete(reqId);
    }
  }
}

/** What a REQUEST_FAILED for a BRIDGE_CONNECT means for the socket (docs/ERRORS.md). */
function bridgeFailFault(reason: number, request: BridgeRequest): NetworkFault {
  const where = `${request.host}:${request.port}`;
  switch (reason) {
    case FailReason.NOT_ALLOWED:
      return request.notAllowed;
    case FailReason.NOT_LISTENING:
      return fault(NetworkError.NOT_LISTENING, `nothing listens on ${where} (the bridge's connection was refused)`);
    case FailReason.TIMEOUT:
      return fault(NetworkError.TIMEOUT, `${where} did not answer the bridge in time`);
    case FailReason.UNREACHABLE:
      return fault(NetworkError.OFFLINE, `the bridge could not reach ${where} (name not found, or host or network unreachable)`);
    case FailReason.OFFLINE:
      return fault(NetworkError.OFFLINE, "no client of this app holds that address");
    case FailReason.GONE:
      return fault(NetworkError.GONE, "the server stopped while the bridge was connecting");
    default:
      return fault(NetworkError.REFUSED, `the bridge could not connect to ${where} (reason ${reason})`);
  }
}

function failReasonFault(reason: number): NetworkFault {
  switch (reason) {
    case FailReason.OFFLINE:
      return fault(NetworkError.OFFLINE, "no client of this app holds that address");
    case FailReason.NOT_LISTENING:
      return fault(NetworkError.NOT_LISTENING, "nothing listens on that port");
    case FailReason.REFUSED:
      return fault(NetworkError.REFUSED, "the server socket refused the connection (max_client reached?)");
    case FailReason.TIMEOUT:
      return fault(NetworkError.TIMEOUT, "the host did not answer in time");
    case FailReason.GONE:
      return fault(NetworkError.GONE, "the host went away during the connect");
    default:
      return fault(NetworkError.REFUSED, `the connection failed (reason ${reason})`);
  }
}
