/**
 * One client WebSocket, from upgrade to close: frame decoding, the Hello (and Resume) handshake,
 * heartbeat and flow control by bytes. After the Hello the connection carries a ClientSession —
 * a new one, or a detached one it resumes (PROTOCOL.md §14) — and hands it every frame; the
 * session does the sending, batching and replay. Authenticated frames go to the Router.
 *
 * The Hello's identity comes from the storage, asynchronously. Until it is known ("identifying"),
 * and then until the services have opened the session (the master logs in the Hello's token),
 * reading pauses and every frame that still arrives — the rest of the Hello's message, or later
 * messages ws had already received — is held; the held frames are then handled in arrival order
 * before any later one, exactly as if they had arrived then. A storage that fails, or does not
 * answer within the hello timeout, closes the connection with 4007 STORAGE_UNAVAILABLE
 * (reconnectable).
 *
 * Beside it: hello-checks.ts (what a Hello must be), session-opening.ts (which session the Hello
 * gets: resumed, taken over from another node, or new), held-frames.ts (the frames held back),
 * heartbeat.ts (PING/PONG) and close-codes.ts (what a close code is counted as).
 */
import {
  Ack,
  Channel,
  CloseCode,
  ControlType,
  Drain,
  Echo,
  ErrorMessage,
  FrameDecoder,
  FrameError,
  Hello,
  type HelloMessage,
  type MessageOf,
  Priority,
  ProtocolError,
  Resume,
  Resumed,
  encodeFrame,
  nameOf,
} from "@gmnet/protocol";
import type { WebSocket } from "ws";
import type { Identity } from "../storage/storage.js";
import type { ServerContext } from "../server-context.js";
import type { ClientSession } from "./client-session.js";
import type { SessionLink } from "./session-link.js";
import { openSession, welcomeOf } from "./session-opening.js";
import { ABNORMAL_CLOSURE, INTERNAL_ERROR, metricCauseOf, truncateUtf8 } from "./close-codes.js";
import { type HeldFrame, HeldFrames } from "./held-frames.js";
import { helloRefusal } from "./hello-checks.js";
import { Heartbeat } from "./heartbeat.js";
import { RateLimiter } from "./rate-limiter.js";
import type { SessionCloseCause } from "./session.js";

/** How long a closing connection may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 2000;
/** What one WebSocket message costs beyond its bytes, so a flood of tiny messages is limited too. */
export const MESSAGE_COST_BYTES = 64;

/** The rate bucket holds this many seconds' worth. */
const RATE_BURST_SECONDS = 2;

/** hello: waiting for the Hello; identifying: the Hello's identity is being looked up; open: a session exists. */
type State = "hello" | "identifying" | "open" | "closed";

export class Connection implements SessionLink {
  /** The session this connection carries, from the Hello on. */
  session: ClientSession | undefined;
  private state: State = "hello";
  private metricCause = "closed";
  private readonly decoder: FrameDecoder;
  private readonly limiter: RateLimiter;
  private readonly held: HeldFrames;
  private readonly heartbeat: Heartbeat;
  /** The hello timeout, until the Hello's identity is known. */
  private helloTimer: unknown;
  private closeTimer: unknown;
  private resumeReadingTimer: unknown;

