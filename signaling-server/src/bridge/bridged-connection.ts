/**
 * One native GameMaker connection on a bridge port, seen by the virtual-socket services as a
 * client session: it asks for the target's port exactly as an engine would (SOCKET_STATUS_REQUEST,
 * then SOCKET_CONNECTION_REQUEST, through the router), and what the services send it (answers,
 * SOCKET_CONNECTED, ARBITRARY_DATA, SOCKET_CLOSED) becomes TCP writes and closes. Bytes pass
 * through unchanged both ways; the tab's engine does the GameMaker handshake and framing itself.
 *
 * The client is a plain TCP one (a native export) or a WebSocket one (an HTML5 export), told apart
 * by its first bytes (ws-upgrade.ts: an HTTP GET asking for `Upgrade: websocket`). Until they
 * tell, the tab's bytes are held; when the tab speaks first (a GameMaker server greets first and
 * a native client waits for it), they are held at most SNIFF_GRACE_MS after the accept, and a
 * client still silent then is plain TCP. A WebSocket client gets the tab's bytes cut into whole
 * GameMaker handshake steps and packets (gm-framer.ts), one per message.
 *
 * TLS: when the server has a certificate (--tls-cert/--tls-key), a client whose first bytes are a
 * TLS ClientHello gets a server-side TLS socket with that certificate, within
 * gmBridgeConnectTimeoutMs, and its decrypted bytes are read as above (`wss://`, or TLS TCP); the
 * sniff grace then counts from the end of the TLS handshake. Without a certificate a ClientHello
 * is just bytes, passed to the tab like any plain TCP client's.
 *
 * The session is never in the Directory (nobody can connect to it) and never sends anything but
 * the four VSOCKET frames above, always with the server's own stamping: its app key and virtual IP
 * come from the bridge, not from the TCP client.
 */
import { streamPieces } from "./stream-pieces.js";
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";
import type { WebSocket } from "ws";
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
import type { Identity } from "../storage/storage.js";
import type { Session, SessionCloseCause } from "../session/session.js";
import { GmFramerError } from "./gm-framer.js";
import { InflowControl } from "./inflow.js";
import { WsLink } from "./ws-link.js";
import { looksLikeTls, sniffClient } from "./ws-upgrade.js";

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

/** The client's side of a bridged connection: a TCP socket, or a WebSocket (ws-link.ts). */
export interface ClientLink {
  readonly kind: "tcp" | "websocket";
  /** Tab → client. May throw GmFramerError (a WebSocket client and a malformed GameMaker stream). */
  write(bytes: Uint8Array): void;
  /** Bytes written and not sent yet. */
  readonly backlog: number;
  pause(): void;
  resume(): void;
  /** An orderly end (TCP FIN; WebSocket close with `code`). */
  end(code?: number, reason?: string): void;
  destroy(): void;
}

/** What a link reports to its connection. */
export interface ClientLinkEvents {
  data(chunk: Buffer): void;
  end(reason: BridgeEndReason): void;
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
  | "malformed"
  | "bad-handshake"
  | "tls-error"
  | "tls-timeout"
  | "shutdown";

const STATUS_REQ = 1;
const CONNECT_REQ = 2;
/** Bytes read from the TCP client before the target accepted, held for it (reading pauses above this). */
const EARLY_BYTES = 64 * 1024;
/**
 * When the tab speaks before the client said anything, how long after the accept its bytes wait
 * for the client's first bytes (a WebSocket client sends its request at once; a native GameMaker
 * client waits for the greeting). A client still silent then is plain TCP.
 */
export const SNIFF_GRACE_MS = 100;

class TcpLink implements ClientLink {
  readonly kind = "tcp";

  constructor(
    private readonly socket: Socket,
    events: ClientLinkEvents,
  ) {
    socket.on("data", (chunk: Buffer) => events.data(chunk));
  }

  write(bytes: Uint8Array): void {
    // A copy: the payload may be a view of the tab's WebSocket message.
    this.socket.write(Buffer.from(bytes));
  }

