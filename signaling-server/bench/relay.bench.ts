/**
 * Relay benchmark: N pairs of clients, each A sending fixed-size messages that the server relays
 * to its B, through gmnet and through a bare `ws` forwarding server, measured in the same run.
 *
 * The server under test runs in a child process (forked from run.ts with `--serve`), so its CPU
 * time (process.cpuUsage of the child) excludes the clients, which run here in the parent.
 * Each sender keeps a fixed number of messages in flight (sent, not yet delivered to its B), so
 * the figure is delivered throughput, not how fast the server can buffer.
 *
 * gmnet relay path: a full virtual-socket connect (SOCKET_STATUS_REQUEST → SOCKET_STATUS_RESPONSE
 * → SOCKET_CONNECTION_REQUEST → SOCKET_CONNECTION_RESPONSE → SOCKET_CONNECTED to both), then
 * ARBITRARY_DATA {connId, seq, data} on the connId. If the server does not implement virtual
 * sockets, both clients of a pair register one app channel instead and the result says so.
 *
 * gmnet clients open resumable sessions as the engine does by default (HELLO + RESUME, PROTOCOL.md
 * §14): they count the server's sequenced frames and acknowledge them as the engine does (ACK
 * after 64 frames, or 100 ms after the first unacknowledged one), so the server's replay buffers
 * are exercised at their real cost. `--session plain` sends HELLO alone.
 *
 * Every gmnet configuration runs the server with its defaults, except for the overrides listed in
 * CONFIGS (and port, host, db and logLevel): in particular the byte-rate limit (rateLimitBytes)
 * stays on, because defaults must survive a saturating sender.
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Session as InspectorSession } from "node:inspector";
import {
  Ack,
  ArbitraryData,
  Channel,
  ChannelAssigned,
  ChannelRegister,
  ControlType,
  ErrorMessage,
  FRAME_HEADER_SIZE,
  type Frame,
  FrameDecoder,
  Hello,
  PROTOCOL_VERSION,
  Ping,
  Pong,
  Priority,
  ProtocolError,
  RequestFailed,
  ResolveRequest,
  ResolveResponse,
  Resume,
  SocketConnected,
  SocketConnectionResponse,
  SocketRequest,
  SocketStatusResponse,
  VSocketType,
  Welcome,
  concatFrames,
  encodeFrame,
  isSequenced,
  nameOf,
} from "@gmnet/protocol";
import type { ServerConfig } from "../src/config.js";
import WebSocket, { WebSocketServer } from "ws";

export type ServerKind = "bare" | "gmnet";

/** Server settings a configuration changes; everything else keeps its default (database, redis and nodeId: a cluster node, cluster.bench.ts). */
export type ServerOverrides = Partial<Pick<ServerConfig, "tickRate" | "highTickRate" | "normalTickRate" | "lowTickRate" | "batching" | "database" | "redis" | "nodeId">>;

export interface RelayConfig {
  /** Short id used by --only. */
  readonly id: string;
  readonly label: string;
  readonly kind: ServerKind;
  /** gmnet only: what differs from the server's defaultConfig (port, host, db and logLevel aside). */
  readonly overrides: ServerOverrides;
}

export const CONFIGS: readonly RelayConfig[] = [
  { id: "bare", label: "bare ws forwarder", kind: "bare", overrides: {} },
  // tickRate 0: what one turn of the event loop queued for a client leaves as one message at its end.
  { id: "default", label: "gmnet, default config", kind: "gmnet", overrides: {} },
  { id: "unbatched", label: "gmnet, unbatched (batching: false)", kind: "gmnet", overrides: { batching: false } },
  { id: "tick60", label: "gmnet, tickRate 60", kind: "gmnet", overrides: { tickRate: 60 } },
];

/** Whether gmnet clients ask for a resumable session (as the engine does by default) or send HELLO alone. */
export type SessionKind = "resumable" | "plain";

