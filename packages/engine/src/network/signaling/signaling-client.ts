/**
 * The engine's one WebSocket to the signaling server (PROTOCOL.md §7): HELLO → WELCOME, PONG for
 * every PING, a watchdog for a server that went silent, ECHO probes for the round-trip time,
 * and outgoing frames batched into one message per script task (or per tick). Incoming frames
 * are handed to the handler registered for their (channel, type); ERROR frames to `onError`.
 *
 * It knows nothing of sockets: the virtual host and the UDP links register handlers on it.
 * It never reconnects by itself; the owner decides (see network-manager.ts).
 */
import {
  Channel,
  ControlType,
  Echo,
  ErrorMessage,
  FrameDecoder,
  FrameError,
  Hello,
  PROTOCOL_VERSION,
  Ping,
  Pong,
  Priority,
  Welcome,
  type WelcomeMessage,
  concatFrames,
  encodeFrame,
} from "../../protocol/index.js";
import type { MessageOf } from "../../protocol/schema.js";
import type { Clock } from "../../runtime/clock.js";
import { NetworkError, type NetworkFault, fault } from "../errors.js";
import { type CloseEventLike, type MessageEventLike, WS_OPEN, type WebSocketConstructor, type WebSocketLike, messageBytes } from "../transport/websocket-like.js";

export type ErrorFrame = MessageOf<typeof ErrorMessage>;
type FrameHandler = (payload: Uint8Array) => void;

export interface SignalingClientOptions {
  url: string;
  appKey: string;
  secret: string;
  /** Master session token sent in HELLO so the server resumes the login (PROTOCOL.md §16.3); "" (the default) for none. */
  token?: string;
  WebSocket: WebSocketConstructor;
  clock: Clock;
  /** Outgoing batches per second; 0 flushes at the end of the current script task. */
  tickRate: number;
  /** Give up on a connection attempt that has no WELCOME after this long. */
  connectTimeoutMs: number;
  /** How often to measure the round-trip time with ECHO_REQUEST. */
  echoIntervalMs?: number;
}

export type SignalingState = "idle" | "connecting" | "open" | "closed";

/** Largest frame the server may send us: its maxFrameSize plus the relay headers, with room to spare. */
const MAX_INCOMING_PAYLOAD = 16 * 1024 * 1024;
const DEFAULT_ECHO_INTERVAL_MS = 2000;
/**
 * Largest batch sent as one WebSocket message: half the server's default maxMessageSize (1 MiB),
 * which WELCOME does not announce; frames themselves are at most maxFrameSize (256 KiB) + 12.
 */
export const MAX_BATCH_BYTES = 512 * 1024;
/** Slack on top of the server's heartbeat deadline before a silent server is given up on. */
const WATCHDOG_SLACK_MS = 5000;

export class SignalingClient {
  state: SignalingState = "idle";
  welcome: WelcomeMessage | undefined;
  /** Latest ECHO round trip in ms, and a smoothed one (as TCP's SRTT: 7/8 old + 1/8 new). */
  rtt: number | undefined;
  smoothedRtt: number | undefined;
  bytesSent = 0;
  bytesReceived = 0;

  /** Called once per connection, with the WELCOME. */
  onOpen: (welcome: WelcomeMessage) => void = () => {};
  /** Called once when a connection that was never opened fails, or an open one ends. */
  onClose: (fault: NetworkFault, wasOpen: boolean, closeCode: number) => void = () => {};
  /** ERROR frames from the server. */
  onError: (error: ErrorFrame) => void = () => {};

  private readonly handlers = new Map<number, FrameHandler>();
  private socket: WebSocketLike | undefined;
  private decoder = new FrameDecoder({ maxPayload: MAX_INCOMING_PAYLOAD });
  private outgoing: Uint8Array[] = [];
  private outgoingBytes = 0;
  private flushScheduled = false;
  private connectTimer: unknown;
  private probeTimer: unknown;
  private watchdog: unknown;
  private echoNonce = 0;
  private echoSentAt = new Map<number, number>();

  /** Read at every connect(), so the url, app key and tick rate can change between connections. */
  constructor(readonly options: SignalingClientOptions) {}

