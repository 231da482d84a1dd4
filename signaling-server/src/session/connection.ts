/**
 * One client WebSocket, from upgrade to close: frame decoding, the Hello handshake, heartbeat,
 * rate limiting, batching of outgoing frames and the slow-consumer cut-off. Authenticated
 * frames go to the Router; everything a service needs is behind the Session interface.
 */
import { randomBytes } from "node:crypto";
import {
  Channel,
  CloseCode,
  ControlType,
  ErrorMessage,
  FrameDecoder,
  FrameError,
  Hello,
  PROTOCOL_VERSION,
  Ping,
  Echo,
  Pong,
  Priority,
  VSocketType,
  VirtualIp,
  ProtocolError,
  Welcome,
  encodeFrame,
  nameOf,
} from "@gmnet/engine/protocol";
import type { WebSocket } from "ws";
import type { ServerContext } from "../server-context.js";
import type { Identity } from "../services/identity-store.js";
import { OutgoingQueue } from "./outgoing-queue.js";
import { RateLimiter } from "./rate-limiter.js";
import type { Session, SessionCloseCause } from "./session.js";

const APP_KEY = /^[A-Za-z0-9._-]{1,64}$/;
/** Base64url, at least 22 characters = 128 bits. */
const SECRET = /^[A-Za-z0-9_-]{22,128}$/;
/** How long a closing connection may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 2000;

type State = "hello" | "open" | "closed";

/** WebSocket close code for an unexpected server-side failure while handling a frame (RFC 6455). */
const INTERNAL_ERROR = 1011;

/** What closing with a code means to the services, and where it says more, to the disconnect metric. */
interface CloseCause {
  readonly session: SessionCloseCause;
  readonly metric?: string;
}
const PROTOCOL_ERROR_CAUSE: CloseCause = { session: "protocol-error" };
const CLOSE_CAUSES: ReadonlyMap<number, CloseCause> = new Map<number, CloseCause>([
  [CloseCode.REPLACED, { session: "replaced" }],
  [CloseCode.HEARTBEAT_TIMEOUT, { session: "heartbeat" }],
  [CloseCode.RATE_LIMITED, { session: "rate-limited" }],
  [CloseCode.SERVER_SHUTDOWN, { session: "shutdown" }],
  [CloseCode.HELLO_TIMEOUT, { session: "closed", metric: "hello-timeout" }],
  [INTERNAL_ERROR, { session: "protocol-error", metric: "internal-error" }],
]);

