/**
 * The Connection state machine against a fake WebSocket and a manual clock: batching order,
 * the slow-consumer cut-off, datagram drops, heartbeat and hello deadlines, and that a bug in a
 * service closes one connection instead of the process.
 */
import { EventEmitter } from "node:events";
import {
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
  VSocketType,
  VirtualIp,
  encodeFrame,
} from "@gmnet/engine/protocol";
import type { WebSocket } from "ws";
import { describe, expect, it } from "vitest";
import { type ServerConfig, defaultConfig } from "../src/config.js";
import { createLogger } from "../src/observability/logger.js";
import { createMetrics } from "../src/observability/metrics.js";
import { Router } from "../src/router.js";
import type { ServerClock, ServerContext } from "../src/server-context.js";
import { Directory } from "../src/services/directory.js";
import type { IdentityStore } from "../src/services/identity-store.js";
import { Connection } from "../src/session/connection.js";
import type { Session, SessionCloseCause } from "../src/session/session.js";
import { metricValue } from "./support/harness.js";

class FakeSocket extends EventEmitter {
  bufferedAmount = 0;
  readonly sent: Uint8Array[] = [];
  closedWith: [number, string] | undefined;
  terminated = false;
  send(data: Uint8Array): void {
    this.sent.push(data);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
  }
  terminate(): void {
    this.terminated = true;
  }
  /** What a client sends: one message of frames. */
  receive(...frames: Uint8Array[]): void {
    this.emit("message", Buffer.concat(frames), true);
  }
  /** Every message sent so far, decoded into [channel, type, priority] triples. */
  messages(): Array<Array<[number, number, number]>> {
    return this.sent.map((message) => new FrameDecoder({ maxPayload: 1 << 24 }).push(message).map((f) => [f.channel, f.type, f.priority]));
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

function setup(overrides: Partial<ServerConfig> = {}) {
  const config: ServerConfig = { ...defaultConfig, tickRate: 20, ...overrides };
  const clock = new ManualClock();
  const ws = new FakeSocket();
  const router = new Router();
  const closes: Array<[Session, SessionCloseCause]> = [];
  const opened: Session[] = [];
  const moving: Array<[Session, number]> = [];
  const flushes: Connection[] = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const context: ServerContext = {
    config,
    clock,
    random: Math.random,
    logger: createLogger("silent"),
    metrics,
    router,
    directory: new Directory(),
    store: { identify: () => ({ identityId: 1, virtualIp: 0x0a000001 }), close: () => undefined } as unknown as IdentityStore,
    scheduleFlush: (connection) => flushes.push(connection),
    sessionOpened: (session) => opened.push(session),
    sessionClosed: (session, cause) => closes.push([session, cause]),
    sessionMoving: (session) => moving.push([session, session.virtualIp]),
  };
  const connection = new Connection(ws as unknown as WebSocket, context);
  const hello = (): void =>
    ws.receive(encodeFrame(Channel.CONTROL, ControlType.HELLO, Priority.NORMAL, Hello.encode({ version: PROTOCOL_VERSION, appKey: "unit", secret: "s".repeat(22), token: "" })));
  return { config, clock, ws, router, closes, opened, moving, flushes, metrics, context, connection, hello };
}

describe("Connection", () => {
  it("sends Critical frames at once and batches the rest per flush, High, Normal, Low", () => {
    const { ws, connection, hello, flushes } = setup();
    hello();
    expect(ws.messages()).toEqual([[[Channel.CONTROL, ControlType.WELCOME, Priority.CRITICAL]]]);
    ws.sent.length = 0;
    const payload = new Uint8Array(1);
    connection.send(1000, 1, Priority.LOW, payload);
    connection.send(1000, 2, Priority.NORMAL, payload);
    connection.send(1000, 3, Priority.HIGH, payload);
    connection.send(1000, 4, Priority.LOW, payload);
    connection.send(1000, 5, Priority.CRITICAL, payload);
    connection.send(1000, 6, Priority.HIGH, payload);
    expect(flushes).toEqual([connection]); // scheduled once, when the queue stopped being empty
    expect(ws.messages()).toEqual([[[1000, 5, Priority.CRITICAL]]]);
    connection.flush();
    expect(ws.messages()[1]).toEqual([
      [1000, 3, Priority.HIGH],
      [1000, 6, Priority.HIGH],
      [1000, 2, Priority.NORMAL],
      [1000, 1, Priority.LOW],
      [1000, 4, Priority.LOW],
    ]);
    connection.flush();
    expect(ws.sent).toHaveLength(2);
  });

  it("sends everything at once with tickRate 0", () => {
    const { ws, connection, hello, flushes } = setup({ tickRate: 0 });
    hello();
    connection.send(1000, 1, Priority.LOW, new Uint8Array(1));
    connection.send(1000, 2, Priority.HIGH, new Uint8Array(1));
    expect(flushes).toEqual([]);
    expect(ws.messages().slice(1)).toEqual([[[1000, 1, Priority.LOW]], [[1000, 2, Priority.HIGH]]]);
  });

  it("drops Low frames above half the queue cap, and cuts a slow consumer off above the cap", async () => {
    const { ws, connection, hello, closes, metrics } = setup({ maxQueuedBytes: 1024 * 1024, maxFrameSize: 64 * 1024 });
    hello();
    ws.bufferedAmount = 600 * 1024;
    connection.send(1000, 1, Priority.LOW, new Uint8Array(100));
    connection.send(1000, 2, Priority.NORMAL, new Uint8Array(100));
    const text = await metrics.registry.metrics();
    expect(metricValue(text, "gmnet_dropped_frames_total", { reason: "backpressure" })).toBe(1);
    expect(ws.terminated).toBe(false);

    ws.bufferedAmount = 1024 * 1024 - 50;
    connection.send(1000, 3, Priority.NORMAL, new Uint8Array(100));
    expect(ws.terminated).toBe(true);
    expect(connection.closed).toBe(true);
    // Services hear of it after the running handler returns, not from inside send().
    expect(closes).toEqual([]);
    await Promise.resolve();
    expect(closes).toEqual([[connection, "slow-consumer"]]);
    expect(metricValue(await metrics.registry.metrics(), "gmnet_disconnects_total", { cause: "slow-consumer" })).toBe(1);
    connection.send(1000, 4, Priority.CRITICAL, new Uint8Array(1));
    expect(ws.sent).toHaveLength(1); // only the Welcome
  });

  it("applies the cap to Critical frames and tickRate 0 too", async () => {
    const { ws, connection, hello, closes } = setup({ tickRate: 0, maxQueuedBytes: 1024 * 1024, maxFrameSize: 64 * 1024 });
    hello();
    ws.bufferedAmount = 2 * 1024 * 1024;
    connection.send(Channel.CONTROL, ControlType.PING, Priority.CRITICAL, Ping.encode({ nonce: 1, serverTime: 0 }));
    expect(ws.terminated).toBe(true);
    await Promise.resolve();
    expect(closes).toEqual([[connection, "slow-consumer"]]);
  });

  it("pings every interval and cuts a client that does not answer within the timeout", () => {
    const { ws, clock, hello, closes, connection } = setup({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 500 });
    hello();
    for (let round = 1; round <= 3; round++) {
      clock.advance(1000);
      const ping = new FrameDecoder({ maxPayload: 1024 }).push(ws.sent.at(-1)!)[0]!;
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
    expect(closes).toEqual([[connection, "heartbeat"]]);
  });

  it("answers ECHO_REQUEST at once with ECHO_REPLY and the same nonce, ahead of queued frames", () => {
    const { ws, hello, connection } = setup({ tickRate: 60 });
    hello();
    connection.send(Channel.VSOCKET, 16, Priority.NORMAL, new Uint8Array(8));
    const before = ws.sent.length;
    ws.receive(encodeFrame(Channel.CONTROL, ControlType.ECHO_REQUEST, Priority.CRITICAL, Echo.encode({ nonce: 0xdeadbeef })));
    expect(ws.sent.length).toBe(before + 1);
    const reply = new FrameDecoder({ maxPayload: 64 }).push(ws.sent.at(-1)!)[0]!;
    expect([reply.channel, reply.type, reply.priority]).toEqual([Channel.CONTROL, ControlType.ECHO_REPLY, Priority.CRITICAL]);
    expect(Echo.decode(reply.payload).nonce).toBe(0xdeadbeef);
  });

  it("answers a malformed Pong with MALFORMED_PAYLOAD instead of throwing", () => {
    const { ws, hello, connection } = setup();
    hello();
    ws.receive(encodeFrame(Channel.CONTROL, ControlType.PONG, Priority.CRITICAL, new Uint8Array(3)));
    const error = ErrorMessage.decode(new FrameDecoder({ maxPayload: 4096 }).push(ws.sent.at(-1)!)[0]!.payload);
    expect(error).toMatchObject({ refChannel: Channel.CONTROL, refType: ControlType.PONG });
    expect(connection.closed).toBe(false);
  });

  it("moves to another identity's address: services hear first, the directory follows, the client gets VIRTUAL_IP", () => {
    const { ws, connection, context, moving, hello } = setup({ tickRate: 0 });
    hello();
    expect(connection.virtualIp).toBe(0x0a000001);
    connection.moveTo({ identityId: 7, virtualIp: 0x0a000009 });
    expect(moving).toEqual([[connection, 0x0a000001]]);
    expect(connection.identityId).toBe(7);
    expect(context.directory.lookup("unit", 0x0a000001)).toBeUndefined();
    expect(context.directory.lookup("unit", 0x0a000009)).toBe(connection);
    const last = ws.sent.at(-1)!;
    const [frame] = new FrameDecoder({ maxPayload: 1 << 24 }).push(last);
    expect([frame!.channel, frame!.type]).toEqual([Channel.VSOCKET, VSocketType.VIRTUAL_IP]);
    expect(VirtualIp.decode(frame!.payload).ip).toBe(0x0a000009);
    // Moving back to the device identity; moving to where it already is changes nothing.
    connection.moveTo(connection.deviceIdentity);
    expect(connection.virtualIp).toBe(0x0a000001);
    const sent = ws.sent.length;
    connection.moveTo(connection.deviceIdentity);
    expect(ws.sent.length).toBe(sent);
    expect(moving.length).toBe(2);
  });

  it("closes with 4005 when no Hello comes in time", () => {
    const { ws, clock } = setup({ helloTimeoutMs: 100 });
    clock.advance(99);
    expect(ws.closedWith).toBeUndefined();
    clock.advance(1);
    expect(ws.closedWith?.[0]).toBe(CloseCode.HELLO_TIMEOUT);
  });

  it("closes only the offending connection (1011) when a service handler throws", async () => {
    const { ws, hello, router, closes, connection, metrics } = setup();
    router.on(Channel.STATS, 1, () => {
      throw new TypeError("a bug in a service");
    });
    hello();
    ws.receive(encodeFrame(Channel.STATS, 1, Priority.NORMAL, new Uint8Array(0)));
    expect(ws.closedWith?.[0]).toBe(1011);
    expect(closes).toEqual([[connection, "protocol-error"]]);
    expect(metricValue(await metrics.registry.metrics(), "gmnet_disconnects_total", { cause: "internal-error" })).toBe(1);
  });

  it("keeps close reasons within the 123 bytes WebSocket allows", () => {
    const { ws, connection } = setup();
    connection.close(CloseCode.PROTOCOL_ERROR, "é".repeat(200));
    expect(Buffer.byteLength(ws.closedWith![1])).toBeLessThanOrEqual(123);
  });
});