  get backlog(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

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
  private slowTimer: unknown;
  private sniffTimer: unknown;
  private tlsTimer: unknown;
  /** The client's socket: the accepted one, or the TLS socket over it once a ClientHello came. */
  private socket: Socket;
  /** Whether the client talks TLS; `secured` once its handshake finished. */
  private tls = false;
  private secured = false;
  /** The listeners start() put on the accepted socket, taken off when a TLS socket wraps it. */
  private detachRaw: (() => void) | undefined;
  /** The client's transport, once its first bytes (or its silence) told. */
  private link: ClientLink | undefined;
  /** The client's first bytes, while they do not tell yet. */
  private sniffed: Buffer = Buffer.alloc(0);
  private sniffing = true;
  /** True once SNIFF_GRACE_MS passed since the accept. */
  private graceOver = false;
  /** Tab → client bytes held while the transport is not known. */
  private readonly held: Buffer[] = [];
  private heldBytes = 0;
  /** Paused while the client's data waits (early bytes, rate limit, the tab's backlog). */
  private paused = false;
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
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress ?? "";
    this.inflow = InflowControl.perClient(context, {
      pause: () => this.pauseClient(),
      resume: () => this.resumeClient(),
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
    this.socket.setNoDelay(true);
    this.detachRaw = this.watch(this.socket);
    this.connectTimer = clock.setTimeout(() => this.finish("timeout"), config.gmBridgeConnectTimeoutMs);
    this.startGrace();
    const ip = this.bridge.resolveTarget();
    if (ip === 0) return this.finish("offline");
    this.target = this.context.directory.lookup(this.appKey, ip);
    this.request(VSocketType.SOCKET_STATUS_REQUEST, STATUS_REQ, ip);
  }

  /** Reads the first bytes of `socket` and ends the connection with it; returns a function that takes those listeners off. */
  private watch(socket: Socket): () => void {
    const idle = this.context.config.gmBridgeIdleTimeoutMs;
    const sniff = (chunk: Buffer): void => this.onFirstBytes(chunk, sniff);
    const ended = (): void => this.finish("client-closed");
    const failed = (): void => this.finish("client-error");
    const timedOut = (): void => this.finish("idle");
    socket.on("data", sniff);
    socket.on("end", ended);
    socket.on("error", failed);
    socket.on("close", ended);
    if (idle > 0) {
      socket.setTimeout(idle);
      socket.on("timeout", timedOut);
    }
    return () => {
      socket.off("data", sniff);
      socket.off("end", ended);
      socket.off("error", failed);
      socket.off("close", ended);
      socket.off("timeout", timedOut);
      if (idle > 0) socket.setTimeout(0);
    };
  }

  /** The tab's bytes wait SNIFF_GRACE_MS for the client's first bytes; a client still silent then is plain TCP. */
  private startGrace(): void {
    const { clock } = this.context;
    if (this.sniffTimer !== undefined) clock.clearTimeout(this.sniffTimer);
    this.graceOver = false;
    this.sniffTimer = clock.setTimeout(() => {
      this.sniffTimer = undefined;
      this.graceOver = true;
      if (this.sniffing && this.sniffed.length === 0 && this.heldBytes > 0) this.useLink(new TcpLink(this.socket, this.linkEvents));
    }, SNIFF_GRACE_MS);
  }

  /**
   * A ClientHello came: the accepted socket (its first bytes put back) goes under a server-side
   * TLS socket, and once the handshake is done its decrypted bytes are sniffed again. Until then
   * the tab's bytes are held and no grace runs.
   */
  private startTls(first: Buffer, secureContext: SecureContext): void {
    const { clock, config, logger } = this.context;
    const raw = this.socket;
    this.tls = true;
    raw.pause();
    raw.unshift(first);
    this.detachRaw?.();
    this.detachRaw = undefined;
    if (this.sniffTimer !== undefined) clock.clearTimeout(this.sniffTimer);
    this.sniffTimer = undefined;
    this.graceOver = false;
    const secure = new TLSSocket(raw, { isServer: true, secureContext });
    this.socket = secure;
    const failed = (why: string): void => {
      if (this.state === "closed") return;
      logger.info({ bridge: this.bridge.label, client: this.clientLabel, reason: why }, "gm bridge: TLS handshake failed");
      this.finish(why === "timeout" ? "tls-timeout" : "tls-error");
    };
    const onError = (error: Error & { code?: string }): void => failed(error.code ?? error.message);
    const onClose = (): void => failed("closed during the handshake");
    secure.on("error", onError);
    secure.on("close", onClose);
    this.tlsTimer = clock.setTimeout(() => failed("timeout"), config.gmBridgeConnectTimeoutMs);
    secure.once("secure", () => {
      clock.clearTimeout(this.tlsTimer);
      this.tlsTimer = undefined;
      // Closed meanwhile: the handshake listeners stay (they ignore a closed connection) to take the socket's errors.
      if (this.state === "closed") return;
      secure.off("error", onError);
      secure.off("close", onClose);
      this.secured = true;
      secure.setNoDelay(true);
      this.watch(secure);
      if (this.paused) secure.pause();
      logger.debug({ bridge: this.bridge.label, client: this.clientLabel, protocol: secure.getProtocol() }, "gm bridge: TLS handshake done");
      this.startGrace();
    });
  }

  private readonly linkEvents: ClientLinkEvents = {
    data: (chunk) => this.onClientData(chunk),
    end: (reason) => this.finish(reason),
  };

  /** The client's first bytes, until they tell a plain TCP client from a WebSocket one. */
  private onFirstBytes(chunk: Buffer, listener: (chunk: Buffer) => void): void {
    if (this.state === "closed" || !this.sniffing) return;
    this.sniffed = this.sniffed.length === 0 ? chunk : Buffer.concat([this.sniffed, chunk]);
    // TLS once, and only with a certificate: otherwise (or TLS inside TLS) a ClientHello is bytes like any others.
    const secureContext = this.tls ? undefined : this.bridge.secureContext;
    const kind = sniffClient(this.sniffed, secureContext !== undefined);
    if (kind === "more") return;
    const { socket } = this;
    socket.off("data", listener);
    const first = this.sniffed;
    this.sniffed = Buffer.alloc(0);
    if (kind === "tls" && secureContext !== undefined) return this.startTls(first, secureContext);
    if (kind === "tcp") {
      if (!this.tls && secureContext === undefined && looksLikeTls(first)) {
        this.context.logger.info({ bridge: this.bridge.label, client: this.clientLabel }, "gm bridge: a TLS ClientHello, but the server has no TLS certificate: passed to the tab as plain TCP bytes");
      }
      this.useLink(new TcpLink(socket, this.linkEvents));
      return this.onClientData(first);
    }
    this.sniffing = false;
    socket.pause();
    this.bridge.upgradeWebSocket(socket, first, (ws) => {
      if (this.state === "closed") return ws.terminate();
      // ws turns the socket's timeout off; the bridge's idle timeout still holds.
      const idle = this.context.config.gmBridgeIdleTimeoutMs;
      if (idle > 0) socket.setTimeout(idle);
      this.useLink(new WsLink(ws, this.linkEvents, this.context.config.maxQueuedBytes));
    });
  }

  /** The transport is known: the tab's bytes held meanwhile go out, and the client's data flows. */
  private useLink(link: ClientLink): void {
    this.sniffing = false;
    this.link = link;
    if (this.sniffTimer !== undefined) this.context.clock.clearTimeout(this.sniffTimer);
    this.sniffTimer = undefined;
    this.context.logger.debug({ bridge: this.bridge.label, client: this.clientLabel, kind: link.kind, tls: this.tls }, "gm bridge: client transport");
    const held = this.held.splice(0);
    this.heldBytes = 0;
    for (const chunk of held) {
      if (this.state === "closed") return;
      this.toClient(chunk);
    }
    if (this.paused) link.pause();
  }

  private get clientLabel(): string {
    return `${this.remoteAddress}:${this.socket.remotePort ?? 0}`;
  }

  private pauseClient(): void {
    this.paused = true;
    if (this.link !== undefined) this.link.pause();
    else if (this.sniffing) this.socket.pause();
  }

  private resumeClient(): void {
    this.paused = false;
    if (this.link !== undefined) this.link.resume();
    else if (this.sniffing) this.socket.resume();
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
    this.context.logger.info({ bridge: this.bridge.label, client: this.clientLabel, port: this.localPort, connId }, "gm bridge: connection open");
    const early = this.early.splice(0);
    this.earlyBytes = 0;
    for (const chunk of early) this.forward(chunk);
    if (this.state === "open" && !this.inflow.holding) this.resumeClient();
  }

  /** Tab → client. */
  private onData(payload: Uint8Array): void {
    if (this.state !== "open") return;
    const data = payload.subarray(ARBITRARY_DATA_HEADER);
    if (data.length === 0) return;
    if (this.link === undefined) {
      // Not known yet whether the client is a WebSocket: held (a copy, as the payload may be a view of the tab's message).
      this.held.push(Buffer.from(data));
      this.heldBytes += data.length;
      if (this.heldBytes > 4 * this.context.config.maxQueuedBytes) return this.finish("slow-consumer");
      if (this.sniffing && this.graceOver && this.sniffed.length === 0) this.useLink(new TcpLink(this.socket, this.linkEvents));
      return;
    }
    this.toClient(data);
  }

  private toClient(data: Uint8Array): void {
    const link = this.link!;
    this.bridge.countOut(data.length);
    try {
      link.write(data);
    } catch (error) {
      if (!(error instanceof GmFramerError)) throw error;
      this.context.logger.warn({ bridge: this.bridge.label, client: this.clientLabel, port: this.localPort, reason: error.message }, "gm bridge: malformed GameMaker stream from the tab");
      return this.finish("malformed");
    }
    this.watchWriteBacklog();
  }

  /**
   * The client reads slower than the tab sends: as for a WebSocket client, a burst may pass
   * maxQueuedBytes for slowConsumerMs, and four times it never.
   */
  private watchWriteBacklog(): void {
    const { config, clock } = this.context;
    const link = this.link;
    if (link === undefined) return;
    const backlog = link.backlog;
    if (backlog <= config.maxQueuedBytes) return;
    if (backlog > 4 * config.maxQueuedBytes) return this.finish("slow-consumer");
    if (this.slowTimer !== undefined) return;
    this.slowTimer = clock.setTimeout(() => {
      this.slowTimer = undefined;
      if (this.state !== "closed" && link.backlog > config.maxQueuedBytes) this.finish("slow-consumer");
    }, config.slowConsumerMs);
  }

  // ------------------------------------------------------------------ from the client

  private onClientData(chunk: Buffer): void {
    if (this.state === "closed" || chunk.length === 0) return;
    if (this.state === "connecting") {
      // A raw client may talk first; keep it for the target, within a bound.
      this.early.push(chunk);
      this.earlyBytes += chunk.length;
      if (this.earlyBytes >= EARLY_BYTES) this.pauseClient();
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

  private closeClient(reason: BridgeEndReason): void {
    const cut = reason === "client-error" || reason === "slow-consumer" || reason === "tls-error" || reason === "tls-timeout";
    const link = this.link;
    if (link === undefined) {
      // Still sniffing, in the TLS handshake, or in the WebSocket handshake (the socket is the http parser's then).
      if (cut || !this.sniffing || (this.tls && !this.secured)) this.socket.destroy();
      else this.socket.end();
      return;
    }
    if (cut) return link.destroy();
    const [code, text] = wsClose(reason);
    link.end(code, text);
  }

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
    for (const timer of [this.connectTimer, this.slowTimer, this.sniffTimer, this.tlsTimer]) if (timer !== undefined) clock.clearTimeout(timer);
    this.inflow.stop();
    this.early.length = 0;
    this.held.length = 0;
    this.closeClient(reason);
    const cause: SessionCloseCause = reason === "shutdown" ? "shutdown" : reason === "slow-consumer" ? "slow-consumer" : "closed";
    this.context.logger.info(
      { bridge: this.bridge.label, client: this.clientLabel, kind: this.link?.kind ?? (this.sniffing ? "unknown" : "websocket"), tls: this.tls, port: this.localPort, reason, established: wasOpen },
      wasOpen ? "gm bridge: connection closed" : "gm bridge: connection refused",
    );
    // Pending handshakes and a stream the tab did not hear about end after the current handler.
    this.later(() => this.bridge.ended(this, cause));
  }
}

/** WebSocket close codes and reasons (at most 123 bytes) by why the connection ended. */
function wsClose(reason: BridgeEndReason): [number, string] {
  switch (reason) {
    case "malformed":
      return [1011, "malformed GameMaker stream from the server"];
    case "bad-handshake":
      return [1002, "bad GameMaker handshake"];
    case "shutdown":
      return [1001, "server shutting down"];
    case "idle":
      return [1000, "idle timeout"];
    case "target-closed":
    case "client-closed":
      return [1000, ""];
    default:
      return [1011, reason];
  }
}

/** Why the tab's side ended the stream: the tab's server refused the client's GameMaker handshake is worth its own name. */
function closedBecause(reason: number): BridgeEndReason {
  switch (reason) {
    case CloseReason.HANDSHAKE_FAILED:
      return "bad-handshake";
    case CloseReason.CLOSED:
    case CloseReason.MESSAGE_TOO_LARGE:
      return "target-closed";
    case CloseReason.SHUTDOWN:
      return "shutdown";
    default:
      return "target-gone";
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
