/**
 * The Connection (the WebSocket: decoding, Hello and Resume, heartbeat, byte flow control) and
 * the ClientSession it carries (queue, batching, slow consumers, replay and detach) against a
 * fake WebSocket and a manual clock: batching order and timing, the slow-consumer rules, datagram
 * drops, throttling, heartbeat and hello deadlines, detach and resume, and that a bug in a service
 * closes one connection instead of the process.
 */
import { EventEmitter } from "node:events";
import {
  Ack,
  Channel,
  CloseCode,
  ControlType,
  Echo,
  ErrorMessage,
  FrameDecoder,
  Hello,
  PROTOCOL_VERSION,
  Ping,
  Pong,
  Priority,
  Resume,
  Resumed,
  VSocketType,
  VirtualIp,
  Welcome,
  encodeFrame,
} from "@gmnet/protocol";
import type { WebSocket } from "ws";
import { describe, expect, it } from "vitest";
import { type ServerConfig, defaultConfig } from "../src/config.js";
import { createLogger } from "../src/observability/logger.js";
import { createMetrics } from "../src/observability/metrics.js";
import { Router } from "../src/router.js";
import type { ServerClock, ServerContext } from "../src/server-context.js";
import { Directory } from "../src/services/directory.js";
import { ClientSession } from "../src/session/client-session.js";
import { Connection, MESSAGE_COST_BYTES } from "../src/session/connection.js";
import { FlushScheduler } from "../src/session/flush-scheduler.js";
import type { Session, SessionCloseCause } from "../src/session/session.js";
import type { Identity, Storage } from "../src/storage/storage.js";
import { metricValue } from "./support/harness.js";

const decode = (message: Uint8Array) => new FrameDecoder({ maxPayload: 1 << 24 }).push(message);

class FakeSocket extends EventEmitter {
  bufferedAmount = 0;
  readonly sent: Uint8Array[] = [];
  closedWith: [number, string] | undefined;
  terminated = false;
  isPaused = false;
  /** Every pause() and resume(), in order. */
  readonly flow: Array<"pause" | "resume"> = [];
  send(data: Uint8Array): void {
    this.sent.push(data);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }
  terminate(): void {
    this.terminated = true;
  }
  pause(): void {
    this.isPaused = true;
    this.flow.push("pause");
  }
  resume(): void {
    this.isPaused = false;
    this.flow.push("resume");
  }
  /** What a client sends: one message of frames. */
  receive(...frames: Uint8Array[]): void {
    this.emit("message", Buffer.concat(frames), true);
  }
  /** The TCP connection ended without a close frame, as ws reports it. */
  drop(): void {
    this.emit("close", 1006);
  }
  /** Every message sent so far, decoded into [channel, type, priority] triples. */
  messages(): Array<Array<[number, number, number]>> {
    return this.sent.map((message) => decode(message).map((f) => [f.channel, f.type, f.priority]));
  }
}

class ManualClock implements ServerClock {
  time = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, timer]) => timer.at <= end).sort((x, y) => x[1].at - y[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }
}

/** The end of the current event-loop turn, when the default (tickRate 0) flushes run. */
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const helloFrame = (): Uint8Array =>
  encodeFrame(Channel.CONTROL, ControlType.HELLO, Priority.CRITICAL, Hello.encode({ version: PROTOCOL_VERSION, appKey: "unit", secret: "s".repeat(22), token: "" }));
const resumeFrame = (sessionId: string, received: number): Uint8Array =>
  encodeFrame(Channel.CONTROL, ControlType.RESUME, Priority.CRITICAL, Resume.encode({ sessionId, received }));

