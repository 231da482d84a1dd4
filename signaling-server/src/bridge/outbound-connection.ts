/**
 * One connection of the outbound GameMaker bridge (outbound.ts): it resolves and dials an allowed
 * destination, then relays bytes between the TCP socket and the engine's virtual stream both ways,
 * with the engine's backlog and the rate limit pausing the socket, until either side ends it.
 */
import { streamPieces } from "./stream-pieces.js";
import { randomBytes } from "node:crypto";
import { lookup } from "node:dns/promises";
import { type Socket, connect as tcpConnect } from "node:net";
import {
  ARBITRARY_DATA_HEADER,
  Channel,
  CloseReason,
  ControlType,
  ErrorMessage,
  FailReason,
  Priority,
  ProtocolError,
  RequestFailed,
  SocketClosed,
  VSocketType,
  nameOf,
  parseIpv4,
} from "@gmnet/protocol";
import type { Counter, Gauge } from "prom-client";
import type { ServerContext } from "../server-context.js";
import type { Identity } from "../storage/storage.js";
import type { VirtualSocketService } from "../services/virtual-sockets.js";
import type { Session, SessionCloseCause } from "../session/session.js";
import { InflowControl } from "./inflow.js";
import { type AllowEntry, type AllowList, formatAllowEntry } from "./outbound-allow.js";

/** Why an outbound connection ended or was refused, as logged and as a metric label. */
export type OutboundEndReason =
  | "not-allowed"
  | "offline"
  | "limit"
  | "unreachable"
  | "not-listening"
  | "timeout"
  | "engine-closed"
  | "engine-gone"
  | "remote-closed"
  | "remote-error"
  | "idle"
  | "slow-consumer"
  | "protocol-error"
  | "shutdown";

interface WithBacklog {
  readonly backlogBytes?: number;
}

export interface OutboundMetrics {
  readonly open: Gauge;
  readonly total: Counter;
  readonly refused: Counter;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
}

/** What a connection reports to the bridge that made it. */
export interface OutboundHost {
  readonly metrics: OutboundMetrics;
  readonly allow: AllowList;
  ended(connection: OutboundConnection, cause: SessionCloseCause): void;
}

type State = "dialing" | "open" | "closed";

/**
 * One outbound connection: the real TCP socket, seen by the stream machinery as a session. Its
 * virtualIp is the dialed IPv4 address (0 for IPv6) and its port the real port, so the engine's
 * SOCKET_CONNECTED names the real destination.
 */
export class OutboundConnection implements Session {
  readonly id = randomBytes(12).toString("base64url");
  readonly helloToken = "";
  readonly detached = false;
  readonly remoteAddress: string;
  socket: Socket | undefined;
  private state: State = "dialing";
  private connId = 0;
  private address = 0;
  private connectTimer: unknown;
  private slowTimer: unknown;
  /** Native server → engine: the rate limit and the engine's backlog pause reading from the socket. */
  private readonly inflow: InflowControl;
  private readonly destination: string;
  endReason: OutboundEndReason | undefined;

  constructor(
    private readonly context: ServerContext,
    private readonly host: OutboundHost,
    readonly requester: Session,
    private readonly entry: AllowEntry,
    private readonly reqId: number,
    private readonly localPort: number,
    private readonly virtualSockets: VirtualSocketService,
  ) {
    this.destination = formatAllowEntry(entry);
    this.remoteAddress = this.destination;
    this.inflow = InflowControl.perClient(context, {
      pause: () => this.socket!.pause(),
      resume: () => this.socket!.resume(),
      backlog: () => (this.requester as WithBacklog).backlogBytes ?? 0,
      isOpen: () => this.state === "open",
    });
  }

  get appKey(): string {
    return this.requester.appKey;
  }

  get identityId(): number {
    return this.requester.identityId;
  }

  get virtualIp(): number {
    return this.address;
  }

