/**
 * One native GameMaker connection on a bridge port, seen by the virtual-socket services as a
 * client session: it asks for the target's port exactly as an engine would (SOCKET_STATUS_REQUEST,
 * then SOCKET_CONNECTION_REQUEST, through the router), and what the services send it (answers,
 * SOCKET_CONNECTED, ARBITRARY_DATA, SOCKET_CLOSED) becomes TCP writes and closes. Bytes pass
 * through unchanged both ways; the tab's engine does the GameMaker handshake and framing itself.
 *
 * The session is never in the Directory (nobody can connect to it) and never sends anything but
 * the four VSOCKET frames above, always with the server's own stamping: its app key and virtual IP
 * come from the bridge, not from the TCP client.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import {
  ARBITRARY_DATA_HEADER,
  Channel,
  CloseReason,
  ControlType,
  ErrorMessage,
  FailReason,
  ProtocolError,
  RequestFailed,
  SocketClosed,
  SocketConnected,
  SocketRequest,
  SocketStatusResponse,
  VSocketType,
  nameOf,
} from "@gmnet/engine/protocol";
import type { ServerContext } from "../server-context.js";
import type { Identity } from "../services/identity-store.js";
import { RateLimiter } from "../session/rate-limiter.js";
import type { Session, SessionCloseCause } from "../session/session.js";

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
}

/** Why a bridged connection ended, as logged and as a metric label. */
export type BridgeEndReason =
  | "client-closed"
  | "client-error"
  | "target-closed"
  | "target-gone"
  | "offline"
  | "not-listening"
  | "refused"
  | "timeout"
  | "idle"
  | "slow-consumer"
  | "protocol-error"
  | "shutdown";

const STATUS_REQ = 1;
const CONNECT_REQ = 2;
/** While the target's queue is over its bound, how often to look whether it drained. */
const BACKPRESSURE_CHECK_MS = 20;
/** Bytes read from the TCP client before the target accepted, held for it (reading pauses above this). */
const EARLY_BYTES = 64 * 1024;
/** As the WebSocket path charges per message (session/connection.ts). */
const MESSAGE_COST_BYTES = 64;

type State = "connecting" | "open" | "closed";

/** What the bridge can read of a target session's backlog (ClientSession has it). */
interface WithBacklog {
  readonly backlogBytes?: number;
}

export class BridgedConnection implements Session {
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
  private pollTimer: unknown;
  private throttleTimer: unknown;
  private slowTimer: unknown;
  private readonly limiter: RateLimiter;
  /** Why the connection ended; set once. */
  endReason: BridgeEndReason | undefined;

