/**
 * One native GameMaker connection on a bridge port, seen by the virtual-socket services as a
 * client session: it asks for the target's port exactly as an engine would (SOCKET_STATUS_REQUEST,
 * then SOCKET_CONNECTION_REQUEST, through the router), and what the services send it (answers,
 * SOCKET_CONNECTED, ARBITRARY_DATA, SOCKET_CLOSED) becomes TCP writes and closes. Bytes pass
 * through unchanged both ways; the tab's engine does the GameMaker handshake and framing itself.
 *
 * The client's side — TCP or WebSocket, TLS or not, told by its first bytes — is bridge-client.ts;
 * why a connection ends, and what each end means, is end-reason.ts.
 *
 * The session is never in the Directory (nobody can connect to it) and never sends anything but
 * the four VSOCKET frames above, always with the server's own stamping: its app key and virtual IP
 * come from the bridge, not from the TCP client.
 */
import { streamPieces } from "./stream-pieces.js";
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { SecureContext } from "node:tls";
import type { WebSocket } from "ws";
import {
  ARBITRARY_DATA_HEADER,
  Channel,
  CloseReason,
  ControlType,
  ErrorMessage,
  ProtocolError,
  RequestFailed,
  SocketClosed,
  SocketConnected,
  SocketRequest,
  SocketStatusResponse,
  VSocketType,
  nameOf,
} from "@gmnet/protocol";
import type { ServerContext } from "../server-context.js";
import type { Identity } from "../storage/storage.js";
import type { Session, SessionCloseCause } from "../session/session.js";
import { BridgeClient, type BridgeClientOwner } from "./bridge-client.js";
import { type BridgeEndReason, closedBecause, failReason } from "./end-reason.js";
import { InflowControl } from "./inflow.js";

/** What a bridged connection needs from its bridge. */
export interface BridgeHost {
  readonly label: string;
  readonly appKey: string;
  readonly target: string;
  readonly targetPort: number;
  readonly identity: Identity;
  /** Resolves the target to a virtual IP now (0: nobody holds that name or address). */
  resolveTarget(): number;
  /** The connection ended: release its port and address slot, count it, and clean up the services. */
  ended(connection: BridgedConnection, cause: SessionCloseCause): void;
  countIn(bytes: number): void;
  countOut(bytes: number): void;
  /** The server's certificate and key, when TLS is configured: a ClientHello then starts a TLS session. */
  readonly secureContext: SecureContext | undefined;
  /** Parses the WebSocket upgrade request on a paused socket (`head`: bytes already read from it); `done` once answered. */
  upgradeWebSocket(socket: Socket, head: Buffer, done: (ws: WebSocket) => void): void;
}

const STATUS_REQ = 1;
const CONNECT_REQ = 2;
/** Bytes read from the TCP client before the target accepted, held for it (reading pauses above this). */
const EARLY_BYTES = 64 * 1024;

type State = "connecting" | "open" | "closed";

/** What the bridge can read of a target session's backlog (ClientSession has it). */
interface WithBacklog {
  readonly backlogBytes?: number;
}

export class BridgedConnection implements Session, BridgeClientOwner {
  readonly id = randomBytes(12).toString("base64url");
  readonly helloToken = "";
  readonly detached = false;
  readonly remoteAddress: string;
  private state: State = "connecting";
  private connId = 0;
  private target: Session | undefined;
  private readonly early: Buffer[] = [];
  private earlyBytes = 0;
  private connectTimer: unknown;
  /** The client's socket and transport. */
  private readonly client: BridgeClient;
  /** Client → tab: the rate limit and the tab's backlog pause reading from the client. */
  private readonly inflow: InflowControl;
  /** Why the connection ended; set once. */
  endReason: BridgeEndReason | undefined;

  constructor(
    private readonly context: ServerContext,
    private readonly bridge: BridgeHost,
    socket: Socket,
    /** The ephemeral virtual port the tab sees this connection come from. */
    readonly localPort: number,
  ) {
    this.remoteAddress = socket.remoteAddress ?? "";
    this.client = new BridgeClient(context, bridge, socket, this, this.remoteAddress, localPort);
    this.inflow = InflowControl.perClient(context, {
      pause: () => this.client.pause(),
      resume: () => this.client.resume(),
      backlog: () => (this.target as WithBacklog | undefined)?.backlogBytes ?? 0,
      isOpen: () => this.state === "open",
    });
  }

  get appKey(): string {
    return this.bridge.appKey;
  }

  get identityId(): number {
    return this.bridge.identity.identityId;
  }

  get virtualIp(): number {
    return this.bridge.identity.virtualIp;
  }

