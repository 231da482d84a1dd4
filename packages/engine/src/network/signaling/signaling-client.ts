/**
 * The engine's one WebSocket to the signaling server (PROTOCOL.md §7): HELLO → WELCOME, PONG for
 * every PING, a watchdog for a server that went silent, ECHO probes for the round-trip time,
 * and outgoing frames batched into one message per script task (or per tick). Incoming frames
 * are handed to the handler registered for their (channel, type); ERROR frames to `onError`.
 *
 * The session is resumable (PROTOCOL.md §14): both ends count each other's sequenced frames,
 * acknowledge them, and keep what they sent until it is acknowledged. When the socket drops the
 * client is *suspended*: sends are held (datagrams dropped, as UDP's would be), and the next
 * connection sends RESUME, so the server replays what we missed and we retransmit what it
 * missed. Only when that cannot work (past the resume window or a bound, or the server lost the
 * session) does the owner hear `onClose`, as for a lost connection.
 *
 * It knows nothing of sockets: the virtual host and the UDP links register handlers on it.
 * It never reconnects by itself; the owner decides (see runtime.ts).
 *
 * What stays here is one state machine (idle → connecting → open ⇄ suspended → closed) driven by
 * the socket's events; each transition (resumed(), lost()) moves the socket, the session and the
 * owner's callbacks together. The parts with state of their own live beside it: liveness.ts (ECHO
 * probes, round trip, watchdog), resumable-session.ts (the session's id, replay, acknowledgements,
 * suspension), outgoing.ts (queued frames, batches) and signaling-socket.ts (one WebSocket, its
 * frames and how it ended); signaling-options.ts has the options.
 */
import {
  Channel,
  CloseCode,
  ControlType,
  Echo,
  Ack,
  ErrorMessage,
  FrameError,
  Hello,
  PROTOCOL_VERSION,
  Ping,
  Pong,
  Priority,
  Resume,
  Resumed,
  Welcome,
  type MessageOf,
  type WelcomeMessage,
  concatFrames,
  encodeFrame,
} from "@gmnet/protocol";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import { OutgoingFrames, sendInBatches } from "./outgoing.js";
import { Liveness } from "./liveness.js";
import { ResumableSession } from "./resumable-session.js";
import { SignalingSocket } from "./signaling-socket.js";
import { DEFAULT_MAX_HELD_BYTES, type SignalingClientOptions } from "./signaling-options.js";
import { messageBytes } from "../transport/websocket-like.js";

export type ErrorFrame = MessageOf<typeof ErrorMessage>;
type FrameHandler = (payload: Uint8Array) => void;

export type SignalingState = "idle" | "connecting" | "open" | "closed";

/** ws reports a connection that ended without a close frame (network loss) with this code. */
const ABNORMAL_CLOSURE = 1006;

export class SignalingClient {
  state: SignalingState = "idle";
  welcome: WelcomeMessage | undefined;
  bytesSent = 0;
  bytesReceived = 0;

  /** Called when a session opens, with the WELCOME (not when a suspended one resumes). */
  onOpen: (welcome: WelcomeMessage) => void = () => {};
  /** Called once when a connection that was never opened fails, or an open session ends (also one that could not be resumed). */
  onClose: (fault: NetworkFault, wasOpen: boolean, closeCode: number) => void = () => {};
  /** The socket dropped (or an attempt to resume failed) and the session waits to resume: reconnect soon. */
  onSuspend: (fault: NetworkFault) => void = () => {};
  /** A suspended session was resumed: nothing was lost. */
  onResume: () => void = () => {};
  /** Resumes so far, and the time the last one took from the drop (ms). */
  resumes = 0;
  lastResumeMs = 0;
  /** ERROR frames from the server. */
  onError: (error: ErrorFrame) => void = () => {};
  /** Frames on app channels (1000–1999), whatever their type. */
  onAppFrame: (channel: number, type: number, payload: Uint8Array) => void = () => {};
  /** Frames on LLM-session channels (2000–2999): MCP tool calls. */
  onLlmFrame: (channel: number, type: number, payload: Uint8Array) => void = () => {};