  get deviceIdentity(): Identity {
    return this.requester.deviceIdentity;
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  private get logFields(): Record<string, unknown> {
    return { session: this.requester.id, appKey: this.requester.appKey, destination: this.destination, connId: this.connId || undefined };
  }

  /** Resolves (names only), checks the address, and dials, all within gmBridgeConnectTimeoutMs. */
  start(): void {
    const { config, clock } = this.context;
    this.connectTimer = clock.setTimeout(() => this.finish("timeout"), config.gmBridgeConnectTimeoutMs);
    if (this.entry.family !== 0) return this.dial(this.entry.host, this.entry.family);
    lookup(this.entry.host, { all: true, verbatim: true }).then(
      (addresses) => {
        if (this.state !== "dialing") return;
        const usable = addresses.find((candidate) => (candidate.family === 4 || candidate.family === 6) && this.host.allow.addressAllowed(candidate.address, candidate.family, this.entry.port));
        if (usable === undefined) {
          this.context.logger.warn({ ...this.logFields, addresses: addresses.map((a) => a.address) }, "gm bridge outbound: the name resolves only to non-public addresses that are not listed");
          return this.finish("not-allowed");
        }
        this.dial(usable.address, usable.family as 4 | 6);
      },
      () => this.finish("unreachable"),
    );
  }

  private dial(address: string, family: 4 | 6): void {
    if (this.state !== "dialing") return;
    this.address = family === 4 ? (parseIpv4(address) ?? 0) : 0;
    const socket = tcpConnect({ host: address, port: this.entry.port, family, noDelay: true });
    this.socket = socket;
    socket.on("error", (error: NodeJS.ErrnoException) => this.finish(this.state === "dialing" ? dialFailure(error.code) : "remote-error"));
    socket.on("close", () => this.finish("remote-closed"));
    socket.once("connect", () => this.connected());
  }

  private connected(): void {
    const { config, clock, logger } = this.context;
    const socket = this.socket!;
    if (this.state !== "dialing") return;
    if (this.requester.closed) return this.finish("engine-gone");
    clock.clearTimeout(this.connectTimer);
    this.state = "open";
    this.connId = this.virtualSockets.streams.open(
      { session: this.requester, port: this.localPort, reqId: this.reqId },
      { session: this, port: this.entry.port, reqId: 0 },
    );
    this.host.metrics.total.inc({ destination: this.destination });
    logger.info(this.logFields, "gm bridge outbound: connection open");
    socket.on("data", (chunk: Buffer) => this.forward(chunk));
    socket.on("end", () => this.finish("remote-closed"));
    if (config.gmBridgeIdleTimeoutMs > 0) {
      socket.setTimeout(config.gmBridgeIdleTimeoutMs);
      socket.on("timeout", () => this.finish("idle"));
    }
  }

  // ------------------------------------------------------------------ from the services

  send(channel: number, type: number, _priority: number, payload: Uint8Array): void {
    if (this.state === "closed") return;
    if (channel === Channel.CONTROL && type === ControlType.ERROR) {
      const error = ErrorMessage.decode(payload);
      this.context.logger.warn({ ...this.logFields, code: nameOf(ProtocolError, error.code), message: error.message }, "gm bridge outbound: the server refused a frame");
      return queueMicrotask(() => this.finish("protocol-error"));
    }
    if (channel !== Channel.VSOCKET) return;
    if (type === VSocketType.ARBITRARY_DATA) return this.onData(payload);
    if (type === VSocketType.SOCKET_CLOSED) {
      const { connId, reason } = SocketClosed.decode(payload);
      if (connId !== this.connId) return;
      // The stream is gone on the services' side already: nothing to tell the engine.
      this.connId = 0;
      const why: OutboundEndReason = reason === CloseReason.CLOSED || reason === CloseReason.MESSAGE_TOO_LARGE ? "engine-closed" : reason === CloseReason.SHUTDOWN ? "shutdown" : "engine-gone";
      return queueMicrotask(() => this.finish(why));
    }
    // SOCKET_CONNECTED (our own stream being opened) needs nothing: streams.open returned the connId.
  }

  sendError(code: number, channel: number, type: number, refId: number, message: string): void {
    this.send(Channel.CONTROL, ControlType.ERROR, 0, ErrorMessage.encode({ code, refChannel: channel, refType: type, refId, message }));
  }

  close(code: number, reason: string): void {
    this.context.logger.debug({ ...this.logFields, code, reason }, "gm bridge outbound: session closed by the server");
    this.finish("shutdown");
  }

  /** An outbound connection's address never moves. */
  moveTo(): void {}

  /** The engine left or moved to another address while this was still dialing. */
  requesterGone(): void {
    if (this.state === "dialing") this.finish("engine-gone");
  }

  /** Engine → native server. */
  private onData(payload: Uint8Array): void {
    if (this.state !== "open" || this.socket === undefined) return;
    const data = payload.subarray(ARBITRARY_DATA_HEADER);
    if (data.length === 0) return;
    this.host.metrics.bytesOut.inc({ destination: this.destination }, data.length);
    // A copy: the payload may be a view of the engine's WebSocket message.
    this.socket.write(Buffer.from(data));
    this.watchWriteBacklog();
  }

  /** The native server reads slower than the engine sends: as for a WebSocket client, a burst may pass maxQueuedBytes for slowConsumerMs, four times it never. */
  private watchWriteBacklog(): void {
    const { config, clock } = this.context;
    const backlog = this.socket!.writableLength;
    if (backlog <= config.maxQueuedBytes) return;
    if (backlog > 4 * config.maxQueuedBytes) return this.finish("slow-consumer");
    if (this.slowTimer !== undefined) return;
    this.slowTimer = clock.setTimeout(() => {
      this.slowTimer = undefined;
      if (this.state !== "closed" && (this.socket?.writableLength ?? 0) > config.maxQueuedBytes) this.finish("slow-consumer");
    }, config.slowConsumerMs);
  }

  /** Native server → engine, in ARBITRARY_DATA frames of at most maxFrameSize. */
  private forward(chunk: Buffer): void {
    const { config, router } = this.context;
    for (const { payload, bytes } of streamPieces(this.connId, chunk, config.maxFrameSize)) {
      if (this.state !== "open") break;
      this.host.metrics.bytesIn.inc({ destination: this.destination }, bytes);
      router.dispatch(this, Channel.VSOCKET, VSocketType.ARBITRARY_DATA, payload);
    }
    if (this.state !== "open") return;
    this.inflow.received(chunk.length);
  }

  // ------------------------------------------------------------------ ending

  /** Ends the connection once: answers a pending request or closes the stream, ends or cuts the socket, and releases everything. */
  finish(reason: OutboundEndReason): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.endReason = reason;
    const { clock, router, logger } = this.context;
    if (wasOpen && this.connId !== 0 && reason !== "shutdown") {
      // An orderly close to the engine: its socket gets network_type_disconnect.
      router.dispatch(this, Channel.VSOCKET, VSocketType.SOCKET_CLOSED, SocketClosed.encode({ connId: this.connId, reason: CloseReason.CLOSED }));
    }
    if (!wasOpen && reason !== "engine-gone") {
      this.requester.send(Channel.VSOCKET, VSocketType.REQUEST_FAILED, Priority.NORMAL, RequestFailed.encode({ reqId: this.reqId, reason: failReasonOf(reason) }));
    }
    this.state = "closed";
    for (const timer of [this.connectTimer, this.slowTimer]) if (timer !== undefined) clock.clearTimeout(timer);
    this.inflow.stop();
    if (this.socket !== undefined) {
      if (!wasOpen || reason === "remote-error" || reason === "slow-consumer") this.socket.destroy();
      else this.socket.end();
    }
    if (!wasOpen) this.host.metrics.refused.inc({ reason });
    logger.info({ ...this.logFields, reason }, wasOpen ? "gm bridge outbound: connection closed" : "gm bridge outbound: connection failed");
    const cause: SessionCloseCause = reason === "shutdown" ? "shutdown" : reason === "slow-consumer" ? "slow-consumer" : "closed";
    queueMicrotask(() => this.host.ended(this, cause));
  }
}

function dialFailure(code: string | undefined): OutboundEndReason {
  if (code === "ECONNREFUSED") return "not-listening";
  if (code === "ETIMEDOUT") return "timeout";
  return "unreachable";
}

function failReasonOf(reason: OutboundEndReason): number {
  switch (reason) {
    case "not-allowed":
      return FailReason.NOT_ALLOWED;
    case "not-listening":
      return FailReason.NOT_LISTENING;
    case "timeout":
      return FailReason.TIMEOUT;
    case "shutdown":
      return FailReason.GONE;
    default:
      return FailReason.UNREACHABLE;
  }
}
