/**
 * Both sides of seed 002's connect flow on the virtual host (the server's half, which relays it:
 * services/vsockets/handshake.ts):
 *
 *   as the target     answers SOCKET_STATUS_REQUEST (listening?) and SOCKET_CONNECTION_REQUEST
 *                     (a place for one more client?) for the ports it listens on, and holds the
 *                     place until SOCKET_CONNECTED (or a timeout) says whether it became a stream;
 *   as the requester  sends the status request, then the connection request, and hands the
 *                     stream to the caller once SOCKET_CONNECTED names its connId;
 *   through the bridge  BRIDGE_CONNECT to a real TCP host (PROTOCOL.md §8.4), answered the same way.
 *
 * Connections to this engine's own address (or 127.0.0.1) never leave it: the server refuses
 * loopback, so they are served here with a loopback pair. Every request ends exactly once, and
 * never synchronously inside the caller's own connect().
 */
import {
  BridgeConnect,
  Channel,
  CloseReason,
  FailReason,
  MAX_BRIDGE_HOST_BYTES,
  ProtocolError,
  RequestFailed,
  SocketClosed,
  SocketConnected,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  VSocketType,
} from "@gmnet/protocol";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import type { ErrorFrame } from "../signaling/signaling-client.js";
import type { ByteStream } from "../transport/byte-stream.js";
import { createLoopbackPair } from "../transport/loopback-stream.js";
import { type HostContext, LOOPBACK_IP } from "./host-context.js";
import type { Streams } from "./streams.js";

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

export class Handshake {
  private readonly signaling: HostContext["signaling"];
  private readonly listeners = new Map<number, Listener>();
  private readonly outgoing = new Map<number, OutgoingRequest>();
  private readonly bridging = new Map<number, BridgeRequest>();
  private readonly incoming = new Map<number, IncomingReservation>();

  constructor(
    private readonly host: HostContext,
    private readonly streams: Streams,
    /** A reservation for an accepted request whose SOCKET_CONNECTED never came is dropped after this long. */
    private readonly reservationTimeoutMs: number,
  ) {
    this.signaling = host.signaling;
    const on = (type: number, handler: (payload: Uint8Array) => void): void => this.signaling.on(Channel.VSOCKET, type, handler);
    on(VSocketType.SOCKET_STATUS_REQUEST, (p) => this.onStatusRequest(p));
    on(VSocketType.SOCKET_STATUS_RESPONSE, (p) => this.onStatusResponse(p));
    on(VSocketType.SOCKET_CONNECTION_REQUEST, (p) => this.onConnectionRequest(p));
    on(VSocketType.SOCKET_CONNECTED, (p) => this.onConnected(p));
    on(VSocketType.REQUEST_FAILED, (p) => this.onRequestFailed(p));
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
      const timer = this.host.clock.setTimeout(() => {
        if (this.incoming.delete(request.reqId)) listener.abandoned();
      }, this.reservationTimeoutMs);
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
    if (this.host.isLocal(peerIp)) return this.connectLocally(peerPort, localPort, callbacks);
    const request: OutgoingRequest = { peerIp, peerPort, localPort, callbacks, stage: "status" };
    this.ask(request, "status");
    return () => this.cancel(request);
  }

  /**
   * Connects localPort to a real TCP host:port through the server's outbound GameMaker bridge
   * (PROTOCOL.md §8.4). As connect(): exactly one callback runs, never synchronously; returns a cancel function.
   */
  connectBridge(host: string, port: number, localPort: number, callbacks: ConnectCallbacks, faults: { notAllowed: NetworkFault; unsupported: NetworkFault }): () => void {
    const request: BridgeRequest = { host, port, localPort, callbacks, ...faults };
    this.askBridge(request);
    return () => {
      for (const [id, candidate] of this.bridging) if (candidate === request) this.bridging.delete(id);
    };
  }

  /** Sends BRIDGE_CONNECT for `request` under a new request id (an answer to an earlier id is then ignored). */
  private askBridge(request: BridgeRequest): void {
    const reqId = this.host.requestId();
    this.bridging.set(reqId, request);
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
      listener.accepted(serverEnd, this.host.localIp() || LOOPBACK_IP, localPort);
      callbacks.opened(clientEnd);
    });
    return () => {
      cancelled = true;
    };
  }

  /** Sends `request`'s `stage` (its status, then its connection request) under a new request id (an answer to an earlier id is then ignored). */
  private ask(request: OutgoingRequest, stage: OutgoingRequest["stage"]): void {
    const reqId = this.host.requestId();
    request.stage = stage;
    this.outgoing.set(reqId, request);
    const type = stage === "status" ? VSocketType.SOCKET_STATUS_REQUEST : VSocketType.SOCKET_CONNECTION_REQUEST;
    const payload = SocketRequest.encode({ reqId, peerIp: request.peerIp, peerPort: request.peerPort, localPort: request.localPort });
    if (!this.signaling.send(Channel.VSOCKET, type, payload)) this.fail(reqId, fault(NetworkError.SIGNALING, "not connected to the signaling server"));
  }

  private cancel(request: OutgoingRequest): void {
    for (const [reqId, candidate] of this.outgoing) if (candidate === request) this.outgoing.delete(reqId);
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
    this.ask(request, "connect");
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
      return bridge.callbacks.opened(this.streams.open(message.connId, undefined));
    }
    const request = this.outgoing.get(message.reqId);
    if (request !== undefined && request.stage === "connect") {
      this.outgoing.delete(message.reqId);
      return request.callbacks.opened(this.streams.open(message.connId, request.peerIp));
    }
    const reservation = this.incoming.get(message.reqId);
    if (reservation !== undefined) {
      this.incoming.delete(message.reqId);
      this.host.clock.clearTimeout(reservation.timer);
      return reservation.listener.accepted(this.streams.open(message.connId, message.peerIp), message.peerIp, message.peerPort);
    }
    // A connection nobody waits for any more (cancelled, timed out): close it at once.
    this.signaling.send(Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed.encode({ connId: message.connId, reason: CloseReason.CLOSED }));
  }

  /** ERROR frames that answer one of our connect or bridge requests end that request; true when it was one. */
  onServerError(error: ErrorFrame): boolean {
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
    return false;
  }

  /**
   * Ends what belongs to the connection's address: places held for incoming connects, and
   * connects under way — or, after a move, asks for those again under new request ids (an
   * answer to an old id is then ignored, and a stream it opened is closed as unwanted).
   */
  endRequests(problem: NetworkFault, connects: "fail connects" | "restart connects"): void {
    for (const [reqId, request] of [...this.outgoing]) {
      if (connects === "fail connects") {
        this.fail(reqId, problem);
      } else {
        this.outgoing.delete(reqId);
        this.ask(request, "status");
      }
    }
    for (const [reqId, request] of [...this.bridging]) {
      if (connects === "fail connects") {
        this.failBridge(reqId, problem);
      } else {
        this.bridging.delete(reqId);
        this.askBridge(request);
      }
    }
    for (const [reqId, reservation] of this.incoming) {
      this.host.clock.clearTimeout(reservation.timer);
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