  private readonly handlers = new Map<number, FrameHandler>();
  private socket: SignalingSocket | undefined;
  private readonly outgoing = new OutgoingFrames();
  private flushScheduled = false;
  private connectTimer: unknown;
  private readonly liveness: Liveness;
  /** The resumable session, while there is one (PROTOCOL.md §14). */
  private readonly session: ResumableSession;
  /** WELCOME of the connection being opened, waiting for its RESUMED. */
  private pendingWelcome: WelcomeMessage | undefined;

  /** Read at every connect(), so the url, app key and tick rate can change between connections. */
  constructor(readonly options: SignalingClientOptions) {
    this.liveness = new Liveness(options, {
      openWelcome: () => (this.state === "open" ? this.welcome : undefined),
      sendNow: (bytes) => this.sendNow(bytes),
      abort: (problem) => this.abort(problem),
    });
    this.session = new ResumableSession(options.clock, { isOpen: () => this.state === "open", sendNow: (bytes) => this.sendNow(bytes) });
  }

  /** Latest ECHO round trip in ms (see Liveness), undefined while there is no socket. */
  get rtt(): number | undefined {
    return this.liveness.rtt;
  }

  /** The round trip smoothed as TCP's SRTT. */
  get smoothedRtt(): number | undefined {
    return this.liveness.smoothedRtt;
  }

  /** Registers the handler for one (channel, type); one handler each. */
  on(channel: number, type: number, handler: FrameHandler): void {
    this.handlers.set(channel * 0x10000 + type, handler);
  }

  get bufferedAmount(): number {
    return this.outgoing.bytes + (this.socket?.bufferedAmount ?? 0);
  }

  /** The socket dropped and the session waits to be resumed: sends are held meanwhile. */
  get suspended(): boolean {
    return this.session.suspended;
  }

  /** Bytes kept for replay until the server acknowledges them. */
  get replayBytes(): number {
    return this.session.replayBytes;
  }

  /** Opens the connection unless one is open or opening; a suspended session is resumed on it. */
  connect(): void {
    if (this.state === "connecting" || this.state === "open") return;
    this.state = "connecting";
    try {
      this.socket = new SignalingSocket(this.options.WebSocket, this.options.url, {
        opened: () => this.sayHello(),
        message: (data) => this.receive(data),
        unreachable: (problem, code) => this.lost(problem, code),
        ended: (problem, code) => {
          if (this.state !== "closed") this.lost(problem, code);
        },
      });
    } catch (error) {
      // A malformed URL throws synchronously; report it like any other failure, on a later tick.
      this.state = "closed";
      const problem = fault(NetworkError.SIGNALING, `cannot open ${this.options.url}: ${(error as Error).message}`);
      this.options.clock.setTimeout(() => this.onClose(problem, false, 0), 0);
      return;
    }
    this.connectTimer = this.options.clock.setTimeout(() => {
      if (this.state === "connecting") this.abort(fault(NetworkError.SIGNALING, `no answer from ${this.options.url} within ${this.options.connectTimeoutMs} ms`));
    }, this.options.connectTimeoutMs);
  }

  /** The socket opened: HELLO, with RESUME in the same message. */
  private sayHello(): void {
    const hello = encodeFrame(Channel.CONTROL, ControlType.HELLO, Priority.CRITICAL, Hello.encode({ version: PROTOCOL_VERSION, appKey: this.options.appKey, secret: this.options.secret, token: this.options.token ?? "" }));
    if (this.options.resume === false) return this.sendNow(hello);
    // RESUME rides in the same message as HELLO; "" asks for a new resumable session.
    const resume = encodeFrame(Channel.CONTROL, ControlType.RESUME, Priority.CRITICAL, Resume.encode({ sessionId: this.session.id, received: this.session.received }));
    this.sendNow(concatFrames([hello, resume]));
  }

  /**
   * Queues a frame for the next batch. While suspended it is held for the resumed session
   * (datagrams, Low, are dropped: they would arrive stale). Returns false (and drops it) when
   * there is no session, or when holding it would pass maxHeldBytes (the session is then given up).
   */
  send(channel: number, type: number, payload: Uint8Array, priority: number = Priority.NORMAL): boolean {
    return this.sendFrame(encodeFrame(channel, type, priority, payload));
  }

