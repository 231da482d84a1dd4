/**
 * The relay benchmark's gmnet protocol client (relay.bench.ts, cluster-measure.ts): HELLO (with
 * RESUME), PONG and ACKs as the engine sends them, frames queued for the setup steps that wait for
 * them (`until`), and data frames handed to the measurement.
 */
import { randomBytes } from "node:crypto";
import {
  Ack,
  Channel,
  ControlType,
  ErrorMessage,
  type Frame,
  FrameDecoder,
  Hello,
  PROTOCOL_VERSION,
  Ping,
  Pong,
  Priority,
  ProtocolError,
  ResolveRequest,
  ResolveResponse,
  Resume,
  VSocketType,
  Welcome,
  concatFrames,
  encodeFrame,
  isSequenced,
  nameOf,
} from "@gmnet/protocol";
import WebSocket from "ws";
import { APP_KEY, STEP_TIMEOUT_MS, type SessionKind } from "./config.js";

/** Anything that can be waited for: every client message wakes every waiter, which re-checks. */
export const wakers = new Set<() => void>();
export const wakeAll = (): void => {
  for (const wake of [...wakers]) wake();
};

export async function until<T>(what: string, check: () => T | undefined, timeoutMs = STEP_TIMEOUT_MS): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, left);
      function done(): void {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });
  }
}

/** A gmnet protocol client: answers pings, queues frames for the setup, and hands data frames to `onData` once set. */
export class GmnetClient {
  readonly ws: WebSocket;
  readonly secret = randomBytes(18).toString("base64url");
  virtualIp = 0;
  wsMessages = 0;
  closed: string | undefined;
  /** Frames of (dataChannel, dataType) go here instead of the inbox while a measurement runs. */
  onData: ((frame: Frame) => void) | undefined;
  dataChannel = -1;
  dataType = -1;
  private readonly inbox: Frame[] = [];
  private readonly decoder = new FrameDecoder({ maxPayload: 16 * 1024 * 1024 });
  /** Resumable sessions: sequenced frames received from the server, and the count last acknowledged (as the engine does). */
  private received = 0;
  private acknowledged = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    url: string,
    readonly session: SessionKind,
  ) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.binaryType = "nodebuffer";
    this.ws.on("error", () => undefined);
    this.ws.on("close", (code, reason) => {
      this.closed = `${code} ${reason.toString()}`;
      clearTimeout(this.ackTimer);
      wakeAll();
    });
    const resumable = session === "resumable";
    this.ws.on("message", (data: Buffer) => {
      this.wsMessages++;
      for (const frame of this.decoder.push(data)) {
        if (resumable && isSequenced(frame.channel, frame.type)) this.received = (this.received + 1) >>> 0;
        if (frame.channel === Channel.CONTROL && frame.type === ControlType.PING) {
          this.send(Channel.CONTROL, ControlType.PONG, Pong.encode({ nonce: Ping.decode(frame.payload).nonce }), Priority.CRITICAL);
        } else if (this.onData !== undefined && frame.channel === this.dataChannel && frame.type === this.dataType) {
          this.onData(frame);
        } else if (frame.channel === Channel.CONTROL && (frame.type === ControlType.ACK || frame.type === ControlType.RESUMED)) {
          // The server's acknowledgements of what we sent: nothing is kept for replay here.
        } else {
          this.inbox.push(frame);
        }
      }
      if (resumable) this.scheduleAck();
      wakeAll();
    });
  }

  /** As the engine's SignalingClient: ACK after 64 unacknowledged sequenced frames, or 100 ms after the first. */
  private scheduleAck(): void {
    if (this.received === this.acknowledged) return;
    if (((this.received - this.acknowledged) >>> 0) >= 64) return this.acknowledge();
    this.ackTimer ??= setTimeout(() => this.acknowledge(), 100);
  }

  private acknowledge(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.received === this.acknowledged || this.ws.readyState !== WebSocket.OPEN) return;
    this.acknowledged = this.received;
    this.send(Channel.CONTROL, ControlType.ACK, Ack.encode({ received: this.received }), Priority.CRITICAL);
  }

  send(channel: number, type: number, payload: Uint8Array, priority: number = Priority.NORMAL): void {
    this.ws.send(encodeFrame(channel, type, priority, payload));
  }

  /** Removes and returns the first queued frame of (channel, type), if any. */
  take(channel: number, type: number): Frame | undefined {
    const index = this.inbox.findIndex((frame) => frame.channel === channel && frame.type === type);
    return index < 0 ? undefined : this.inbox.splice(index, 1)[0];
  }

  /** Throws if the server sent an ERROR or closed the connection. */
  check(who: string): void {
    const error = this.take(Channel.CONTROL, ControlType.ERROR);
    if (error !== undefined) {
      const { code, message } = ErrorMessage.decode(error.payload);
      throw new ProtocolFailure(code, `${who}: ERROR ${nameOf(ProtocolError, code)}: ${message}`);
    }
    if (this.closed !== undefined) throw new Error(`${who}: connection closed (${this.closed})`);
  }

  async hello(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("close", (code) => reject(new Error(`closed with ${code} before opening`)));
    });
    const hello = encodeFrame(Channel.CONTROL, ControlType.HELLO, Priority.CRITICAL, Hello.encode({ version: PROTOCOL_VERSION, appKey: APP_KEY, secret: this.secret, token: "" }));
    // RESUME with no session id asks for a new resumable session; it rides in the HELLO's message.
    const resume = encodeFrame(Channel.CONTROL, ControlType.RESUME, Priority.CRITICAL, Resume.encode({ sessionId: "", received: 0 }));
    this.ws.send(this.session === "resumable" ? concatFrames([hello, resume]) : hello);
    const welcome = await until("WELCOME", () => {
      this.check("hello");
      return this.take(Channel.CONTROL, ControlType.WELCOME);
    });
    this.virtualIp = Welcome.decode(welcome.payload).virtualIp;
  }

  /**
   * A RESOLVE round trip: the server answers only after this session's route is written (a new
   * session's frames wait for it), so clients on other nodes of a cluster can reach it.
   */
  async barrier(): Promise<void> {
    const reqId = 0x7fff_0001;
    this.send(Channel.VSOCKET, VSocketType.RESOLVE_REQUEST, ResolveRequest.encode({ reqId, name: "barrier" }));
    await until("RESOLVE_RESPONSE", () => {
      this.check("barrier");
      const frame = this.take(Channel.VSOCKET, VSocketType.RESOLVE_RESPONSE);
      return frame && ResolveResponse.decode(frame.payload).reqId === reqId ? frame : undefined;
    });
  }

  close(): void {
    clearTimeout(this.ackTimer);
    this.ws.terminate();
  }
}

export class ProtocolFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
