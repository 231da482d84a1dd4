/**
 * The Connection (the WebSocket: decoding, Hello and Resume, heartbeat, byte flow control),
 * against a fake WebSocket and a manual clock (support/fake-connection.ts): throttling, heartbeat
 * and hello deadlines, the Hello's identity from the storage, and that a bug in a service closes
 * one connection instead of the process. The ClientSession it carries is client-session.test.ts.
 */
import { Channel, CloseCode, ControlType, Echo, ErrorMessage, Ping, Pong, Priority, VSocketType, VirtualIp, encodeFrame } from "@gmnet/protocol";
import { describe, expect, it } from "vitest";
import { MESSAGE_COST_BYTES } from "../src/session/connection.js";
import type { Identity } from "../src/storage/storage.js";
import { decode, helloFrame, resumeFrame, settle, setup } from "./support/fake-connection.js";

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