  /** send() for a frame already encoded (the stream data hot path); its priority is read from the header. */
  sendFrame(frame: Uint8Array): boolean {
    const open = this.state === "open";
    if (!open && !this.suspended) return false;
    if (!open && frame[4] === Priority.LOW) return true;
    this.outgoing.push(frame);
    // Critical goes out at once, with whatever was queued before it (so nothing is reordered).
    if (open && frame[4] === Priority.CRITICAL) this.flush();
    else if (open) this.scheduleFlush();
    else if (this.outgoing.bytes + this.replayBytes > this.maxHeldBytes) {
      this.giveUp(fault(NetworkError.NOT_RECOVERED, `more than ${this.maxHeldBytes} bytes were sent while the connection to the signaling server was down`));
      return false;
    }
    return true;
  }

  private get maxHeldBytes(): number {
    return this.options.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
  }

  /** Closes the connection on purpose, and forgets the session; onClose is not called. */
  close(): void {
    this.forgetSession();
    this.dropSocket(1000, "closed by the engine");
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const tickRate = this.options.tickRate;
    if (tickRate > 0) this.options.clock.setTimeout(() => this.flush(), 1000 / tickRate);
    else queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outgoing.length === 0 || this.state !== "open") return;
    sendInBatches(this.outgoing.take(), (batch, bytes) => this.session.sendBatch(batch, bytes));
  }

  private sendNow(bytes: Uint8Array): void {
    const socket = this.socket;
    if (socket === undefined || !socket.isOpen) return;
    this.bytesSent += bytes.length;
    socket.send(bytes);
  }

  private receive(data: unknown): void {
    const message = messageBytes(data);
    if (message === undefined || message.text) return this.abort(fault(NetworkError.SIGNALING, "the signaling server sent a text message"));
    this.bytesReceived += message.bytes.length;
    let frames;
    try {
      frames = this.socket!.decode(message.bytes);
    } catch (error) {
      return this.abort(fault(NetworkError.SIGNALING, `the signaling server broke the framing: ${(error as Error).message}`));
    }
    for (const frame of frames) {
      if (this.state === "closed") return;
      this.session.countReceived(frame.channel, frame.type);
      try {
        this.dispatch(frame.channel, frame.type, frame.payload);
      } catch (error) {
        // A malformed payload from the server is its bug; the frame is dropped, the connection kept.
        if (!(error instanceof FrameError)) throw error;
      }
    }
    this.session.scheduleAck();
  }

  private dispatch(channel: number, type: number, payload: Uint8Array): void {
    if (channel === Channel.CONTROL) {
      switch (type) {
        case ControlType.WELCOME:
          return this.welcomed(Welcome.decode(payload));
        case ControlType.RESUMED:
          return this.resumed(Resumed.decode(payload));
        case ControlType.ACK:
          this.session.acknowledge(Ack.decode(payload).received);
          return;
        case ControlType.PING:
          this.sendNow(encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.CRITICAL, Pong.encode({ nonce: Ping.decode(payload).nonce })));
          return;
        case ControlType.ECHO_REPLY:
          return this.liveness.echoed(Echo.decode(payload).nonce);
        case ControlType.ERROR:
          return this.errored(ErrorMessage.decode(payload));
      }
    }
    if (channel >= Channel.FIRST_APP && channel <= Channel.LAST_APP) return this.onAppFrame(channel, type, payload);
    if (channel >= Channel.FIRST_LLM && channel <= Channel.LAST_LLM) return this.onLlmFrame(channel, type, payload);
    this.handlers.get(channel * 0x10000 + type)?.(payload);
  }

  private welcomed(welcome: WelcomeMessage): void {
    if (this.state !== "connecting") return;
    // With RESUME, RESUMED follows in the same message and says whether this is the old session.
    if (this.options.resume !== false) this.pendingWelcome = welcome;
    else this.opened(welcome);
  }

  private errored(error: ErrorFrame): void {
    // A server without resume answers our RESUME with UNKNOWN_PACKET_TYPE: carry on without it.
    const welcome = this.pendingWelcome;
    if (welcome !== undefined && error.refChannel === Channel.CONTROL && error.refType === ControlType.RESUME) {
      return this.resumed({ resumed: false, received: 0, resumeWindowMs: 0 });
    }
    this.onError(error);
  }

  private resumed(answer: { resumed: boolean; received: number; resumeWindowMs: number }): void {
    const welcome = this.pendingWelcome;
    if (this.state !== "connecting" || welcome === undefined) return;
    this.pendingWelcome = undefined;
    const missing = answer.resumed ? this.session.missedSince(answer.received) : undefined;
    if (answer.resumed && missing === undefined) {
      // The server kept the session, but we no longer hold all it missed (past maxHeldBytes):
      // end it properly, so its peers hear of it, and start afresh.
      this.forgetSession();
      this.dropSocket(1000, "cannot replay what the server missed");
      return this.onClose(fault(NetworkError.NOT_RECOVERED, `more than ${this.maxHeldBytes} bytes were unacknowledged when the connection dropped`), true, 0);
    }
    if (missing === undefined) {
      // A new session: the old one (if any) is gone, and with it whatever was held for it.
      const hadSession = this.session.id !== "";
      this.forgetSession();
      if (hadSession) this.onClose(fault(NetworkError.NOT_RECOVERED, "the signaling server could not resume the session; data in flight may be lost"), true, 0);
      if (answer.resumeWindowMs > 0) this.session.begin(welcome.sessionId, answer.resumeWindowMs, this.maxHeldBytes);
      return this.opened(welcome);
    }
    // The same session, carried on: what the server missed goes first, then what was held.
    const downFor = this.options.clock.now() - this.session.suspendedAt!;
    this.session.endSuspension();
    this.state = "open";
    this.welcome = { ...this.welcome!, ...welcome, virtualIp: this.welcome?.virtualIp ?? welcome.virtualIp };
    this.startConnection();
    this.session.acknowledge(answer.received);
    // Retransmitted as they were (they keep their numbers), in messages the server accepts.
    sendInBatches(missing, (batch, bytes) => this.sendNow(batch.length === 1 ? batch[0]! : concatFrames(batch, bytes)));
    this.flush();
    this.resumes++;
    this.lastResumeMs = downFor;
    this.onResume();
  }

  private opened(welcome: WelcomeMessage): void {
    this.state = "open";
    this.welcome = welcome;
    this.startConnection();
    this.onOpen(welcome);
  }

  private startConnection(): void {
    if (this.connectTimer !== undefined) this.options.clock.clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.liveness.start();
  }

  private abort(problem: NetworkFault): void {
    if (this.state === "closed" || this.state === "idle") return;
    this.lost(problem, 0);
  }

  /**
   * The socket is gone. A resumable session whose socket dropped without a close frame (or that
   * we gave up on: 0), or that the server handed over (4008), is suspended and waits to be resumed;
   * anything else the server closed on purpose ends the session.
   */
  private lost(problem: NetworkFault, code: number): void {
    const wasOpen = this.state === "open";
    // HANDOVER: the server stopped and keeps the session for another node (a durable session).
    const resumable = this.session.id !== "" && (code === ABNORMAL_CLOSURE || code === 0 || code === CloseCode.HANDOVER) && (wasOpen || this.suspended);
    // A socket given up on while the session goes on says so, so the server keeps the session.
    this.dropSocket(resumable ? CloseCode.RESUMING : 1000, resumable ? "resuming elsewhere" : "closed by the engine");
    if (!resumable) {
      const hadSession = this.session.id !== "" || wasOpen;
      this.forgetSession();
      return this.onClose(problem, hadSession, code);
    }
    if (!this.suspended) this.suspend();
    this.onSuspend(problem);
  }

  private suspend(): void {
    this.session.suspend((problem) => this.giveUp(problem));
    this.outgoing.dropDatagrams();
  }

  /** The suspended session cannot be resumed any more: drop it and report it lost. */
  private giveUp(problem: NetworkFault): void {
    if (!this.suspended) return;
    this.dropSocket(1000, "closed by the engine");
    this.forgetSession();
    this.onClose(problem, true, 0);
  }

  private dropSocket(code: number, reason: string): void {
    const socket = this.socket;
    this.teardownSocket();
    this.state = "closed";
    socket?.close(code, reason);
  }

  private forgetSession(): void {
    this.session.forget();
    this.outgoing.clear();
  }

  /** Lets go of the socket and its timers; the session (held frames, replay) stays. */
  private teardownSocket(): void {
    if (this.connectTimer !== undefined) this.options.clock.clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.session.stopAckTimer();
    this.liveness.stop();
    this.pendingWelcome = undefined;
    this.flushScheduled = false;
    this.socket?.release();
    this.socket = undefined;
  }
}
