/**
 * A bare protocol client over a real WebSocket, for integration tests and benchmarks: it speaks
 * frames through @gmnet/engine/protocol and records everything the server sends, so tests can
 * await the next message of a kind instead of sleeping.
 */
import { randomBytes } from "node:crypto";
import {
  Channel,
  ControlType,
  ErrorMessage,
  FrameDecoder,
  Hello,
  type MessageCodec,
  PROTOCOL_VERSION,
  Ping,
  Pong,
  Priority,
  Welcome,
  type WelcomeMessage,
  encodeFrame,
} from "@gmnet/engine/protocol";
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
}

export class ProtocolClient {
  readonly ws: WebSocket;
  readonly frames: ReceivedFrame[] = [];
  /** WebSocket messages received (each one batch of frames). */
  messages = 0;
  closeCode: number | undefined;
  closeReason = "";
  readonly secret: string;
  private waiters: Array<() => void> = [];
  private readonly decoder = new FrameDecoder({ maxPayload: 16 * 1024 * 1024 });
  private readonly closedPromise: Promise<number>;
  answerPings: boolean;

  constructor(url: string, options: ClientOptions = {}) {
    this.secret = options.secret ?? randomBytes(18).toString("base64url");
    this.answerPings = options.answerPings ?? true;
    this.ws = new WebSocket(url, { ...(options.origin ? { origin: options.origin } : {}), ...options.tls });
    this.ws.binaryType = "nodebuffer";
    this.ws.on("error", () => undefined);
    this.ws.on("message", (data: Buffer) => {
      this.messages++;
      for (const frame of this.decoder.push(new Uint8Array(data))) {
        if (this.answerPings && frame.channel === Channel.CONTROL && frame.type === ControlType.PING) {
          this.send(Channel.CONTROL, ControlType.PONG, Pong.encode({ nonce: Ping.decode(frame.payload).nonce }), Priority.CRITICAL);
        }
        this.frames.push({ ...frame, payload: frame.payload.slice() });
      }
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

  /** Connects and completes the Hello; resolves with the Welcome. */
  static async connect(url: string, options: ClientOptions = {}): Promise<ProtocolClient & { welcome: WelcomeMessage }> {
    const client = new ProtocolClient(url, options);
    await client.opened();
    client.send(Channel.CONTROL, ControlType.HELLO, Hello.encode({ version: PROTOCOL_VERSION, appKey: options.appKey ?? "test-app", secret: client.secret, token: "" }));
    const welcome = Welcome.decode((await client.next(Channel.CONTROL, ControlType.WELCOME)).payload);
    return Object.assign(client, { welcome });
  }

  opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("close", (code) => reject(new Error(`closed with ${code} before opening`)));
    });
  }

  send(channel: number, type: number, payload: Uint8Array, priority: number = Priority.NORMAL): void {
    this.ws.send(encodeFrame(channel, type, priority, payload));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
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

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