export interface RelayOptions {
  pairs: number;
  /** Messages in flight per pair (sent by A, not yet received by B). */
  window: number;
  /** Application bytes per message. */
  size: number;
  warmupMs: number;
  durationMs: number;
  /** gmnet relay path: "auto" = ARBITRARY_DATA if the server has virtual sockets, else an app channel. */
  relay: "auto" | "vsocket" | "app-channel";
  /** gmnet sessions: resumable (HELLO + RESUME, ACKs; the engine's default) or plain (HELLO alone). */
  session: SessionKind;
  /**
   * How gmnet senders write: "message" = every message its own WebSocket message (as the bare
   * clients must); "task" = the frames of one task as one WebSocket message, as the engine sends.
   */
  sender: "message" | "task";
}

export type RelayPath = "ws message" | "ARBITRARY_DATA" | "app channel";

export interface Measurement {
  readonly config: string;
  readonly path: RelayPath;
  /** Why the app-channel fallback was used, if it was. */
  readonly fallbackReason: string | undefined;
  readonly delivered: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  /** Server process user+system CPU per delivered message, in microseconds. */
  readonly serverCpuPerMessageUs: number;
  /** Server process CPU time over wall time (1.0 = one core busy). */
  readonly serverCpuLoad: number;
  /** Client (this process) CPU time over wall time. */
  readonly clientCpuLoad: number;
  /** Relayed messages per WebSocket message arriving at the receivers (> 1 when the server batches). */
  readonly messagesPerWsMessage: number;
}

const APP_KEY = "relay-bench";
const LISTEN_PORT = 7000;
const STEP_TIMEOUT_MS = 3000;

// ------------------------------------------------------------------ server side (child process)

type ToChild = { type: "cpu" } | { type: "exit" };
type FromChild = { type: "ready"; url: string } | { type: "cpu"; micros: number } | { type: "failed"; message: string };

/**
 * Runs in the child: starts the server (defaults plus `overrides`) and answers the parent's IPC
 * requests. With `profilePath`, the V8 CPU profiler runs from the first CPU reading to the second
 * (exactly the measured time) and the profile is written there (.cpuprofile, for Chrome DevTools).
 */