/** Lets pending promise callbacks run (the storage's answer to a Hello), without ending the turn. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function setup(overrides: Partial<ServerConfig> = {}, identify: (appKey: string, secret: string) => Promise<Identity> = async () => ({ identityId: 1, virtualIp: 0x0a000001 })) {
  const config: ServerConfig = { ...defaultConfig, tickRate: 20, ...overrides };
  const clock = new ManualClock();
  const ws = new FakeSocket();
  const router = new Router();
  const closes: Array<[Session, SessionCloseCause]> = [];
  const opened: Session[] = [];
  const moving: Array<[Session, number]> = [];
  const resumed: Session[] = [];
  const sessions = new Map<string, ClientSession>();
  const metrics = createMetrics({ defaultMetrics: false });
  const context: ServerContext = {
    config,
    clock,
    random: Math.random,
    logger: createLogger("silent"),
    metrics,
    router,
    directory: new Directory(),
    storage: { identities: { identify: (...args: [string, string]) => identify(...args) } } as unknown as Storage,
    flushes: new FlushScheduler(config, clock),
    sessions,
    sessionOpened: (session) => {
      opened.push(session);
      if (session instanceof ClientSession) sessions.set(session.id, session);
      return undefined;
    },
    sessionClosed: (session, cause) => {
      closes.push([session, cause]);
      sessions.delete(session.id);
    },
    sessionMoving: (session) => moving.push([session, session.virtualIp]),
    sessionResumed: (session) => resumed.push(session),
  };
  const connection = new Connection(ws as unknown as WebSocket, context);
  /** HELLO on `socket` (default: the first one), with RESUME in the same message when given. */
  const hello = async (socket = ws, resume?: { sessionId: string; received: number }): Promise<void> => {
    socket.receive(helloFrame(), ...(resume === undefined ? [] : [resumeFrame(resume.sessionId, resume.received)]));
    await settle();
  };
  /** Another connection to the same server context (a reconnecting client). */
  const connect = () => {
    const socket = new FakeSocket();
    return { socket, connection: new Connection(socket as unknown as WebSocket, context) };
  };
  const session = (): ClientSession => connection.session!;
  const metric = async (name: string, labels?: Record<string, string>) => metricValue(await metrics.registry.metrics(), name, labels);
  return { config, clock, ws, router, closes, opened, moving, resumed, sessions, metrics, metric, context, connection, session, hello, connect };
}

describe("batching", () => {
  it("sends Critical frames at once and the rest on the next tick as one message, High, Normal, Low", async () => {
    const { ws, clock, session, hello } = setup({ tickRate: 20 });
    await hello();
    expect(ws.messages()).toEqual([[[Channel.CONTROL, ControlType.WELCOME, Priority.CRITICAL]]]);
    ws.sent.length = 0;
    const payload = new Uint8Array(1);
    session().send(1000, 1, Priority.LOW, payload);
    session().send(1000, 2, Priority.NORMAL, payload);
    session().send(1000, 3, Priority.HIGH, payload);
    session().send(1000, 4, Priority.LOW, payload);
    session().send(1000, 5, Priority.CRITICAL, payload);
    session().send(1000, 6, Priority.HIGH, payload);
    expect(ws.messages()).toEqual([[[1000, 5, Priority.CRITICAL]]]);
    clock.advance(49);
    expect(ws.sent).toHaveLength(1);
    clock.advance(1);
    expect(ws.messages()[1]).toEqual([
      [1000, 3, Priority.HIGH],
      [1000, 6, Priority.HIGH],
      [1000, 2, Priority.NORMAL],
      [1000, 1, Priority.LOW],
      [1000, 4, Priority.LOW],
    ]);
    clock.advance(50);
    expect(ws.sent).toHaveLength(2);
  });

  it("by default (tickRate 0) sends what one turn queued as one message at the end of that turn", async () => {
    const { ws, session, hello, config } = setup({ tickRate: defaultConfig.tickRate });
    expect(config.tickRate).toBe(0);
    await hello();
    ws.sent.length = 0;
    session().send(1000, 1, Priority.LOW, new Uint8Array(1));
    session().send(1000, 2, Priority.NORMAL, new Uint8Array(1));
    session().send(1000, 3, Priority.HIGH, new Uint8Array(1));
    expect(ws.sent).toHaveLength(0);
    await endOfTurn();
    expect(ws.messages()).toEqual([
      [
        [1000, 3, Priority.HIGH],
        [1000, 2, Priority.NORMAL],
        [1000, 1, Priority.LOW],
      ],
    ]);
    session().send(1000, 4, Priority.NORMAL, new Uint8Array(1));
    await endOfTurn();
    expect(ws.messages()[1]).toEqual([[1000, 4, Priority.NORMAL]]);
  });

  it("flushes a priority with a tick rate of its own on that tick, the others at the end of the turn", async () => {
    const { ws, clock, session, hello } = setup({ tickRate: 0, lowTickRate: 20 });
    await hello();
    ws.sent.length = 0;
    session().send(1000, 1, Priority.LOW, new Uint8Array(1));
    session().send(1000, 2, Priority.NORMAL, new Uint8Array(1));
    session().send(1000, 3, Priority.LOW, new Uint8Array(1));
    await endOfTurn();
    expect(ws.messages()).toEqual([[[1000, 2, Priority.NORMAL]]]);
    clock.advance(49);
    expect(ws.sent).toHaveLength(1);
    clock.advance(1);
    expect(ws.messages()[1]).toEqual([
      [1000, 1, Priority.LOW],
      [1000, 3, Priority.LOW],
    ]);
  });

  it("sends every frame as its own message at once with batching: false", async () => {
    const { ws, clock, session, hello } = setup({ batching: false });
    await hello();
    session().send(1000, 1, Priority.LOW, new Uint8Array(1));
    session().send(1000, 2, Priority.HIGH, new Uint8Array(1));
    expect(ws.messages().slice(1)).toEqual([[[1000, 1, Priority.LOW]], [[1000, 2, Priority.HIGH]]]);
    clock.advance(1000);
    expect(ws.sent).toHaveLength(3);
  });
});

