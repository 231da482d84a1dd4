/**
 * A bare protocol client over a real WebSocket, for integration tests and benchmarks: it speaks
 * frames through @gmnet/protocol and records everything the server sends, so tests can
 * await the next message of a kind instead of sleeping.
 *
 * With `resume` it opens (or resumes) a resumable session (PROTOCOL.md §14): HELLO and RESUME
 * leave in one message, the client counts the server's sequenced frames (`received`) and its own
 * (`sent`), keeps its own unacknowledged ones for a retransmit, and acknowledges when told to
 * (`ack()`, or `autoAck`). `ProtocolClient.resume` continues a dropped client's session.
 */
import { randomBytes } from "node:crypto";
import {
  Ack,
  Channel,
  ControlType,
  ErrorMessage,
  FrameDecoder,
  Hello,
  type MessageCodec,
  type MessageOf,
  PROTOCOL_VERSION,
  Ping,
  Pong,
  Priority,
  ReplayBuffer,
  Resume,
  Resumed,
  Welcome,
  type WelcomeMessage,
  concatFrames,
  encodeFrame,
  isSequenced,
} from "@gmnet/protocol";
import WebSocket from "ws";

export interface ReceivedFrame {
  channel: number;
  type: number;
  priority: number;
  payload: Uint8Array;
}

export interface ClientOptions {
  appKey?: string;
  secret?: string;
  /** Answer server pings (default true). */
  answerPings?: boolean;
  origin?: string;
  /** TLS options for wss:// URLs (e.g. rejectUnauthorized: false for a self-signed test certificate). */
  tls?: { rejectUnauthorized?: boolean };
  /**
   * Send RESUME in the Hello's message: sessionId "" opens a resumable session, another names the
   * session to resume and `received` says how many of its sequenced frames this client got.
   */
  resume?: { sessionId: string; received: number };
  /** On a resumable session, acknowledge every message that brought sequenced frames (default false: call ack()). */
  autoAck?: boolean;
}

export type ResumedMessage = MessageOf<typeof Resumed>;
export type Connected = ProtocolClient & { welcome: WelcomeMessage };

/** The bytes of a frame say whether it is sequenced: channel u16 and type u16, little-endian. */
const sequencedFrame = (frame: Uint8Array): boolean => isSequenced(frame[0]! | (frame[1]! << 8), frame[2]! | (frame[3]! << 8));

export class ProtocolClient {
  readonly ws: WebSocket;
  readonly frames: ReceivedFrame[] = [];
  /** WebSocket messages received (each one batch of frames). */
  messages = 0;
  closeCode: number | undefined;
  closeReason = "";
  readonly secret: string;
  readonly appKey: string;
  /** Welcome.sessionId, once the Welcome arrived. */
  sessionId = "";
  /** RESUMED, when the Hello carried a RESUME. */
  resumed: ResumedMessage | undefined;
  /** The session is resumable (RESUMED came with a window): frames are counted and acknowledged. */
  resumable = false;
  /** The server's sequenced frames received on the session, across resumes. */
  received = 0;
  /** This client's sequenced frames sent on the session, across resumes (lost ones included). */
  sent = 0;
  /** Every ACK.received the server sent, in order. */
  readonly acks: number[] = [];
  /** This client's sequenced frames the server has not acknowledged (for the retransmit after a resume). */
  replay = new ReplayBuffer(64 * 1024 * 1024);
  autoAck: boolean;
  /** Set by deafen(): what arrives is thrown away unread. */
  private deaf = false;
  private waiters: Array<() => void> = [];
  private readonly decoder = new FrameDecoder({ maxPayload: 16 * 1024 * 1024 });
  private readonly closedPromise: Promise<number>;
  answerPings: boolean;

  constructor(url: string, options: ClientOptions = {}) {
    this.secret = options.secret ?? randomBytes(18).toString("base64url");
    this.appKey = options.appKey ?? "test-app";
    this.answerPings = options.answerPings ?? true;
    this.autoAck = options.autoAck ?? false;
    if (options.resume !== undefined) this.received = options.resume.received;
    this.ws = new WebSocket(url, { ...(options.origin ? { origin: options.origin } : {}), ...options.tls });
    this.ws.binaryType = "nodebuffer";
    this.ws.on("error", () => undefined);
    this.ws.on("message", (data: Buffer) => {
      if (this.deaf) return;
      this.messages++;
      const before = this.received;
      for (const frame of this.decoder.push(new Uint8Array(data))) {
        if (frame.channel === Channel.CONTROL) {
          if (this.answerPings && frame.type === ControlType.PING) {
            this.send(Channel.CONTROL, ControlType.PONG, Pong.encode({ nonce: Ping.decode(frame.payload).nonce }), Priority.CRITICAL);
          } else if (frame.type === ControlType.WELCOME) {
            this.sessionId = Welcome.decode(frame.payload).sessionId;
          } else if (frame.type === ControlType.RESUMED) {
            this.onResumed(Resumed.decode(frame.payload));
          } else if (frame.type === ControlType.ACK) {
            // Housekeeping, not kept in `frames`: it trims our replay buffer.
            const { received } = Ack.decode(frame.payload);
            this.acks.push(received);
            this.replay.acknowledge(received);
            continue;
          }
        }
        if (this.resumable && isSequenced(frame.channel, frame.type)) this.received = (this.received + 1) >>> 0;
        this.frames.push({ ...frame, payload: frame.payload.slice() });
      }
      if (this.autoAck && this.received !== before) this.ack();
      this.wake();
    });
    this.closedPromise = new Promise((resolve) => {
      this.ws.on("close", (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve(code);
      });
    });
  }