  get deviceIdentity(): Identity {
    return this.bridge.identity;
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  /** Starts the handshake with the target and reading from the TCP client. */
  start(): void {
    const { config, clock } = this.context;
    this.client.watchSocket();
    this.connectTimer = clock.setTimeout(() => this.finish("timeout"), config.gmBridgeConnectTimeoutMs);
    this.client.startGrace();
    const ip = this.bridge.resolveTarget();
    if (ip === 0) return this.finish("offline");
    this.target = this.context.directory.lookup(this.appKey, ip);
    this.request(VSocketType.SOCKET_STATUS_REQUEST, STATUS_REQ, ip);
  }

  private request(type: number, reqId: number, peerIp: number): void {
    const payload = SocketRequest.encode({ reqId, peerIp, peerPort: this.bridge.targetPort, localPort: this.localPort });
    this.context.router.dispatch(this, Channel.VSOCKET, type, payload);
  }

  // ------------------------------------------------------------------ from the services

  send(channel: number, type: number, _priority: number, payload: Uint8Array): void {
    if (this.state === "closed") return;
    if (channel === Channel.CONTROL && type === ControlType.ERROR) {
      const error = ErrorMessage.decode(payload);
      this.context.logger.warn({ bridge: this.bridge.label, code: nameOf(ProtocolError, error.code), message: error.message }, "gm bridge: the server refused a request");
      return this.later(() => this.finish("protocol-error"));
    }
    if (channel !== Channel.VSOCKET) return;
    switch (type) {
      case VSocketType.ARBITRARY_DATA:
        return this.onData(payload);
      case VSocketType.SOCKET_STATUS_RESPONSE: {
        const { reqId, listening } = SocketStatusResponse.decode(payload);
        if (reqId !== STATUS_REQ || !listening) return;
        // After the current handler: never dispatch from inside another frame's handler.
        const ip = this.target?.virtualIp ?? this.bridge.resolveTarget();
        return this.later(() => {
          if (this.state === "connecting") this.request(VSocketType.SOCKET_CONNECTION_REQUEST, CONNECT_REQ, ip);
        });
      }
      case VSocketType.REQUEST_FAILED: {
        const { reason } = RequestFailed.decode(payload);
        return this.later(() => this.finish(failReason(reason)));
      }
      case VSocketType.SOCKET_CONNECTED: {
        const connected = SocketConnected.decode(payload);
        if (connected.reqId !== CONNECT_REQ || this.state !== "connecting") return;
        // The tab hears SOCKET_CONNECTED right after us: data sent before that would reach it for an unknown stream.
        return this.later(() => {
          if (this.state === "connecting") this.opened(connected.connId);
        });
      }
      case VSocketType.SOCKET_CLOSED: {
        const { connId, reason } = SocketClosed.decode(payload);
        if (connId !== this.connId) return;
        // The stream is gone on the services' side already: nothing to tell the tab.
        this.connId = 0;
        return this.later(() => this.finish(closedBecause(reason)));
      }
    }
  }

  sendError(code: number, channel: number, type: number, refId: number, message: string): void {
    this.send(Channel.CONTROL, ControlType.ERROR, 0, ErrorMessage.encode({ code, refChannel: channel, refType: type, refId, message }));
  }

  close(code: number, reason: string): void {
    this.context.logger.debug({ bridge: this.bridge.label, code, reason }, "gm bridge: session closed by the server");
    this.finish("shutdown");
  }

  /** A bridge's address never moves (only logins move sessions, and a bridge never logs in). */
  moveTo(): void {}

  private opened(connId: number): void {
    this.state = "open";
    this.connId = connId;
    this.context.clock.clearTimeout(this.connectTimer);
    this.context.logger.info({ bridge: this.bridge.label, client: this.client.label, port: this.localPort, connId }, "gm bridge: connection open");
    const early = this.early.splice(0);
    this.earlyBytes = 0;
    for (const chunk of early) this.forward(chunk);
    if (this.state === "open" && !this.inflow.holding) this.client.resume();
  }

  /** Tab → client. */
  private onData(payload: Uint8Array): void {
    if (this.state !== "open") return;
    const data = payload.subarray(ARBITRARY_DATA_HEADER);
    if (data.length === 0) return;
    this.client.write(data);
  }

  // ------------------------------------------------------------------ from the client

  /** Client → tab bytes, from the client side. */
  clientData(chunk: Buffer): void {
    if (this.state === "closed" || chunk.length === 0) return;
    if (this.state === "connecting") {
      // A raw client may talk first; keep it for the target, within a bound.
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      if (this.earlyBytes >= EARLY_BYTES) this.client.pause();
      return;
    }
    this.forward(chunk);
  }

  /** Client → tab, in ARBITRARY_DATA frames of at most maxFrameSize. */
  private forward(chunk: Buffer): void {
    const { config, router } = this.context;
    for (const { payload, bytes } of streamPieces(this.connId, chunk, config.maxFrameSize)) {
      if (this.state !== "open") break;
      this.bridge.countIn(bytes);
      router.dispatch(this, Channel.VSOCKET, VSocketType.ARBITRARY_DATA, payload);
    }
    if (this.state !== "open") return;
    this.inflow.received(chunk.length);
  }

  // ------------------------------------------------------------------ ending

  private later(action: () => void): void {
    queueMicrotask(action);
  }

  /** Ends the connection once: tells the tab (if the stream is open), ends or cuts the client's connection, and releases everything. */
  finish(reason: BridgeEndReason): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.endReason = reason;
    const { clock, router } = this.context;
    if (wasOpen && this.connId !== 0 && reason !== "shutdown") {
      // An orderly close to the tab: its socket gets network_type_disconnect.
      router.dispatch(this, Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed.encode({ connId: this.connId, reason: CloseReason.CLOSED }));
    }
    this.state = "closed";
    if (this.connectTimer !== undefined) clock.clearTimeout(this.connectTimer);
    this.inflow.stop();
    this.early.length = 0;
    this.client.close(reason);
    const cause: SessionCloseCause = reason === "shutdown" ? "shutdown" : reason === "slow-consumer" ? "slow-consumer" : "closed";
    this.context.logger.info(
      { bridge: this.bridge.label, client: this.client.label, kind: this.client.kind, tls: this.client.tls, port: this.localPort, reason, established: wasOpen },
      wasOpen ? "gm bridge: connection closed" : "gm bridge: connection refused",
    );
    // Pending handshakes and a stream the tab did not hear about end after the current handler.
    this.later(() => this.bridge.ended(this, cause));
  }
}