describe("slow consumers", () => {
  const MiB = 1024 * 1024;

  it("drops Low frames above half the bound, and cuts a client that stays above the bound for slowConsumerMs", async () => {
    const { ws, clock, session, hello, closes, metric } = setup({ maxQueuedBytes: MiB, slowConsumerMs: 1000 });
    await hello();
    const s = session();
    ws.bufferedAmount = 600 * 1024;
    s.send(1000, 1, Priority.LOW, new Uint8Array(100));
    s.send(1000, 2, Priority.NORMAL, new Uint8Array(100));
    expect(await metric("gmnet_dropped_frames_total", { reason: "backpressure" })).toBe(1);

    // Above the bound (but under four times it): judged over time, not at once.
    ws.bufferedAmount = MiB + 100;
    s.send(1000, 3, Priority.NORMAL, new Uint8Array(100));
    expect(ws.terminated).toBe(false);
    clock.advance(999);
    expect(ws.terminated).toBe(false);
    expect(s.closed).toBe(false);
    clock.advance(1);
    expect(ws.terminated).toBe(true);
    expect(s.closed).toBe(true);
    expect(closes).toEqual([[s, "slow-consumer"]]);
    expect(await metric("gmnet_disconnects_total", { cause: "slow-consumer" })).toBe(1);
    expect(await metric("gmnet_sessions_ended_total", { cause: "slow-consumer" })).toBe(1);
    const sent = ws.sent.length;
    s.send(1000, 4, Priority.CRITICAL, new Uint8Array(1));
    expect(ws.sent).toHaveLength(sent);
  });

  it("never cuts a client whose backlog drains, and times each stay above the bound afresh", async () => {
    const { ws, clock, session, hello, closes } = setup({ maxQueuedBytes: MiB, slowConsumerMs: 1000 });
    await hello();
    const s = session();
    ws.bufferedAmount = 2 * MiB; // a burst: twice the bound
    s.send(1000, 1, Priority.NORMAL, new Uint8Array(100));
    clock.advance(600);
    ws.bufferedAmount = 0; // and it drained
    clock.advance(5000);
    expect(ws.terminated).toBe(false);

    ws.bufferedAmount = 2 * MiB;
    s.send(1000, 2, Priority.NORMAL, new Uint8Array(100));
    clock.advance(999);
    expect(ws.terminated).toBe(false);
    clock.advance(1);
    expect(ws.terminated).toBe(true);
    expect(closes).toEqual([[s, "slow-consumer"]]);
  });

  it.each([true, false])("cuts at once a send that would pass four times the bound (batching %s, Critical too); services hear after the handler", async (batching) => {
    const { ws, session, hello, closes } = setup({ batching, maxQueuedBytes: MiB });
    await hello();
    const s = session();
    ws.bufferedAmount = 4 * MiB;
    s.send(1000, 1, Priority.CRITICAL, new Uint8Array(1));
    expect(ws.terminated).toBe(true);
    expect(s.closed).toBe(true);
    // Services hear of it after the running handler returns, not from inside send().
    expect(closes).toEqual([]);
    await Promise.resolve();
    expect(closes).toEqual([[s, "slow-consumer"]]);
  });
});