  /**
   * Connects and completes the Hello; resolves with the Welcome. With `resume`, RESUME goes in the
   * Hello's message and this resolves once RESUMED arrived too (see `resumed`).
   */
  static async connect(url: string, options: ClientOptions = {}): Promise<Connected> {
    const client = new ProtocolClient(url, options);
    await client.opened();
    const hello = encodeFrame(Channel.CONTROL, ControlType.HELLO, Priority.CRITICAL, Hello.encode({ version: PROTOCOL_VERSION, appKey: client.appKey, secret: client.secret, token: "" }));
    if (options.resume === undefined) client.sendRaw(hello);
    else client.sendRaw(concatFrames([hello, encodeFrame(Channel.CONTROL, ControlType.RESUME, Priority.CRITICAL, Resume.encode(options.resume))]));
    const welcome = Welcome.decode((await client.next(Channel.CONTROL, ControlType.WELCOME)).payload);
    if (options.resume !== undefined) await client.next(Channel.CONTROL, ControlType.RESUMED);
    return Object.assign(client, { welcome });
  }

  /** Opens a resumable session (HELLO + RESUME with sessionId ""). */
  static resumable(url: string, options: ClientOptions = {}): Promise<Connected> {
    return ProtocolClient.connect(url, { ...options, resume: { sessionId: "", received: 0 } });
  }

  /**
   * Reconnects as `previous` (same secret and app key) and asks to resume its session, saying how
   * many of the server's sequenced frames `previous` got. When the server resumes it, the new
   * client carries on `previous`'s counts and (unless `retransmit` is false) sends again the frames
   * of `previous` the server says it did not get — and only those.
   */
  static async resume(url: string, previous: ProtocolClient, options: ClientOptions & { retransmit?: boolean } = {}): Promise<Connected> {
    const { retransmit = true, ...rest } = options;
    const client = await ProtocolClient.connect(url, {
      ...rest,
      appKey: previous.appKey,
      secret: previous.secret,
      resume: { sessionId: previous.sessionId, received: previous.received },
    });
    if (client.resumed?.resumed === true) {
      client.sent = previous.sent;
      client.replay = previous.replay;
      const missing = client.replay.since(client.resumed.received);
      if (missing === undefined) throw new Error(`the server claims ${client.resumed.received} of our frames; we sent ${client.sent}`);
      if (retransmit && missing.length > 0) client.ws.send(concatFrames(missing));
    }
    return client;
  }

  opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("close", (code) => reject(new Error(`closed with ${code} before opening`)));
    });
  }

  send(channel: number, type: number, payload: Uint8Array, priority: number = Priority.NORMAL): void {
    this.sendFrames(encodeFrame(channel, type, priority, payload));
  }

  /** Sends whole frames in one WebSocket message, counting (and keeping) the sequenced ones on a resumable session. */
  sendFrames(...frames: Uint8Array[]): void {
    for (const frame of frames) this.count(frame);
    this.ws.send(frames.length === 1 ? frames[0]! : concatFrames(frames));
  }

  /**
   * Counts and keeps a sequenced frame as sent without sending it: a frame lost in flight when the
   * connection dropped. ProtocolClient.resume sends it again if the server says it is missing.
   */
  sendLost(channel: number, type: number, payload: Uint8Array, priority: number = Priority.NORMAL): void {
    this.count(encodeFrame(channel, type, priority, payload));
  }

  /** Bytes as they are, uncounted (malformed input, or frames that must not be counted). */
  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  /** Acknowledges the server's sequenced frames up to `received` (default: every one received so far). */
  ack(received = this.received): void {
    this.sendRaw(encodeFrame(Channel.CONTROL, ControlType.ACK, Priority.CRITICAL, Ack.encode({ received })));
  }

  /**
   * From now on every message is thrown away unread, uncounted: what the server sends is lost in
   * flight, as it is when a connection dies before the data reaches the client. (Pausing the socket
   * is no such loss: ws still reads what is buffered when the socket closes.)
   */
  deafen(): void {
    this.deaf = true;
  }

  /** The connection drops: no close handshake (the server sees 1006). Resolves once the socket is closed. */
  drop(): Promise<number> {
    this.ws.terminate();
    return this.closed();
  }

  /** Resolves once `condition` holds, re-checked whenever something arrives; rejects after `timeoutMs`. */
  async until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Resolves with the first not-yet-taken frame on (channel, type), removing it from `frames`;
   * rejects if the socket closes first or nothing comes within `timeoutMs`.
   */
  async next(channel: number, type: number, timeoutMs = 5000): Promise<ReceivedFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex((frame) => frame.channel === channel && frame.type === type);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      if (this.closeCode !== undefined) throw new Error(`connection closed (${this.closeCode} ${this.closeReason}) while waiting for ${channel}/${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame ${channel}/${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Decodes the next frame of (channel, type) with `codec`. */
  async nextMessage<T>(channel: number, type: number, codec: MessageCodec<T>, timeoutMs?: number): Promise<T> {
    return codec.decode((await this.next(channel, type, timeoutMs)).payload);
  }

  async nextError(timeoutMs?: number) {
    return this.nextMessage(Channel.CONTROL, ControlType.ERROR, ErrorMessage, timeoutMs);
  }

  /** Resolves with the close code once the server (or we) closed the socket. */
  closed(): Promise<number> {
    return this.closedPromise;
  }

  close(): void {
    this.ws.close();
  }

  private count(frame: Uint8Array): void {
    if (!this.resumable || !sequencedFrame(frame)) return;
    this.sent = (this.sent + 1) >>> 0;
    this.replay.record(frame);
  }

  private onResumed(resumed: ResumedMessage): void {
    this.resumed = resumed;
    this.resumable = resumed.resumeWindowMs > 0;
    if (!resumed.resumed) this.received = 0;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