  constructor(
    private readonly context: ServerContext,
    private readonly bridge: BridgeHost,
    private readonly socket: Socket,
    /** The ephemeral virtual port the tab sees this connection come from. */
    readonly localPort: number,
  ) {
    this.remoteAddress = socket.remoteAddress ?? "";
    const { config, clock } = context;
    this.limiter = new RateLimiter(config.rateLimitBytes, config.rateLimitBytes * 2, clock.now());
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
    const { socket } = this;
    const { config, clock } = this.context;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onTcpData(chunk));
    socket.on("end", () => this.finish("client-closed"));
    socket.on("error", () => this.finish("client-error"));
    socket.on("close", () => this.finish("client-closed"));
    if (config.gmBridgeIdleTimeoutMs > 0) {
      socket.setTimeout(config.gmBridgeIdleTimeoutMs);
      socket.on("timeout", () => this.finish("idle"));
    }
    this.connectTimer = clock.setTimeout(() => this.finish("timeout"), config.gmBridgeConnectTimeoutMs);
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
        return this.later(() => this.finish(reason === CloseReason.CLOSED || reason === CloseReason.MESSAGE_TOO_LARGE ? "target-closed" : reason === CloseReason.SHUTDOWN ? "shutdown" : "target-gone"));
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
    this.context.logger.info({ bridge: this.bridge.label, client: `${this.remoteAddress}:${this.socket.remotePort ?? 0}`, port: this.localPort, connId }, "gm bridge: connection open");
    const early = this.early.splice(0);
    this.earlyBytes = 0;
    for (const chunk of early) this.forward(chunk);
    if (this.state === "open" && this.throttleTimer === undefined && this.pollTimer === undefined) this.socket.resume();
  }

  /** Tab → TCP client. */
  private onData(payload: Uint8Array): void {
    if (this.state !== "open") return;
    const data = payload.subarray(ARBITRARY_DATA_HEADER);
    if (data.length === 0) return;
    this.bridge.countOut(data.length);
    // A copy: the payload may be a view of the tab's WebSocket message.
    this.socket.write(Buffer.from(data));
    this.watchWriteBacklog();
  }

  /**
   * The TCP client reads slower than the tab sends: as for a WebSocket client, a burst may pass
   * maxQueuedBytes for slowConsumerMs, and four times it never.
   */
  private watchWriteBacklog(): void {
    const { config, clock } = this.context;
    const backlog = this.socket.writableLength;
    if (backlog <= config.maxQueuedBytes) return;
    if (backlog > 4 * config.maxQueuedBytes) return this.finish("slow-consumer");
    if (this.slowTimer !== undefined) return;
    this.slowTimer = clock.setTimeout(() => {
      this.slowTimer = undefined;
      if (this.state !== "closed" && this.socket.writableLength > config.maxQueuedBytes) this.finish("slow-consumer");
    }, config.slowConsumerMs);
  }

  // ------------------------------------------------------------------ from the TCP client

  private onTcpData(chunk: Buffer): void {
    if (this.state === "closed") return;
    if (this.state === "connecting") {
      // A raw client may talk first; keep it for the target, within a bound.
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      if (this.earlyBytes >= EARLY_BYTES) this.socket.pause();
      return;
    }
    this.forward(chunk);
  }

  /** TCP client → tab, in ARBITRARY_DATA frames of at most maxFrameSize. */
  private forward(chunk: Buffer): void {
    const { config, clock, router } = this.context;
    const room = config.maxFrameSize - ARBITRARY_DATA_HEADER;
    for (let offset = 0; offset < chunk.length && this.state === "open"; offset += room) {
      const piece = chunk.subarray(offset, Math.min(chunk.length, offset + room));
      const payload = new Uint8Array(ARBITRARY_DATA_HEADER + piece.length);
      const view = new DataView(payload.buffer);
      view.setUint32(0, this.connId, true);
      payload.set(piece, ARBITRARY_DATA_HEADER);
      this.bridge.countIn(piece.length);
      router.dispatch(this, Channel.VSOCKET, VSocketType.ARBITRARY_DATA, payload);
    }
    if (this.state !== "open") return;
    // The per-client rate limit, as for WebSocket clients: over it, reading pauses until the bucket refills.
    const waitMs = this.limiter.debit(clock.now(), chunk.length + MESSAGE_COST_BYTES);
    if (waitMs > 0 && this.throttleTimer === undefined) {
      this.context.metrics.throttled.inc();
      this.socket.pause();
      this.throttleTimer = clock.setTimeout(() => {
        this.throttleTimer = undefined;
        this.resumeWhenDrained();
      }, Math.ceil(waitMs));
      return;
    }
    this.resumeWhenDrained();
  }

  /** Reads on while the target takes what it is sent; pauses (and looks again soon) while its queue is over half its bound. */
  private resumeWhenDrained(): void {
    if (this.state !== "open" || this.throttleTimer !== undefined) return;
    const backlog = (this.target as WithBacklog | undefined)?.backlogBytes ?? 0;
    if (backlog > this.context.config.maxQueuedBytes / 2) {
      this.socket.pause();
      if (this.pollTimer === undefined) {
        this.pollTimer = this.context.clock.setTimeout(() => {
          this.pollTimer = undefined;
          this.resumeWhenDrained();
        }, BACKPRESSURE_CHECK_MS);
      }
      return;
    }
    if (this.pollTimer === undefined) this.socket.resume();
  }

  // ------------------------------------------------------------------ ending

  private later(action: () => void): void {
    queueMicrotask(action);
  }

  /** Ends the connection once: tells the tab (if the stream is open), ends or cuts the TCP socket, and releases everything. */
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
    for (const timer of [this.connectTimer, this.pollTimer, this.throttleTimer, this.slowTimer]) if (timer !== undefined) clock.clearTimeout(timer);
    this.early.length = 0;
    if (reason === "client-error" || reason === "slow-consumer") this.socket.destroy();
    else this.socket.end();
    const cause: SessionCloseCause = reason === "shutdown" ? "shutdown" : reason === "slow-consumer" ? "slow-consumer" : "closed";
    this.context.logger.info(
      { bridge: this.bridge.label, client: `${this.remoteAddress}:${this.socket.remotePort ?? 0}`, port: this.localPort, reason, established: wasOpen },
      wasOpen ? "gm bridge: connection closed" : "gm bridge: connection refused",
    );
    // Pending handshakes and a stream the tab did not hear about end after the current handler.
    this.later(() => this.bridge.ended(this, cause));
  }
}

function failReason(reason: number): BridgeEndReason {
  switch (reason) {
    case FailReason.OFFLINE:
      return "offline";
    case FailReason.NOT_LISTENING:
      return "not-listening";
    case FailReason.REFUSED:
      return "refused";
    case FailReason.TIMEOUT:
      return "timeout";
    default:
      return "target-gone";
  }
}