describe("flow control", () => {
  it("pauses reading from a client over rateLimitBytes until its bucket is back to zero, never closing it; each message costs 64 bytes more", async () => {
    const { ws, clock, hello, session, metric } = setup({ rateLimitBytes: 1000 });
    expect(MESSAGE_COST_BYTES).toBe(64);
    const empty = (): boolean => ws.emit("message", Buffer.alloc(0), true);
    // The bucket holds 2 s worth, 2000 bytes: 31 empty messages fit, the 32nd runs 48 bytes into debt.
    for (let i = 0; i < Math.floor(2000 / MESSAGE_COST_BYTES); i++) empty();
    expect(ws.flow).toEqual([]);
    empty();
    expect(ws.flow).toEqual(["pause"]);
    expect(await metric("gmnet_throttled_total")).toBe(1);
    clock.advance(40);
    expect(ws.flow).toEqual(["pause"]);
    clock.advance(20);
    expect(ws.flow).toEqual(["pause", "resume"]);

    // What arrives is handled all the same: the connection is throttled, not refused.
    await hello();
    expect(ws.messages()).toEqual([[[Channel.CONTROL, ControlType.WELCOME, Priority.CRITICAL]]]);
    expect(session().closed).toBe(false);
    expect(ws.closedWith).toBeUndefined();
    expect(ws.flow).toEqual(["pause", "resume", "pause"]);
    expect(await metric("gmnet_throttled_total")).toBe(2);
  });
});

describe("heartbeat and deadlines", () => {
  it("pings every interval and cuts a client that does not answer within the timeout", async () => {
    const { ws, clock, hello, closes, session } = setup({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 });
    await hello();
    for (let round = 1; round <= 3; round++) {
      clock.advance(1000);
      const ping = decode(ws.sent.at(-1)!)[0]!;
      expect([ping.channel, ping.type]).toEqual([Channel.CONTROL, ControlType.PING]);
      const { nonce } = Ping.decode(ping.payload);
      expect(nonce).toBe(round);
      clock.advance(400);
      // A pong with the wrong nonce is ignored; the right one re-arms the heartbeat.
      ws.receive(encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.CRITICAL, Pong.encode({ nonce: nonce + 100 })));
      ws.receive(encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.CRITICAL, Pong.encode({ nonce })));
    }
    expect(ws.terminated).toBe(false);
    clock.advance(1000 + 499);
    expect(ws.terminated).toBe(false);
    clock.advance(1);
    expect(ws.terminated).toBe(true);
    // A legacy session (no RESUME) ends with its connection.
    expect(closes).toEqual([[session(), "heartbeat"]]);
  });

  it("closes with 4005 when no Hello comes in time", async () => {
    const { ws, clock } = setup({ helloTimeoutMs: 100 });
    clock.advance(99);
    expect(ws.closedWith).toBeUndefined();
    clock.advance(1);
    expect(ws.closedWith?.[0]).toBe(CloseCode.HELLO_TIMEOUT);
  });
});