export class Connection implements Session {
  readonly id = randomBytes(12).toString("base64url");
  appKey = "";
  identityId = 0;
  virtualIp = 0;
  deviceIdentity: Identity = { identityId: 0, virtualIp: 0 };
  helloToken = "";
  private state: State = "hello";
  private closeCause: SessionCloseCause = "closed";
  /** Label for gmnet_disconnects_total when it says more than closeCause (causes services never see). */
  private metricCause: string | undefined;
  private readonly decoder: FrameDecoder;
  private readonly queue = new OutgoingQueue();
  private readonly limiter: RateLimiter;
  private timer: unknown;
  private closeTimer: unknown;
  private pingNonce = 0;
  private awaitingPong = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly context: ServerContext,
    /** The client's address as the HTTP upgrade saw it (server.ts applies trustProxy). */
    readonly remoteAddress = "",
  ) {
    const { config, clock } = context;
    this.decoder = new FrameDecoder({ maxPayload: config.maxFrameSize });
    this.limiter = new RateLimiter(config.rateLimit, config.rateLimit * 2, clock.now());
    context.metrics.connections.inc();
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on("close", () => this.onClosed());
    this.timer = clock.setTimeout(() => this.close(CloseCode.HELLO_TIMEOUT, "no Hello in time"), config.helloTimeoutMs);
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  // ------------------------------------------------------------------ sending

  send(channel: number, type: number, priority: number, payload: Uint8Array): void {
    if (this.state === "closed") return;
    const frame = encodeFrame(channel, type, priority, payload);
    const { config, metrics } = this.context;
    // Everything this client has not taken yet: our batch plus what ws could not hand to the kernel.
    const backlog = this.queue.bytes + this.ws.bufferedAmount;
    if (priority === Priority.LOW && backlog + frame.length > config.maxQueuedBytes / 2) {
      // Datagrams are unreliable by contract: under pressure they go first, streams never do.
      metrics.drops.inc({ reason: "backpressure" });
      return;
    }
    if (backlog + frame.length > config.maxQueuedBytes) {
      // A client that cannot keep up would make the server hold its data without bound. This
      // applies to every priority and to tickRate 0 too: nothing bypasses the cap. send() is
      // called from inside other sessions' handlers, so the services hear of it afterwards.
      return this.cutOff("slow-consumer", true);
    }
    metrics.framesSent.inc();
    if (priority === Priority.CRITICAL || config.tickRate === 0) return this.transmit(frame);
    const wasEmpty = this.queue.empty;
    this.queue.push(frame, priority);
    if (wasEmpty) this.context.scheduleFlush(this);
  }

  sendError(code: number, channel: number, type: number, refId: number, message: string): void {
    this.context.metrics.protocolErrors.inc({ code: nameOf(ProtocolError, code) });
    this.send(Channel.CONTROL, ControlType.ERROR, Priority.CRITICAL, ErrorMessage.encode({ code, refChannel: channel, refType: type, refId, message }));
  }

  /** Sends whatever is queued as one WebSocket message; called once per tick by the server. */
  flush(): void {
    const batch = this.queue.take();
    if (batch !== undefined && this.state !== "closed") this.transmit(batch);
  }

  private transmit(message: Uint8Array): void {
    this.context.metrics.messagesSent.inc();
    this.context.metrics.bytesSent.inc(message.length);
    this.ws.send(message);
  }

  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.flush();
    const cause = CLOSE_CAUSES.get(code) ?? (code >= CloseCode.VERSION_MISMATCH ? PROTOCOL_ERROR_CAUSE : undefined);
    if (cause !== undefined) {
      this.closeCause = cause.session;
      this.metricCause = cause.metric;
    }
    // The close reason is limited to 123 UTF-8 bytes by RFC 6455; ws throws on longer ones.
    this.ws.close(code, truncateUtf8(reason, 120));
    // A client that never answers the close handshake is cut off (the timer ends with the socket).
    const ws = this.ws;
    this.closeTimer = this.context.clock.setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    this.leave();
  }

  /**
   * Ends the connection without a close handshake (the peer is unresponsive or too slow).
   * `deferNotify`: see leave().
   */
  private cutOff(cause: SessionCloseCause, deferNotify = false): void {
    this.closeCause = cause;
    this.ws.terminate();
    this.leave(deferNotify);
  }

  // ------------------------------------------------------------------ receiving

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === "closed") return;
    const { metrics, config, clock } = this.context;
    metrics.bytesReceived.inc(data.length);
    if (!isBinary) return this.fail(ProtocolError.MALFORMED_FRAME, "text messages are not part of the protocol; send binary frames");
    let frames;
    try {
      frames = this.decoder.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      // A WebSocket message must hold whole frames: a frame cannot continue in the next message.
      if (this.decoder.buffered !== 0) throw new FrameError(ProtocolError.MALFORMED_FRAME, "message ends inside a frame");
    } catch (error) {
      if (error instanceof FrameError) return this.fail(error.code, error.message);
      throw error;
    }
    // Every message costs at least one token, so a flood of empty messages is limited too.
    if (!this.limiter.take(clock.now(), Math.max(1, frames.length))) {
      this.sendError(ProtocolError.RATE_LIMITED, 0, 0, 0, `more than ${config.rateLimit} frames per second`);
      return this.close(CloseCode.RATE_LIMITED, "rate limit exceeded");
    }
    metrics.framesReceived.inc(frames.length);
    for (const frame of frames) {
      if (this.closed) return; // a handler may have closed us
      try {
        this.onFrame(frame.channel, frame.type, frame.payload);
      } catch (error) {
        if (error instanceof FrameError) {
          this.sendError(error.code, frame.channel, frame.type, 0, error.message);
          continue;
        }
        // A bug in a handler must not take the process (and every other client) down with it.
        this.context.logger.error({ err: error, session: this.id, channel: frame.channel, type: frame.type }, "frame handler failed");
        return this.close(INTERNAL_ERROR, "internal server error");
      }
    }
  }

  private onFrame(channel: number, type: number, payload: Uint8Array): void {
    if (channel === Channel.CONTROL && type === ControlType.HELLO) {
      if (this.state === "hello") this.onHello(payload);
      else this.sendError(ProtocolError.ALREADY_AUTHENTICATED, channel, type, 0, "Hello was already accepted");
    } else if (this.state === "hello") {
      this.sendError(ProtocolError.NOT_AUTHENTICATED, channel, type, 0, "the first frame must be a Hello");
      this.close(CloseCode.BAD_HELLO, "expected Hello");
    } else if (channel === Channel.CONTROL && type === ControlType.PONG) {
      this.onPong(payload);
    } else if (channel === Channel.CONTROL && type === ControlType.ECHO_REQUEST) {
      // Answered here, not queued, so the reply measures the network and not the batch tick.
      this.send(Channel.CONTROL, ControlType.ECHO_REPLY, Priority.CRITICAL, Echo.encode(Echo.decode(payload)));
    } else {
      this.context.router.dispatch(this, channel, type, payload);
    }
  }

  /** A framing error: the byte stream cannot be trusted any more, so the connection ends. */
  private fail(code: number, message: string): void {
    this.sendError(code, 0, 0, 0, message);
    this.close(CloseCode.PROTOCOL_ERROR, message);
  }

  private onHello(payload: Uint8Array): void {
    let hello;
    try {
      hello = Hello.decode(payload);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.sendError(ProtocolError.BAD_HELLO, Channel.CONTROL, ControlType.HELLO, 0, error.message);
      return this.close(CloseCode.BAD_HELLO, "malformed Hello");
    }
    const refuse = (code: number, closeCode: number, message: string): void => {
      this.sendError(code, Channel.CONTROL, ControlType.HELLO, 0, message);
      this.close(closeCode, message);
    };
    if (hello.version !== PROTOCOL_VERSION) {
      return refuse(ProtocolError.VERSION_MISMATCH, CloseCode.VERSION_MISMATCH, `protocol version ${hello.version} is not supported; this server speaks ${PROTOCOL_VERSION}`);
    }
    if (!APP_KEY.test(hello.appKey)) return refuse(ProtocolError.BAD_HELLO, CloseCode.BAD_HELLO, "the app key must be 1–64 characters of A–Z a–z 0–9 . _ -");
    if (!SECRET.test(hello.secret)) return refuse(ProtocolError.BAD_HELLO, CloseCode.BAD_HELLO, "the identity secret must be 22–128 base64url characters (128 bits or more)");

    const { store, directory, config, clock } = this.context;
    const identity = store.identify(hello.appKey, hello.secret);
    this.appKey = hello.appKey;
    this.identityId = identity.identityId;
    this.virtualIp = identity.virtualIp;
    this.deviceIdentity = identity;
    // Judged by the master service once the session is open (a bad token never refuses the Hello).
    this.helloToken = hello.token;
    // One live connection per identity: the newest wins, the older one is told why it lost.
    directory.holder(this.appKey, this.virtualIp)?.close(CloseCode.REPLACED, "this identity connected elsewhere");
    directory.add(this);
    this.state = "open";
    clock.clearTimeout(this.timer);
    this.send(
      Channel.CONTROL,
      ControlType.WELCOME,
      Priority.CRITICAL,
      Welcome.encode({
        version: PROTOCOL_VERSION,
        virtualIp: this.virtualIp,
        sessionId: this.id,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        heartbeatTimeoutMs: config.heartbeatTimeoutMs,
        tickRate: config.tickRate,
        maxFrameSize: config.maxFrameSize,
        serverTime: Date.now(),
      }),
    );
    this.context.sessionOpened(this);
    this.scheduleHeartbeat();
  }

  moveTo(identity: Identity): void {
    if (this.state !== "open") return;
    const { directory } = this.context;
    if (identity.virtualIp === this.virtualIp) {
      this.identityId = identity.identityId;
      return;
    }
    this.context.sessionMoving(this);
    directory.remove(this);
    this.identityId = identity.identityId;
    this.virtualIp = identity.virtualIp;
    directory.holder(this.appKey, this.virtualIp)?.close(CloseCode.REPLACED, "this identity connected elsewhere");
    directory.add(this);
    // High, not Critical: it must stay behind frames already queued for the old address.
    this.send(Channel.VSOCKET, VSocketType.VIRTUAL_IP, Priority.HIGH, VirtualIp.encode({ ip: this.virtualIp }));
  }

  // ------------------------------------------------------------------ heartbeat

  private scheduleHeartbeat(): void {
    const { clock, config } = this.context;
    this.timer = clock.setTimeout(() => this.ping(), config.heartbeatIntervalMs);
  }

  private ping(): void {
    if (this.state !== "open") return;
    const { clock, config } = this.context;
    this.pingNonce = (this.pingNonce + 1) >>> 0;
    this.awaitingPong = true;
    this.send(Channel.CONTROL, ControlType.PING, Priority.CRITICAL, Ping.encode({ nonce: this.pingNonce, serverTime: Date.now() }));
    if (this.state !== "open") return; // the ping found it a slow consumer
    this.timer = clock.setTimeout(() => {
      // The peer is unresponsive: no close handshake, cut it now so its peers hear promptly.
      if (this.awaitingPong) this.cutOff("heartbeat");
    }, config.heartbeatTimeoutMs);
  }

  private onPong(payload: Uint8Array): void {
    const { nonce } = Pong.decode(payload);
    if (!this.awaitingPong || nonce !== this.pingNonce) return;
    this.awaitingPong = false;
    this.context.clock.clearTimeout(this.timer);
    this.scheduleHeartbeat();
  }

  // ------------------------------------------------------------------ end

  private onClosed(): void {
    this.leave();
    this.context.clock.clearTimeout(this.closeTimer);
    this.context.metrics.connections.dec();
  }

  /**
   * Leaves the directory and tells the services, exactly once, as soon as the end is known.
   * The session is closed at once (sends do nothing from here on). With `deferNotify` the
   * directory and the services hear of it in a microtask, after the handler that is running
   * returns: a service that sends to a peer which is cut off mid-handler never sees its own
   * session-close hook run re-entrantly, and state it adds for that peer afterwards is still
   * cleaned up.
   */
  private leave(deferNotify = false): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    this.queue.clear();
    this.context.clock.clearTimeout(this.timer);
    this.context.metrics.disconnects.inc({ cause: this.metricCause ?? this.closeCause });
    if (!wasOpen) return;
    const notify = (): void => {
      this.context.directory.remove(this);
      this.context.sessionClosed(this, this.closeCause);
    };
    if (deferNotify) queueMicrotask(notify);
    else notify();
  }
}

/** The longest prefix of `text` that fits in `maxBytes` UTF-8 bytes, never splitting a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = "";
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}