  constructor(
    private readonly ws: WebSocket,
    private readonly context: ServerContext,
    /** The client's address as the HTTP upgrade saw it (server.ts applies trustProxy). */
    readonly remoteAddress = "",
  ) {
    const { config, clock } = context;
    this.decoder = new FrameDecoder({ maxPayload: config.maxFrameSize });
    this.limiter = new RateLimiter(config.rateLimitBytes, config.rateLimitBytes * RATE_BURST_SECONDS, clock.now());
    this.held = new HeldFrames((frame) => this.handle(frame), () => this.ended);
    this.heartbeat = new Heartbeat(context, {
      isOpen: () => this.state === "open",
      sendNow: (channel, type, payload) => this.sendNow(channel, type, payload),
      unresponsive: () => this.cutSocket("heartbeat"),
    });
    context.metrics.connections.inc();
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on("close", (code) => this.onClosed(code));
    this.helloTimer = clock.setTimeout(() => {
      if (this.state === "identifying") this.storageFailed(new Error(`no identity from the storage within ${config.helloTimeoutMs} ms`));
      else this.close(CloseCode.HELLO_TIMEOUT, "no Hello in time");
    }, config.helloTimeoutMs);
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  get ended(): boolean {
    return this.state === "closed";
  }

  transmit(message: Uint8Array): void {
    this.ws.send(message);
  }

  /** A frame of the connection's own (WELCOME, RESUMED, PING, errors before a session): sent at once, never sequenced. */
  private sendNow(channel: number, type: number, payload: Uint8Array): void {
    const frame = encodeFrame(channel, type, Priority.CRITICAL, payload);
    const { metrics } = this.context;
    metrics.framesSent.inc();
    metrics.messagesSent.inc();
    metrics.bytesSent.inc(frame.length);
    this.ws.send(frame);
  }

  private sendError(code: number, channel: number, type: number, refId: number, message: string): void {
    if (this.session !== undefined) return this.session.sendError(code, channel, type, refId, message);
    this.context.metrics.protocolErrors.inc({ code: nameOf(ProtocolError, code) });
    this.sendNow(Channel.CONTROL, ControlType.ERROR, ErrorMessage.encode({ code, refChannel: channel, refType: type, refId, message }));
  }

  /** Closes with `code`; with a session, the session ends too (it sends what is queued first). */
  close(code: number, reason: string): void {
    if (this.session !== undefined && this.state === "open") return this.session.close(code, reason);
    this.closeSocket(code, reason);
  }

  /** The server is going away: DRAIN, then close 4000. */
  drain(retryAfterMs: number): void {
    // A durable session goes on on another node (close 4008 HANDOVER): nothing of it ends.
    if (this.session !== undefined && this.state === "open" && this.session.handOver()) return;
    const drain = Drain.encode({ retryAfterMs });
    if (this.session !== undefined && this.state === "open") this.session.send(Channel.CONTROL, ControlType.DRAIN, Priority.CRITICAL, drain);
    else if (this.state !== "closed") this.sendNow(Channel.CONTROL, ControlType.DRAIN, drain);
    this.close(CloseCode.SERVER_SHUTDOWN, "server shutting down");
  }

  closeSocket(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.metricCause = metricCauseOf(code);
    // The close reason is limited to 123 UTF-8 bytes by RFC 6455; ws throws on longer ones.
    this.ws.close(code, truncateUtf8(reason, 120));
    // A client that never answers the close handshake is cut off (the timer ends with the socket).
    const ws = this.ws;
    this.closeTimer = this.context.clock.setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    this.finish(false, "closed");
  }

  cutSocket(cause: SessionCloseCause): void {
    if (this.state === "closed") return;
    this.metricCause = cause;
    this.ws.terminate();
    // A cut is no orderly end: a resumable session waits for its client (unless it cut us itself).
    this.finish(true, cause);
  }

  // ------------------------------------------------------------------ receiving

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === "closed") return;
    const { metrics, clock } = this.context;
    metrics.bytesReceived.inc(data.length);
    this.throttle(clock.now(), data.length);
    if (!isBinary) return this.fail(ProtocolError.MALFORMED_FRAME, "text messages are not part of the protocol; send binary frames");
    let frames;
    try {
      frames = this.decoder.push(data);
      // A WebSocket message must hold whole frames: a frame cannot continue in the next message.
      if (this.decoder.buffered !== 0) throw new FrameError(ProtocolError.MALFORMED_FRAME, "message ends inside a frame");
    } catch (error) {
      if (error instanceof FrameError) return this.fail(error.code, error.message);
      throw error;
    }
    metrics.framesReceived.inc(frames.length);
    for (let i = 0; i < frames.length; i++) {
      if (this.ended) return; // a handler may have closed us
      const frame = frames[i]!;
      if (this.held.hold(frame)) continue;
      if (this.state === "hello") {
        // RESUME belongs to the HELLO it follows, in the same message (PROTOCOL.md §14).
        const next = frames[i + 1];
        const resume = next !== undefined && next.channel === Channel.CONTROL && next.type === ControlType.RESUME ? next.payload : undefined;
        if (resume !== undefined) i++;
        this.onFirstFrame(frame.channel, frame.type, frame.payload, resume);
        continue;
      }
      this.handle(frame);
    }
  }

  /** One frame of an open connection. */
  private handle(frame: HeldFrame): void {
    try {
      this.onFrame(frame.channel, frame.type, frame.payload, frame.priority);
    } catch (error) {
      if (error instanceof FrameError) return this.sendError(error.code, frame.channel, frame.type, 0, error.message);
      // A bug in a handler must not take the process (and every other client) down with it.
      this.context.logger.error({ err: error, session: this.session?.id, channel: frame.channel, type: frame.type }, "frame handler failed");
      this.close(INTERNAL_ERROR, "internal server error");
    }
  }

  /**
   * Flow control by bytes: every message costs its length plus MESSAGE_COST_BYTES, however many
   * frames it batches. A client over its rate is not cut off: reading from it pauses until the
   * bucket refills, so TCP slows the sender down.
   */
  private throttle(now: number, bytes: number): void {
    const waitMs = this.limiter.debit(now, bytes + MESSAGE_COST_BYTES);
    if (waitMs === 0 || this.ws.isPaused) return;
    this.context.metrics.throttled.inc();
    this.ws.pause();
    this.resumeReadingTimer = this.context.clock.setTimeout(() => {
      this.resumeReadingTimer = undefined;
      if (this.state !== "closed") this.ws.resume();
    }, Math.ceil(waitMs));
  }

  private onFirstFrame(channel: number, type: number, payload: Uint8Array, resume: Uint8Array | undefined): void {
    if (channel === Channel.CONTROL && type === ControlType.HELLO) return this.onHello(payload, resume);
    this.sendError(ProtocolError.NOT_AUTHENTICATED, channel, type, 0, "the first frame must be a Hello");
    this.close(CloseCode.BAD_HELLO, "expected Hello");
  }

  private onFrame(channel: number, type: number, payload: Uint8Array, priority: number): void {
    const session = this.session!;
    if (channel === Channel.CONTROL) {
      switch (type) {
        case ControlType.PONG:
          return this.heartbeat.pong(payload);
        case ControlType.ACK:
          return session.acknowledgedByClient(Ack.decode(payload).received);
        case ControlType.ECHO_REQUEST:
          // Answered here and at once, so the reply measures the network and not a batch.
          return this.sendNow(Channel.CONTROL, ControlType.ECHO_REPLY, Echo.encode(Echo.decode(payload)));
        case ControlType.HELLO:
        case ControlType.RESUME:
          return this.sendError(ProtocolError.ALREADY_AUTHENTICATED, channel, type, 0, "Hello (with its Resume) was already accepted");
      }
    }
    session.countReceived(channel, type);
    const log = this.context.sessionLog;
    if (log === undefined) return this.context.router.dispatch(session, channel, type, payload, priority);
    // What this frame causes is written with its count, fenced by this session's record (session-log.ts).
    log.source = session.durable ? session.id : "";
    try {
      this.context.router.dispatch(session, channel, type, payload, priority);
    } finally {
      log.source = "";
    }
  }

  /** A framing error: the byte stream cannot be trusted any more, so the connection ends. */
  private fail(code: number, message: string): void {
    this.sendError(code, 0, 0, 0, message);
    this.close(CloseCode.PROTOCOL_ERROR, message);
  }

  private onHello(payload: Uint8Array, resumePayload: Uint8Array | undefined): void {
    let hello;
    let resume;
    try {
      hello = Hello.decode(payload);
      resume = resumePayload === undefined ? undefined : Resume.decode(resumePayload);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.sendError(ProtocolError.BAD_HELLO, Channel.CONTROL, ControlType.HELLO, 0, error.message);
      return this.close(CloseCode.BAD_HELLO, "malformed Hello");
    }
    const refusal = helloRefusal(hello);
    if (refusal !== undefined) {
      this.sendError(refusal.code, Channel.CONTROL, ControlType.HELLO, 0, refusal.message);
      return this.close(refusal.closeCode, refusal.message);
    }

    this.state = "identifying";
    // Reading waits for the identity; what was already received is held (onMessage).
    this.held.holdForHello();
    if (!this.ws.isPaused) this.ws.pause();
    this.context.storage.identities.identify(hello.appKey, hello.secret).then(
      (identity) => {
        if (this.state !== "identifying") return; // closed meanwhile
        let opening: Promise<void> | undefined;
        try {
          opening = this.identified(hello, resume, identity);
        } catch (error) {
          // As for a frame handler: a bug closes this connection, never the process.
          this.context.logger.error({ err: error, session: this.session?.id }, "opening a session failed");
          return this.close(INTERNAL_ERROR, "internal server error");
        }
        if (opening === undefined) this.releaseHeld();
        else void opening.finally(() => this.releaseHeld());
      },
      (error: unknown) => {
        if (this.state === "identifying") this.storageFailed(error);
      },
    );
  }

  /** The storage could not give the Hello its identity: close 4007, log and count it. */
  private storageFailed(error: unknown): void {
    const { logger, metrics } = this.context;
    metrics.storageFailures.inc({ op: "hello" });
    logger.error({ err: error, client: this.remoteAddress }, "storage unavailable: a Hello got no identity");
    this.held.clear();
    this.close(CloseCode.STORAGE_UNAVAILABLE, "storage unavailable");
  }

  /** After the session is open: the frames held since the Hello, in order, then reading again. */
  private releaseHeld(): void {
    this.held.release();
    if (!this.ended && this.resumeReadingTimer === undefined) this.ws.resume();
  }

  holdUntil(settled: Promise<unknown>): void {
    if (this.ended) return;
    this.held.holdUntil(settled);
  }

  /** The session for the Hello: a resumed one, or a new one (a promise while its services open it). */
  private identified(hello: HelloMessage, resume: MessageOf<typeof Resume> | undefined, identity: Identity): Promise<void> | undefined {
    this.context.clock.clearTimeout(this.helloTimer);
    this.state = "open";
    return openSession(this, this.context, hello, resume, identity);
  }

  // ------------------------------------------------------------------ what session-opening.ts uses

  carry(session: ClientSession): void {
    this.session = session;
  }

  greet(session: ClientSession, resumed?: MessageOf<typeof Resumed>): void {
    this.sendNow(Channel.CONTROL, ControlType.WELCOME, welcomeOf(this.context, session));
    if (resumed !== undefined) this.sendNow(Channel.CONTROL, ControlType.RESUMED, Resumed.encode(resumed));
  }

  startHeartbeat(): void {
    this.heartbeat.schedule();
  }

  // ------------------------------------------------------------------ end

  private onClosed(code: number): void {
    this.context.clock.clearTimeout(this.closeTimer);
    this.context.metrics.connections.dec();
    // No close frame (1006): the network or the client's process went away. RESUMING: the client
    // gave up on this socket because it looked dead. Either way the session is worth keeping.
    if (this.state !== "closed") this.finish(code === ABNORMAL_CLOSURE || code === CloseCode.RESUMING, "closed");
  }

  /** The socket is done with, exactly once; the session hears of it (and ignores it if it ended the socket itself). */
  private finish(abnormal: boolean, cause: SessionCloseCause): void {
    if (this.state === "closed") return;
    const { clock, metrics } = this.context;
    this.state = "closed";
    for (const timer of [this.helloTimer, this.resumeReadingTimer]) clock.clearTimeout(timer);
    this.heartbeat.stop();
    metrics.disconnects.inc({ cause: this.metricCause });
    this.session?.linkEnded(this, abnormal, cause);
  }
}