describe("detach and resume", () => {
  const resumeOf = (socket: FakeSocket, index: number) => Resumed.decode(decode(socket.sent[index]!)[0]!.payload);

  it("detaches a resumable session whose client stopped answering, and ends it when the window passes", async () => {
    const { ws, clock, hello, closes, session, metric } = setup({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500, resumeWindowMs: 3000 });
    await hello(ws, { sessionId: "", received: 0 });
    expect(ws.messages()).toEqual([[[Channel.CONTROL, ControlType.WELCOME, Priority.CRITICAL]], [[Channel.CONTROL, ControlType.RESUMED, Priority.CRITICAL]]]);
    expect(resumeOf(ws, 1)).toEqual({ resumed: false, received: 0, resumeWindowMs: 3000 });
    clock.advance(1500);
    expect(ws.terminated).toBe(true);
    expect(session().detached).toBe(true);
    expect(closes).toEqual([]);
    expect(await metric("gmnet_sessions_detached")).toBe(1);
    clock.advance(2999);
    expect(closes).toEqual([]);
    clock.advance(1);
    expect(closes).toEqual([[session(), "not-recovered"]]);
    expect(await metric("gmnet_sessions_detached")).toBe(0);
    expect(await metric("gmnet_sessions_ended_total", { cause: "not-recovered" })).toBe(1);
  });

  it("resumes on a new connection: the frames the client missed again, byte for byte, then those held for it", async () => {
    const { ws, hello, connect, session, resumed, closes, sessions } = setup({ batching: false });
    await hello(ws, { sessionId: "", received: 0 });
    const s = session();
    expect(sessions.get(s.id)).toBe(s);
    expect(Welcome.decode(decode(ws.sent[0]!)[0]!.payload).sessionId).toBe(s.id);
    ws.sent.length = 0;
    for (let i = 1; i <= 4; i++) s.send(1000, i, Priority.NORMAL, new Uint8Array([i]));
    s.send(Channel.VSOCKET, VSocketType.DATAGRAM, Priority.LOW, new Uint8Array(10)); // not sequenced: never replayed
    // The client acknowledged the first frame and got the second, then the connection dropped.
    ws.receive(encodeFrame(Channel.CONTROL, ControlType.ACK, Priority.CRITICAL, Ack.encode({ received: 1 })));
    ws.drop();
    expect(s.detached).toBe(true);
    s.send(1000, 5, Priority.NORMAL, new Uint8Array([5]));
    s.send(Channel.VSOCKET, VSocketType.DATAGRAM, Priority.LOW, new Uint8Array(10)); // dropped while away
    s.send(1000, 6, Priority.CRITICAL, new Uint8Array([6]));

    const { socket, connection: second } = connect();
    await hello(socket, { sessionId: s.id, received: 2 });
    expect(second.session).toBe(s);
    expect(s.detached).toBe(false);
    expect(resumed).toEqual([s]);
    expect(Welcome.decode(decode(socket.sent[0]!)[0]!.payload)).toMatchObject({ sessionId: s.id, virtualIp: s.virtualIp });
    expect(resumeOf(socket, 1)).toEqual({ resumed: true, received: 0, resumeWindowMs: defaultConfig.resumeWindowMs });
    expect(Buffer.from(socket.sent[2]!)).toEqual(Buffer.concat([ws.sent[2]!, ws.sent[3]!]));
    // The Critical frame waited in the High lane, ahead of Normal.
    expect(socket.messages()[3]).toEqual([
      [1000, 6, Priority.CRITICAL],
      [1000, 5, Priority.NORMAL],
    ]);
    expect(socket.sent).toHaveLength(4);
    expect(closes).toEqual([]);
  });

  it("counts the client's sequenced frames and acknowledges them, piggybacked once eight are due, or after 100 ms", async () => {
    const { ws, clock, hello, session, router } = setup({ batching: false });
    router.on(Channel.STATS, 1, () => undefined);
    await hello(ws, { sessionId: "", received: 0 });
    ws.sent.length = 0;
    const stats = encodeFrame(Channel.STATS, 1, Priority.NORMAL, new Uint8Array(0));
    const echo = encodeFrame(Channel.CONTROL, ControlType.ECHO_REQUEST, Priority.CRITICAL, Echo.encode({ nonce: 1 }));
    const pong = encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.CRITICAL, Pong.encode({ nonce: 1 }));
    ws.receive(stats, echo, stats, pong, stats);
    const acks = () => ws.sent.flatMap((message) => decode(message)).filter((f) => f.type === ControlType.ACK && f.channel === Channel.CONTROL).map((f) => Ack.decode(f.payload).received);
    expect(acks()).toEqual([]);
    clock.advance(100);
    expect(acks()).toEqual([3]);
    ws.receive(stats);
    session().send(1000, 1, Priority.NORMAL, new Uint8Array(1));
    // One frame due is left to the timer: a ping-pong does not pay for an ACK in every message.
    expect(acks()).toEqual([3]);
    ws.receive(stats, stats, stats, stats, stats, stats, stats);
    session().send(1000, 1, Priority.NORMAL, new Uint8Array(1));
    // Eight due: the next batch carries the ACK.
    expect(acks()).toEqual([3, 11]);
    expect(decode(ws.sent.at(-1)!).map((f) => f.type)).toEqual([1, ControlType.ACK]);
  });

  it("starts a fresh session for a RESUME it cannot serve, and ends the identity's old session now", async () => {
    const { ws, hello, connect, session, closes, metric } = setup();
    await hello(ws, { sessionId: "", received: 0 });
    const old = session();
    ws.drop();
    const { socket, connection: second } = connect();
    await hello(socket, { sessionId: old.id, received: 5 }); // more than it was ever sent
    expect(second.session).not.toBe(old);
    expect(resumeOf(socket, 1)).toEqual({ resumed: false, received: 0, resumeWindowMs: defaultConfig.resumeWindowMs });
    expect(closes).toEqual([[old, "replaced"]]);
    expect(await metric("gmnet_resumes_total", { result: "refused" })).toBe(1);
  });

  it("ends a legacy session at once when its connection drops", async () => {
    const { ws, hello, session, closes } = setup();
    await hello();
    ws.drop();
    expect(closes).toEqual([[session(), "closed"]]);
  });
});