export async function serveChild(kind: ServerKind, overrides: ServerOverrides, profilePath?: string): Promise<void> {
  const send = (message: FromChild): void => {
    process.send?.(message);
  };
  process.on("disconnect", () => process.exit(0));
  let url: string;
  try {
    url = kind === "bare" ? await startBareServer() : await startGmnetServer(overrides);
  } catch (error) {
    send({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
  const profiler = profilePath === undefined ? undefined : new MeasuredProfile(profilePath);
  process.on("message", (message: ToChild) => {
    if (message.type === "cpu") {
      const usage = process.cpuUsage();
      send({ type: "cpu", micros: usage.user + usage.system });
      profiler?.next();
    } else if (message.type === "exit") void (profiler?.written ?? Promise.resolve()).then(() => process.exit(0));
  });
  send({ type: "ready", url });
}

/** The CPU profile of the measured time: started by the first call of next(), stopped and written by the second. */
class MeasuredProfile {
  private readonly session = new InspectorSession();
  private calls = 0;
  written: Promise<void> | undefined;

  constructor(private readonly path: string) {
    this.session.connect();
    this.session.post("Profiler.enable");
    this.session.post("Profiler.setSamplingInterval", { interval: 200 });
  }

  next(): void {
    const call = ++this.calls;
    if (call === 1) this.session.post("Profiler.start");
    else if (call === 2) {
      this.written = new Promise((resolve) =>
        this.session.post("Profiler.stop", (error, result) => {
          if (error === null) writeFileSync(this.path, JSON.stringify(result.profile));
          else console.error(`relay benchmark: the server's CPU profile failed: ${error.message}`);
          resolve();
        }),
      );
    }
  }
}

/** The baseline: a WebSocketServer that forwards every message from a pair's A to its B, nothing more. */
async function startBareServer(): Promise<string> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  const pairs = new Map<string, { b?: WebSocket }>();
  wss.on("connection", (ws, req) => {
    ws.on("error", () => undefined);
    const query = new URL(req.url ?? "/", "http://localhost").searchParams;
    const id = query.get("pair") ?? "";
    let pair = pairs.get(id);
    if (pair === undefined) pairs.set(id, (pair = {}));
    const entry = pair;
    if (query.get("role") === "b") entry.b = ws;
    else ws.on("message", (data: Buffer, isBinary) => entry.b?.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const address = wss.address();
  if (address === null || typeof address === "string") throw new Error("the forwarding server has no TCP address");
  return `ws://127.0.0.1:${address.port}/`;
}

/** gmnet from source (tsx): its defaults (rate limit included), plus the configuration's overrides. */
async function startGmnetServer(overrides: ServerOverrides): Promise<string> {
  const { createServer } = await import("../src/index.js");
  const server = createServer({ ...overrides, host: "127.0.0.1", port: 0, db: ":memory:", logLevel: "silent" });
  await server.ready;
  return server.address().wsUrl;
}

/** The parent's handle on a server child. */
export class ServerChild {
  private readonly replies: Array<(message: FromChild) => void> = [];
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on("message", (message: FromChild) => this.replies.shift()?.(message));
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  static start(script: string, kind: ServerKind, overrides: ServerOverrides, profilePath: string | undefined): Promise<ServerChild> {
    // Same node flags as this process (--import tsx), stdout/stderr shared so crashes are visible.
    const args = ["--serve", kind, "--overrides", JSON.stringify(overrides), ...(profilePath === undefined ? [] : ["--profile", profilePath])];
    const child = fork(script, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`${kind} server did not start within 30 s`));
      }, 30_000);
      child.once("exit", (code) => reject(new Error(`${kind} server exited with ${code} before it was ready`)));
      child.once("message", (message: FromChild) => {
        clearTimeout(timer);
        if (message.type === "ready") resolve(new ServerChild(child, message.url));
        else reject(new Error(`${kind} server failed to start: ${message.type === "failed" ? message.message : message.type}`));
      });
    });
  }

  /** The child's user+system CPU time so far, in microseconds. */
  cpuMicros(): Promise<number> {
    return new Promise((resolve) => {
      this.replies.push((message) => resolve(message.type === "cpu" ? message.micros : NaN));
      this.child.send({ type: "cpu" } satisfies ToChild);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) this.child.send({ type: "exit" } satisfies ToChild);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ clients (parent process)

/** Anything that can be waited for: every client message wakes every waiter, which re-checks. */
const wakers = new Set<() => void>();
const wakeAll = (): void => {
  for (const wake of [...wakers]) wake();
};

async function until<T>(what: string, check: () => T | undefined, timeoutMs = STEP_TIMEOUT_MS): Promise<T> {
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

class ProtocolFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** One sender/receiver pair with its relay path, ready to send message number `seq`. */
export interface Pair {
  /** Sends one message; `counter` is written into it so the receiver can check order. */
  sendOne(counter: number): void;
  sent: number;
  received: number;
  outOfOrder: number;
  receiverWsMessages(): number;
  /** Throws if either end got an ERROR or lost its connection. */
  verify(): void;
  close(): void;
}

/** Writes `counter` into the first 4 bytes of a fresh `size`-byte message body. */
function body(size: number, counter: number): Uint8Array {
  const data = new Uint8Array(size);
  if (size >= 4) new DataView(data.buffer).setUint32(0, counter >>> 0, true);
  return data;
}

/**
 * One whole frame in one allocation, as a tuned client would write it: header, then `words`
 * (u32 fields such as connId and seq), then a `size`-byte body starting with `counter`. The
 * clients are the bottleneck on a 2-core machine, so the codec's two allocations per message
 * would lower every gmnet figure for client-side reasons. checkRawFrames() proves the bytes equal
 * the protocol codecs' output.
 */
export function rawFrame(channel: number, type: number, words: readonly number[], size: number, counter: number): Uint8Array {
  const prefix = 4 * words.length;
  const out = new Uint8Array(FRAME_HEADER_SIZE + prefix + size);
  const view = new DataView(out.buffer);
  view.setUint16(0, channel, true);
  view.setUint16(2, type, true);
  view.setUint8(4, Priority.NORMAL);
  view.setUint32(8, prefix + size, true);
  for (let i = 0; i < words.length; i++) view.setUint32(FRAME_HEADER_SIZE + 4 * i, words[i]!, true);
  if (size >= 4) view.setUint32(FRAME_HEADER_SIZE + prefix, counter >>> 0, true);
  return out;
}

export function checkRawFrames(size: number): void {
  const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((byte, i) => byte === b[i]);
  const data = rawFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, [0x01020304, 7], size, 0xa1b2c3d4);
  const viaCodec = encodeFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, Priority.NORMAL, ArbitraryData.encode({ connId: 0x01020304, seq: 7, data: body(size, 0xa1b2c3d4) }));
  const app = rawFrame(1000, 1, [], size, 42);
  if (!same(data, viaCodec) || !same(app, encodeFrame(1000, 1, Priority.NORMAL, body(size, 42)))) throw new Error("rawFrame does not match the protocol codecs");
}

export function counterOf(data: Uint8Array): number {
  return data.length >= 4 ? new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true) : 0;
}

async function bareWsPair(url: string, index: number, options: RelayOptions): Promise<Pair> {
  const open = (role: string): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url}?pair=${index}&role=${role}`, { perMessageDeflate: false });
      ws.binaryType = "nodebuffer";
      ws.on("error", reject);
      ws.once("open", () => resolve(ws));
    });
  const b = await open("b");
  const a = await open("a");
  let bMessages = 0;
  const pair: Pair = {
    sent: 0,
    received: 0,
    outOfOrder: 0,
    sendOne: (counter) => a.send(body(options.size, counter)),
    receiverWsMessages: () => bMessages,
    verify: () => {
      if (a.readyState !== WebSocket.OPEN || b.readyState !== WebSocket.OPEN) throw new Error(`pair ${index}: a connection closed during the measurement`);
    },
    close: () => {
      a.terminate();
      b.terminate();
    },
  };
  b.on("message", (data: Buffer) => {
    bMessages++;
    if (counterOf(data) !== pair.received >>> 0) pair.outOfOrder++;
    pair.received++;
    onDelivered(pair);
  });
  return pair;
}

/** The seed-002 connect flow from A to B's LISTEN_PORT; B accepts. Returns A's connId. */
export async function connectVirtualSocket(a: GmnetClient, b: GmnetClient, localPort: number): Promise<number> {
  const request = (reqId: number) => SocketRequest.encode({ reqId, peerIp: b.virtualIp, peerPort: LISTEN_PORT, localPort });
  const failed = (): void => {
    a.check("requester");
    b.check("target");
    const failure = a.take(Channel.VSOCKET, VSocketType.REQUEST_FAILED);
    if (failure !== undefined) throw new Error(`REQUEST_FAILED reason ${RequestFailed.decode(failure.payload).reason}`);
  };

  a.send(Channel.VSOCKET, VSocketType.SOCKET_STATUS_REQUEST, request(1));
  const status = await until("SOCKET_STATUS_REQUEST at the target", () => (failed(), b.take(Channel.VSOCKET, VSocketType.SOCKET_STATUS_REQUEST)));
  b.send(Channel.VSOCKET, VSocketType.SOCKET_STATUS_RESPONSE, SocketStatusResponse.encode({ reqId: SocketRequest.decode(status.payload).reqId, listening: true }));
  const answer = await until("SOCKET_STATUS_RESPONSE at the requester", () => (failed(), a.take(Channel.VSOCKET, VSocketType.SOCKET_STATUS_RESPONSE)));
  if (!SocketStatusResponse.decode(answer.payload).listening) throw new Error("the target reported nothing listening");

  a.send(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_REQUEST, request(2));
  const connect = await until("SOCKET_CONNECTION_REQUEST at the target", () => (failed(), b.take(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_REQUEST)));
  b.send(Channel.VSOCKET, VSocketType.SOCKET_CONNECTION_RESPONSE, SocketConnectionResponse.encode({ reqId: SocketRequest.decode(connect.payload).reqId, accepted: true }));
  // Both ends get SOCKET_CONNECTED; keep whichever arrives first until the other one does.
  let atRequester: Frame | undefined;
  let atTarget: Frame | undefined;
  const connected = await until("SOCKET_CONNECTED at both ends", () => {
    failed();
    atRequester ??= a.take(Channel.VSOCKET, VSocketType.SOCKET_CONNECTED);
    atTarget ??= b.take(Channel.VSOCKET, VSocketType.SOCKET_CONNECTED);
    return atRequester && atTarget ? atRequester : undefined;
  });
  return SocketConnected.decode(connected.payload).connId;
}

/** A pair with A on `url` and B on `receiverUrl` (another node of a cluster, cluster.bench.ts; by default the same server). */
export async function gmnetPair(url: string, index: number, options: RelayOptions, path: RelayPath, receiverUrl = url): Promise<Pair> {
  const a = new GmnetClient(url, options.session);
  const b = new GmnetClient(receiverUrl, options.session);
  await Promise.all([a.hello(), b.hello()]);
  if (receiverUrl !== url) await b.barrier();

  let send: (counter: number) => void;
  const transmit = frameSender(a.ws, options.sender);
  if (path === "ARBITRARY_DATA") {
    const connId = await connectVirtualSocket(a, b, 40000 + index);
    [b.dataChannel, b.dataType] = [Channel.VSOCKET, VSocketType.ARBITRARY_DATA];
    let seq = 0;
    send = (counter) => transmit(rawFrame(Channel.VSOCKET, VSocketType.ARBITRARY_DATA, [connId, ++seq], options.size, counter));
  } else {
    const name = `relay-${index}`;
    for (const client of [a, b]) client.send(Channel.CONTROL, ControlType.CHANNEL_REGISTER, ChannelRegister.encode({ name }), Priority.HIGH);
    const channels = await Promise.all(
      [a, b].map((client, i) =>
        until("CHANNEL_ASSIGNED", () => {
          client.check(i === 0 ? "sender" : "receiver");
          const frame = client.take(Channel.CONTROL, ControlType.CHANNEL_ASSIGNED);
          return frame && ChannelAssigned.decode(frame.payload).channel;
        }),
      ),
    );
    const channel = channels[0]!;
    [b.dataChannel, b.dataType] = [channel, 1];
    send = (counter) => transmit(rawFrame(channel, 1, [], options.size, counter));
  }

  const pair: Pair = {
    sent: 0,
    received: 0,
    outOfOrder: 0,
    sendOne: send,
    receiverWsMessages: () => b.wsMessages,
    verify: () => {
      a.check(`pair ${index} sender`);
      b.check(`pair ${index} receiver`);
    },
    close: () => {
      a.close();
      b.close();
    },
  };
  b.onData = (frame) => {
    // The counter follows connId and seq in ARBITRARY_DATA; an app channel payload starts with it.
    const data = path === "ARBITRARY_DATA" ? frame.payload.subarray(8) : frame.payload;
    if (counterOf(data) !== pair.received >>> 0) pair.outOfOrder++;
    pair.received++;
  };
  // Top up once per WebSocket message at B (a batch may deliver many frames at once).
  b.ws.on("message", () => onDelivered(pair));
  return pair;
}

/** Largest WebSocket message of a "task" sender, as the engine's MAX_BATCH_BYTES. */
const MAX_SENDER_BATCH = 512 * 1024;

/** Sends frames through `ws` one message each, or (per task) as the engine does: what one task queued, as one message at its end. */
function frameSender(ws: WebSocket, mode: RelayOptions["sender"]): (frame: Uint8Array) => void {
  if (mode === "message") return (frame) => ws.send(frame);
  let pending: Uint8Array[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    const frames = pending;
    pending = [];
    ws.send(frames.length === 1 ? frames[0]! : concatFrames(frames, bytes));
    bytes = 0;
  };
  return (frame) => {
    if (bytes + frame.length > MAX_SENDER_BATCH) flush();
    if (pending.length === 0) queueMicrotask(flush);
    pending.push(frame);
    bytes += frame.length;
  };
}

/** Whether senders keep their windows full; cleared to stop a measurement. */
let pumping = false;
let windowSize = 0;

function onDelivered(pair: Pair): void {
  if (pumping) fill(pair);
}

/** Fills every pair's window and keeps it full (each delivery tops its pair up) until stopPumping(). */
export function startPumping(pairs: readonly Pair[], window: number): void {
  windowSize = window;
  pumping = true;
  for (const pair of pairs) fill(pair);
}

/** Messages delivered between two counts, once every pair checked its order and nothing went missing. */
export function verifiedDeliveries(pairs: readonly Pair[], label: string, before: number, after: number): number {
  for (const pair of pairs) pair.verify();
  const outOfOrder = pairs.reduce((sum, pair) => sum + pair.outOfOrder, 0);
  if (outOfOrder > 0) throw new Error(`${label}: ${outOfOrder} messages arrived out of order or were lost`);
  const delivered = after - before;
  if (delivered <= 0) throw new Error(`${label}: nothing was delivered during the measurement`);
  return delivered;
}

export function stopPumping(): void {
  pumping = false;
}

function fill(pair: Pair): void {
  while (pair.sent - pair.received < windowSize) pair.sendOne(pair.sent++);
}

/**
 * Finds the gmnet relay path once: a virtual-socket connect between two fresh clients, or the
 * app-channel fallback (with the reason) when the server answers that it has no virtual sockets.
 */
async function probePath(url: string, session: SessionKind): Promise<{ path: RelayPath; reason: string | undefined }> {
  const a = new GmnetClient(url, session);
  const b = new GmnetClient(url, session);
  try {
    await Promise.all([a.hello(), b.hello()]);
    await connectVirtualSocket(a, b, 39999);
    return { path: "ARBITRARY_DATA", reason: undefined };
  } catch (error) {
    const unimplemented = error instanceof ProtocolFailure && (error.code === ProtocolError.UNKNOWN_PACKET_TYPE || error.code === ProtocolError.UNKNOWN_CHANNEL);
    const timedOut = error instanceof Error && error.message.startsWith("timed out");
    if (!unimplemented && !timedOut) throw error;
    return { path: "app channel", reason: `virtual sockets unavailable (${(error as Error).message})` };
  } finally {
    a.close();
    b.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One configuration, measured in a fresh server process. `script` is the entry that serves with
 * --serve; with `profilePath` the server writes a CPU profile of the measured time there.
 */
export async function measure(config: RelayConfig, options: RelayOptions, script: string, profilePath?: string): Promise<Measurement> {
  checkRawFrames(options.size);
  const server = await ServerChild.start(script, config.kind, config.overrides, profilePath);
  const pairs: Pair[] = [];
  try {
    let path: RelayPath = "ws message";
    let fallbackReason: string | undefined;
    if (config.kind === "gmnet") {
      if (options.relay === "auto") ({ path, reason: fallbackReason } = await probePath(server.url, options.session));
      else path = options.relay === "vsocket" ? "ARBITRARY_DATA" : "app channel";
    }
    for (let i = 0; i < options.pairs; i++) {
      pairs.push(config.kind === "bare" ? await bareWsPair(server.url, i, options) : await gmnetPair(server.url, i, options, path));
    }

    startPumping(pairs, options.window);
    await sleep(options.warmupMs);

    const snapshot = async () => {
      const serverCpu = await server.cpuMicros();
      const clientCpu = process.cpuUsage();
      return {
        at: performance.now(),
        serverCpu,
        clientCpu: clientCpu.user + clientCpu.system,
        delivered: pairs.reduce((sum, pair) => sum + pair.received, 0),
        wsMessages: pairs.reduce((sum, pair) => sum + pair.receiverWsMessages(), 0),
      };
    };
    const start = await snapshot();
    await sleep(options.durationMs);
    const end = await snapshot();
    stopPumping();

    const delivered = verifiedDeliveries(pairs, config.label, start.delivered, end.delivered);
    const seconds = (end.at - start.at) / 1000;
    return {
      config: config.label,
      path,
      fallbackReason,
      delivered,
      seconds,
      messagesPerSecond: delivered / seconds,
      serverCpuPerMessageUs: (end.serverCpu - start.serverCpu) / delivered,
      serverCpuLoad: (end.serverCpu - start.serverCpu) / 1e6 / seconds,
      clientCpuLoad: (end.clientCpu - start.clientCpu) / 1e6 / seconds,
      messagesPerWsMessage: delivered / Math.max(1, end.wsMessages - start.wsMessages),
    };
  } finally {
    stopPumping();
    for (const pair of pairs) pair.close();
    await server.stop();
  }
}
