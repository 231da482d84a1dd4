/**
 * The ClientSession a Connection carries (queue, batching, slow consumers, replay and detach),
 * against a fake WebSocket and a manual clock (support/fake-connection.ts): batching order and
 * timing, the slow-consumer rules and datagram drops, detach and resume. The Connection itself
 * is connection.test.ts.
 */
import { Ack, Channel, ControlType, Echo, Pong, Priority, Resumed, VSocketType, Welcome, encodeFrame } from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { defaultConfig } from "../src/config.js";
import { type FakeSocket, type ManualClock, decode, endOfTurn, setup } from "./support/fake-connection.js";

/** Nothing more leaves until the 20 Hz tick, 50 ms on (not a millisecond sooner); then one message with `frames`, in order. */
function expectOnTick(ws: FakeSocket, clock: ManualClock, frames: unknown[]): void {
  const sent = ws.sent.length;
  clock.advance(49);
  expect(ws.sent).toHaveLength(sent);
  clock.advance(1);
  expect(ws.messages()[sent]).toEqual(frames);
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
    expectOnTick(ws, clock, [
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
    expectOnTick(ws, clock, [
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