describe("frames and failures", () => {
  it("answers ECHO_REQUEST at once with ECHO_REPLY and the same nonce, ahead of queued frames", async () => {
    const { ws, hello, session } = setup({ tickRate: 60 });
    await hello();
    session().send(Channel.VSOCKET, 16, Priority.NORMAL, new Uint8Array(8));
    const before = ws.sent.length;
    ws.receive(encodeFrame(Channel.CONTROL, ControlType.ECHO_REQUEST, Priority.CRITICAL, Echo.encode({ nonce: 0xdeadbeef })));
    expect(ws.sent.length).toBe(before + 1);
    const reply = decode(ws.sent.at(-1)!)[0]!;
    expect([reply.channel, reply.type, reply.priority]).toEqual([Channel.CONTROL, ControlType.ECHO_REPLY, Priority.CRITICAL]);
    expect(Echo.decode(reply.payload).nonce).toBe(0xdeadbeef);
  });

  it("answers a malformed Pong with MALFORMED_PAYLOAD instead of throwing", async () => {
    const { ws, hello, session } = setup();
    await hello();
    ws.receive(encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.CRITICAL, new Uint8Array(3)));
    const error = ErrorMessage.decode(decode(ws.sent.at(-1)!)[0]!.payload);
    expect(error).toMatchObject({ refChannel: Channel.CONTROL, refType: ControlType.PONG });
    expect(session().closed).toBe(false);
  });

  it("moves to another identity's address: services hear first, the directory follows, the client gets VIRTUAL_IP", async () => {
    const { ws, session, context, moving, hello } = setup({ batching: false });
    await hello();
    const s = session();
    expect(s.virtualIp).toBe(0x0a000001);
    s.moveTo({ identityId: 7, virtualIp: 0x0a000009 });
    expect(moving).toEqual([[s, 0x0a000001]]);
    expect(s.identityId).toBe(7);
    expect(context.directory.lookup("unit", 0x0a000001)).toBeUndefined();
    expect(context.directory.lookup("unit", 0x0a000009)).toBe(s);
    const [frame] = decode(ws.sent.at(-1)!);
    expect([frame!.channel, frame!.type]).toEqual([Channel.VSOCKET, VSocketType.VIRTUAL_IP]);
    expect(VirtualIp.decode(frame!.payload).ip).toBe(0x0a000009);
    // Moving back to the device identity; moving to where it already is changes nothing.
    s.moveTo(s.deviceIdentity);
    expect(s.virtualIp).toBe(0x0a000001);
    const sent = ws.sent.length;
    s.moveTo(s.deviceIdentity);
    expect(ws.sent.length).toBe(sent);
    expect(moving.length).toBe(2);
  });

  it("closes only the offending connection (1011) when a service handler throws", async () => {
    const { ws, hello, router, closes, session, metric } = setup();
    router.on(Channel.STATS, 1, () => {
      throw new TypeError("a bug in a service");
    });
    await hello();
    ws.receive(encodeFrame(Channel.STATS, 1, Priority.NORMAL, new Uint8Array(0)));
    expect(ws.closedWith?.[0]).toBe(1011);
    expect(closes).toEqual([[session(), "protocol-error"]]);
    expect(await metric("gmnet_disconnects_total", { cause: "internal-error" })).toBe(1);
  });

  it("keeps close reasons within the 123 bytes WebSocket allows", async () => {
    const { ws, connection } = setup();
    connection.close(CloseCode.PROTOCOL_ERROR, "é".repeat(200));
    expect(Buffer.byteLength(ws.closedWith![1])).toBeLessThanOrEqual(123);
  });
});