  /** Registers the handler for one (channel, type); one handler each. */
  on(channel: number, type: number, handler: FrameHandler): void {
    this.handlers.set(channel * 0x10000 + type, handler);
  }

  get bufferedAmount(): number {
    return this.outgoingBytes + (this.socket?.bufferedAmount ?? 0);
  }

  /** Opens the connection unless one is open or opening. */
  connect(): void {
    if (this.state === "connecting" || this.state === "open") return;
    this.state = "connecting";
    this.decoder = new FrameDecoder({ maxPayload: MAX_INCOMING_PAYLOAD });
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(this.options.url);
    } catch (error) {
      // A malformed URL throws synchronously; report it like any other failure, on a later tick.
      this.state = "closed";
      const problem = fault(NetworkError.SIGNALING, `cannot open ${this.options.url}: ${(error as Error).message}`);
      this.options.clock.setTimeout(() => this.onClose(problem, false, 0), 0);
      return;
    }
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      this.sendNow(encodeFrame(Channel.CONTROL, ControlType.HELLO, Priority.CRITICAL, Hello.encode({ version: PROTOCOL_VERSION, appKey: this.options.appKey, secret: this.options.secret, token: this.options.token ?? "" })));
    };
    socket.onmessage = (event: MessageEventLike) => this.receive(event.data);
    socket.onclose = (event: CloseEventLike) => this.ended(event.code, event.reason);
    socket.onerror = () => {}; // onclose follows and carries the code
    this.connectTimer = this.options.clock.setTimeout(() => {
      if (this.state === "connecting") this.abort(fault(NetworkError.SIGNALING, `no answer from ${this.options.url} within ${this.options.connectTimeoutMs} ms`));
    }, this.options.connectTimeoutMs);
  }

  /** Queues a frame for the next batch. Returns false (and drops it) when not connected. */
  send(channel: number, type: number, payload: Uint8Array, priority: number = Priority.NORMAL): boolean {
    if (this.state !== "open") return false;
    const frame = encodeFrame(channel, type, priority, payload);
    this.outgoing.push(frame);
    this.outgoingBytes += frame.length;
    this.scheduleFlush();
    return true;
  }

  /** Closes the connection on purpose; onClose is not called. */
  close(): void {
    const socket = this.socket;
    this.teardown();
    this.state = "closed";
    if (socket === undefined) return;
    socket.onclose = null;
    try {
      socket.close(1000, "closed by the engine");
    } catch {
      // already closing
    }
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
    const frames = this.outgoing;
    this.outgoing = [];
    this.outgoingBytes = 0;
    // One message per batch, but never past MAX_BATCH_BYTES: the server closes the connection
    // (1009) on a message over its maxMessageSize. A frame larger than the cap goes alone.
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < frames.length; i++) {
      const size = frames[i]!.length;
      if (i > start && bytes + size > MAX_BATCH_BYTES) {
        this.sendBatch(frames, start, i, bytes);
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    this.sendBatch(frames, start, frames.length, bytes);
  }

  private sendBatch(frames: Uint8Array[], from: number, to: number, bytes: number): void {
    this.sendNow(to - from === 1 ? frames[from]! : concatFrames(frames.slice(from, to), bytes));
  }

  private sendNow(bytes: Uint8Array): void {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WS_OPEN) return;
    this.bytesSent += bytes.length;
    socket.send(bytes);
  }

  private receive(data: unknown): void {
    const message = messageBytes(data);
    if (message === undefined || message.text) return this.abort(fault(NetworkError.SIGNALING, "the signaling server sent a text message"));
    this.bytesReceived += message.bytes.length;
    this.armWatchdog();
    let frames;
    try {
      frames = this.decoder.push(message.bytes);
    } catch (error) {
      return this.abort(fault(NetworkError.SIGNALING, `the signaling server broke the framing: ${(error as Error).message}`));
    }
    for (const frame of frames) {
      if (this.state === "closed") return;
      try {
        this.dispatch(frame.channel, frame.type, frame.payload);
      } catch (error) {
        // A malformed payload from the server is its bug; the frame is dropped, the connection kept.
        if (!(error instanceof FrameError)) throw error;
      }
    }
  }

  private dispatch(channel: number, type: number, payload: Uint8Array): void {
    if (channel === Channel.CONTROL) {
      switch (type) {
        case ControlType.WELCOME:
          return this.opened(Welcome.decode(payload));
        case ControlType.PING:
          this.sendNow(encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.CRITICAL, Pong.encode({ nonce: Ping.decode(payload).nonce })));
          return;
        case ControlType.ECHO_REPLY:
          return this.echoed(Echo.decode(payload).nonce);
        case ControlType.ERROR:
          return this.onError(ErrorMessage.decode(payload));
      }
    }
    this.handlers.get(channel * 0x10000 + type)?.(payload);
  }

  private opened(welcome: WelcomeMessage): void {
    if (this.state !== "connecting") return;
    this.state = "open";
    this.welcome = welcome;
    if (this.connectTimer !== undefined) this.options.clock.clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.armWatchdog();
    this.probe();
    this.onOpen(welcome);
  }

  private probe(): void {
    if (this.state !== "open") return;
    const nonce = (this.echoNonce = (this.echoNonce + 1) >>> 0);
    this.echoSentAt.set(nonce, this.options.clock.now());
    this.sendNow(encodeFrame(Channel.CONTROL, ControlType.ECHO_REQUEST, Priority.CRITICAL, Echo.encode({ nonce })));
    this.probeTimer = this.options.clock.setTimeout(() => this.probe(), this.options.echoIntervalMs ?? DEFAULT_ECHO_INTERVAL_MS);
  }

  private echoed(nonce: number): void {
    const sentAt = this.echoSentAt.get(nonce);
    if (sentAt === undefined) return;
    // Older probes that never came back are forgotten with this one, so the map stays small.
    for (const key of this.echoSentAt.keys()) if (key <= nonce) this.echoSentAt.delete(key);
    const sample = this.options.clock.now() - sentAt;
    this.rtt = sample;
    this.smoothedRtt = this.smoothedRtt === undefined ? sample : (this.smoothedRtt * 7 + sample) / 8;
  }

  /** A server that sends nothing (not even PING) past its own heartbeat deadline is gone. */
  private armWatchdog(): void {
    const welcome = this.welcome;
    if (welcome === undefined || this.state !== "open") return;
    if (this.watchdog !== undefined) this.options.clock.clearTimeout(this.watchdog);
    const limit = welcome.heartbeatIntervalMs + welcome.heartbeatTimeoutMs + WATCHDOG_SLACK_MS;
    this.watchdog = this.options.clock.setTimeout(() => this.abort(fault(NetworkError.SIGNALING, `the signaling server was silent for ${limit} ms`)), limit);
  }

  private abort(problem: NetworkFault): void {
    if (this.state === "closed" || this.state === "idle") return;
    const wasOpen = this.state === "open";
    this.close();
    this.onClose(problem, wasOpen, 0);
  }

  private ended(code: number, reason: string): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.teardown();
    this.state = "closed";
    const code4xxx = code >= 4000 ? ` (${code}${reason ? ` ${reason}` : ""})` : ` (${code})`;
    const problem = code === 4000 ? fault(NetworkError.SHUTDOWN, `the signaling server shut down${code4xxx}`) : fault(NetworkError.SIGNALING, `the connection to the signaling server ended${code4xxx}`);
    this.onClose(problem, wasOpen, code);
  }

  private teardown(): void {
    for (const timer of [this.connectTimer, this.probeTimer, this.watchdog]) if (timer !== undefined) this.options.clock.clearTimeout(timer);
    this.connectTimer = this.probeTimer = this.watchdog = undefined;
    this.outgoing = [];
    this.outgoingBytes = 0;
    this.echoSentAt.clear();
    if (this.socket !== undefined) {
      this.socket.onopen = null;
      this.socket.onmessage = null;
      // ws reports closing a socket that is still connecting as an error event; keep a listener.
      this.socket.onerror = () => {};
    }
    this.socket = undefined;
  }
}