describe("the Hello's identity from the storage", () => {
  /** An identify whose answer the test gives when it wants. */
  const pending = () => {
    let answer!: { resolve: (identity: Identity) => void; reject: (error: Error) => void };
    const identify = (): Promise<Identity> => new Promise<Identity>((resolve, reject) => (answer = { resolve, reject }));
    return { identify, answer: () => answer };
  };

  it("holds the frames that arrive while the identity is looked up, and handles them in order after the WELCOME", async () => {
    const storage = pending();
    const { ws, router, session } = setup({}, storage.identify);
    const seen: number[] = [];
    router.on(Channel.STATS, 1, (_session, payload) => seen.push(payload[0]!));
    const stats = (n: number) => encodeFrame(Channel.STATS, 1, Priority.NORMAL, Uint8Array.of(n));
    // One message: HELLO, RESUME (it belongs to the HELLO), then frames; then more messages.
    ws.receive(helloFrame(), resumeFrame("", 0), stats(1), stats(2));
    ws.receive(stats(3));
    ws.receive(encodeFrame(Channel.CONTROL, ControlType.ECHO_REQUEST, Priority.CRITICAL, Echo.encode({ nonce: 9 })), stats(4));
    await settle();
    expect(ws.sent).toEqual([]);
    expect(seen).toEqual([]);
    expect(ws.flow).toEqual(["pause"]);
    storage.answer().resolve({ identityId: 7, virtualIp: 0x0a000007 });
    await settle();
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(session().virtualIp).toBe(0x0a000007);
    expect(session().resumable).toBe(true);
    // WELCOME and RESUMED first, then the echo reply, in the order the client sent.
    expect(ws.messages().slice(0, 3)).toEqual([
      [[Channel.CONTROL, ControlType.WELCOME, Priority.CRITICAL]],
      [[Channel.CONTROL, ControlType.RESUMED, Priority.CRITICAL]],
      [[Channel.CONTROL, ControlType.ECHO_REPLY, Priority.CRITICAL]],
    ]);
    expect(ws.flow).toEqual(["pause", "resume"]);
    ws.receive(stats(5));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("closes with 4007 when the storage fails, counting it, and drops what was held", async () => {
    const storage = pending();
    const { ws, router, opened, metric } = setup({}, storage.identify);
    const seen: number[] = [];
    router.on(Channel.STATS, 1, () => seen.push(1));
    ws.receive(helloFrame(), encodeFrame(Channel.STATS, 1, Priority.NORMAL, new Uint8Array(1)));
    storage.answer().reject(new Error("connect ECONNREFUSED 127.0.0.1:5432"));
    await settle();
    expect(ws.closedWith).toEqual([CloseCode.STORAGE_UNAVAILABLE, "storage unavailable"]);
    expect(CloseCode.STORAGE_UNAVAILABLE).toBe(4007);
    expect(opened).toEqual([]);
    expect(seen).toEqual([]);
    expect(await metric("gmnet_storage_failures_total", { op: "hello" })).toBe(1);
    expect(await metric("gmnet_disconnects_total", { cause: "storage-unavailable" })).toBe(1);
  });

  it("closes with 4007 when the storage does not answer within the hello timeout, and ignores a late answer", async () => {
    const storage = pending();
    const { ws, clock, opened, metric } = setup({ helloTimeoutMs: 1000 }, storage.identify);
    clock.advance(500);
    ws.receive(helloFrame());
    clock.advance(500);
    expect(ws.closedWith?.[0]).toBe(CloseCode.STORAGE_UNAVAILABLE);
    expect(await metric("gmnet_storage_failures_total", { op: "hello" })).toBe(1);
    storage.answer().resolve({ identityId: 1, virtualIp: 0x0a000001 });
    await settle();
    expect(opened).toEqual([]);
    expect(ws.messages()).toEqual([]);
  });
});
